/**
 * Part 3: the rule engine alone, in-process: reviews per second of judge() for a typical
 * ServiceEntry, VirtualService and Egress (and of the pod mutation), with an empty snapshot and
 * with a snapshot of 100,000 generated objects. Then the same reviews on that snapshot through the
 * reviewer serve runs (read-your-writes: src/review/consistency.ts over src/cluster/overlay.ts),
 * with nothing pending and with 5,000 pending writes of every indexed kind: reviews that only read
 * the overlay, reviews whose write is then admitted (the same object each time), and a stream of
 * distinct admitted writes while the oldest expire. No HTTP, no JSON: what is left is rule and
 * overlay cost.
 *
 * Run alone: node bench/rules.ts [--quick]
 */
import { parseArgs } from 'node:util';
import { decodeReview } from '../src/admission/codec.ts';
import type { Decision } from '../src/admission/decision.ts';
import type { AdmissionRequest, KubeObject } from '../src/admission/types.ts';
import { snapshotFromObjects } from '../src/cluster/indexes.ts';
import { overlay, type Overlay } from '../src/cluster/overlay.ts';
import type { ClusterSnapshot } from '../src/cluster/snapshot.ts';
import { notingPendingWrites } from '../src/review/consistency.ts';
import { admitPod, admitPodReadingThrough } from '../src/review/mutate.ts';
import { admittedWrite, callerOf } from '../src/review/remember.ts';
import { judge, ruleFor } from '../src/review/validate.ts';
import { BENCH_CIDRS, generateObjects, pendingObjects, teamNamespaces } from './generate.ts';
import { PENDING_CALLER, PENDING_WRITES as PENDING } from './pending.ts';
import { BENCH_HOST, benchNamespace, scenarios } from './reviews.ts';
import { fmt, median, numericFrom, table } from './stats.ts';

export type RulesOptions = {
  /** objects in the large snapshot */
  readonly objects: number;
  /** one measurement; each cell is the median of `repeats`, empty and large snapshots alternating */
  readonly seconds: number;
  readonly repeats: number;
  readonly log: (line: string) => void;
};

