/**
 * Part 2: cost against cluster size. egress-warden loads 0, 10,000 and 100,000 generated
 * ServiceEntries and Egresses through --state, one process per size, all up at once and loaded in
 * turn within each round (as the baseline comparison alternates), so drift on the machine falls on
 * every size alike. Measured: /validate latency under load, the process's memory, the snapshot
 * build time.
 *
 * Run alone: node bench/scale.ts [--quick] [--sizes 0,10000,100000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { KubeObject } from '../src/admission/types.ts';
import { snapshotFromObjects } from '../src/cluster/indexes.ts';
import { loadStateDir } from '../src/cluster/state-dir.ts';
import { BENCH_CIDRS, generateObjects, writeState } from './generate.ts';
import { measureScenario, type Measure } from './load.ts';
import { freePort, get, imageRuntime, post, serverMemory, startServer, type Memory, type ServerProcess } from './processes.ts';
import { newObjectEachReview, reviewOf, scenarios, type Scenario } from './reviews.ts';
import { addressed, describeAnswer, tokenPath, wardenArgs, warmUp, writeBenchToken } from './side-by-side.ts';
import { fmt, median, numericFrom, table } from './stats.ts';

export type ScaleOptions = {
  readonly sizes: readonly number[];
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  /** in-process snapshot builds per size; the median is reported */
  readonly builds: number;
  readonly log: (line: string) => void;
};

/**
 * A ServiceEntry that only the loaded state makes suspicious: generated object 0 declares
 * db-0.team-0.internal:5432 as TCP; this one says HTTP, which the cross-object check reports.
 */
function stateProbe(): Buffer {
  const object: KubeObject = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: 'bench-probe', namespace: 'team-0' },
    spec: {
      hosts: ['db-0.team-0.internal'],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      exportTo: ['.'],
      ports: [{ number: 5432, name: 'http', protocol: 'HTTP' }],
    },
  };
  return Buffer.from(JSON.stringify(reviewOf(object, 'networking.istio.io', 'v1', 'serviceentries')));
}

type Prepared = {
  readonly size: number;
  readonly work: string;
  readonly files: number;
  readonly parseMs: number;
  readonly buildMs: number;
  /** the caller token written into the server's certificate folder before it started */
  readonly token: string;
  server?: ServerProcess;
  serverBuildMs?: number;
  stateSeen: string;
  idle: Memory;
  after: Memory;
  readonly runs: Map<Scenario, Measure[]>;
};

const NO_MEMORY: Memory = { rss: Number.NaN, peak: Number.NaN, heap: Number.NaN };

