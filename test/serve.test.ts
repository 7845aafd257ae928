import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { spawn } from 'node:child_process';
import { readServeConfig } from '../src/config.ts';
import { runCerts } from '../src/commands/certs.ts';
import { runServe, startServer } from '../src/commands/serve.ts';
import { captureIo } from '../src/commands/io.ts';
import { generateCertificates, writeCertificates } from '../src/tls.ts';
import { fixture } from './support.ts';
import { postJson, send } from './https-client.ts';

const Serve = suite('serve: certificates and shutdown');

const until = async (check: () => Promise<boolean> | boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
};

Serve('generates a development CA and a key readable only by its owner on first start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-certs-'));
  const server = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
    env: {},
    logLevel: false,
  });
  try {
    assert.is(statSync(join(dir, 'tls.key')).mode & 0o777, 0o600);
    const r = await send(`${server.url}/healthz`, { ca: readFileSync(join(dir, 'ca.crt'), 'utf8') });
    assert.is(r.status, 200);
  } finally {
    await server.close();
  }
});

Serve('writes PEM files that end with a newline, so two CA files concatenate into a valid bundle', async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'ew-pem-a-')), mkdtempSync(join(tmpdir(), 'ew-pem-b-'))];
  for (const dir of dirs)
    await writeCertificates(dir, await generateCertificates({ service: 'egress-warden', namespace: 'egress-warden', days: 1 }));
  for (const dir of dirs)
    for (const f of ['ca.crt', 'tls.crt', 'tls.key'])
      assert.ok(readFileSync(join(dir, f), 'utf8').endsWith('\n'), `${f} lacks a final newline`);
  const bundle = dirs.map((d) => readFileSync(join(d, 'ca.crt'), 'utf8')).join('');
  assert.is(bundle.match(/^-----BEGIN CERTIFICATE-----$/gm)?.length, 2);
  assert.is(bundle.match(/^-----END CERTIFICATE-----$/gm)?.length, 2);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

Serve('serves a rotated certificate to new connections while an open keep-alive connection keeps working', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-rotate-'));
  const server = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
    env: {},
    logLevel: false,
  });
  const oldCa = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const review = fixture<any>('reviews/003-validate-create-serviceentry.review-v1.json').review;
    const first = await postJson(`${server.url}${server.paths.validate}`, oldCa, review, keepAlive);
    const next = await generateCertificates({ service: 'egress-warden', namespace: 'egress-warden', days: 30 });
    await writeCertificates(dir, next);
    await until(async () => (await send(`${server.url}/healthz`, { ca: next.caCert }).catch(() => undefined))?.status === 200);
    const fresh = await send(`${server.url}/healthz`, { ca: next.caCert });
    assert.is.not(fresh.fingerprint, first.fingerprint);
    // The keep-alive socket negotiated with the old certificate is still good.
    const again = await postJson(`${server.url}${server.paths.validate}`, oldCa, review, keepAlive);
    assert.is(again.status, 200);
    assert.ok(again.reused, 'the second review went over the first connection');
    assert.is(again.json().response.uid, review.request.uid);
  } finally {
    keepAlive.destroy();
    await server.close();
  }
});

Serve('keeps the current certificate when the files are replaced by something unusable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-badcert-'));
  const server = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
    env: {},
    logLevel: false,
  });
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  try {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'tls.crt'), 'not a certificate');
    await new Promise((r) => setTimeout(r, 500));
    assert.is((await send(`${server.url}/healthz`, { ca })).status, 200);
  } finally {
    await server.close();
  }
});

/** `egress-warden serve` as a child process on a free port: its stdout so far, its exit code, its URL once it serves. */
function spawnServe(dir: string, extra: readonly string[] = []) {
  const child = spawn(
    process.execPath,
    ['src/cli.ts', 'serve', '--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout.on('data', (d: Buffer) => {
    log += d.toString();
  });
  // 'close', not 'exit': the child can exit before its last stdout chunk has been read here
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const url = async () => {
    await until(() => /"url":"(https:[^"]+)"/.test(log), 10_000);
    return /"url":"(https:[^"]+)"/.exec(log)![1]!;
  };
  return { child, log: () => log, exited, url };
}

