/**
 * One measured load run with autocannon: fixed connections, keep-alive HTTP/1.1, one request body.
 * Latencies come from autocannon's per-response timings (sub-millisecond, unlike its 1 ms
 * histogram), leaving out each connection's first answer, which carries the TLS handshake.
 */
import autocannon from 'autocannon';
import { CONNECTION_LIMITS } from '../src/app.ts';
import { cpuMsOf } from './processes.ts';
import type { Scenario } from './reviews.ts';
import { percentile, Samples } from './stats.ts';

export type LoadOptions = {
  readonly url: string;
  /** the server's pid, for its CPU time */
  readonly pid: number;
  readonly body: Buffer;
  /** requests each connection sends in turn, each to its own path on `url`'s server; `body` is then unused */
  readonly mix?: readonly { readonly path: string; readonly body: Buffer }[] | undefined;
  /** the body of the n-th request, counted over all connections; `body` is then unused */
  readonly each?: ((n: number) => Buffer) | undefined;
  readonly connections: number;
  readonly seconds: number;
};

export type Measure = {
  /** answered requests per second, all statuses */
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** one answer in a thousand is slower: at 5,000 req/s, five a second */
  readonly p999: number;
  readonly requests: number;
  /** connection errors, timeouts and non-2xx answers */
  readonly failures: number;
  /** CPU used by the server and by this load generator, in % of one core */
  readonly serverCpu: number;
  readonly clientCpu: number;
};

/**
 * Each connection is opened anew before the server's share of answers per connection is used up,
 * as the API server's client does when an answer says `Connection: close`. autocannon does not read
 * that header: it writes the next request on the closing connection, loses it, and its latencies of
 * that connection go wrong from then on. Both servers get the same reconnects (a TLS handshake per
 * 900 requests, within the latencies of the answer after it).
 */
const RECONNECT_EVERY = Math.floor(CONNECTION_LIMITS.requestsPerConnection * 0.9);

export async function measure(o: LoadOptions): Promise<Measure> {
  const latencies = new Samples();
  const seen = new WeakSet<object>();
  let answered = 0;
  let bad = 0;
  let sent = 0;
  const each = o.each;
  const serverCpu0 = cpuMsOf(o.pid);
  const clientCpu0 = process.cpuUsage();
  const t0 = performance.now();
  const instance = autocannon({
    url: o.url,
    connections: o.connections,
    pipelining: 1,
    reconnectRate: RECONNECT_EVERY,
    duration: o.seconds,
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: o.body,
    ...(o.mix
      ? { requests: o.mix.map((r) => ({ method: 'POST', path: r.path, headers: { 'content-type': 'application/json' }, body: r.body })) }
      : {}),
    ...(each ? { requests: [{ setupRequest: (req: object) => ({ ...req, body: each(sent++) }) }] } : {}),
    skipAggregateResult: true,
  });
  instance.on('response', (client: object, status: number, _bytes: number, ms: number) => {
    answered++;
    if (status < 200 || status > 299) bad++;
    if (seen.has(client)) latencies.push(ms);
    else seen.add(client);
  });
  const result = await instance;
  const wallMs = performance.now() - t0;
  const client = process.cpuUsage(clientCpu0);
  const serverMs = cpuMsOf(o.pid) - serverCpu0;
  const sorted = latencies.sorted();
  return {
    rps: answered / (wallMs / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    requests: answered,
    failures: bad + result.errors + result.timeouts,
    serverCpu: (serverMs / wallMs) * 100,
    clientCpu: ((client.user + client.system) / 1000 / wallMs) * 100,
  };
}

/** `s` on the server at `url` (its process `pid`): its path, its body, mix or bodies one by one. */
export const measureScenario = (
  server: { readonly url: string; readonly pid: number },
  s: Pick<Scenario, 'path' | 'body' | 'mix' | 'each'>,
  connections: number,
  seconds: number,
): Promise<Measure> => measure({ url: server.url + s.path, pid: server.pid, body: s.body, mix: s.mix, each: s.each, connections, seconds });
