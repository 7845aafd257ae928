import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type Server } from '../src/commands/serve.ts';
import { readServeConfig } from '../src/config.ts';
import { TOKEN_GRACE_MS } from '../src/catalogue/endpoints.ts';
import { admissionTarget, refusalLog, tokenSet } from '../src/http/caller.ts';
import { postJson, send } from './https-client.ts';
import { clientCertificates, type ClientPems } from './support/client-certs.ts';
import { fixture } from './support.ts';

const Tokens = suite('http/caller: the caller token set');

const A = 'a'.repeat(43);
const B = 'b'.repeat(43);

Tokens('accepts the tokens of the file and nothing else, whatever the length', () => {
  const set = tokenSet([A, B]);
  assert.ok(set.accepts(A));
  assert.ok(set.accepts(B));
  assert.not.ok(set.accepts(A.slice(1)));
  assert.not.ok(set.accepts(''));
  assert.not.ok(set.accepts(`${A}x`));
});

Tokens('a token removed from the file is accepted for the grace period, then refused', () => {
  let t = 0;
  const set = tokenSet([A], () => t);
  set.replace([B]);
  assert.ok(set.accepts(A), 'in grace');
  assert.ok(set.accepts(B));
  assert.is(set.count(), 2);
  t = TOKEN_GRACE_MS + 1;
  assert.not.ok(set.accepts(A), 'after grace');
  assert.ok(set.accepts(B));
  assert.is(set.count(), 1);
});

Tokens('a token put back in the file leaves its grace and stays', () => {
  let t = 0;
  const set = tokenSet([A], () => t);
  set.replace([B]);
  set.replace([A, B]);
  t = TOKEN_GRACE_MS + 1;
  assert.ok(set.accepts(A));
});

Tokens('only the admission paths are guarded, with or without a token segment', () => {
  assert.equal(admissionTarget('/validate'), { path: '/validate', rest: '' });
  assert.equal(admissionTarget('/mutate/abc?timeout=3s'), { path: '/mutate', rest: 'abc' });
  assert.equal(admissionTarget('/validate/a/b'), { path: '/validate', rest: 'a/b' });
  assert.is(admissionTarget('/validatex'), undefined);
  assert.is(admissionTarget('/healthz'), undefined);
});

Tokens('a flood of refusals writes one line per reason and period, then says how many it left out', () => {
  let t = 0;
  const lines: Record<string, unknown>[] = [];
  const log = refusalLog(
    (fields) => void lines.push(fields),
    () => t,
  );
  for (let i = 0; i < 100; i++) log('/validate', 'wrong-token', '10.0.0.9');
  log('/validate', 'no-token', '10.0.0.9');
  t = 10_001;
  log('/validate', 'wrong-token', '10.0.0.9');
  assert.equal(lines, [
    { route: '/validate', reason: 'wrong-token', peer: '10.0.0.9' },
    { route: '/validate', reason: 'no-token', peer: '10.0.0.9' },
    { route: '/validate', reason: 'wrong-token', peer: '10.0.0.9', refusedSinceLastLine: 99 },
  ]);
});

Tokens.run();

// ---

const Served = suite('serve: only callers with the token are reviewed');
let server: Server;
let dir: string;
let ca: string;

Served.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ew-caller-'));
  server = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
    env: {},
    logLevel: false,
  });
  ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
});
Served.after(() => server.close());

const review = () => fixture<any>('reviews/003-validate-create-serviceentry.review-v1.json').review;
const token = () => readFileSync(join(dir, 'token'), 'utf8').trim();

Served('a development start writes a random token of 43 lowercase letters and digits, readable by its owner only', () => {
  assert.match(token(), /^[a-z0-9]{43}$/);
  assert.is(statSync(join(dir, 'token')).mode & 0o777, 0o600);
  assert.is(server.paths.validate, `/validate/${token()}`);
});

Served('the paths with the token are reviewed', async () => {
  const v = await postJson(`${server.url}/validate/${token()}`, ca, review());
  assert.is(v.status, 200);
  assert.is(v.json().response.uid, review().request.uid);
  const pod = fixture<any>('reviews/012-mutate-create-pod.review-v1.json').review;
  assert.is((await postJson(`${server.url}/mutate/${token()}`, ca, pod)).status, 200);
});

