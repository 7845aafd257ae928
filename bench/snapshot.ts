/**
 * Snapshot cost at scale: 100,000 ServiceEntries plus 100,000 Egresses.
 *   node --expose-gc bench/snapshot.ts [count]
 * Each phase runs in its own process so RSS figures are not polluted by the other, as the
 * Deployment runs the server: the image's settings, under the container's memory limit where this
 * machine lets the bench set one (bench/cgroup.ts):
 *   indexes  compaction and index build from whole objects, memory the records and snapshot hold,
 *            one-kind rebuild, index lookups per second;
 *   view     the cluster view fed by informers that cache what kube.ts caches (identity + compact
 *            record, and of these audited kinds what the rules read, which every replica keeps for
 *            the continuous audit), from objects parsed from JSON as a watch delivers them: time from
 *            start to ready, memory held, time to publish after a burst of events.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../src/admission/types.ts';
import type { ClusterApi, InformerHandlers } from '../src/cluster/api.ts';
import { compact, rebuildSnapshot, snapshotFromCompact, type Compact } from '../src/cluster/indexes.ts';
import { carrier } from '../src/cluster/slim.ts';
import { egressKey } from '../src/cluster/snapshot.ts';
import { startClusterView } from '../src/cluster/view.ts';
import { cidrsOf } from '../test/support.ts';
import { underMemoryLimit } from './cgroup.ts';
import { imageRuntime, runtimeSettings } from './processes.ts';

const N = Number(process.argv[2] ?? 100_000);
const phase = process.env.BENCH_PHASE;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with --expose-gc: node --expose-gc bench/snapshot.ts [count]\n');
  process.exit(2);
}
const mem = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
};
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const ms = (t: number) => `${t.toFixed(0)} ms`;
/** keeps measured structures reachable until the end (V8 frees locals after their last use) */
const keep: unknown[] = [];

