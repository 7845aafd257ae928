import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.ts';
import { emptySnapshot } from '../src/cluster/snapshot.ts';
import { startServer, type Server } from '../src/commands/serve.ts';
import { readServeConfig } from '../src/config.ts';
import type { TLSSocket } from 'node:tls';
import { refusal, tokenSet, UNAUTHENTICATED } from '../src/http/caller.ts';
import { createMetrics } from '../src/http/metrics.ts';
import { createLogger } from '../src/log.ts';
import { admitPod } from '../src/review/mutate.ts';
import { RULES } from '../src/review/rules.ts';
import { judgeWith } from '../src/review/validate.ts';
import { postJson, send } from './https-client.ts';
import { fixture } from './support.ts';

type Recorded = { url: string; headers: Record<string, string>; review: any };

const HTTP = suite('http: the real HTTPS server');
let server: Server;
let ca: string;

HTTP.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-http-'));
  server = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
    env: {},
    logLevel: false,
  });
  ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
});
HTTP.after(() => server.close());

/** A recorded path with the server's caller token after the endpoint. */
const tokened = (path: string) => path.replace(/^\/(validate|mutate)/, (m) => server.paths[m.slice(1) as 'validate' | 'mutate']);

const reviews = readdirSync('test/fixtures/reviews').filter((f) => f.endsWith('.json'));

HTTP('answers every recorded API server review with its uid, in the version it was sent', async () => {
  assert.ok(reviews.length >= 13);
  for (const name of reviews) {
    const { url, headers, review } = fixture<Recorded>(`reviews/${name}`);
    const r = await send(server.url + tokened(url), { ca, body: JSON.stringify(review), headers });
    assert.is(r.status, 200, name);
    const answer = r.json();
    assert.is(answer.apiVersion, review.apiVersion, name);
    assert.is(answer.kind, 'AdmissionReview', name);
    assert.is(answer.response.uid, review.request.uid, name);
    assert.type(answer.response.allowed, 'boolean', name);
    if (answer.response.patch !== undefined) assert.is(answer.response.patchType, 'JSONPatch', name);
    if (answer.response.patchType !== undefined) assert.type(answer.response.patch, 'string', name);
  }
});

HTTP('denies with Status reason Forbidden, so kubectl prints "Error from server (Forbidden)", and points to the code\'s page', async () => {
  const review = base();
  review.request.object.spec.ports = [{ number: 443, name: 'https_443', protocol: 'HTTPS' }];
  const r = (await postJson(`${server.url}${server.paths.validate}`, ca, review)).json().response;
  assert.is(r.allowed, false);
  assert.equal(
    { status: r.status.status, code: r.status.code, reason: r.status.reason },
    { status: 'Failure', code: 403, reason: 'Forbidden' },
  );
  assert.match(r.status.message, /\[EW115\] spec\.ports\[0\]\.name: .* \(egress-warden help EW115\)/);
});

HTTP('allows a DELETE review whose object is null', async () => {
  const { review } = fixture<Recorded>('reviews/010-validate-delete-serviceentry.review-v1.json');
  assert.is(review.request.object, null);
  const r = await postJson(`${server.url}${server.paths.validate}`, ca, review);
  assert.is(r.json().response.allowed, true);
});

const base = () => fixture<Recorded>('reviews/003-validate-create-serviceentry.review-v1.json').review;

