/**
 * Reads a real cluster: run with KUBECONFIG set (e.g. a kind cluster). Without it, says it skipped.
 * Needs the RBAC of src/cluster/resources.ts ACCESS (a cluster-admin kubeconfig has it).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startClusterView } from '../../src/cluster/view.ts';
import { runCidrs } from '../../src/commands/cidrs.ts';
import { captureIo } from '../../src/commands/io.ts';

const kubeconfig = process.env.KUBECONFIG;
const E2E = suite('e2e/cluster');
const test = kubeconfig ? E2E : E2E.skip;
if (!kubeconfig) process.stdout.write('e2e/cluster: skipped, KUBECONFIG is not set\n');

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

test('syncs every informer, detects the CIDRs and becomes ready', async () => {
  const view = await startClusterView({ env: { KUBECONFIG: kubeconfig }, log: quiet, namespace: process.env.EW_NAMESPACE ?? 'default' });
  try {
    assert.ok(await view.untilReady(60_000), JSON.stringify(view.status(), null, 2));
    const s = view.status();
    for (const name of ['namespaces', 'nodes', 'services']) assert.ok(s.informers.some((i) => i.name === name && i.synced && i.healthy), name);
    assert.ok(view.current().namespaces.has('kube-system'));
    assert.ok(s.cidrs.ranges.some((r) => r.kind === 'pod'));
    assert.ok(s.cidrs.ranges.some((r) => r.kind === 'service'));
    process.stdout.write(`${JSON.stringify({ informers: s.informers.map((i) => `${i.name}@${i.version}=${i.objects}`), absent: s.absent, cidrs: s.cidrs }, null, 2)}\n`);
  } finally {
    await view.stop();
  }
});

test('egress-warden cidrs reads the cluster and verifies its addresses', async () => {
  const io = captureIo('', { KUBECONFIG: kubeconfig });
  const code = await runCidrs(['--output', 'json'], io);
  const report = JSON.parse(io.stdout()) as { cluster: string | null; pod: unknown[]; service: unknown[]; verification: { pods: { checked: number } } | null };
  assert.ok(report.cluster);
  assert.ok(report.pod.length && report.service.length);
  assert.ok(report.verification && report.verification.pods.checked > 0);
  process.stdout.write(`cidrs exit ${code}\n${io.stdout()}`);
});

E2E.run();
