/**
 * Connection hygiene against a real HTTPS listener and real slow clients, with deadlines shortened
 * so the suite stays fast; test/slow/connections.test.ts holds the same clients to the defaults.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { connect as tcp, type Socket } from 'node:net';
import { request } from 'node:https';
import { buildApp, type ConnectionLimits } from '../src/app.ts';
import { emptySnapshot } from '../src/cluster/snapshot.ts';
import type { GateLimits } from '../src/http/gate.ts';
import { UNAUTHENTICATED } from '../src/http/caller.ts';
import { createMetrics } from '../src/http/metrics.ts';
import { createLogger } from '../src/log.ts';
import { admitPod } from '../src/review/mutate.ts';
import { judge } from '../src/review/validate.ts';
import { generateCertificates } from '../src/tls.ts';
import { postJson, send } from './https-client.ts';
import { idleAfterRequest, requestsOnOneConnection, silentTcp, silentTls, slowBody, slowHeaders } from './support/slow-clients.ts';
import { fixture } from './support.ts';

const Connections = suite('connections: deadlines, keep-alive and caps hold against slow clients');

const LIMITS: ConnectionLimits = {
  handshakeMs: 500,
  headersMs: 500,
  requestMs: 1_000,
  keepAliveMs: 300,
  checkEveryMs: 50,
  requestsPerConnection: 3,
  connections: 6,
};
/** Waits for `done`, giving up after 1,000 looks so that a server that never does it fails the test instead of hanging it. */
async function until(done: () => boolean): Promise<void> {
  for (let looks = 0; !done(); looks++) {
    if (looks === 1_000) throw new Error('the server never did it');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Node checks the deadlines every checkEveryMs; allow that and a busy machine. */
const SLACK_MS = 500;

const review = fixture<{ review: any }>('reviews/003-validate-create-serviceentry.review-v1.json').review;

async function started(gate?: Partial<GateLimits>): Promise<{ app: FastifyInstance; port: number; ca: string; url: string }> {
  const pems = await generateCertificates({ service: 'egress-warden', namespace: 'egress-warden', days: 1 });
  const app = buildApp({
    tls: { cert: pems.cert, key: pems.key },
    logger: createLogger(false),
    connections: LIMITS,
    ...(gate ? { gate } : {}),
    metrics: createMetrics(() => ({ ready: true, informers: [] }), false),
    auth: UNAUTHENTICATED,
    cluster: { current: () => emptySnapshot(), ready: () => true, status: () => ({}) },
    validate: judge,
    mutate: admitPod,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return { app, port, ca: pems.caCert, url: `https://localhost:${port}` };
}

let server: Awaited<ReturnType<typeof started>>;
// Room for one review in flight, so the gate's answer can be seen without sending many.
Connections.before(async () => {
  server = await started({ reviews: 1, bytes: 1024 * 1024 });
});
Connections.after(async () => {
  await server.app.close();
});

const within = (ms: number, deadline: number) =>
  assert.ok(ms >= deadline - 50 && ms <= deadline + SLACK_MS, `closed after ${Math.round(ms)} ms, deadline ${deadline} ms`);

Connections('a TCP connection that never starts TLS is closed at the handshake deadline', async () => {
  within((await silentTcp(server.port, 5_000)).ms, LIMITS.handshakeMs);
});

Connections('a TLS connection that never sends a request is closed at the headers deadline', async () => {
  const e = await silentTls(server.port, server.ca, 5_000);
  assert.ok(e.ms <= LIMITS.headersMs + SLACK_MS, `closed after ${Math.round(e.ms)} ms`);
});

Connections('headers trickled a line at a time are cut at the headers deadline with 408', async () => {
  const e = await slowHeaders(server.port, server.ca, 50, 5_000);
  within(e.ms, LIMITS.headersMs);
  assert.match(e.answer, /^HTTP\/1\.1 408/);
});

Connections('a body trickled a byte at a time is cut at the request deadline with 408', async () => {
  const e = await slowBody(server.port, server.ca, 50, 5_000);
  within(e.ms, LIMITS.requestMs);
  assert.match(e.answer, /^HTTP\/1\.1 408/);
});

Connections('an idle keep-alive connection is closed at the keep-alive deadline', async () => {
  const e = await idleAfterRequest(server.port, server.ca, 5_000);
  // Node waits keepAliveTimeoutBuffer (1 s) past the keep-alive timeout it announces.
  within(e.ms, LIMITS.keepAliveMs + 1_000);
});

Connections('a keep-alive connection is closed after its share of requests, so clients spread over replicas', async () => {
  const { answers, closed } = await requestsOnOneConnection(server.port, server.ca, LIMITS.requestsPerConnection + 1);
  const n = LIMITS.requestsPerConnection;
  // a client that sends again before it sees the close is never answered 503 (Node's maxRequestsPerSocket did that)
  assert.ok(
    answers.every((a) => !/^HTTP\/1\.1 503/.test(a)),
    answers.join('\n'),
  );
  assert.ok(
    answers.slice(0, n - 1).every((a) => /^HTTP\/1\.1 200/.test(a) && /connection: keep-alive/i.test(a)),
    answers.join('\n'),
  );
  assert.match(answers[n - 1]!, /^HTTP\/1\.1 200[\s\S]*connection: close/i);
  assert.ok(closed);
});

Connections('connections beyond the cap are closed as soon as they are accepted', async () => {
  const open: Socket[] = [];
  try {
    const closed: number[] = [];
    for (let i = 0; i < LIMITS.connections + 3; i++) {
      const s = tcp({ host: '127.0.0.1', port: server.port });
      s.on('error', () => {});
      s.once('close', () => closed.push(i));
      open.push(s);
      await new Promise((r) => s.once('connect', r));
    }
    // the three over the cap are closed by the server while the first ones, which sent nothing, are still held
    await until(() => closed.length >= 3);
    assert.equal(
      closed.sort((a, b) => a - b),
      [LIMITS.connections, LIMITS.connections + 1, LIMITS.connections + 2],
    );
  } finally {
    for (const s of open) s.destroy();
  }
});

Connections('a review beyond the in-flight limit is answered 429 at once, and the next one is taken again', async () => {
  // One review in flight: headers and half its body sent.
  const body = Buffer.from(JSON.stringify(review));
  let finish = () => {};
  const first = new Promise<number>((resolve, reject) => {
    const req = request(
      `${server.url}/validate`,
      { method: 'POST', ca: server.ca, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.write(body.subarray(0, 100));
    finish = () => req.end(body.subarray(100));
  });
  await new Promise((r) => setTimeout(r, 200));
  // answered while the first is still waiting for its body: refused at once, not queued behind it
  const shed = await postJson(`${server.url}/validate`, server.ca, review);
  assert.is(shed.status, 429);
  assert.match(shed.json().message, /limit of 1 reviews/);
  finish();
  assert.is(await first, 200);
  assert.is((await postJson(`${server.url}/validate`, server.ca, review)).status, 200);
  assert.match((await send(`${server.url}/metrics`, { ca: server.ca })).body, /verdict="shed"} 1/);
});

Connections.run();
