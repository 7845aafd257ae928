/**
 * Part 1: egress-warden against the bare-Fastify baseline, in the same run, rounds alternating
 * baseline / egress-warden per review so that drift (thermal, neighbours) hits both alike.
 */
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeState } from './generate.ts';
import { measure, type Measure } from './load.ts';
import { freePort, memoryOf, post, startServer, type ServerProcess } from './processes.ts';
import { scenarios, type Scenario } from './reviews.ts';
import { fmt, median, numericFrom, table } from './stats.ts';

export type SideBySideOptions = {
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly log: (line: string) => void;
};

export type SideBySide = { readonly markdown: string; readonly notes: readonly string[] };

/**
 * egress-warden serving on the given port with the given certificate and state folders, logging as
 * it does by default: what a review costs includes the line it writes.
 */
export function wardenArgs(port: number, certs: string, state: string): string[] {
  return ['src/cli.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', '--certs', certs,
    '--no-cluster', '--state', state];
}

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
    try { ops = (JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) as unknown[]).length; } catch { ops = -1; }
  }
  return ['allowed', warnings ? `${warnings} warning${warnings > 1 ? 's' : ''}` : '', ops ? `patch of ${ops} op${ops > 1 ? 's' : ''}` : '']
    .filter(Boolean).join(', ');
}

const expected = (s: Scenario, answer: string): boolean =>
  s.expect === 'denied' ? answer.startsWith('denied') : s.expect === 'patched' ? answer.includes('patch of') : answer.startsWith('allowed');

const targetOf = (s: Scenario) => (s.path.startsWith('/mutate') ? '≥ 60%, p99 < 15 ms' : '≥ 80%, p99 < 10 ms');

/** Every review on one server, mixed, to get the JIT and the caches warm before anything is counted. */
export async function warmUp(server: ServerProcess, list: readonly Scenario[], seconds: number, connections: number): Promise<void> {
  if (seconds <= 0) return;
  await autocannon({
    url: server.url, connections, duration: seconds, skipAggregateResult: true,
    requests: list.map((s) => ({ method: 'POST', path: s.path, headers: { 'content-type': 'application/json' }, body: s.body })),
  });
}

export async function runSideBySide(o: SideBySideOptions): Promise<SideBySide> {
  const work = mkdtempSync(join(tmpdir(), 'egress-warden-bench-'));
  const certs = join(work, 'certs');
  const state = join(work, 'state');
  writeState(state, 0);
  const list = scenarios();
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

    await warmUp(baseline, list, o.warmupSeconds, o.connections);
    await warmUp(warden, list, o.warmupSeconds, o.connections);

    const runs = new Map<Scenario, { a: Measure[]; b: Measure[] }>(list.map((s) => [s, { a: [], b: [] }]));
    for (let round = 1; round <= o.rounds; round++) {
      for (const s of list) {
        const r = runs.get(s)!;
        for (const [server, into] of [[baseline, r.a], [warden, r.b]] as const) {
          const m = await measure({ url: server.url + s.path, pid: server.pid, body: s.body, connections: o.connections, seconds: o.seconds });
          into.push(m);
          o.log(`round ${round}/${o.rounds} ${s.name.padEnd(38)} ${server.label.padEnd(13)} ${fmt.int(m.rps).padStart(7)} req/s  p50 ${fmt.ms(m.p50)} ms  p99 ${fmt.ms(m.p99)} ms  server CPU ${fmt.pct(m.serverCpu)}  load CPU ${fmt.pct(m.clientCpu)}${m.failures ? `  ${m.failures} failures` : ''}`);
        }
      }
    }

    const rss = { baseline: memoryOf(baseline.pid).rss, warden: memoryOf(warden.pid).rss };

    // One connection: no queueing, so the latency is the service time of one review.
    const single = new Map<Scenario, { a: Measure; b: Measure }>();
    for (const s of list) {
      const a = await measure({ url: baseline.url + s.path, pid: baseline.pid, body: s.body, connections: 1, seconds: o.seconds });
      const b = await measure({ url: warden.url + s.path, pid: warden.pid, body: s.body, connections: 1, seconds: o.seconds });
      single.set(s, { a, b });
      o.log(`1 connection ${s.name.padEnd(38)} baseline p50 ${fmt.ms(a.p50)} ms p99 ${fmt.ms(a.p99)} ms   egress-warden p50 ${fmt.ms(b.p50)} ms p99 ${fmt.ms(b.p99)} ms`);
    }

    const rows: string[][] = [];
    const diag: string[][] = [];
    const alone: string[][] = [];
    for (const s of list) {
      const { a, b } = runs.get(s)!;
      const med = (ms: Measure[], f: (m: Measure) => number) => median(ms.map(f));
      const ratio = median(a.map((m, i) => b[i]!.rps / m.rps));
      rows.push([
        s.name, fmt.int(med(a, (m) => m.rps)), fmt.int(med(b, (m) => m.rps)), fmt.ratio(ratio),
        fmt.ms(med(a, (m) => m.p50)), fmt.ms(med(b, (m) => m.p50)), fmt.ms(med(a, (m) => m.p99)), fmt.ms(med(b, (m) => m.p99)),
        targetOf(s), answers.get(s) ?? '',
      ]);
      const perCpu = (m: Measure) => m.rps / (m.serverCpu / 100);
      const failures = [...a, ...b].reduce((n, m) => n + m.failures, 0);
      diag.push([
        s.name, fmt.pct(med(a, (m) => m.serverCpu)), fmt.pct(med(b, (m) => m.serverCpu)),
        fmt.pct(med(a, (m) => m.clientCpu)), fmt.pct(med(b, (m) => m.clientCpu)),
        fmt.int(med(a, perCpu)), fmt.int(med(b, perCpu)), fmt.ratio(median(a.map((m, i) => perCpu(b[i]!) / perCpu(m)))),
        String(failures),
      ]);
      const one = single.get(s)!;
      alone.push([s.name, fmt.ms(one.a.p50), fmt.ms(one.b.p50), fmt.ms(one.a.p99), fmt.ms(one.b.p99), fmt.ms(one.b.p50 - one.a.p50), fmt.int(one.a.rps), fmt.int(one.b.rps)]);
    }
    const main = table(
      ['review', 'baseline req/s', 'egress-warden req/s', 'ratio', 'baseline p50 ms', 'egress-warden p50 ms', 'baseline p99 ms', 'egress-warden p99 ms', 'target', 'egress-warden answered'],
      rows, numericFrom(1, 8));
    const cpu = table(
      ['review', 'baseline server CPU', 'egress-warden server CPU', 'load generator CPU (baseline)', 'load generator CPU (egress-warden)',
        'baseline req per CPU-s', 'egress-warden req per CPU-s', 'ratio per CPU-s', 'failures'],
      diag, numericFrom(1, 9));
    const unloaded = table(
      ['review', 'baseline p50 ms', 'egress-warden p50 ms', 'baseline p99 ms', 'egress-warden p99 ms', 'added at p50 ms', 'baseline req/s', 'egress-warden req/s'],
      alone, numericFrom(1, 8));
    return {
      markdown: `${main}\n\nWhere the time went (CPU in % of one core, medians of the rounds):\n\n${cpu}\n\n` +
        `One connection (no queueing: the time one review takes, ${o.seconds} s each):\n\n${unloaded}\n\n` +
        `Resident memory after the rounds: baseline ${fmt.mb(rss.baseline)} MB, egress-warden ${fmt.mb(rss.warden)} MB.`,
      notes,
    };
  } finally {
    await baseline?.stop();
    await warden?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