Serve('finishes an in-flight review after SIGTERM, then exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-drain-'));
  const { child, log, exited, url: served } = spawnServe(dir);
  try {
    const url = await served();
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const body = JSON.stringify(fixture<any>('reviews/003-validate-create-serviceentry.review-v1.json').review);
    // Send half the body, signal, then the rest: the review is in flight when SIGTERM arrives.
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${url}/validate/${readFileSync(join(dir, 'token'), 'utf8').trim()}`,
        { method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 100));
      setTimeout(() => {
        child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(100)), 300);
      }, 200);
    });
    const r = await answer;
    assert.is(r.status, 200);
    assert.is(JSON.parse(r.body).response.allowed, true);
    // 0, not 1: the drain finished before the server's own deadline cut it off
    assert.is(await exited, 0);
    assert.match(log(), /shutting down/);
  } finally {
    child.kill('SIGKILL');
  }
});

Serve('writes every review line and the summary to stdout before exiting on SIGTERM right after a burst', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-lastlines-'));
  const { child, log, exited, url: served } = spawnServe(dir, ['--log-reviews', 'all']);
  try {
    const url = await served();
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });
    const token = readFileSync(join(dir, 'token'), 'utf8').trim();
    const uids = Array.from({ length: 200 }, (_, i) => `last-lines-${i}`);
    await Promise.all(
      uids.map((uid) => {
        const review = fixture<any>('reviews/003-validate-create-serviceentry.review-v1.json').review;
        review.request.uid = uid;
        return postJson(`${url}/validate/${token}`, ca, review, keepAlive);
      }),
    );
    keepAlive.destroy();
    child.kill('SIGTERM');
    assert.is(await exited, 0);
    const lines = log()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const logged = new Set(lines.filter((l) => l.msg === 'admission review').map((l) => l.uid));
    assert.equal(
      uids.filter((u) => !logged.has(u)),
      [],
      'every review has its line',
    );
    assert.is(lines.at(-1).msg, 'admission reviews since the last summary');
    assert.is(lines.at(-1).reviews, 200);
  } finally {
    child.kill('SIGKILL');
  }
});

Serve('refuses to start on a port in use, naming the address, and exits 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-busy-'));
  const first = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
    env: {},
    logLevel: false,
  });
  try {
    const port = new URL(first.url).port;
    const io = captureIo();
    const status = await runServe(['--port', port, '--host', '127.0.0.1', '--certs', dir, '--no-cluster', '--log-level', 'silent'], io);
    assert.is(status, 1);
    assert.match(io.stderr(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
  } finally {
    await first.close();
  }
});

Serve('prints its flags for --help', async () => {
  const io = captureIo();
  assert.is(await runServe(['--help'], io), 0);
  assert.match(io.stdout(), /--kubeconfig FILE \| --no-cluster/);
});

Serve('gives every generated CA its own name, so clients trusting an old and a new CA during a rotation pick the right one', async () => {
  const { X509Certificate } = await import('node:crypto');
  const a = await generateCertificates({ service: 'egress-warden', namespace: 'egress-warden', days: 1 });
  const b = await generateCertificates({ service: 'egress-warden', namespace: 'egress-warden', days: 1 });
  const issuerA = new X509Certificate(a.cert).issuer;
  assert.is.not(issuerA, new X509Certificate(b.cert).issuer);
  assert.is(issuerA, new X509Certificate(a.caCert).subject);
  assert.ok(new X509Certificate(a.cert).verify(new X509Certificate(a.caCert).publicKey));
});

Serve('puts addresses given as extra SANs in IP entries and names in DNS entries', async () => {
  const { X509Certificate } = await import('node:crypto');
  const p = await generateCertificates({
    service: 'egress-warden',
    namespace: 'egress-warden',
    days: 1,
    sans: ['192.168.1.20', 'fd00::5', 'webhook.example.internal'],
  });
  const san = new X509Certificate(p.cert).subjectAltName ?? '';
  assert.match(san, /IP Address:192\.168\.1\.20/);
  assert.match(san, /IP Address:FD00:0:0:0:0:0:0:5/);
  assert.match(san, /DNS:webhook\.example\.internal/);
  assert.match(san, /DNS:egress-warden\.egress-warden\.svc(,|$)/);
});

Serve('certs --keep-ca renews only the serving certificate under the kept CA, and --bundle writes the old and the new CA', async () => {
  const { X509Certificate } = await import('node:crypto');
  const dir = mkdtempSync(join(tmpdir(), 'ew-renew-'));
  try {
    assert.is(await runCerts(['--dir', dir], captureIo()), 0);
    assert.is(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const first = readFileSync(join(dir, 'tls.crt'), 'utf8');
    const io = captureIo();
    assert.is(await runCerts(['--dir', dir, '--keep-ca', '--days', '30'], io), 0);
    assert.match(io.stdout(), /the CA was kept/);
    assert.is(readFileSync(join(dir, 'ca.crt'), 'utf8'), ca);
    const renewed = readFileSync(join(dir, 'tls.crt'), 'utf8');
    assert.is.not(renewed, first);
    assert.ok(new X509Certificate(renewed).verify(new X509Certificate(ca).publicKey), 'the renewed certificate is signed by the kept CA');
    assert.is(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
    assert.is(statSync(join(dir, 'tls.key')).mode & 0o777, 0o600);

    assert.is(await runCerts(['--dir', dir, '--force', '--bundle'], captureIo()), 0);
    const next = readFileSync(join(dir, 'ca.crt'), 'utf8');
    assert.is.not(next, ca);
    assert.is(readFileSync(join(dir, 'ca-bundle.crt'), 'utf8'), ca + next);

    const empty = mkdtempSync(join(tmpdir(), 'ew-renew-none-'));
    const refused = captureIo();
    assert.is(await runCerts(['--dir', empty, '--keep-ca'], refused), 2);
    assert.match(refused.stderr(), /ca\.crt is missing/);
    rmSync(empty, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Serve.run();
