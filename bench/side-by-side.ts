/**
 * Part 1: egress-warden against the bare-Fastify baseline, in the same run, rounds alternating
 * baseline / egress-warden per review so that drift (thermal, neighbours) hits both alike.
 */
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callerPath, TOKEN_FILE_NAME, type EndpointName } from '../src/catalogue/endpoints.ts';
import { OVERLAY_TTL_MS } from '../src/cluster/overlay.ts';
import { writeState } from './generate.ts';
import { measureScenario, type Measure } from './load.ts';
import { fill, PENDING_WRITES, pendingOn, pendingReviews } from './pending.ts';
import { freePort, memoryOf, post, startServer, type ServerProcess } from './processes.ts';
import { newObjectEachReview, rollout, scenarios, withPendingWrites, type Scenario } from './reviews.ts';
import { fmt, median, numericFrom, table } from './stats.ts';

export type SideBySideOptions = {
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly log: (line: string) => void;
};

export type SideBySide = {
  readonly markdown: string;
  /** the valid ServiceEntry with and without pending writes (read-your-writes) */
  readonly pending: string;
  readonly notes: readonly string[];
};

/**
 * egress-warden serving on the given port with the given certificate and state folders, logging as
 * it does by default: what a review costs includes the line it writes.
 */
export function wardenArgs(port: number, certs: string, state: string): string[] {
  return ['src/cli.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', '--certs', certs, '--no-cluster', '--state', state];
}

/**
 * A caller token for a server the bench starts, written with mode 0600 where `serve --certs DIR`
 * reads it before it starts: 32 random bytes as base64url, as `egress-warden certs` makes them.
 */
export function writeBenchToken(certs: string): string {
  const token = randomBytes(32).toString('base64url');
  mkdirSync(certs, { recursive: true });
  writeFileSync(join(certs, TOKEN_FILE_NAME), `${token}\n`, { mode: 0o600 });
  return token;
}

/** The path as the webhook configurations register it: `/validate?timeout=5s` becomes `/validate/<token>?timeout=5s`. */
export const tokenPath = (path: string, token: string): string =>
  path.replace(/^\/(validate|mutate)(?=\?|$)/, (_m, name: EndpointName) => callerPath(name, token));

/** The scenario sent the way the API server calls a server that holds `token`. */
export const addressed = (s: Scenario, token: string): Scenario => ({
  ...s,
  path: tokenPath(s.path, token),
  ...(s.mix ? { mix: s.mix.map((r) => ({ ...r, path: tokenPath(r.path, token) })) } : {}),
});

/** One line saying what egress-warden answered, so the table shows the rules really ran. */
export function describeAnswer(status: number, json: any): string {
  const r = json?.response;
  if (status !== 200 || !r) return `HTTP ${status}`;
  if (!r.allowed) {
    const codes = [...new Set(String(r.status?.message ?? '').match(/EW\d{3}/g) ?? [])];
    return `denied${codes.length ? ` (${codes.join(', ')})` : ''}`;
  }
  const warnings = Array.isArray(r.warnings) ? r.warnings.length : 0;
  let ops = 0;
  if (typeof r.patch === 'string') {
    try {
      ops = (JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) as unknown[]).length;
    } catch {
      ops = -1;
    }
  }
  return ['allowed', warnings ? `${warnings} warning${warnings > 1 ? 's' : ''}` : '', ops ? `patch of ${ops} op${ops > 1 ? 's' : ''}` : '']
    .filter(Boolean)
    .join(', ');
}

const expected = (s: Scenario, answer: string): boolean =>
  s.expect === 'denied' ? answer.startsWith('denied') : s.expect === 'patched' ? answer.includes('patch of') : answer.startsWith('allowed');

/** DESIGN.md's targets; a mixed load counts as /mutate, which most of it is. */
const targetOf = (s: Scenario) => (s.path.startsWith('/mutate') ? '≥ 80%, p99 ≤ 1.2x' : '≥ 90%, p99 ≤ 1.2x');

/** Every review on one server, mixed, to get the JIT and the caches warm before anything is counted. */
export async function warmUp(server: ServerProcess, list: readonly Scenario[], seconds: number, connections: number): Promise<void> {
  if (seconds <= 0) return;
  await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    skipAggregateResult: true,
    requests: list.map((s) => ({ method: 'POST', path: s.path, headers: { 'content-type': 'application/json' }, body: s.body })),
  });
}

/** What a measured run of a row with pending writes found on the server, before and after. */
type PendingRun = { readonly fillMs: number; readonly before: number; readonly after: number };