const serviceEntry = (i: number): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: {
    name: `se-${i}`,
    namespace: `team-${i % 500}`,
    resourceVersion: String(1000 + i),
    managedFields: [
      { manager: 'kubectl-client-side-apply', operation: 'Update', fieldsV1: { 'f:spec': { 'f:hosts': {}, 'f:ports': {} } } },
    ],
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': `{"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":"se-${i}"}}`,
    },
  },
  spec: {
    hosts: [`api-${i}.example.com`, ...(i % 3 === 0 ? [`www-${i}.example.com`] : [])],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    ports: [{ number: 443, name: 'tls', protocol: 'TLS' }, ...(i % 4 === 0 ? [{ number: 80, name: 'http', protocol: 'HTTP' }] : [])],
  },
});
const egressObject = (i: number, rv = 500_000 + i): KubeObject => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name: `eg-${i}`, namespace: `team-${i % 500}`, resourceVersion: String(rv) },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: `app-${i % 2000}`, namespace: `team-${i % 500}` }],
    hosts: [`db-${i}.example.com`],
    ipAddresses: i % 5 === 0 ? [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`] : [],
    ports: [{ number: 5432 + (i % 7), protocol: i % 2 ? 'tcp' : 'tcp-server-first' }],
  },
});
const cidrs = cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']);
/** An object as a watch delivers it: parsed from the API server's JSON, not built from literals whose strings are shared constants. */
const delivered = (o: KubeObject): KubeObject => JSON.parse(JSON.stringify(o)) as KubeObject;

function rate(fn: (i: number) => unknown): string {
  const rounds = 2_000_000;
  let hits = 0;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) if (fn(i)) hits++;
  const perSecond = rounds / ((performance.now() - t0) / 1000);
  return `${(perSecond / 1e6).toFixed(1)} M/s (${((hits / rounds) * 100).toFixed(0)}% hits)`;
}

async function indexes(): Promise<object> {
  const base = mem();
  const records = new Map<string, Compact>();
  let compactMs = 0;
  // objects are made and compacted in chunks, as informer events arrive, so whole objects never pile up
  for (let start = 0; start < N; start += 10_000) {
    const chunk: KubeObject[] = [];
    for (let i = start; i < Math.min(N, start + 10_000); i++) chunk.push(serviceEntry(i), egressObject(i));
    const t0 = performance.now();
    for (const o of chunk) records.set(`${o.kind}/${o.metadata!.namespace}/${o.metadata!.name}`, compact(o)!);
    compactMs += performance.now() - t0;
  }
  let t = performance.now();
  const snapshot = snapshotFromCompact(records.values(), cidrs);
  const buildMs = performance.now() - t;
  keep.push(records, snapshot);
  const held = mem();
  const egresses = [...records.values()].filter((c) => c.kind === 'Egress');
  t = performance.now();
  const next = rebuildSnapshot(snapshot, ['Egress'], () => egresses, cidrs);
  const rebuildMs = performance.now() - t;
  // probe keys made up front, as a rule receives hosts already parsed from the request
  const hostKeys = Array.from({ length: 4096 }, (_, i) => `api-${(i * 7919) % N}.example.com`);
  const egressKeys = Array.from({ length: 4096 }, (_, i) => egressKey(`team-${i % 500}/app-${i % 2000}`, 5432 + (i % 7)));
  const lookups = {
    'serviceEntriesByHost.get': rate((i) => snapshot.serviceEntriesByHost.get(hostKeys[i & 4095]!)),
    'serviceEntriesByHost.get, key built per lookup': rate((i) => snapshot.serviceEntriesByHost.get(`api-${(i * 7919) % N}.example.com`)),
    'egressesBySourcePort.get': rate((i) => next.egressesBySourcePort.get(egressKeys[i & 4095]!)),
    'serviceEntriesByPort.get': rate((i) => snapshot.serviceEntriesByPort.get(i % 2 ? 443 : 80)),
  };
  return {
    'compact 2N whole objects': ms(compactMs),
    'build every index': ms(buildMs),
    'rebuild one kind (Egress), others shared': ms(rebuildMs),
    'held by records + snapshot': `heap +${mb(held.heap - base.heap)}, rss +${mb(held.rss - base.rss)} (rss ${mb(held.rss)})`,
    'per object': `${Math.round((held.heap - base.heap) / (2 * N))} bytes of heap`,
    'index sizes': {
      hosts: snapshot.serviceEntriesByHost.size,
      ports: snapshot.serviceEntriesByPort.size,
      egressKeys: next.egressesBySourcePort.size,
    },
    'lookups per second': lookups,
  };
}

async function view(): Promise<object> {
  const quiet = { info: () => {}, warn: () => {}, error: () => {} };
  const SE = { group: 'networking.istio.io', version: 'v1', resource: 'serviceentries', kind: 'ServiceEntry' };
  const EG = { group: 'policy.openservicemesh.io', version: 'v1alpha1', resource: 'egresses', kind: 'Egress' };
  const make: Record<string, (i: number) => KubeObject> = {
    ServiceEntry: (i) => carrier(delivered(serviceEntry(i)), SE, true),
    Egress: (i) => carrier(delivered(egressObject(i)), EG, true),
  };
  const handlers = new Map<string, InformerHandlers>();
  /** what client-node's ListWatch cache holds: the carriers, by namespace/name */
  const caches = new Map<string, Map<string, KubeObject>>();
  const api: ClusterApi = {
    server: 'bench',
    namespace: 'bench',
    discover: async () =>
      new Map([
        ['serviceentries.networking.istio.io', ['v1']],
        ['egresses.policy.openservicemesh.io', ['v1alpha1']],
      ]),
    informer: (target, on) => ({
      start: async () => {
        handlers.set(target.kind, on);
        const cache = new Map<string, KubeObject>();
        caches.set(target.kind, cache);
        const one = make[target.kind];
        if (!one) return;
        for (let i = 0; i < N; i++) {
          const o = one(i);
          cache.set(`${o.metadata!.namespace}/${o.metadata!.name}`, o);
          on.add(o);
        }
      },
      stop: async () => {},
    }),
    list: async () => [],
    getConfigMap: async () => undefined,
    dryRunService: async () => undefined,
  };
  const base = mem();
  let t = performance.now();
  const v = await startClusterView({ env: {}, log: quiet, api });
  await v.untilReady(300_000);
  const readyMs = performance.now() - t;
  keep.push(v, caches);
  const held = mem();

  const before = v.current();
  t = performance.now();
  const on = handlers.get('Egress')!;
  for (let i = 0; i < 1000; i++) on.update(carrier(egressObject(i, 900_000 + i), EG));
  while (v.current() === before) await new Promise((r) => setTimeout(r, 1));
  const burstMs = performance.now() - t;
  const status = v.status();
  await v.stop();
  return {
    [`start to ready (${2 * N} informer adds, compaction, first publish)`]: ms(readyMs),
    'held by view (records, informer caches, snapshot)': `heap +${mb(held.heap - base.heap)}, rss +${mb(held.rss - base.rss)} (rss ${mb(held.rss)})`,
    'burst of 1000 Egress updates to a published snapshot': `${ms(burstMs)} (coalescing wait + rebuild of ${ms(status.snapshot.buildMs)})`,
    informers: status.informers.map((i) => `${i.name}=${i.objects}`),
  };
}

if (phase === 'indexes' || phase === 'view') {
  const result = phase === 'indexes' ? await indexes() : await view();
  process.stdout.write(JSON.stringify(result));
  if (keep.length < 0) process.stdout.write('');
} else {
  const self = fileURLToPath(import.meta.url);
  // as the Deployment runs the server: the image's settings, under the container's memory limit
  const runtime = imageRuntime();
  const run = (p: string): { readonly result: unknown; readonly limit: string } => {
    const limited = underMemoryLimit([process.execPath, ...runtime.nodeFlags, '--expose-gc', self, String(N)], runtime.memoryLimitBytes);
    const r = spawnSync(limited.file, limited.args, {
      env: { ...process.env, ...runtime.env, BENCH_PHASE: p },
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    limited.done();
    if (r.status !== 0) throw new Error(`${p} phase failed (${r.signal ?? `exit code ${r.status}`}): ${r.stderr}`);
    return { result: JSON.parse(r.stdout), limit: limited.limit };
  };
  const indexRun = run('indexes');
  const viewRun = run('view');
  const report = {
    objects: `${N} ServiceEntries + ${N} Egresses`,
    node: process.version,
    runtime: runtimeSettings(runtime).join(' '),
    'memory limit': viewRun.limit,
    indexes: indexRun.result,
    view: viewRun.result,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
