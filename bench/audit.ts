/**
 * `npm run bench:audit`: the continuous audit's full pass over a large cluster, and what it does to
 * admission latency while it runs. In one process, as in `serve`: the stored objects and the snapshot
 * are built from the bench's generated objects; admission is modelled by a ServiceEntry review judged
 * every millisecond on the same event loop, timed from when it was due to when its answer was ready.
 * A measurement, not a test.
 *
 *   npm run bench:audit                  100,000 objects, 4 passes (1 cold, 3 warm)
 *   npm run bench:audit -- --objects N --passes P
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { AdmissionRequest, KubeObject } from '../src/admission/types.ts';
import { objectKey } from '../src/admission/types.ts';
import { continuousAudit, type Pass } from '../src/audit/continuous.ts';
import { snapshotFromObjects } from '../src/cluster/indexes.ts';
import { lifetime } from '../src/cluster/lifetime.ts';
import { NO_MESH_CONFIG } from '../src/cluster/mesh-config.ts';
import { AUDITED } from '../src/cluster/resources.ts';
import { judge } from '../src/review/validate.ts';
import { BENCH_CIDRS, generateObjects, teamNamespaces } from './generate.ts';
import { benchNamespace, scenarios } from './reviews.ts';
import { Samples, fmt, median, numericFrom, percentile, table } from './stats.ts';

const { values } = parseArgs({ options: { objects: { type: 'string' }, passes: { type: 'string' } } });
const count = Number(values.objects ?? 100_000);
const passes = Math.max(2, Number(values.passes ?? 4));

const objects: KubeObject[] = [benchNamespace(), ...teamNamespaces(count), ...generateObjects(count)];
const stored = new Map<string, Map<string, KubeObject>>(AUDITED.map((w) => [w.kind, new Map()]));
for (const o of objects) stored.get(o.kind ?? '')?.set(objectKey(o), o);
const snapshot = { ...snapshotFromObjects(objects, BENCH_CIDRS), mesh: NO_MESH_CONFIG };
const review = scenarios()[0]!.review as unknown as { request: AdmissionRequest };

/** Judges the review every millisecond until `until` resolves: due-to-answered times in ms. */
async function admissionDuring(until: Promise<unknown>): Promise<Samples> {
  const samples = new Samples();
  let done = false;
  void until.then(() => {
    done = true;
  });
  await new Promise<void>((resolve) => {
    const tick = (due: number) => {
      if (done) return resolve();
      setTimeout(() => {
        judge(review.request, snapshot);
        samples.push(performance.now() - due);
        tick(performance.now() + 1);
      }, 1);
    };
    tick(performance.now() + 1);
  });
  return samples;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const idle = await admissionDuring(sleep(3_000));

const life = lifetime();
const cold: number[] = [];
const warm: number[] = [];
let passDone: (p: Pass) => void = () => {};
const auditor = continuousAudit({
  source: { current: () => snapshot, stored: (kind) => stored.get(kind), kinds: AUDITED.map((w) => w.kind) },
  life,
  log: { info: () => {}, warn: () => {}, error: (o, m) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`) },
  // back to back: the first pass after the lead was gained (cold), then the periodic ones (warm)
  fullPassMs: 1,
  passed: (p) => passDone(p),
});
const during = new Samples();
let findings = 0;
auditor.start();
for (let i = 0; i < passes; i++) {
  const pass = new Promise<Pass>((resolve) => {
    passDone = resolve;
  });
  const samples = await admissionDuring(pass);
  const p = await pass;
  (i === 0 ? cold : warm).push(p.ms);
  for (const v of samples.sorted()) during.push(v);
  findings = [...auditor.verdicts().values()].reduce((n, v) => n + v.findings.length, 0);
}
auditor.stop();
life.end();

const row = (name: string, s: Samples) => {
  const sorted = s.sorted();
  return [name, fmt.int(s.size), fmt.ms(percentile(sorted, 50)), fmt.ms(percentile(sorted, 99)), fmt.ms(percentile(sorted, 99.9))];
};
const idleP99 = percentile(idle.sorted(), 99);
const duringP99 = percentile(during.sorted(), 99);
process.stdout.write(
  `${[
    `Full audit pass over ${fmt.int(objects.length)} stored objects (${fmt.int(count)} ServiceEntries and Egresses, ${fmt.int(
      objects.length - count,
    )} Namespaces): the first pass after gaining the lead ${fmt.ms(cold[0]!)} ms, the periodic passes after it median ${fmt.ms(median(warm))} ms (${warm.map((t) => fmt.ms(t)).join(', ')}), ${fmt.int(findings)} findings.`,
    '',
    'A ServiceEntry review judged every millisecond on the same event loop (ms from due to answered):',
    '',
    table(['when', 'reviews', 'p50', 'p99', 'p99.9'], [row('idle', idle), row('during full passes', during)], numericFrom(1, 5)),
    '',
    `p99 during a pass: ${fmt.times(duringP99 / idleP99)} the idle p99.`,
  ].join('\n')}\n`,
);