function timeBuild(objects: readonly KubeObject[], builds: number): number {
  const times: number[] = [];
  for (let i = 0; i < builds; i++) {
    const t0 = performance.now();
    snapshotFromObjects(objects, BENCH_CIDRS);
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Reading the state folder the way `serve --state` does; the objects are dropped at once. */
function timeParse(dir: string): number {
  const t0 = performance.now();
  const loaded = loadStateDir(dir);
  const ms = performance.now() - t0;
  if (loaded.errors.length) throw new Error(`generated state does not load: ${loaded.errors.slice(0, 3).join('; ')}`);
  return ms;
}

/** The state folder and the in-process timings for one size; no server yet. */
function prepare(size: number, list: readonly Scenario[], o: ScaleOptions): Prepared {
  const work = mkdtempSync(join(tmpdir(), `egress-warden-scale-${size}-`));
  const files = writeState(join(work, 'state'), size);
  const parseMs = timeParse(join(work, 'state'));
  const buildMs = timeBuild(generateObjects(size), o.builds);
  const token = writeBenchToken(join(work, 'certs'));
  return {
    size,
    work,
    files,
    parseMs,
    buildMs,
    token,
    stateSeen: 'n/a (empty)',
    idle: NO_MEMORY,
    after: NO_MEMORY,
    runs: new Map(list.map((s) => [s, []])),
  };
}

/** Starts the server of one size alone (its start time is not shared with another start) and checks what it loaded. */
async function launch(p: Prepared): Promise<void> {
  const port = await freePort();
  // as the image runs it: the memory figures are the deployed server's
  const server = await startServer(
    `egress-warden (${fmt.int(p.size)})`,
    wardenArgs(port, join(p.work, 'certs'), join(p.work, 'state')),
    port,
    undefined,
    imageRuntime(),
  );
  p.server = server;
  try {
    const ms = JSON.parse((await get(`${server.url}/readyz`)).body)?.cluster?.snapshot?.buildMs;
    if (typeof ms === 'number') p.serverBuildMs = ms;
  } catch {
    // a /readyz body without snapshot timings
  }
  if (p.size > 0) {
    const probe = await post(server.url + tokenPath('/validate?timeout=10s', p.token), stateProbe());
    const warned = JSON.stringify(probe.json?.response?.warnings ?? []).includes('EW404');
    p.stateSeen = warned ? 'yes (EW404 on a clashing probe)' : `no (probe: ${describeAnswer(probe.status, probe.json)})`;
  }
  p.idle = await serverMemory(server);
}

export async function runScale(o: ScaleOptions): Promise<string> {
  const all = scenarios();
  // The two kinds whose indexes grow with the cluster, and new objects first: the server answers a
  // body it has judged twice from what it remembers, so only new objects run the rules against the
  // loaded indexes on every review. Their pending writes (10 s) then age alike on every server.
  const list = [{ ...newObjectEachReview(), name: 'New ServiceEntries' }, all[0]!, all[3]!];
  const results: Prepared[] = [];
  try {
    for (const size of o.sizes) {
      o.log(`scale: ${fmt.int(size)} objects: generating, parsing and building in-process`);
      const p = prepare(size, list, o);
      results.push(p);
      await launch(p);
      o.log(`scale: ${fmt.int(size)} objects: server healthy in ${(p.server!.startMs / 1000).toFixed(1)} s, state seen: ${p.stateSeen}`);
    }
    for (const p of results)
      await warmUp(
        p.server!,
        list.map((s) => addressed(s, p.token)),
        o.warmupSeconds,
        o.connections,
      );
    // All sizes run side by side, alternating within each round, like the baseline comparison.
    for (let round = 1; round <= o.rounds; round++) {
      for (const s of list) {
        for (const p of results) {
          const server = p.server!;
          const m = await measureScenario(server, addressed(s, p.token), o.connections, o.seconds);
          p.runs.get(s)!.push(m);
          o.log(
            `scale ${fmt.int(p.size).padStart(7)} round ${round}/${o.rounds} ${s.name.padEnd(22)} ${fmt.int(m.rps).padStart(7)} req/s  p50 ${fmt.ms(m.p50)} ms  p99 ${fmt.ms(m.p99)} ms${m.failures ? `  ${m.failures} failures` : ''}`,
          );
        }
      }
    }
    for (const p of results) p.after = await serverMemory(p.server!);
  } finally {
    for (const p of results) {
      await p.server?.stop();
      rmSync(p.work, { recursive: true, force: true });
    }
  }
  const empty = results.find((r) => r.size === 0);
  const latencyRows = results.map((r) => {
    const cells = [fmt.int(r.size)];
    for (const s of list) {
      const ms = r.runs.get(s)!;
      const p99 = median(ms.map((m) => m.p99));
      const p99Empty = empty ? median(empty.runs.get(s)!.map((m) => m.p99)) : Number.NaN;
      cells.push(fmt.int(median(ms.map((m) => m.rps))), fmt.ms(median(ms.map((m) => m.p50))), fmt.ms(p99), fmt.times(p99 / p99Empty));
    }
    return cells;
  });
  const short = (s: Scenario) => s.name.replace(/ \(.*\)$/, '');
  const latency = table(
    ['objects', ...list.flatMap((s) => [`${short(s)} req/s`, `${short(s)} p50 ms`, `${short(s)} p99 ms`, `${short(s)} p99 vs empty`])],
    latencyRows,
    numericFrom(1, 1 + list.length * 4),
  );
  const memoryRows = results.map((r) => [
    fmt.int(r.size),
    String(r.files),
    fmt.int(r.parseMs),
    fmt.int(r.buildMs),
    r.serverBuildMs === undefined ? '—' : fmt.int(r.serverBuildMs),
    (r.server!.startMs / 1000).toFixed(1),
    fmt.mb(r.idle.rss),
    fmt.mb(r.idle.heap),
    fmt.mb(r.after.rss),
    fmt.mb(r.after.heap),
    fmt.mb(r.after.peak),
    r.server!.memoryLimit,
    r.stateSeen,
  ]);
  const memoryTable = table(
    [
      'objects',
      'state files',
      'parse state (ms, in-process)',
      'snapshot build (ms, in-process)',
      'snapshot build (ms, server)',
      'start to healthy (s)',
      'RSS idle (MB)',
      'heap used idle (MB)',
      'RSS after load (MB)',
      'heap used after load (MB)',
      'peak RSS (MB)',
      'memory limit',
      'state seen by the rules',
    ],
    memoryRows,
    numericFrom(1, 11),
  );
  return `${latency}\n\n${memoryTable}`;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, sizes: { type: 'string' } } });
  const quick = values.quick ?? false;
  const sizes = values.sizes ? values.sizes.split(',').map(Number) : quick ? [0, 1_000] : [0, 10_000, 100_000];
  const markdown = await runScale({
    sizes,
    rounds: quick ? 1 : 3,
    seconds: quick ? 1 : 5,
    warmupSeconds: quick ? 0.5 : 2,
    connections: 64,
    builds: quick ? 1 : 3,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${markdown}\n`);
}
