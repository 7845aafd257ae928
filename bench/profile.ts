/**
 * Where a server's time goes under the bench's load: starts `serve` as the side-by-side run does,
 * with `--cpu-prof`, sends one review at 64 connections, and prints the functions that took the
 * most of the profile (self time), plus the time under a few functions named on the command line.
 * The req/s it prints is not a figure to compare: the profiler itself costs a third or more.
 *
 *   npx node bench/profile.ts [--baseline] [--review N] [--seconds S] [--under name,name] [--top K] [--keep DIR]
 *
 * N is the scenario's index in bench/reviews.ts (0: valid ServiceEntry, 4: /mutate Pod), `mixed` (rollout), or
 * `new` (a valid ServiceEntry with its own name and host on every review).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeState } from './generate.ts';
import { measureScenario } from './load.ts';
import { freePort, startServer } from './processes.ts';
import { namedReview } from './reviews.ts';
import { addressed, wardenArgs, writeBenchToken } from './side-by-side.ts';

const { values } = parseArgs({
  options: {
    review: { type: 'string', default: '0' },
    seconds: { type: 'string', default: '8' },
    under: { type: 'string', default: '' },
    top: { type: 'string', default: '30' },
    keep: { type: 'string' },
    baseline: { type: 'boolean', default: false },
    children: { type: 'string', default: '' },
  },
});

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

const work = mkdtempSync(join(tmpdir(), 'egress-warden-profile-'));
const certs = join(work, 'certs');
const state = join(work, 'state');
const profiles = values.keep ?? join(work, 'prof');
writeState(state, 0);
const token = writeBenchToken(certs);
const s = addressed(namedReview(values.review), token);
const port = await freePort();
const prof = [`--cpu-prof`, `--cpu-prof-dir=${profiles}`];
if (values.baseline) await (await startServer('egress-warden', wardenArgs(port, certs, state), port)).stop(); // writes the certificate
const server = values.baseline
  ? await startServer('baseline', [...prof, 'bench/servers/baseline.ts', '--port', String(port), '--certs', certs], port)
  : await startServer('egress-warden', [...prof, ...wardenArgs(port, certs, state)], port);
// warm-up, then the measured run: only the whole profile is kept, the warm-up is a small part of it
await measureScenario(server, s, 64, 2);
const m = await measureScenario(server, s, 64, Number(values.seconds));
await server.stop();
process.stdout.write(`${s.name}: ${Math.round(m.rps)} req/s under the profiler, server CPU ${Math.round(m.serverCpu)}%\n`);

const file = readdirSync(profiles).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile in ${profiles}`);
const p = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
const busy = total - idle;
const requests = m.requests * (1 + 2 / Number(values.seconds));
const where = (n: Node) => {
  const f = n.callFrame;
  const file = f.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/').replace(/^node:/, '');
  return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
};
const selfBy = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  const k = where(n);
  selfBy.set(k, (selfBy.get(k) ?? 0) + t);
}
const us = (t: number) => `${(t / requests).toFixed(1)} µs`;
const pct = (t: number) => `${((100 * t) / busy).toFixed(1)}%`;
process.stdout.write(`busy ${us(busy)} per request (of which the warm-up's share is estimated)\n\nself time:\n`);
for (const [k, t] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  if (k.startsWith('(idle)')) continue;
  process.stdout.write(`  ${pct(t).padStart(6)} ${us(t).padStart(10)}  ${k}\n`);
}
// inclusive time under named functions, counting each sample once however deep the recursion
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const names = values.under.split(',').filter(Boolean);
if (names.length) process.stdout.write('\ntime under:\n');
for (const name of names) {
  let t = 0;
  for (const [id, d] of self) {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (byId.get(at)!.callFrame.functionName === name) {
        t += d;
        break;
      }
    }
  }
  process.stdout.write(`  ${pct(t).padStart(6)} ${us(t).padStart(10)}  ${name}\n`);
}
// inclusive time of this project's functions, by name and place
const inclusive = new Map<string, number>();
for (const [id, d] of self) {
  const counted = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const n = byId.get(at)!;
    if (!n.callFrame.url.includes('/src/')) continue;
    const k = where(n);
    if (counted.has(k)) continue;
    counted.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + d);
  }
}
process.stdout.write('\ninclusive, src/ only:\n');
for (const [k, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  process.stdout.write(`  ${pct(t).padStart(6)} ${us(t).padStart(10)}  ${k}\n`);
}
// where the time under one function (by place, "file:line") goes, by direct callee
if (values.children) {
  const under = new Map<string, number>();
  for (const [id, d] of self) {
    let child: Node | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at)!;
      if (where(n).endsWith(values.children)) {
        const k = child ? where(child) : '(self)';
        under.set(k, (under.get(k) ?? 0) + d);
        break;
      }
      child = n;
    }
  }
  process.stdout.write(`\nunder ${values.children}:\n`);
  for (const [k, t] of [...under].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    process.stdout.write(`  ${pct(t).padStart(6)} ${us(t).padStart(10)}  ${k}\n`);
  }
}
process.stdout.write(`\nprofile: ${join(profiles, file)}\n`);
