/**
 * Part 4: memory over a long run. One egress-warden holding `size` generated objects through
 * --state, run as the Deployment runs it (the image's settings, under its memory limit), gets what a
 * busy cluster sends for minutes on end: a rollout (70% pod creates, 30% egress objects, which the
 * server mostly answers from what it remembers) and a stream of new ServiceEntries (each one judged
 * and held as a pending write), taking turns window by window. Its memory is read after every
 * window. Memory is flat when the second half of the run holds no more than the first half did at
 * its highest, give or take FLAT_TOLERANCE: a leak climbs from window to window, a collector's
 * saw-tooth does not.
 *
 * Run alone: node bench/soak.ts [--quick] [--minutes M] [--size N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeState } from './generate.ts';
import { measureScenario } from './load.ts';
import { freePort, imageRuntime, serverMemory, startServer, type Memory, type ServerProcess } from './processes.ts';
import { newObjectEachReview, rollout, scenarios } from './reviews.ts';
import { addressed, wardenArgs, warmUp, writeBenchToken } from './side-by-side.ts';
import { fmt, table } from './stats.ts';

export type SoakOptions = {
  readonly size: number;
  readonly minutes: number;
  readonly windowSeconds: number;
  readonly connections: number;
  readonly log: (line: string) => void;
};

type Window = { readonly at: number; readonly load: string; readonly rps: number; readonly failures: number; readonly memory: Memory };

export type Verdict = 'flat' | 'climbing' | 'too short to tell';

export type Soak = { readonly markdown: string; readonly verdict: Verdict };

/** Readings an allocator's and collector's rhythm moves by without anything leaking. */
export const FLAT_TOLERANCE = 0.05;
/** Fewer windows than this say nothing about a trend. */
const FEWEST_WINDOWS = 4;

/**
 * The highest RSS of each half of the run, and whether the second half stays within
 * FLAT_TOLERANCE of the first half's highest.
 */
export function flatness(rss: readonly number[]): { first: number; second: number; verdict: Verdict } {
  const half = Math.ceil(rss.length / 2);
  const first = Math.max(...rss.slice(0, half));
  const second = Math.max(...rss.slice(half));
  if (rss.length < FEWEST_WINDOWS) return { first, second, verdict: 'too short to tell' };
  return { first, second, verdict: second <= first * (1 + FLAT_TOLERANCE) ? 'flat' : 'climbing' };
}

export async function runSoak(o: SoakOptions): Promise<Soak> {
  const work = mkdtempSync(join(tmpdir(), `egress-warden-soak-${o.size}-`));
  let server: ServerProcess | undefined;
  const windows: Window[] = [];
  let started: Memory | undefined;
  let ended: string | undefined;
  try {
    writeState(join(work, 'state'), o.size);
    const token = writeBenchToken(join(work, 'certs'));
    const port = await freePort();
    server = await startServer(
      `egress-warden (${fmt.int(o.size)})`,
      wardenArgs(port, join(work, 'certs'), join(work, 'state')),
      port,
      undefined,
      imageRuntime(),
    );
    const loads = [
      { label: 'rollout', scenario: rollout(scenarios().map((s) => addressed(s, token))) },
      { label: 'new objects', scenario: addressed(newObjectEachReview(), token) },
    ];
    await warmUp(
      server,
      loads.map((l) => l.scenario),
      Math.min(2, o.windowSeconds),
      o.connections,
    );
    started = await serverMemory(server);
    o.log(`soak: ${fmt.int(o.size)} objects, memory limit ${server.memoryLimit}, RSS ${fmt.mb(started.rss)} MB after start`);
    const t0 = performance.now();
    for (let i = 0; performance.now() - t0 < o.minutes * 60_000; i++) {
      const { label, scenario } = loads[i % loads.length]!;
      const m = await measureScenario(server, scenario, o.connections, o.windowSeconds);
      const at = (performance.now() - t0) / 60_000;
      ended = server.ended();
      if (ended !== undefined) {
        o.log(`soak ${at.toFixed(1).padStart(5)} min: the server ended (${ended})`);
        break;
      }
      const memory = await serverMemory(server);
      windows.push({ at, load: label, rps: m.rps, failures: m.failures, memory });
      o.log(
        `soak ${at.toFixed(1).padStart(5)} min ${label.padEnd(12)} ${fmt.int(m.rps).padStart(7)} req/s  RSS ${fmt.mb(memory.rss)} MB  heap ${fmt.mb(memory.heap)} MB${m.failures ? `  ${m.failures} failures` : ''}`,
      );
    }
  } finally {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const { first, second, verdict } = flatness(windows.map((w) => w.memory.rss));
  const rows = windows.map((w) => [
    w.at.toFixed(1),
    w.load,
    fmt.int(w.rps),
    String(w.failures),
    fmt.mb(w.memory.rss),
    fmt.mb(w.memory.heap),
    fmt.mb(w.memory.peak),
  ]);
  const markdown = [
    `${fmt.int(o.size)} objects through \`--state\`, memory limit ${server?.memoryLimit ?? 'unknown'}; RSS ${fmt.mb(started?.rss ?? Number.NaN)} MB after start. ` +
      `Highest RSS in the first half ${fmt.mb(first)} MB, in the second ${fmt.mb(second)} MB, peak ${fmt.mb(Math.max(...windows.map((w) => w.memory.peak)))} MB: ` +
      (ended === undefined
        ? `**${verdict}**.`
        : `**the server ended (${ended}${ended === 'signal SIGKILL' ? ', most likely killed at the memory limit' : ''}) after ${fmt.int(windows.length)} window${windows.length === 1 ? '' : 's'}**.`),
    '',
    table(['minutes', 'load', 'req/s', 'failures', 'RSS (MB)', 'heap used (MB)', 'peak RSS (MB)'], rows, new Set([0, 2, 3, 4, 5, 6])),
  ].join('\n');
  return { markdown, verdict };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, minutes: { type: 'string' }, size: { type: 'string' } } });
  const quick = values.quick ?? false;
  const { markdown } = await runSoak({
    size: values.size ? Number(values.size) : quick ? 1_000 : 100_000,
    minutes: values.minutes ? Number(values.minutes) : quick ? 0.1 : 5,
    windowSeconds: quick ? 2 : 15,
    connections: 64,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${markdown}\n`);
}
