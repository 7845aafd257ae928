/**
 * A fuzzing run against the real HTTPS server: start it on a free port with fresh certificates,
 * post generated cases over keep-alive connections, judge every answer, and compare memory after
 * a warm-up with memory at the end (both after a full garbage collection).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readServeConfig } from '../../src/config.ts';
import { startServer, type Server } from '../../src/commands/serve.ts';
import { expectationOf, judgeAnswer, type Answer } from './check.ts';
import { exchange, quantile } from './client.ts';
import { addressed, generateCase, type FuzzCase, type Seedling } from './mutate.ts';

export const DEFAULT_CONCURRENCY = 16;
/**
 * Cases run before the memory baseline is taken (at least this many, and a quarter of the run), so
 * start-up allocation, V8 growing its young generation to working size (32 to 128 MiB under this
 * load) and the allocator's high-water mark are not counted as growth.
 */
export const DEFAULT_WARMUP = 500;
const WARMUP_SHARE = 0.25;
/**
 * Allowed growth of the JavaScript heap (used bytes after a full collection) from the baseline to
 * the end: the precise leak signal. 16 MiB is about 220 bytes per case over the 75,000 cases measured
 * in a 100,000-case run.
 */
export const DEFAULT_HEAP_GROWTH_MIB = 16;
/**
 * Allowed growth of RSS outside the V8 heap (RSS minus the heap's committed size): buffers, TLS
 * and socket state, which the heap figure does not see. Raw RSS is reported but not judged: under
 * this load V8 grows its young generation from 32 to 128 MiB, which is sizing, not a leak. Multi-MiB
 * bodies still move the allocator's high-water mark by up to about 50 MiB, hence the headroom; a
 * native leak of even 1 KiB per case passes it over the 75,000 cases measured in a long run.
 */
export const DEFAULT_NATIVE_GROWTH_MIB = 96;

export type FuzzOptions = {
  readonly seed: number;
  readonly cases: number;
  readonly seconds: number;
  readonly concurrency?: number;
  readonly warmup?: number;
  readonly heapGrowthMiB?: number;
  readonly nativeGrowthMiB?: number;
  readonly timeoutMs?: number;
  /** where to write the body and description of each failing case */
  readonly saveDir?: string;
  readonly progress?: (line: string) => void;
  /** kept up to date with the cases on the wire, so a crash can name them */
  readonly inFlight?: Set<number>;
};

export type Failure = {
  readonly index: number;
  readonly why: string;
  readonly steps: readonly string[];
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: number;
  /** the first characters of the body */
  readonly preview: string;
};

export type FuzzSummary = {
  readonly seed: number;
  readonly planned: number;
  readonly ran: number;
  readonly failures: readonly Failure[];
  readonly statuses: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly memory: {
    readonly rssBefore: number;
    readonly rssAfter: number;
    readonly heapBefore: number;
    readonly heapAfter: number;
    readonly heapLimitMiB: number;
    readonly nativeBefore: number;
    readonly nativeAfter: number;
    readonly nativeLimitMiB: number;
    readonly ok: boolean;
  };
  /**
   * size of the /metrics page at the end, how many distinct `kind` and `route` label values it
   * holds, and whether the caller token shows anywhere on it (a path with the token must never become a label)
   */
  readonly metrics: { readonly bytes: number; readonly kinds: number; readonly routes: number; readonly showsToken: boolean };
  /** /healthz still answered 200 after the last case */
  readonly alive: boolean;
};

export function loadSeedlings(dir = 'test/fixtures/reviews'): Seedling[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((name) => {
      const { url, headers, review } = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Omit<Seedling, 'name'>;
      return { name: name.replace(/\.json$/, ''), url, headers, review };
    });
}

/** A full collection; without --expose-gc the flag is set at run time and the function fetched from a fresh context. */
export function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** The caller token of a server started here: the last segment of the path it serves reviews at. */
const tokenOf = (server: Server): string => server.paths.validate.slice(server.paths.validate.lastIndexOf('/') + 1);

