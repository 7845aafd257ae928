/**
 * Fault drills: the failures a webhook in the write path of a cluster must ride out, each under
 * load, each with the answers checked one by one. DRILL_REPORT=1 prints the figures of every drill.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/admission/types.ts';
import { buildApp } from '../../src/app.ts';
import { callerPath, TOKEN_FILE_NAME } from '../../src/catalogue/endpoints.ts';
import { startClusterView, type Timing } from '../../src/cluster/view.ts';
import { startServer } from '../../src/commands/serve.ts';
import { readServeConfig } from '../../src/config.ts';
import { UNAUTHENTICATED } from '../../src/http/caller.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import type { Reviewer } from '../../src/http/routes.ts';
import { createLogger } from '../../src/log.ts';
import { admitPod } from '../../src/review/mutate.ts';
import { judge } from '../../src/review/validate.ts';
import { generateCertificates, writeCertificates } from '../../src/tls.ts';
import { fakeApi, recordingLog, serve } from '../cluster/fake-api.ts';
import type { Answer } from '../fuzz/check.ts';
import { exchange, quantile } from '../fuzz/client.ts';
import { fixture } from '../support.ts';

type Review = { apiVersion: string; kind: string; request: any };

const recorded = {
  serviceEntry: fixture<{ review: Review }>('reviews/003-validate-create-serviceentry.review-v1.json').review,
  pod: fixture<{ review: Review }>('reviews/012-mutate-create-pod.review-v1.json').review,
};

/** A recorded review with its own uid, changed as the drill needs. */
function review(which: keyof typeof recorded, uid: string, edit?: (r: Review) => void): Review {
  const r = structuredClone(recorded[which]);
  r.request.uid = uid;
  edit?.(r);
  return r;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

const post = (url: string, ca: string | string[], agent: Agent | false, path: string, body: Review | Buffer, timeoutMs = 10_000) =>
  exchange(
    url,
    { method: 'POST', path, headers: JSON_HEADERS, body: Buffer.isBuffer(body) ? body : JSON.stringify(body) },
    { ca, agent, timeoutMs },
  );

const get = (url: string, ca: string, path: string) =>
  exchange(url, { method: 'GET', path, headers: {} }, { ca, agent: false, timeoutMs: 5_000 });

/** The AdmissionResponse of a 200 answering `uid`, or why the answer is not one. */
function responseOf(
  a: Answer,
  uid: string,
): { allowed: boolean; warnings?: string[]; status?: { code: number; message: string }; patch?: string } | string {
  if (!a.ok) return `no answer: ${a.error}`;
  if (a.status !== 200) return `status ${a.status}: ${a.body.slice(0, 200)}`;
  const r = JSON.parse(a.body).response;
  return r?.uid === uid ? r : `uid ${JSON.stringify(r?.uid)} instead of ${uid}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const figures: string[] = [];
const figure = (line: string) => {
  figures.push(line);
};
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, limitMs = 5_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const Drills = suite('drills: faults under load');
Drills.after(() => {
  if (process.env.DRILL_REPORT) process.stdout.write(`\n${figures.join('\n')}\n`);
});

Drills(
  'answers every review while the certificate files are replaced under load: old connections keep the old certificate, new ones get the new',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ew-drill-rotate-'));
    const server = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
      env: {},
      logLevel: false,
    });
    const oldFingerprint = new X509Certificate(readFileSync(join(dir, 'tls.crt'), 'utf8')).fingerprint256;
    // The next CA gets another subject: OpenSSL picks a trusted CA by subject alone when certificates
    // carry no key identifiers, so two CAs of one name cannot both be trusted by this (Node) client.
    // The API server's Go verifier tries every CA of the name, so it needs no such care.
    const next = await generateCertificates({ service: 'egress-warden-next', namespace: 'egress-warden', days: 30 });
    const newFingerprint = new X509Certificate(next.cert).fingerprint256;
    // A client that dials during a rotation trusts both CAs, as the API server's caBundle does while a rotation rolls out.
    const ca = [readFileSync(join(dir, 'ca.crt'), 'utf8'), next.caCert];
    // No TLS session reuse: every new connection shows the certificate it was handed.
    const keepAlive = Array.from({ length: 4 }, () => new Agent({ keepAlive: true, maxSockets: 3, maxCachedSessions: 0 }));
    const fresh = new Agent({ keepAlive: false, maxCachedSessions: 0 });
    const results: { uid: string; answer: Answer; at: number }[] = [];
    let writtenAt = 0;
    let issued = 0;
    try {
      const seenNew = () => results.filter((r) => r.answer.ok && r.answer.fingerprint === newFingerprint).length;
      const worker = async () => {
        // Bounded by work, not time, so a loaded machine only makes it slower; the cap is a safety net.
        const end = Date.now() + 120_000;
        while (Date.now() < end && (issued < 200 || seenNew() < 40 || !writtenAt)) {
          const i = issued++;
          const uid = `rotation-${i}`;
          const agent = i % 5 === 4 ? fresh : keepAlive[i % 4]!;
          const answer = await post(server.url, ca, agent, `${server.paths.validate}?timeout=10s`, review('serviceEntry', uid));
          results.push({ uid, answer, at: performance.now() });
        }
      };
      const load = Promise.all(Array.from({ length: 16 }, worker));
      await until(() => (results.length >= 80 ? true : undefined), '80 answers before the rotation');
      writtenAt = performance.now();
      await writeCertificates(dir, next);
      await load;

      const failed = results.map((r) => responseOf(r.answer, r.uid)).filter((r): r is string => typeof r === 'string');
      assert.equal(failed, [], `${failed.length} of ${results.length} requests failed`);
      const served = (fp: string) => results.filter((r) => r.answer.ok && r.answer.fingerprint === fp);
      const firstNew = Math.min(...served(newFingerprint).map((r) => r.at));
      const oldAfterSwitch = served(oldFingerprint).filter((r) => r.at > firstNew && r.answer.ok && r.answer.reused);
      assert.ok(results.length >= 200, `${results.length} requests`);
      assert.ok(served(newFingerprint).length >= 40, 'new connections got the new certificate');
      assert.ok(oldAfterSwitch.length > 0, 'keep-alive connections opened before the rotation kept serving after it');
      assert.is(
        served(oldFingerprint).length + served(newFingerprint).length,
        results.length,
        'every answer came with one of the two certificates',
      );
      const latencies = results.map((r) => (r.answer.ok ? r.answer.ms : 0));
      figure(
        `rotation: ${results.length} requests, 0 failed, p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}, ` +
          `max ${ms(quantile(latencies, 1))}; old certificate on ${served(oldFingerprint).length} (${oldAfterSwitch.length} over reused connections after the switch), ` +
          `new on ${served(newFingerprint).length}; new certificate served ${(firstNew - writtenAt).toFixed(0)} ms after the files were written`,
      );
    } finally {
      for (const a of [...keepAlive, fresh]) a.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/** A POST to `path` whose headers and first half are sent now and the rest on finish(): a review in flight. */
function halfSent(url: string, ca: string, agent: Agent | false, path: string, body: Buffer) {
  let finish = () => {};
  let onSent = () => {};
  const sent = new Promise<void>((r) => {
    onSent = r;
  });
  const answer = new Promise<{ ok: boolean; status: number; body: string; connection: string; reused: boolean; error: string }>(
    (resolve) => {
      const req = request(
        `${url}${path}?timeout=10s`,
        { method: 'POST', ca, agent, headers: { ...JSON_HEADERS, 'content-length': String(body.length) } },
        (res: IncomingMessage) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
          });
          res.on('end', () =>
            resolve({
              ok: true,
              status: res.statusCode ?? 0,
              body: text,
              connection: String(res.headers.connection ?? ''),
              reused: req.reusedSocket,
              error: '',
            }),
          );
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ ok: false, status: 0, body: '', connection: '', reused: req.reusedSocket, error: e.code ?? e.message }),
      );
      const half = Math.floor(body.length / 2);
      req.write(body.subarray(0, half), () => onSent());
      finish = () => req.end(body.subarray(half));
    },
  );
  return { answer, sent, finish: () => finish() };
}

Drills(
  'after SIGTERM under load, finishes the 30 reviews in flight, closes idle keep-alive connections, refuses new ones, and exits 0',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ew-drill-sigterm-'));
    const child = spawn(process.execPath, ['src/cli.ts', 'serve', '--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d: Buffer) => {
      log += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
    });
    const exited = new Promise<{ code: number | null; at: number }>((r) => child.on('close', (code) => r({ code, at: performance.now() })));
    const agents: Agent[] = [];
    try {
      const url = await until(() => /"url":"(https:[^"]+)"/.exec(log)?.[1], 'the server to listen', 10_000);
      const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
      // the development start wrote the caller token beside the certificates before it listened
      const validate = callerPath('validate', readFileSync(join(dir, TOKEN_FILE_NAME), 'utf8').trim());

      // Eight keep-alive connections that served a review and sit idle when the signal comes.
      const idle = new Agent({ keepAlive: true, maxSockets: 8 });
      agents.push(idle);
      const idleClosed: Promise<number>[] = [];
      idle.on('free', (socket) => {
        if (idleClosed.length < 8) idleClosed.push(new Promise((r) => socket.once('close', () => r(performance.now()))));
      });
      const warmups = await Promise.all(
        Array.from({ length: 8 }, (_, i) => post(url, ca, idle, validate, review('serviceEntry', `idle-${i}`))),
      );
      assert.ok(warmups.every((a) => a.ok && a.status === 200));

      // Thirty reviews in flight: headers and half the body received, the rest still to come. A third
      // arrive on keep-alive connections that already served a review; every fifth is 1 MiB.
      const reused = new Agent({ keepAlive: true, maxSockets: 10 });
      agents.push(reused);
      await Promise.all(Array.from({ length: 10 }, (_, i) => post(url, ca, reused, validate, review('serviceEntry', `warm-${i}`))));
      const inFlight = Array.from({ length: 30 }, (_, i) => {
        const uid = `in-flight-${i}`;
        const body = Buffer.from(
          JSON.stringify(
            review('serviceEntry', uid, (r) => {
              if (i % 5 === 0) r.request.object.metadata.annotations['example.com/padding'] = 'x'.repeat(1024 * 1024);
            }),
          ),
        );
        return { uid, ...halfSent(url, ca, i < 10 ? reused : false, validate, body) };
      });
      await Promise.all(inFlight.map((f) => f.sent));
      await sleep(150); // the server has parsed every request's headers

      const signalledAt = performance.now();
      child.kill('SIGTERM');
      await until(() => (/shutting down/.test(log) ? true : undefined), 'the shutdown log line', 5_000);
      // The bodies keep arriving during the drain, one every 20 ms, all after the shutdown began.
      inFlight.forEach((f, i) => setTimeout(f.finish, 20 * i));

      // New connections after the signal: the pod is leaving, the API server must go to another replica.
      const probes: string[] = [];
      let gone = false;
      void exited.then(() => {
        gone = true;
      });
      const probing = (async () => {
        for (let i = 0; !gone; i++) {
          const a = await post(url, ca, false, validate, review('serviceEntry', `after-${i}`), 3_000);
          probes.push(a.ok ? (a.status === 200 ? '200' : a.status === 503 ? '503' : `status ${a.status}`) : a.error.split(' ')[0]!);
          await sleep(25);
        }
      })();

      const answers = await Promise.all(inFlight.map((f) => f.answer));
      const { code, at } = await exited;
      await probing;
      const idleTimes = await Promise.all(idleClosed);

      answers.forEach((a, i) => {
        assert.ok(a.ok, `in-flight review ${i} failed: ${a.error}`);
        assert.is(a.status, 200, `in-flight review ${i}: ${a.body.slice(0, 200)}`);
        const response = JSON.parse(a.body).response;
        assert.is(response.uid, inFlight[i]!.uid);
        assert.is(response.allowed, true, `in-flight review ${i} was not judged: ${JSON.stringify(response.status)}`);
        assert.is(a.connection, 'close', `in-flight review ${i} was not told to close its connection`);
      });
      assert.is(answers.filter((a) => a.reused).length, 10, 'ten reviews in flight on connections that had served one before');
      assert.is(code, 0, log.slice(-2000));
      const exitMs = at - signalledAt;
      assert.ok(exitMs < 25_000, `exited ${exitMs} ms after SIGTERM`);
      assert.is(idleTimes.length, 8);
      const idleMs = Math.max(...idleTimes) - signalledAt;
      assert.ok(idleMs < 1_000, `idle keep-alive connections closed ${idleMs} ms after SIGTERM`);
      // Every probe began after the signal. Acceptable: ECONNREFUSED (listener closed), 503 from the
      // closing server, ECONNRESET (accepted in the last moment, closed as idle) or a 200 (routed before closing).
      const unacceptable = probes.filter((p) => !['ECONNREFUSED', '503', 'ECONNRESET', '200'].includes(p));
      assert.equal(unacceptable, [], `probes after SIGTERM: ${probes.join(', ')}`);
      assert.ok(probes.includes('ECONNREFUSED'), `no probe was refused: ${probes.join(', ')}`);
      const counts = Object.entries(
        probes.reduce<Record<string, number>>((m, p) => {
          m[p] = (m[p] ?? 0) + 1;
          return m;
        }, {}),
      )
        .map(([k, v]) => `${k}×${v}`)
        .join(', ');
      figure(
        `sigterm: 30/30 in-flight reviews answered 200 (6 of 1 MiB, 10 on reused connections, bodies completed over the 580 ms after the shutdown began); ` +
          `8 idle keep-alive connections closed within ${idleMs.toFixed(0)} ms; exit code 0 after ${exitMs.toFixed(0)} ms; new connections after the signal: ${counts}`,
      );
    } finally {
      for (const a of agents) a.destroy();
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/** Sends `body` to `path` in `chunk`-byte pieces every `everyMs`: a slow client. */
function trickle(url: string, ca: string, path: string, body: Buffer, chunk: number, everyMs: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      `${url}${path}?timeout=10s`,
      { method: 'POST', ca, agent: false, headers: { ...JSON_HEADERS, 'content-length': String(body.length) } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () =>
          resolve({
            ok: true,
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type']),
            body: text,
            ms: performance.now() - started,
          }),
        );
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message, ms: performance.now() - started }));
    let at = 0;
    const step = () => {
      const piece = body.subarray(at, at + chunk);
      at += chunk;
      if (at >= body.length) req.end(piece);
      else {
        req.write(piece);
        setTimeout(step, everyMs);
      }
    };
    step();
  });
}

Drills(
  'keeps answering normal reviews within the webhook timeout while slow clients trickle their bodies and 7 MiB reviews arrive',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ew-drill-slow-'));
    const server = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
      env: {},
      logLevel: false,
    });
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = (uid: string) => {
        const r = review('serviceEntry', uid);
        const size = Buffer.byteLength(JSON.stringify(r));
        r.request.object.metadata.annotations['example.com/padding'] = 'x'.repeat(7 * 1024 * 1024 - 16 * 1024 - size);
        return Buffer.from(JSON.stringify(r));
      };
      const bigBodies = Array.from({ length: 6 }, (_, i) => ({ uid: `big-${i}`, body: big(`big-${i}`) }));
      const slow = Array.from({ length: 4 }, (_, i) => ({
        uid: `slow-${i}`,
        body: Buffer.from(JSON.stringify(review('serviceEntry', `slow-${i}`))),
      }));
      const validate = server.paths.validate;
      await post(server.url, ca, probeAgent, validate, review('serviceEntry', 'first')); // the probe's connection is open and warm

      let busy = true;
      const slowAnswers = Promise.all(slow.map((s) => trickle(server.url, ca, validate, s.body, 64, 25)));
      const bigAnswers = (async () => {
        const out: Answer[] = [];
        for (let i = 0; i < bigBodies.length; i += 2) {
          out.push(
            ...(await Promise.all(bigBodies.slice(i, i + 2).map((b) => post(server.url, ca, false, `${validate}?timeout=10s`, b.body)))),
          );
        }
        return out;
      })();
      const done = Promise.all([slowAnswers, bigAnswers]).finally(() => {
        busy = false;
      });
      const probes: { uid: string; answer: Answer }[] = [];
      for (let i = 0; busy || probes.length < 20; i++) {
        const uid = `probe-${i}`;
        probes.push({ uid, answer: await post(server.url, ca, probeAgent, `${validate}?timeout=10s`, review('serviceEntry', uid)) });
        await sleep(10);
      }
      const [slowDone, bigDone] = await done;

      slowDone.forEach((a, i) =>
        assert.equal(typeof responseOf(a, slow[i]!.uid), 'object', `slow client ${i}: ${JSON.stringify(responseOf(a, slow[i]!.uid))}`),
      );
      bigDone.forEach((a, i) =>
        assert.equal(
          typeof responseOf(a, bigBodies[i]!.uid),
          'object',
          `7 MiB review ${i}: ${JSON.stringify(responseOf(a, bigBodies[i]!.uid))}`,
        ),
      );
      const failed = probes.map((p) => responseOf(p.answer, p.uid)).filter((r): r is string => typeof r === 'string');
      assert.equal(failed, []);
      assert.ok(probes.length >= 20, `only ${probes.length} normal reviews during the drill`);
      const latencies = probes.map((p) => p.answer.ms);
      const worst = quantile(latencies, 1);
      // The contract is the API server's timeoutSeconds (3 s in the manifests); speed is the benchmark's business.
      assert.ok(worst < 3_000, `a normal review took ${worst.toFixed(0)} ms, past the webhook timeout`);
      const slowMs = Math.max(...slowDone.map((a) => a.ms));
      const bigMs = quantile(
        bigDone.map((a) => a.ms),
        1,
      );
      figure(
        `slow clients + 7 MiB: ${probes.length} normal reviews, 0 failed, p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}, max ${ms(worst)}; ` +
          `4 slow clients (64 B every 25 ms) answered after ${slowMs.toFixed(0)} ms; 6 reviews of 7 MiB answered, slowest ${bigMs.toFixed(0)} ms`,
      );
    } finally {
      probeAgent.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

// ---

// staleMs 0: readiness fails as soon as an informer does, the case the drill checks (served stale
// snapshots are tested in test/cluster/view.test.ts and test/e2e/outage.e2e.ts).
const DRILL_TIMING: Partial<Timing> = {
  coalesceMs: 5,
  maxCoalesceMs: 20,
  restartMinMs: 100,
  restartMaxMs: 400,
  silenceMs: 60_000,
  rediscoverMs: 60_000,
  staleMs: 0,
};

const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

/** A ServiceEntry with a duplicate port name (EW111): denied where enforced, admitted with a warning in a warn-mode namespace. */
const faulty = (uid: string, ns: string) =>
  review('serviceEntry', uid, (r) => {
    r.request.namespace = ns;
    r.request.object.metadata.namespace = ns;
    r.request.object.spec.ports[1].name = r.request.object.spec.ports[0].name;
  });

Drills(
  'keeps judging with the last good snapshot while an informer fails and restarts, and is not ready meanwhile once the outage outlasts the staleness bound',
  async () => {
    const fake = fakeApi({
      Namespace: [namespace('shop', { 'egress-warden.io/mode': 'warn' }), namespace('payments'), namespace('kube-system')],
      Service: [],
      Node: [{ ...fixture('cluster/node.json'), metadata: { name: 'a' }, spec: { podCIDRs: ['10.244.0.0/24'] } }],
      ServiceCIDR: [{ ...fixture('cluster/servicecidr.json'), spec: { cidrs: ['10.96.0.0/16'] } }],
    });
    serve(fake, 'networking.k8s.io', 'servicecidrs', ['v1']);
    const view = await startClusterView({ env: {}, log: recordingLog(), api: fake.api, timing: DRILL_TIMING });
    const pems = await generateCertificates({ service: 'egress-warden', namespace: 'egress-warden', days: 1 });
    const validate: Reviewer = (req, snapshot) => judge(req, snapshot);
    const mutate: Reviewer = (req, snapshot) => admitPod(req, snapshot);
    const app = buildApp({
      tls: { cert: pems.cert, key: pems.key },
      logger: createLogger(false),
      cluster: view,
      validate,
      mutate,
      metrics: createMetrics(() => view.status(), false),
      auth: UNAUTHENTICATED,
      stop: () => view.stop(),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const ca = pems.caCert;
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    try {
      assert.ok(await view.untilReady(3_000), view.status().reason);
      const before = await get(url, ca, '/readyz');
      assert.ok(before.ok && before.status === 200, 'ready before the fault');

      // `sent` is when a request left: one sent before the fault may be answered after it.
      type Judged = { uid: string; ns: string; answer: Answer; sent: number };
      const judged: Judged[] = [];
      const readiness: { sent: number; status: number; reason: string }[] = [];
      let running = true;
      let n = 0;
      const worker = async () => {
        while (running) {
          const i = n++;
          const ns = i % 2 ? 'shop' : 'payments';
          const uid = `informer-${i}`;
          const sent = performance.now();
          judged.push({ uid, ns, answer: await post(url, ca, agent, '/validate?timeout=10s', faulty(uid, ns)), sent });
        }
      };
      const watcher = async () => {
        while (running) {
          const sent = performance.now();
          const r = await get(url, ca, '/readyz');
          if (r.ok) readiness.push({ sent, status: r.status, reason: JSON.parse(r.body).cluster.reason });
          await sleep(15);
        }
      };
      const load = Promise.all([...Array.from({ length: 8 }, worker), watcher()]);
      await sleep(200);

      // The namespaces watch drops, and its restarts keep failing (backoff up to 400 ms) until enough
      // readiness probes and reviews have seen the outage: bounded by work, so load only makes it longer.
      const refusals = Array.from({ length: 10_000 }, (_, i) => new Error(i % 2 ? 'HTTP 503' : 'connect ECONNREFUSED 10.0.0.1:443'));
      fake.failures.set('Namespace', refusals);
      const failedAt = performance.now();
      fake.informer('Namespace').on.error(new Error('watch closed: connection reset by peer'));
      await until(
        () =>
          readiness.filter((r) => r.sent > failedAt).length >= 5 && judged.filter((j) => j.sent > failedAt).length >= 20 ? true : undefined,
        'readiness probes and reviews during the outage',
        60_000,
      );
      fake.failures.set('Namespace', []);
      const recovered = await until(
        () => readiness.find((r) => r.sent > failedAt && r.status === 200),
        'readiness after the restarts',
        10_000,
      );
      await sleep(200);
      running = false;
      await load;

      const during = readiness.filter((r) => r.sent > failedAt && r.sent < recovered.sent);
      assert.ok(during.length >= 5, `${during.length} readiness probes during the outage`);
      for (const r of during) {
        assert.is(r.status, 503);
        assert.match(r.reason, /^informer namespaces \(v1\) (failed .+; restarting|has not synced)/);
      }
      const outage = judged.filter((j) => j.sent > failedAt && j.sent < recovered.sent);
      assert.ok(outage.length >= 20, `${outage.length} reviews during the outage`);
      for (const j of judged) {
        const r = responseOf(j.answer, j.uid);
        assert.type(r, 'object', `${j.uid}: ${String(r)}`);
        const response = r as Exclude<typeof r, string>;
        // shop is in warn mode only according to the snapshot: losing it would turn these into denials.
        if (j.ns === 'shop') {
          assert.is(response.allowed, true, `${j.uid} in shop was denied: ${JSON.stringify(response.status)}`);
          assert.ok(
            response.warnings?.some((w) => w.includes('EW111')),
            `${j.uid}: ${JSON.stringify(response.warnings)}`,
          );
        } else {
          assert.is(response.allowed, false, `${j.uid} in payments was admitted`);
          assert.match(response.status?.message ?? '', /EW111/);
        }
      }
      const status = view.status().informers.find((i) => i.name === 'namespaces')!;
      assert.equal([status.healthy, status.synced], [true, true]);
      assert.ok(status.restarts >= 2, `${status.restarts} restarts`);
      const metrics = await get(url, ca, '/metrics');
      assert.match(
        metrics.ok ? metrics.body : '',
        new RegExp(`egress_warden_informer_restarts\\{informer="namespaces"\\} ${status.restarts}\n`),
      );
      const latencies = outage.map((j) => j.answer.ms);
      figure(
        `informer failure: namespaces informer down ${(recovered.sent - failedAt).toFixed(0)} ms (${status.restarts} restarts); ${during.length} readiness probes, all 503 naming it; ` +
          `${judged.length} reviews, ${outage.length} during the outage, 0 failed, all judged with the last good snapshot; ` +
          `p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))} during the outage`,
      );
    } finally {
      agent.destroy();
      await app.close();
    }
  },
);

Drills('starts and serves on the configured CIDRs when the API server is unreachable, and readiness says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-drill-noapi-'));
  // A port that was just free: connecting to it is refused.
  const port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const apiServer = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: gone',
      `clusters: [{name: gone, cluster: {server: "${apiServer}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: tester, user: {token: not-a-secret}}]',
      'contexts: [{name: gone, context: {cluster: gone, user: tester, namespace: egress-warden}}]',
      '',
    ].join('\n'),
  );
  const started = performance.now();
  const server = await startServer(
    readServeConfig(
      [
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--certs',
        join(dir, 'certs'),
        '--kubeconfig',
        kubeconfig,
        '--pod-cidrs',
        '10.123.0.0/16',
        '--service-cidrs',
        '10.124.0.0/16',
      ],
      {},
    ),
    { env: {}, logLevel: false },
  );
  const startMs = performance.now() - started;
  const ca = readFileSync(join(dir, 'certs', 'ca.crt'), 'utf8');
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  try {
    const ready = await until(async () => {
      const r = await get(server.url, ca, '/readyz');
      const body = r.ok ? JSON.parse(r.body) : undefined;
      return body && /^discovery has not succeeded: ./.test(body.cluster.reason) ? { status: r.ok ? r.status : 0, body } : undefined;
    }, 'readiness to name the failed discovery');
    assert.is(ready.status, 503);
    assert.is(ready.body.ready, false);
    assert.is(ready.body.cluster.cluster, apiServer);
    assert.equal(ready.body.cluster.cidrs.ranges.map((r: { cidr: string }) => r.cidr).sort(), ['10.123.0.0/16', '10.124.0.0/16']);

    const pod = (uid: string) =>
      review('pod', uid, (r) => {
        r.request.object.metadata.annotations = {
          ...r.request.object.metadata.annotations,
          'egress-warden.io/outbound-capture': 'cluster',
        };
      });
    const jobs = Array.from({ length: 60 }, (_, i) =>
      i % 2
        ? post(server.url, ca, agent, `${server.paths.mutate}?timeout=10s`, pod(`pod-${i}`)).then((a) => ({
            a,
            uid: `pod-${i}`,
            pod: true,
          }))
        : post(server.url, ca, agent, `${server.paths.validate}?timeout=10s`, review('serviceEntry', `se-${i}`)).then((a) => ({
            a,
            uid: `se-${i}`,
            pod: false,
          })),
    );
    const done = await Promise.all(jobs);
    for (const { a, uid, pod: isPod } of done) {
      const r = responseOf(a, uid);
      assert.type(r, 'object', `${uid}: ${String(r)}`);
      const response = r as Exclude<typeof r, string>;
      assert.is(response.allowed, true, `${uid}: ${JSON.stringify(response.status)}`);
      if (isPod) {
        const patch = JSON.parse(Buffer.from(response.patch ?? '', 'base64').toString('utf8') || '[]') as {
          path: string;
          value?: unknown;
        }[];
        const include = patch.find((p) => p.path === '/metadata/annotations/traffic.sidecar.istio.io~1includeOutboundIPRanges');
        assert.is(include?.value, '10.123.0.0/16,10.124.0.0/16', `${uid}: ${JSON.stringify(patch)}`);
      }
    }
    assert.is((await get(server.url, ca, '/healthz')).ok, true);
    const latencies = done.map((d) => d.a.ms);
    figure(
      `API server unreachable: started in ${startMs.toFixed(0)} ms, /readyz 503 "${ready.body.cluster.reason}"; ` +
        `60 concurrent reviews answered on the configured CIDRs, 0 failed, p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}`,
    );
    // "why" is the cause an operator can act on (refused, DNS, TLS), not only that discovery failed.
    assert.match(ready.body.cluster.reason, /ECONNREFUSED/, ready.body.cluster.reason);
  } finally {
    agent.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

Drills.run();