export async function runSideBySide(o: SideBySideOptions): Promise<SideBySide> {
  const work = mkdtempSync(join(tmpdir(), 'egress-warden-bench-'));
  const certs = join(work, 'certs');
  const state = join(work, 'state');
  writeState(state, 0);
  // Both servers get the same request line: the baseline takes the token path too (and ignores it).
  const token = writeBenchToken(certs);
  const reviews = scenarios().map((s) => addressed(s, token));
  const [valid, ...rest] = reviews;
  // the row with pending writes right after the row without, so both see the same machine
  const pendingRow = withPendingWrites(valid!, PENDING_WRITES);
  // and the same kind of write as a stream of new objects, which nothing remembered answers
  const list = [valid!, pendingRow, addressed(newObjectEachReview(), token), ...rest, rollout(reviews)];
  const fillBodies = pendingReviews(PENDING_WRITES);
  const notes: string[] = [];
  let warden: ServerProcess | undefined;
  let baseline: ServerProcess | undefined;
  try {
    // egress-warden first: it writes the development certificate the baseline then serves too.
    const wardenPort = await freePort();
    warden = await startServer('egress-warden', wardenArgs(wardenPort, certs, state), wardenPort);
    const baselinePort = await freePort();
    baseline = await startServer('baseline', ['bench/servers/baseline.ts', '--port', String(baselinePort), '--certs', certs], baselinePort);
    o.log(`servers up: baseline pid ${baseline.pid}, egress-warden pid ${warden.pid}`);

    const answers = new Map<Scenario, string>();
    for (const s of list) {
      const base = await post(baseline.url + s.path, s.body);
      if (base.status !== 200) throw new Error(`baseline answered ${base.status} to ${s.name}`);
      const got = await post(warden.url + s.path, s.body);
      const answer = describeAnswer(got.status, got.json);
      answers.set(s, answer);
      if (!expected(s, answer)) notes.push(`${s.name}: expected ${s.expect}, egress-warden answered "${answer}".`);
    }
    // The token is really asked for: the path the API server would call without it is refused.
    const bare = await post(`${warden.url}/validate`, valid!.body);
    if (bare.status !== 401) notes.push(`egress-warden answered ${bare.status} to /validate without the caller token, not 401.`);

    const wardenUrl = warden.url;
    const filled = async (): Promise<{ fillMs: number; before: number }> => {
      const f = await fill(wardenUrl + tokenPath('/validate?timeout=10s', token), fillBodies);
      if (f.allowed !== f.sent)
        throw new Error(`filling the overlay: ${f.sent - f.allowed} of ${f.sent} writes not allowed; first: ${f.refused}`);
      return { fillMs: f.ms, before: await pendingOn(wardenUrl) };
    };
    /**
     * Waits until the writes of an earlier fill have expired, so a row without pending writes holds
     * only the few its own reviews leave. Entries expire when a review next looks, so one is sent
     * before each count.
     */
    const drained = async (s: Scenario): Promise<number> => {
      const until = performance.now() + OVERLAY_TTL_MS + 5_000;
      for (;;) {
        await post(wardenUrl + s.path, s.body);
        const n = await pendingOn(wardenUrl);
        if (n < PENDING_WRITES / 100 || performance.now() > until) return n;
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    /** Measures `s` on egress-warden; a row with pending writes gets them first, and must still hold them all after. */
    const onWarden = async (s: Scenario, connections: number, into: PendingRun[]): Promise<Measure> => {
      const start = s.pendingWrites ? await filled() : { fillMs: 0, before: await drained(s) };
      const m = await measureScenario(warden!, s, connections, o.seconds);
      const after = await pendingOn(wardenUrl);
      into.push({ ...start, after });
      if (!s.pendingWrites && start.before >= PENDING_WRITES / 100)
        notes.push(`${s.name}: ${start.before} writes were still pending when a run began.`);
      if (s.pendingWrites && !(after >= s.pendingWrites)) {
        notes.push(
          `${s.name}: only ${after} writes were pending at the end of a run (filled in ${fmt.int(start.fillMs)} ms): some expired, so that run measured fewer.`,
        );
      }
      return m;
    };

    await warmUp(baseline, list, o.warmupSeconds, o.connections);
    // warm the layered snapshot's code too, not only the plain one
    await filled();
    await warmUp(warden, list, o.warmupSeconds, o.connections);

    const runs = new Map<Scenario, { a: Measure[]; b: Measure[]; pending: PendingRun[] }>(
      list.map((s) => [s, { a: [], b: [], pending: [] }]),
    );
    for (let round = 1; round <= o.rounds; round++) {
      for (const s of list) {
        const r = runs.get(s)!;
        const a = await measureScenario(baseline, s, o.connections, o.seconds);
        r.a.push(a);
        const b = await onWarden(s, o.connections, r.pending);
        r.b.push(b);
        for (const [label, m] of [
          [baseline.label, a],
          [warden.label, b],
        ] as const) {
          o.log(
            `round ${round}/${o.rounds} ${s.name.padEnd(50)} ${label.padEnd(13)} ${fmt.int(m.rps).padStart(7)} req/s  p50 ${fmt.ms(m.p50)} ms  p99 ${fmt.ms(m.p99)} ms  p99.9 ${fmt.ms(m.p999)} ms  server CPU ${fmt.pct(m.serverCpu)}  load CPU ${fmt.pct(m.clientCpu)}${m.failures ? `  ${m.failures} failures` : ''}`,
          );
        }
        const held = r.pending.at(-1)!;
        o.log(
          `round ${round}/${o.rounds} pending writes on egress-warden: ${held.before} before the run${s.pendingWrites ? ` (filled in ${fmt.int(held.fillMs)} ms)` : ''}, ${held.after} after it`,
        );
      }
    }

    const rss = { baseline: memoryOf(baseline.pid).rss, warden: memoryOf(warden.pid).rss };

    // One connection: no queueing, so the latency is the service time of one review.
    const single = new Map<Scenario, { a: Measure; b: Measure; pending: PendingRun[] }>();
    for (const s of list) {
      const a = await measureScenario(baseline, s, 1, o.seconds);
      const pending: PendingRun[] = [];
      const b = await onWarden(s, 1, pending);
      single.set(s, { a, b, pending });
      o.log(
        `1 connection ${s.name.padEnd(50)} baseline p50 ${fmt.ms(a.p50)} ms p99 ${fmt.ms(a.p99)} ms   egress-warden p50 ${fmt.ms(b.p50)} ms p99 ${fmt.ms(b.p99)} ms p99.9 ${fmt.ms(b.p999)} ms`,
      );
    }

    const rows: string[][] = [];
    const diag: string[][] = [];
    const alone: string[][] = [];
    const med = (ms: readonly Measure[], f: (m: Measure) => number) => median(ms.map(f));
    for (const s of list) {
      const { a, b } = runs.get(s)!;
      const ratio = median(a.map((m, i) => b[i]!.rps / m.rps));
      rows.push([
        s.name,
        fmt.int(med(a, (m) => m.rps)),
        fmt.int(med(b, (m) => m.rps)),
        fmt.ratio(ratio),
        fmt.ms(med(a, (m) => m.p50)),
        fmt.ms(med(b, (m) => m.p50)),
        fmt.ms(med(a, (m) => m.p99)),
        fmt.ms(med(b, (m) => m.p99)),
        fmt.ms(med(a, (m) => m.p999)),
        fmt.ms(med(b, (m) => m.p999)),
        targetOf(s),
        answers.get(s) ?? '',
      ]);
      const perCpu = (m: Measure) => m.rps / (m.serverCpu / 100);
      const failures = [...a, ...b].reduce((n, m) => n + m.failures, 0);
      diag.push([
        s.name,
        fmt.pct(med(a, (m) => m.serverCpu)),
        fmt.pct(med(b, (m) => m.serverCpu)),
        fmt.pct(med(a, (m) => m.clientCpu)),
        fmt.pct(med(b, (m) => m.clientCpu)),
        fmt.int(med(a, perCpu)),
        fmt.int(med(b, perCpu)),
        fmt.ratio(median(a.map((m, i) => perCpu(b[i]!) / perCpu(m)))),
        String(failures),
      ]);
      const one = single.get(s)!;
      alone.push([
        s.name,
        fmt.ms(one.a.p50),
        fmt.ms(one.b.p50),
        fmt.ms(one.a.p99),
        fmt.ms(one.b.p99),
        fmt.ms(one.b.p999),
        fmt.ms(one.b.p50 - one.a.p50),
        fmt.int(one.a.rps),
        fmt.int(one.b.rps),
        String(one.a.failures + one.b.failures),
      ]);
    }
    const main = table(
      [
        'review',
        'baseline req/s',
        'egress-warden req/s',
        'ratio',
        'baseline p50 ms',
        'egress-warden p50 ms',
        'baseline p99 ms',
        'egress-warden p99 ms',
        'baseline p99.9 ms',
        'egress-warden p99.9 ms',
        'target',
        'egress-warden answered',
      ],
      rows,
      numericFrom(1, 10),
    );
    const cpu = table(
      [
        'review',
        'baseline server CPU',
        'egress-warden server CPU',
        'load generator CPU (baseline)',
        'load generator CPU (egress-warden)',
        'baseline req per CPU-s',
        'egress-warden req per CPU-s',
        'ratio per CPU-s',
        'failures',
      ],
      diag,
      numericFrom(1, 9),
    );
    const unloaded = table(
      [
        'review',
        'baseline p50 ms',
        'egress-warden p50 ms',
        'baseline p99 ms',
        'egress-warden p99 ms',
        'egress-warden p99.9 ms',
        'added at p50 ms',
        'baseline req/s',
        'egress-warden req/s',
        'failures',
      ],
      alone,
      numericFrom(1, 10),
    );
    const pending = pendingTable(valid!, pendingRow, runs, single);
    return {
      markdown:
        `${main}\n\nWhere the time went (CPU in % of one core, medians of the rounds):\n\n${cpu}\n\n` +
        `One connection (no queueing: the time one review takes, ${o.seconds} s each):\n\n${unloaded}\n\n` +
        `Resident memory after the rounds: baseline ${fmt.mb(rss.baseline)} MB, egress-warden ${fmt.mb(rss.warden)} MB.`,
      pending,
      notes,
    };
  } finally {
    await baseline?.stop();
    await warden?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The same review with and without pending writes, on egress-warden: each ratio is taken within a
 * round (the two runs are back to back) and the median of the rounds' ratios is shown.
 */
function pendingTable(
  none: Scenario,
  some: Scenario,
  runs: ReadonlyMap<Scenario, { readonly b: readonly Measure[]; readonly pending: readonly PendingRun[] }>,
  single: ReadonlyMap<Scenario, { readonly b: Measure; readonly pending: readonly PendingRun[] }>,
): string {
  const n = runs.get(none)!;
  const p = runs.get(some)!;
  const ratio = (f: (m: Measure) => number) => median(n.b.map((m, i) => f(p.b[i]!) / f(m)));
  const med = (ms: readonly Measure[], f: (m: Measure) => number) => median(ms.map(f));
  const held = (runsOf: readonly PendingRun[]) =>
    `${fmt.int(Math.min(...runsOf.map((r) => r.before)))}–${fmt.int(Math.max(...runsOf.map((r) => r.before)))} → ${fmt.int(Math.min(...runsOf.map((r) => r.after)))}–${fmt.int(Math.max(...runsOf.map((r) => r.after)))}`;
  // requests per CPU-second of the server: steadier than req/s when something else takes a share of the cores
  const perCpu = (m: Measure) => m.rps / (m.serverCpu / 100);
  const row = (s: Scenario, r: typeof n) => [
    s.name,
    held(r.pending),
    fmt.int(med(r.b, (m) => m.rps)),
    fmt.int(med(r.b, perCpu)),
    fmt.ms(med(r.b, (m) => m.p50)),
    fmt.ms(med(r.b, (m) => m.p99)),
    fmt.ms(med(r.b, (m) => m.p999)),
  ];
  const loaded = table(
    [
      'review',
      'pending writes (before the run → after it, range over the rounds)',
      'req/s',
      'req per server CPU-s',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
    ],
    [
      row(none, n),
      row(some, p),
      [
        'pending / none',
        '',
        fmt.times(ratio((m) => m.rps)),
        fmt.times(ratio(perCpu)),
        fmt.times(ratio((m) => m.p50)),
        fmt.times(ratio((m) => m.p99)),
        fmt.times(ratio((m) => m.p999)),
      ],
    ],
    numericFrom(2, 7),
  );
  const [a, b] = [single.get(none)!.b, single.get(some)!.b];
  const one = table(
    ['review, one connection', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms'],
    [
      [none.name, fmt.int(a.rps), fmt.ms(a.p50), fmt.ms(a.p99), fmt.ms(a.p999)],
      [some.name, fmt.int(b.rps), fmt.ms(b.p50), fmt.ms(b.p99), fmt.ms(b.p999)],
      ['pending / none', fmt.times(b.rps / a.rps), fmt.times(b.p50 / a.p50), fmt.times(b.p99 / a.p99), fmt.times(b.p999 / a.p999)],
    ],
    numericFrom(1, 5),
  );
  return `${loaded}\n\nOne connection (one run each):\n\n${one}`;
}
