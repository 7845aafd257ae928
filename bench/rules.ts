/**
 * Part 3: the rule engine alone, in-process: reviews per second of judge() for a typical
 * ServiceEntry, VirtualService and Egress (and of the pod mutation), with an empty snapshot and
 * with a snapshot of 100,000 generated objects, and with that snapshot under an overlay of pending
 * writes (read-your-writes, src/cluster/overlay.ts). No HTTP, no JSON: what is left is rule cost.
 *
 * Run alone: node bench/rules.ts [--quick]
 */
import { parseArgs } from 'node:util';
import { decodeReview } from '../src/admission/codec.ts';
import type { AdmissionRequest } from '../src/admission/types.ts';
import { snapshotFromObjects } from '../src/cluster/indexes.ts';
import { overlay } from '../src/cluster/overlay.ts';
import type { ClusterSnapshot } from '../src/cluster/snapshot.ts';
import { admitPod } from '../src/review/mutate.ts';
import { judge, ruleFor } from '../src/review/validate.ts';
import { BENCH_CIDRS, generateObjects, teamNamespaces } from './generate.ts';
import { benchNamespace, scenarios } from './reviews.ts';
import { fmt, median, numericFrom, table } from './stats.ts';

export type RulesOptions = {
  /** objects in the large snapshot */
  readonly objects: number;
  /** one measurement; each cell is the median of `repeats`, empty and large snapshots alternating */
  readonly seconds: number;
  readonly repeats: number;
  readonly log: (line: string) => void;
};

type Case = { readonly name: string; readonly run: (snapshot: ClusterSnapshot) => unknown; readonly answer: (snapshot: ClusterSnapshot) => string };

function requestOf(body: unknown): AdmissionRequest {
  const decoded = decodeReview(body);
  if (!decoded.ok) throw new Error(`bench review does not decode: ${decoded.problem}`);
  return decoded.request;
}

function cases(): Case[] {
  const all = scenarios();
  const validate = (index: number, label: string): Case => {
    const req = requestOf(all[index]!.review);
    return {
      name: label,
      run: (s) => judge(req, s),
      answer: (s) => {
        if (!ruleFor(req.kind)) return 'no rule registered for this kind: measures the gate only';
        const v = judge(req, s);
        return v.allowed ? `allowed${v.warnings.length ? `, ${v.warnings.length} warnings` : ''}` : `denied (${[...new Set(v.findings.errors.map((e) => e.code))].join(', ')})`;
      },
    };
  };
  const pod = requestOf(all[4]!.review);
  return [
    validate(0, 'ServiceEntry, judge()'),
    validate(2, 'VirtualService, judge()'),
    validate(3, 'Egress, judge()'),
    {
      name: 'Pod, admitPod()',
      run: (s) => admitPod(pod, s),
      answer: (s) => {
        const v = admitPod(pod, s);
        return v.allowed ? `allowed${v.patch.length ? `, patch of ${v.patch.length} ops` : ', no patch'}` : 'denied';
      },
    },
  ];
}

/** Calls per second of `fn` over `ms` milliseconds. */
function rate(fn: () => unknown, ms: number): number {
  let sink = 0;
  let calls = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    for (let i = 0; i < 100; i++) sink += fn() ? 1 : 0;
    calls += 100;
    now = performance.now();
  }
  if (sink < 0) throw new Error('unreachable');
  return calls / ((now - t0) / 1000);
}

/** Pending writes laid over the large snapshot: a kubectl apply of a few files' worth of objects. */
const PENDING = 50;

export function runRules(o: RulesOptions): string {
  const list = cases();
  const base = [benchNamespace()];
  const small = snapshotFromObjects(base, BENCH_CIDRS);
  o.log(`rules: building a snapshot of ${fmt.int(o.objects)} objects`);
  const large = snapshotFromObjects([...base, ...teamNamespaces(o.objects), ...generateObjects(o.objects)], BENCH_CIDRS);
  // writes admitted moments ago: new versions of objects the snapshot holds, of every indexed kind
  const pending = overlay(() => 0, Infinity);
  for (const obj of generateObjects(PENDING)) pending.admitted(obj);
  const layered = pending.layer(large);
  const rows = list.map((c) => {
    const onSmall = () => c.run(small);
    const onLarge = () => c.run(large);
    const onLayered = () => c.run(layered);
    // every shape warms before any is counted, so the first measured is not the colder one
    rate(onSmall, o.seconds * 500);
    rate(onLarge, o.seconds * 500);
    rate(onLayered, o.seconds * 500);
    const e: number[] = [];
    const l: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < o.repeats; i++) {
      e.push(rate(onSmall, o.seconds * 1000));
      l.push(rate(onLarge, o.seconds * 1000));
      p.push(rate(onLayered, o.seconds * 1000));
    }
    const [empty, full, over] = [median(e), median(l), median(p)];
    o.log(`rules: ${c.name.padEnd(24)} ${fmt.int(empty).padStart(9)}/s empty  ${fmt.int(full).padStart(9)}/s with ${fmt.int(o.objects)}  ${fmt.int(over).padStart(9)}/s with ${PENDING} pending`);
    const [a, b] = [c.answer(small), c.answer(large)];
    return [c.name, fmt.int(empty), (1e6 / empty).toFixed(1), fmt.int(full), (1e6 / full).toFixed(1), fmt.ratio(full / empty), fmt.int(over), fmt.ratio(over / full), a === b ? a : `${a} / ${b}`];
  });
  return table(
    ['review', 'per s, empty snapshot', 'µs each, empty', `per s, ${fmt.int(o.objects)} objects`, `µs each, ${fmt.int(o.objects)} objects`, 'large / empty',
      `per s, ${fmt.int(o.objects)} objects + ${PENDING} pending writes`, 'pending / large', 'answer (empty / large when they differ)'],
    rows, numericFrom(1, 8));
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, objects: { type: 'string' } } });
  const quick = values.quick ?? false;
  const markdown = runRules({
    objects: values.objects ? Number(values.objects) : quick ? 10_000 : 100_000,
    seconds: quick ? 0.25 : 1,
    repeats: quick ? 1 : 3,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${markdown}\n`);
}