async function settledMemory(gc: () => void): Promise<{ rss: number; heap: number; native: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, native: m.rss - m.heapTotal };
}

const MiB = 1024 * 1024;
const mib = (n: number) => (n / MiB).toFixed(1);

function failureOf(c: FuzzCase, why: string): Failure {
  const text = typeof c.body === 'string' ? c.body : c.body.toString('latin1');
  return {
    index: c.index,
    why,
    steps: c.steps,
    method: c.method,
    path: c.path,
    headers: c.headers,
    bytes: Buffer.byteLength(c.body),
    preview: text.length > 300 ? `${text.slice(0, 300)}…` : text,
  };
}

function save(dir: string, c: FuzzCase, why: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `case-${c.seed}-${c.index}.body`), c.body);
  writeFileSync(
    join(dir, `case-${c.seed}-${c.index}.json`),
    `${JSON.stringify({ seed: c.seed, index: c.index, why, method: c.method, path: c.path, headers: c.headers, steps: c.steps }, null, 2)}\n`,
  );
}

export async function fuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const nativeLimitMiB = opts.nativeGrowthMiB ?? DEFAULT_NATIVE_GROWTH_MIB;
  const heapLimitMiB = opts.heapGrowthMiB ?? DEFAULT_HEAP_GROWTH_MIB;
  const warmup = Math.min(opts.cases, Math.max(opts.warmup ?? DEFAULT_WARMUP, Math.round(opts.cases * WARMUP_SHARE)));
  const seedlings = loadSeedlings();
  const dir = mkdtempSync(join(tmpdir(), 'ew-fuzz-'));
  const server = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
    env: {},
    logLevel: false,
  });
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const token = tokenOf(server);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const gc = collector();
  const started = Date.now();
  const deadline = started + opts.seconds * 1000;
  const failures: Failure[] = [];
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let next = 0;
  let ran = 0;

  const worker = async (limit: number) => {
    while (next < limit && Date.now() < deadline) {
      const c = generateCase(opts.seed, next++, seedlings);
      const sent = addressed(c, token);
      const expected = expectationOf(sent, token);
      opts.inFlight?.add(c.index);
      const answer = await exchange(server.url, sent, { ca, agent, timeoutMs: opts.timeoutMs ?? 15_000 });
      opts.inFlight?.delete(c.index);
      ran++;
      latencies.push(answer.ms);
      const label = answer.ok ? String(answer.status) : answer.error.split(' ')[0] || 'error';
      statuses[label] = (statuses[label] ?? 0) + 1;
      const why = judgeAnswer(sent, answer, expected);
      if (why !== undefined) {
        failures.push(failureOf(c, why));
        if (opts.saveDir) save(opts.saveDir, c, why);
        opts.progress?.(`FAIL seed=${opts.seed} case=${c.index}: ${why}\n  ${c.steps.join('; ')}`);
      }
      if (ran % 10_000 === 0)
        opts.progress?.(
          `${ran} cases, ${failures.length} failures, ${((Date.now() - started) / 1000).toFixed(1)} s, rss ${mib(process.memoryUsage().rss)} MiB`,
        );
    }
  };
  const phase = (limit: number) => Promise.all(Array.from({ length: concurrency }, () => worker(limit)));

  try {
    await phase(warmup);
    const before = await settledMemory(gc);
    await phase(opts.cases);
    const durationMs = Date.now() - started;
    const after = await settledMemory(gc);
    const health = await exchange(server.url, { method: 'GET', path: '/healthz', headers: {} }, { ca, agent, timeoutMs: 5_000 });
    const page = await exchange(server.url, { method: 'GET', path: '/metrics', headers: {} }, { ca, agent, timeoutMs: 30_000 });
    return {
      seed: opts.seed,
      planned: opts.cases,
      ran,
      failures,
      statuses,
      durationMs,
      latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: quantile(latencies, 1) },
      memory: {
        rssBefore: before.rss,
        rssAfter: after.rss,
        heapBefore: before.heap,
        heapAfter: after.heap,
        heapLimitMiB,
        nativeBefore: before.native,
        nativeAfter: after.native,
        nativeLimitMiB,
        ok: after.heap - before.heap <= heapLimitMiB * MiB && after.native - before.native <= nativeLimitMiB * MiB,
      },
      metrics: metricsFigures(page.ok ? page.body : '', token),
      alive: health.ok && health.status === 200,
    };
  } finally {
    agent.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const distinct = (text: string, label: string): number =>
  new Set([...text.matchAll(new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`, 'g'))].map((m) => m[1])).size;

function metricsFigures(text: string, token: string): FuzzSummary['metrics'] {
  const requests = text
    .split('\n')
    .filter((l) => l.startsWith('egress_warden_admission_requests_total{'))
    .join('\n');
  return {
    bytes: Buffer.byteLength(text),
    kinds: distinct(requests, 'kind'),
    routes: distinct(requests, 'route'),
    showsToken: text.includes(token),
  };
}

/** One line that says everything needed to judge and to replay the run. */
export function summaryLine(s: FuzzSummary): string {
  const statuses = Object.entries(s.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  const m = s.memory;
  return (
    `fuzz seed=${s.seed} cases=${s.ran}/${s.planned} failures=${s.failures.length} duration=${(s.durationMs / 1000).toFixed(1)}s ` +
    `p50=${s.latencyMs.p50.toFixed(1)}ms p99=${s.latencyMs.p99.toFixed(1)}ms max=${s.latencyMs.max.toFixed(1)}ms ` +
    `rss=${mib(m.rssBefore)}->${mib(m.rssAfter)}MiB heap=${mib(m.heapBefore)}->${mib(m.heapAfter)}MiB (limit +${m.heapLimitMiB}) ` +
    `outside-heap=${mib(m.nativeBefore)}->${mib(m.nativeAfter)}MiB (limit +${m.nativeLimitMiB}) ` +
    `metrics=${mib(s.metrics.bytes)}MiB/${s.metrics.kinds}kinds/${s.metrics.routes}routes${s.metrics.showsToken ? '/SHOWS-THE-TOKEN' : ''} alive=${s.alive} statuses[${statuses}]`
  );
}

/** Whether the run passed: no failing case, memory within bounds, the server still up, the token kept off the metrics page. */
export const passed = (s: FuzzSummary): boolean => s.failures.length === 0 && s.memory.ok && s.alive && !s.metrics.showsToken;

export function describeFailure(seed: number, f: Failure): string {
  return [
    `case ${f.index} (replay: node test/fuzz/run.ts --seed ${seed} --case ${f.index}): ${f.why}`,
    `  ${f.method} ${f.path} ${JSON.stringify(f.headers)} ${f.bytes} bytes`,
    `  steps: ${f.steps.join('; ')}`,
    `  body: ${JSON.stringify(f.preview)}`,
  ].join('\n');
}

/** One case, sent alone to a fresh server, with its full body and answer: what a failure report needs. */
export async function replay(
  seed: number,
  index: number,
): Promise<{ readonly c: FuzzCase; readonly answer: Answer; readonly why: string | undefined }> {
  const dir = mkdtempSync(join(tmpdir(), 'ew-fuzz-'));
  const server = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
    env: {},
    logLevel: false,
  });
  try {
    const c = generateCase(seed, index, loadSeedlings());
    const token = tokenOf(server);
    const sent = addressed(c, token);
    const answer = await exchange(server.url, sent, { ca: readFileSync(join(dir, 'ca.crt'), 'utf8'), agent: false });
    return { c, answer, why: judgeAnswer(sent, answer, expectationOf(sent, token)) };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