type Case = {
  readonly name: string;
  readonly endpoint: 'validate' | 'mutate';
  readonly req: AdmissionRequest;
  /** the plain rule on a snapshot, no overlay */
  readonly run: (snapshot: ClusterSnapshot) => unknown;
  readonly answer: (snapshot: ClusterSnapshot) => string;
};

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
      endpoint: 'validate',
      req,
      run: (s) => judge(req, s),
      answer: (s) => {
        if (!ruleFor(req.kind)) return 'no rule registered for this kind: measures the gate only';
        const v = judge(req, s);
        return v.allowed
          ? `allowed${v.warnings.length ? `, ${v.warnings.length} warnings` : ''}`
          : `denied (${[...new Set(v.findings.errors.map((e) => e.code))].join(', ')})`;
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
      endpoint: 'mutate',
      req: pod,
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

type Reviewer = (req: AdmissionRequest, snapshot: ClusterSnapshot) => Decision;

/**
 * How the reviews of one measurement change the overlay:
 * - `read`: they only read it (the write is dry-run, denied, or another replica's);
 * - `same`: each admits its own object, as serve does with every allowed write, and it is the same
 *   object every time (a controller re-applying one object, or the HTTP bench's one body);
 * - `stream`: each admits a different object while the oldest pending one expires, a steady stream
 *   of distinct writes (a GitOps sync): the overlay's clock advances one tick per review and the TTL
 *   is as many ticks as writes are to stay pending, and two more, so that with nothing else pending
 *   a review still meets the write of the review before it, as with `same`.
 */
type Shape = 'read' | 'same' | 'stream';

const SHAPES: readonly { readonly shape: Shape; readonly label: string }[] = [
  { shape: 'read', label: 'reviewed' },
  { shape: 'same', label: 'reviewed, its write admitted (the same object each time)' },
  { shape: 'stream', label: 'reviewed, its write admitted (a new object each time, the oldest expiring)' },
];

/** Objects in the stream's ring: more than ever stay pending, so each admission files a new key. */
const RING = 8_192;

/**
 * `req` with the object renamed, its hosts moved to their own subdomain and an Egress's sources to
 * their own service account: a distinct write that shares no index key with the others, so the
 * rules do no more work than for one (5,000 Egresses of one source and port would make the
 * tcp-server-first check compare each with all the others, which is the rule's cost, not the overlay's).
 */
function variant(req: AdmissionRequest, i: number): AdmissionRequest {
  const text = JSON.stringify(req.object).replaceAll(`"${BENCH_HOST}"`, `"w${i}.${BENCH_HOST}"`);
  const object = JSON.parse(text) as KubeObject & { spec?: { sources?: { name?: string }[] } };
  for (const source of object.spec?.sources ?? []) source.name = `${source.name}-w${i}`;
  const name = `${object.metadata?.name ?? 'bench'}-w${i}`;
  return { ...req, name, object: { ...object, metadata: { ...object.metadata, name } } };
}

/**
 * The reviewer serve builds over an overlay (src/commands/serve.ts) on `snapshot`, with `pending`
 * writes of PENDING_CALLER already in it: validation through notingPendingWrites, mutation over the
 * layered snapshot; allowed writes are admitted the way serve's `validated` hook does it.
 */
function served(
  c: Case,
  snapshot: ClusterSnapshot,
  pending: readonly KubeObject[],
  shape: Shape,
): { readonly review: () => Decision; readonly overlay: Overlay } {
  let tick = 0;
  // A clock that stands still unless the stream moves it.
  const ttl = shape === 'stream' ? pending.length + 2 : Infinity;
  const o = overlay(() => tick, ttl);
  for (const obj of pending) {
    if (shape === 'stream') tick++;
    o.admitted(obj, PENDING_CALLER);
  }
  if (c.endpoint === 'mutate') {
    const mutate = admitPodReadingThrough(undefined);
    return { review: () => mutate(c.req, o.layer(snapshot)) as Decision, overlay: o };
  }
  // every review judged: serve would answer a review repeated unchanged from what it remembers
  const validate: Reviewer = notingPendingWrites(judge, o, Date.now, false);
  if (shape === 'read') return { review: () => validate(c.req, snapshot), overlay: o };
  const ring = shape === 'stream' ? Array.from({ length: RING }, (_, i) => variant(c.req, i)) : [c.req];
  let next = 0;
  return {
    review: () => {
      if (shape === 'stream') tick++;
      const req = ring[next++ % ring.length]!;
      const decision = validate(req, snapshot);
      const obj = admittedWrite(req, decision);
      if (obj) o.admitted(obj, callerOf(req));
      return decision;
    },
    overlay: o,
  };
}

/** What a reviewer answered, in a few words. */
function answerOf(d: Decision): string {
  if (!d.allowed) return `denied (${[...new Set(d.findings.errors.map((e) => e.code))].join(', ')})`;
  return `allowed${d.warnings.length ? `, ${d.warnings.length} warnings` : ''}${d.patch.length ? `, patch of ${d.patch.length} ops` : ''}`;
}

/** Median calls per second of each function, measured in turn `repeats` times after a warm-up of each. */
function rates(fns: readonly (() => unknown)[], o: RulesOptions): number[] {
  for (const fn of fns) rate(fn, o.seconds * 500);
  const runs = fns.map(() => [] as number[]);
  for (let i = 0; i < o.repeats; i++) fns.forEach((fn, k) => runs[k]!.push(rate(fn, o.seconds * 1000)));
  return runs.map(median);
}

export type RulesResult = { readonly markdown: string; readonly pending: string };

export function runRules(o: RulesOptions): RulesResult {
  const base = [benchNamespace()];
  const small = snapshotFromObjects(base, BENCH_CIDRS);
  o.log(`rules: building a snapshot of ${fmt.int(o.objects)} objects`);
  const stored = [...base, ...teamNamespaces(o.objects), ...generateObjects(o.objects)];
  const large = snapshotFromObjects(stored, BENCH_CIDRS);
  const list = cases();
  const rows = list.map((c) => {
    const [empty = Number.NaN, full = Number.NaN] = rates([() => c.run(small), () => c.run(large)], o);
    o.log(`rules: ${c.name.padEnd(24)} ${fmt.int(empty).padStart(9)}/s empty  ${fmt.int(full).padStart(9)}/s with ${fmt.int(o.objects)}`);
    const [a, b] = [c.answer(small), c.answer(large)];
    return [
      c.name,
      fmt.int(empty),
      (1e6 / empty).toFixed(1),
      fmt.int(full),
      (1e6 / full).toFixed(1),
      fmt.ratio(full / empty),
      a === b ? a : `${a} / ${b}`,
    ];
  });
  const markdown = table(
    [
      'review',
      'per s, empty snapshot',
      'µs each, empty',
      `per s, ${fmt.int(o.objects)} objects`,
      `µs each, ${fmt.int(o.objects)} objects`,
      'large / empty',
      'answer (empty / large when they differ)',
    ],
    rows,
    numericFrom(1, 6),
  );

  // Read-your-writes: the same reviews on the large snapshot, through the reviewer serve runs, with
  // nothing pending and with PENDING writes of every indexed kind pending.
  const objects = pendingObjects(PENDING);
  const kinds = [...new Set(objects.map((x) => x.kind))].join(', ');
  const keyOf = (x: KubeObject) => `${x.kind}/${x.metadata?.namespace ?? ''}/${x.metadata?.name}`;
  const held = new Set(stored.map(keyOf));
  const updates = objects.filter((x) => held.has(keyOf(x))).length;
  o.log(`rules: ${fmt.int(PENDING)} pending writes (${kinds})`);
  const pendingRows: string[][] = [];
  for (const c of list) {
    for (const { shape, label } of SHAPES) {
      if (shape !== 'read' && c.endpoint === 'mutate') continue; // pods are not remembered
      // a fresh overlay per measurement: what one admits must not leak into another's
      const none = served(c, large, [], shape);
      const full = served(c, large, objects, shape);
      const [r0 = Number.NaN, r1 = Number.NaN] = rates([none.review, full.review], o);
      const [u0, u1] = [1e6 / r0, 1e6 / r1];
      // what the reviews answer with the writes pending, and how many of those the rules read
      const { value, read } = full.overlay.trace(() => (c.endpoint === 'mutate' ? admitPod : judge)(c.req, full.overlay.layer(large)));
      o.log(
        `rules: ${c.name.padEnd(24)} ${label}: ${fmt.ms(u0)} µs with nothing pending, ${fmt.ms(u1)} µs with ${full.overlay.size()} pending`,
      );
      pendingRows.push([
        c.name,
        label,
        fmt.ms(u0),
        fmt.ms(u1),
        fmt.times(u1 / u0),
        fmt.int(none.overlay.size()),
        fmt.int(full.overlay.size()),
        `${answerOf(value)}; read ${read.length} pending`,
      ]);
    }
  }
  const pending = table(
    [
      'review',
      'what each review does to the overlay',
      'µs each, nothing pending',
      `µs each, ${fmt.int(PENDING)} pending`,
      'pending / none',
      'pending at the end (none)',
      `pending at the end (${fmt.int(PENDING)})`,
      `answer with ${fmt.int(PENDING)} pending`,
    ],
    pendingRows,
    numericFrom(2, 7),
  );
  return {
    markdown,
    pending: `${pending}\n\nPending writes: ${fmt.int(PENDING)} objects (${kinds}) from one caller; ${fmt.int(updates)} of them are new versions of objects the snapshot holds.`,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, objects: { type: 'string' } } });
  const quick = values.quick ?? false;
  const { markdown, pending } = runRules({
    objects: values.objects ? Number(values.objects) : quick ? 10_000 : 100_000,
    seconds: quick ? 0.25 : 1,
    repeats: quick ? 1 : 3,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${markdown}\n\n${pending}\n`);
}
