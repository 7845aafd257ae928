/**
 * What the publisher's coalescing delay buys: a steady stream of Egress updates (a GitOps sync, a
 * controller rewriting objects) fed to the cluster view at a given number of Egresses, with the
 * delay as shipped (150 ms) and with none. Counts snapshot builds and the CPU they took, and the
 * time from the last event to a snapshot that holds it.
 *   node bench/coalesce.ts [egresses] [events] [events per second]
 */
import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../src/admission/types.ts';
import type { ClusterApi, InformerHandlers } from '../src/cluster/api.ts';
import { carrier } from '../src/cluster/slim.ts';
import { startClusterView } from '../src/cluster/view.ts';
import type { Timing } from '../src/cluster/view-types.ts';

const N = Number(process.argv[2] ?? 10_000);
const EVENTS = Number(process.argv[3] ?? 500);
const PER_SECOND = Number(process.argv[4] ?? 500);
const EG = { group: 'policy.openservicemesh.io', version: 'v1alpha1', resource: 'egresses', kind: 'Egress' };

const egress = (i: number, rv: number, host = `db-${i}.example.com`): KubeObject =>
  carrier(
    {
      apiVersion: 'policy.openservicemesh.io/v1alpha1',
      kind: 'Egress',
      metadata: { name: `eg-${i}`, namespace: `team-${i % 500}`, resourceVersion: String(rv) },
      spec: {
        sources: [{ kind: 'ServiceAccount', name: `app-${i % 2000}`, namespace: `team-${i % 500}` }],
        hosts: [host],
        ports: [{ number: 5432 + (i % 7), protocol: 'tcp' }],
      },
    },
    EG,
  );

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(timing: Partial<Timing>): Promise<string> {
  let on: InformerHandlers | undefined;
  const api: ClusterApi = {
    server: 'bench',
    namespace: 'bench',
    discover: async () => new Map([['egresses.policy.openservicemesh.io', ['v1alpha1']]]),
    informer: (target, handlers) => ({
      start: async () => {
        if (target.kind !== 'Egress') return;
        on = handlers;
        for (let i = 0; i < N; i++) handlers.add(egress(i, i + 1));
      },
      stop: async () => {},
    }),
    list: async () => [],
    getConfigMap: async () => undefined,
    dryRunService: async () => undefined,
  };
  const v = await startClusterView({ env: {}, log: { info: () => {}, warn: () => {}, error: () => {} }, api, timing });
  await v.untilReady(60_000);
  const g0 = v.status().snapshot.generation;
  let buildMs = 0;
  let seen = g0;
  const tally = () => {
    const s = v.status().snapshot;
    if (s.generation !== seen) {
      buildMs += s.buildMs * (s.generation - seen);
      seen = s.generation;
    }
  };
  const cpu0 = process.cpuUsage();
  const gap = 1000 / PER_SECOND;
  const t0 = performance.now();
  for (let k = 0; k < EVENTS; k++) {
    on!.update(egress(k % N, 1_000_000 + k, `v${k}.example.com`));
    tally();
    const due = t0 + (k + 1) * gap;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
  const last = performance.now();
  const i = (EVENTS - 1) % N;
  const key = `team-${i % 500}/app-${i % 2000}#${5432 + (i % 7)}`;
  while (!(v.current().egressesBySourcePort.get(key) ?? []).some((p) => p.egress.hosts[0] === `v${EVENTS - 1}.example.com`)) await sleep(1);
  const visibleMs = performance.now() - last;
  tally();
  const cpu = process.cpuUsage(cpu0);
  await v.stop();
  return `${String(timing.coalesceMs).padStart(3)} ms delay: ${seen - g0} builds, ~${buildMs.toFixed(0)} ms building, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU over ${(last - t0).toFixed(0)} ms of events; last event in a snapshot ${visibleMs.toFixed(0)} ms later`;
}

process.stdout.write(`${N} Egresses, ${EVENTS} updates at ${PER_SECOND}/s\n`);
for (const coalesceMs of [150, 0]) process.stdout.write(`  ${await run({ coalesceMs, maxCoalesceMs: 1_000 })}\n`);