Served('no token is 401, a wrong token 403, a longer path 403, and none says more than that', async () => {
  const cases: [string, number][] = [
    ['/validate', 401],
    ['/mutate', 401],
    ['/validate?timeout=3s', 401],
    [`/validate/${'x'.repeat(43)}`, 403],
    [`/mutate/${token().slice(0, -1)}`, 403],
    [`/validate/${token()}/x`, 403],
    [`/validate/${'y'.repeat(300)}`, 403],
    [`/validate/${'y'.repeat(5_000)}`, 403],
  ];
  for (const [path, status] of cases) {
    const r = await postJson(`${server.url}${path}`, ca, review());
    assert.is(r.status, status, `${path}: ${r.body}`);
    assert.not.ok(r.body.includes(token()), 'the token is never echoed');
    assert.not.ok('response' in r.json(), 'no verdict');
  }
});

Served('a refused call is counted by reason, and is not a review', async () => {
  const before = (await send(`${server.url}/metrics`, { ca })).body;
  const count = (text: string, reason: string) =>
    Number(new RegExp(`egress_warden_refused_requests_total\\{route="/validate",reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  await postJson(`${server.url}/validate/${'y'.repeat(43)}`, ca, review());
  const after = (await send(`${server.url}/metrics`, { ca })).body;
  const pending = (text: string) => /egress_warden_overlay_pending (\d+)/.exec(text)?.[1];
  assert.is(count(after, 'wrong-token'), count(before, 'wrong-token') + 1);
  assert.ok(pending(after) !== undefined && pending(after) === pending(before), 'nothing remembered');
});

Served('a refused review changes nothing: its object is not seen by the next real one', async () => {
  const egress = (name: string, protocol: string) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `uid-${name}`,
      kind: { group: 'policy.openservicemesh.io', version: 'v1alpha1', kind: 'Egress' },
      operation: 'CREATE',
      namespace: 'bank',
      name,
      userInfo: { username: 'mallory' },
      object: {
        apiVersion: 'policy.openservicemesh.io/v1alpha1',
        kind: 'Egress',
        metadata: { name, namespace: 'bank' },
        spec: {
          sources: [{ kind: 'ServiceAccount', name: 'app', namespace: 'bank' }],
          hosts: ['db.example.com'],
          ports: [{ number: 3306, protocol }],
        },
      },
    },
  });
  for (const path of ['/validate', `/validate/${'z'.repeat(43)}`])
    await postJson(`${server.url}${path}`, ca, egress('forged', 'tcp-server-first'));
  const real = await postJson(`${server.url}/validate/${token()}`, ca, egress('real', 'http'));
  assert.is(real.json().response.allowed, true, real.body);
});

Served('health, readiness and metrics need no token', async () => {
  assert.is((await send(`${server.url}/healthz`, { ca })).status, 200);
  assert.is((await send(`${server.url}/metrics`, { ca })).status, 200);
});

Served('TLS 1.2 offers only ECDHE key exchange with AEAD ciphers: a CBC-SHA1 client is refused', async () => {
  const handshake = (ciphers: string) =>
    new Promise<string>((resolve) => {
      const socket = connect(
        { host: '127.0.0.1', port: Number(new URL(server.url).port), ca, servername: 'localhost', maxVersion: 'TLSv1.2', ciphers },
        () => {
          const name = socket.getCipher().name;
          socket.end();
          resolve(name);
        },
      );
      socket.once('error', (e) => resolve(`refused: ${e.message}`));
    });
  assert.match(await handshake('ECDHE-RSA-AES128-SHA:AES128-SHA'), /^refused/);
  assert.match(await handshake('ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256'), /^ECDHE-(RSA|ECDSA)-AES128-GCM-SHA256$/);
});

Served.run();

// ---

const Certs = suite('serve --client-ca: the admission paths also need a client certificate from that CA');
let certServer: Server;
let certDir: string;
let client: ClientPems;
let stranger: ClientPems;
let otherName: ClientPems;

Certs.before(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'ew-client-ca-'));
  client = await clientCertificates('kube-apiserver-webhook-client');
  stranger = await clientCertificates('kube-apiserver-webhook-client');
  otherName = await clientCertificates('someone-else', { ca: { cert: client.caCert, key: client.caKey } });
  writeFileSync(join(certDir, 'client-ca.crt'), client.caCert);
  certServer = await startServer(
    readServeConfig(
      [
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--certs',
        certDir,
        '--no-cluster',
        '--client-ca',
        join(certDir, 'client-ca.crt'),
        '--client-names',
        'kube-apiserver-webhook-client',
      ],
      {},
    ),
    { env: {}, logLevel: false },
  );
});
Certs.after(() => certServer.close());

const call = (path: string, pems?: ClientPems) =>
  new Promise<number>((resolve, reject) => {
    const body = JSON.stringify(review());
    const req = request(
      `${certServer.url}${path}`,
      {
        method: 'POST',
        ca: readFileSync(join(certDir, 'ca.crt'), 'utf8'),
        headers: { 'content-type': 'application/json' },
        ...(pems ? { cert: pems.cert, key: pems.key } : {}),
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });

Certs('the token and an accepted certificate are reviewed', async () => {
  assert.is(await call(certServer.paths.validate, client), 200);
});

Certs('no certificate is 401, one from another CA or with another name 403, even with the token', async () => {
  assert.is(await call(certServer.paths.validate), 401);
  assert.is(await call(certServer.paths.validate, stranger), 403);
  assert.is(await call(certServer.paths.validate, otherName), 403);
});

Certs('probes still answer without a certificate', async () => {
  assert.is((await send(`${certServer.url}/healthz`, { ca: readFileSync(join(certDir, 'ca.crt'), 'utf8') })).status, 200);
});

Certs.run();

// ---

const Settings = suite('serve: token settings');

Settings('a named token file that does not exist stops the start, saying what to pass', async () => {
  const d = mkdtempSync(join(tmpdir(), 'ew-token-missing-'));
  try {
    await startServer(
      readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', d, '--no-cluster', '--token-file', join(d, 'nope')], {}),
      { env: {}, logLevel: false },
    );
    assert.unreachable('started without its token');
  } catch (e) {
    assert.match((e as Error).message, /^token: cannot read .*nope: ENOENT; pass --token-file .* or --insecure-no-token$/);
  }
});

Settings('a token added to the file is accepted once the server has read it, and the old one still is', async () => {
  const d = mkdtempSync(join(tmpdir(), 'ew-token-rotate-'));
  const s = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', d, '--no-cluster'], {}), {
    env: {},
    logLevel: false,
  });
  try {
    const pem = readFileSync(join(d, 'ca.crt'), 'utf8');
    const old = readFileSync(join(d, 'token'), 'utf8').trim();
    const next = 'n'.repeat(43);
    writeFileSync(join(d, 'token'), `${next}\n`);
    const deadline = Date.now() + 15_000;
    while ((await postJson(`${s.url}/validate/${next}`, pem, review())).status !== 200) {
      if (Date.now() > deadline) assert.unreachable('the new token was never accepted');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.is((await postJson(`${s.url}/validate/${old}`, pem, review())).status, 200, 'the old token is in its grace period');
  } finally {
    await s.close();
  }
});

Settings('--insecure-no-token serves the bare paths, and what they are sent is never remembered', async () => {
  const d = mkdtempSync(join(tmpdir(), 'ew-no-token-'));
  const s = await startServer(
    readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', d, '--no-cluster', '--insecure-no-token'], {}),
    { env: {}, logLevel: false },
  );
  try {
    const pem = readFileSync(join(d, 'ca.crt'), 'utf8');
    assert.is(s.paths.validate, '/validate');
    const egress = (name: string, protocol: string) => ({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: name,
        kind: { group: 'policy.openservicemesh.io', version: 'v1alpha1', kind: 'Egress' },
        operation: 'CREATE',
        namespace: 'bank',
        name,
        object: {
          apiVersion: 'policy.openservicemesh.io/v1alpha1',
          kind: 'Egress',
          metadata: { name, namespace: 'bank' },
          spec: {
            sources: [{ kind: 'ServiceAccount', name: 'app', namespace: 'bank' }],
            hosts: ['db.example.com'],
            ports: [{ number: 3306, protocol }],
          },
        },
      },
    });
    assert.is((await postJson(`${s.url}/validate`, pem, egress('first', 'tcp-server-first'))).json().response.allowed, true);
    assert.is(
      (await postJson(`${s.url}/validate`, pem, egress('second', 'http'))).json().response.allowed,
      true,
      'the first was not remembered',
    );
    assert.is(existsSync(join(d, 'token')), false, 'no token is written');
  } finally {
    await s.close();
  }
});

Settings('--token-file and --insecure-no-token exclude each other', () => {
  assert.throws(() => readServeConfig(['--token-file', 'x', '--insecure-no-token'], {}), /exclude each other/);
  assert.throws(() => readServeConfig(['--client-names', 'a'], {}), /needs --client-ca/);
  assert.throws(() => readServeConfig(['--tls-min-version', '1.1'], {}), /must be 1.2 or 1.3/);
});

Settings.run();