const badInputs: [string, () => { body: string | Buffer; headers: Record<string, string> }, number, RegExp][] = [
  ['a body that is not JSON', () => ({ body: '{"apiVersion": ', headers: { 'content-type': 'application/json' } }), 400, /JSON/],
  ['an empty body', () => ({ body: '', headers: { 'content-type': 'application/json' } }), 400, /empty|JSON/i],
  ['a text/plain body', () => ({ body: 'hello', headers: { 'content-type': 'text/plain' } }), 415, /application\/json/],
  ['a form body', () => ({ body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, /application\/json/],
  [
    'a body over 7 MiB',
    () => ({ body: Buffer.alloc(7 * 1024 * 1024 + 1, 0x20), headers: { 'content-type': 'application/json' } }),
    413,
    /larger than/,
  ],
  ['JSON that is an array', () => ({ body: '[]', headers: { 'content-type': 'application/json' } }), 400, /not a JSON object/],
  [
    'a review without request',
    () => ({ body: JSON.stringify({ ...base(), request: undefined }), headers: { 'content-type': 'application/json' } }),
    400,
    /request/,
  ],
  [
    'a review without uid',
    () => ({
      body: JSON.stringify({ ...base(), request: { ...base().request, uid: undefined } }),
      headers: { 'content-type': 'application/json' },
    }),
    400,
    /request\.uid/,
  ],
  [
    'a review without kind',
    () => ({
      body: JSON.stringify({ ...base(), request: { ...base().request, kind: undefined } }),
      headers: { 'content-type': 'application/json' },
    }),
    400,
    /request\.kind/,
  ],
  [
    'a review with an unknown operation',
    () => ({
      body: JSON.stringify({ ...base(), request: { ...base().request, operation: 'PATCH' } }),
      headers: { 'content-type': 'application/json' },
    }),
    400,
    /request\.operation/,
  ],
  [
    'a review of an unknown apiVersion',
    () => ({ body: JSON.stringify({ ...base(), apiVersion: 'admission.k8s.io/v2' }), headers: { 'content-type': 'application/json' } }),
    400,
    /apiVersion/,
  ],
  ['a body with a __proto__ key', () => ({ body: '{"__proto__": {"x": 1}}', headers: { 'content-type': 'application/json' } }), 400, /./],
];

for (const [what, make, status, message] of badInputs) {
  HTTP(`answers ${status} with a message to ${what}`, async () => {
    for (const path of ['/validate', '/mutate']) {
      const r = await send(server.url + tokened(path), { ca, ...make() });
      assert.is(r.status, status, `${path}: ${r.body}`);
      assert.match(r.json().message, message);
    }
  });
}

HTTP('answers 400, not 500, to a review whose kind is nested 20,000 levels deep', async () => {
  const body = `{"apiVersion":"admission.k8s.io/v1","kind":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
  const r = await send(`${server.url}${server.paths.validate}`, { ca, body, headers: { 'content-type': 'application/json' } });
  assert.is(r.status, 400);
  assert.match(r.json().message, /kind: "AdmissionReview" \(got a list of 1\)/);
});

HTTP('validates an object that holds a __proto__ key as ordinary data', async () => {
  const review = base();
  const body = JSON.stringify(review).replace('"annotations":{', '"annotations":{"__proto__":"x",');
  const r = await send(`${server.url}${server.paths.validate}`, { ca, body, headers: { 'content-type': 'application/json' } });
  assert.is(r.status, 200);
  assert.is(r.json().response.uid, review.request.uid);
  assert.is(({} as Record<string, unknown>).x, undefined);
});

HTTP('counts reviews of unknown kinds under one metrics label, so made-up kinds cannot grow memory', async () => {
  for (let i = 0; i < 5; i++) {
    const review = base();
    review.request.kind = { group: 'example.com', version: 'v1', kind: `Made${i}Up` };
    await postJson(`${server.url}${server.paths.validate}`, ca, review);
  }
  const metrics = (await send(`${server.url}/metrics`, { ca })).body;
  assert.not.match(metrics, /Made\dUp/);
  assert.match(metrics, /kind="other",operation="CREATE",verdict="allowed"/);
});

HTTP('accepts a review just under the 7 MiB limit', async () => {
  const review = base();
  const padding = 'x'.repeat(6.9 * 1024 * 1024);
  review.request.object.metadata.annotations['example.com/padding'] = padding;
  const r = await postJson(`${server.url}${server.paths.validate}`, ca, review);
  assert.is(r.status, 200);
  assert.is(r.json().response.uid, review.request.uid);
});

HTTP('answers 404 for an unknown path', async () => {
  const r = await postJson(`${server.url}/admit`, ca, base());
  assert.is(r.status, 404);
});

HTTP('keeps every answer right under 50 concurrent requests of good and bad input', async () => {
  const jobs = Array.from({ length: 50 }, (_, i) => {
    if (i % 3 === 0)
      return send(`${server.url}${server.paths.validate}`, { ca, body: '{nope', headers: { 'content-type': 'application/json' } }).then(
        (r) => assert.is(r.status, 400),
      );
    if (i % 3 === 1)
      return send(`${server.url}${server.paths.mutate}`, { ca, body: 'x', headers: { 'content-type': 'text/plain' } }).then((r) =>
        assert.is(r.status, 415),
      );
    const review = base();
    review.request.uid = `uid-${i}`;
    return postJson(`${server.url}${server.paths.validate}`, ca, review).then((r) => assert.is(r.json().response.uid, `uid-${i}`));
  });
  await Promise.all(jobs);
});

HTTP('denies with code 500 naming the rule when a rule throws, and keeps serving', async () => {
  // A rule with a bug in it, to prove one broken rule cannot take the server down.
  const app = buildApp({
    tls: null,
    logger: createLogger(false),
    metrics: createMetrics(() => ({ ready: true, informers: [] }), false),
    auth: UNAUTHENTICATED,
    cluster: { current: () => emptySnapshot(), ready: () => true, status: () => ({}) },
    validate: judgeWith({
      ...RULES,
      'service-entry': () => {
        throw new Error('boom');
      },
    }),
    mutate: admitPod,
  });
  try {
    const r = await app.inject({ method: 'POST', url: '/validate', payload: base() });
    assert.is(r.statusCode, 200);
    const { response } = r.json();
    assert.is(response.allowed, false);
    assert.is(response.status.code, 500);
    assert.match(response.status.message, /internal error in rule service-entry: boom/);
    assert.is((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  } finally {
    await app.close();
  }
});

HTTP('waits for a reviewer that must read first, and reports each /validate decision to the read-your-writes hook', async () => {
  const seen: string[] = [];
  const app = buildApp({
    tls: null,
    logger: createLogger(false),
    metrics: createMetrics(() => ({ ready: true, informers: [] }), false),
    auth: UNAUTHENTICATED,
    cluster: { current: () => emptySnapshot(), ready: () => true, status: () => ({}) },
    validate: judgeWith(RULES),
    mutate: async (req, snapshot) => admitPod(req, snapshot),
    validated: (req, decision) => {
      seen.push(`${req.kind.kind} ${decision.allowed}`);
      return false;
    },
  });
  try {
    const v = await app.inject({ method: 'POST', url: '/validate', payload: base() });
    assert.is(v.json().response.uid, base().request.uid);
    const pod = fixture<Recorded>('reviews/012-mutate-create-pod.review-v1.json').review;
    const m = await app.inject({ method: 'POST', url: '/mutate', payload: pod });
    assert.is(m.json().response.allowed, true);
    assert.equal(seen, [`ServiceEntry ${v.json().response.allowed}`]);
  } finally {
    await app.close();
  }
});

HTTP('answers before the API server timeout expires: validation fails closed, mutation leaves the pod alone', async () => {
  const review = base();
  const v = (await postJson(`${server.url}${server.paths.validate}?timeout=1ms`, ca, review)).json().response;
  assert.is(v.allowed, false);
  assert.is(v.status.code, 500);
  assert.match(v.status.message, /timeout/);
  const pod = fixture<Recorded>('reviews/012-mutate-create-pod.review-v1.json').review;
  const m = (await postJson(`${server.url}${server.paths.mutate}?timeout=1ms`, ca, pod)).json().response;
  assert.is(m.allowed, true);
  assert.is(m.patch, undefined);
  assert.match(m.warnings[0], /unchanged/);
});

HTTP('reports liveness, readiness and Prometheus metrics', async () => {
  assert.equal((await send(`${server.url}/healthz`, { ca })).json(), { ok: true });
  const ready = await send(`${server.url}/readyz`, { ca });
  assert.is(ready.status, 200);
  assert.is(ready.json().ready, true);
  const metrics = await send(`${server.url}/metrics`, { ca });
  assert.is(metrics.status, 200);
  assert.match(
    metrics.body,
    /egress_warden_admission_requests_total\{route="\/validate",kind="ServiceEntry",operation="CREATE",verdict="allowed"\} \d+/,
  );
  assert.match(
    metrics.body,
    /egress_warden_admission_requests_total\{route="\/validate",kind="unknown",operation="unknown",verdict="invalid"\} \d+/,
  );
  assert.match(metrics.body, /egress_warden_admission_duration_seconds_bucket\{le="0.0005"/);
  assert.match(metrics.body, /egress_warden_admission_duration_seconds_bucket\{le="2.5"/);
});

HTTP.run();

const Connections = suite('http: a connection proves its caller token once');

Connections('a connection that proved a token is refused once the token leaves the file and its grace ends', () => {
  let now = 0;
  const tokens = tokenSet(['A'.repeat(43)], () => now, 1_000);
  const auth = { tokens, clientCertificates: undefined };
  const connection = {} as TLSSocket;
  assert.is(refusal(auth, 'A'.repeat(43), connection), undefined);
  assert.is(refusal(auth, 'A'.repeat(43), connection), undefined, 'again, from what the connection proved');
  assert.is(refusal(auth, 'B'.repeat(43), connection)?.reason, 'wrong-token', 'another token on the same connection');
  assert.is(refusal(auth, 'A'.repeat(43), connection), undefined);
  tokens.replace(['C'.repeat(43)]);
  assert.is(refusal(auth, 'A'.repeat(43), connection), undefined, 'in grace');
  now = 1_000;
  assert.is(refusal(auth, 'A'.repeat(43), connection)?.reason, 'wrong-token', 'after grace');
  assert.is(refusal(auth, 'C'.repeat(43), connection), undefined);
});

Connections.run();
