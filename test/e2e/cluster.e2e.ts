/**
 * The cluster view and CIDR detection against a real API server: informers, readiness, the
 * dry-run Service probe and node podCIDRs, and `egress-warden cidrs` as a user runs it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startClusterView } from '../../src/cluster/view.ts';
import { runCidrs } from '../../src/commands/cidrs.ts';
import { captureIo } from '../../src/commands/io.ts';
import { disposable, eventually, kubectl, must, runId } from '../support/kube.ts';

const kubeconfig = process.env.KUBECONFIG;
const Cluster = suite('e2e/cluster: informers and CIDR detection on a real API server');
const test = kubeconfig ? Cluster : Cluster.skip;
const onDisposable = disposable ? test : Cluster.skip;
if (!kubeconfig) process.stdout.write('e2e/cluster: skipped, no cluster (run through npm run test:e2e)\n');

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
type Row = { kind: string; cidr: string; source: string; origin: string; partial?: boolean };
type Status = { ready: boolean; informers: { name: string; synced: boolean; healthy: boolean }[]; cidrs: { ranges: Row[] } };

const id = runId('ew-e2e-cluster');
const nodes = [`${id}-a`, `${id}-b`];

Cluster.after(() => {
  if (disposable) kubectl(['delete', 'node', ...nodes, '--ignore-not-found']);
});

test('every informer syncs and the view becomes ready', async () => {
  const view = await startClusterView({ env: { KUBECONFIG: kubeconfig }, log: quiet, namespace: 'default' });
  try {
    assert.ok(await view.untilReady(60_000), JSON.stringify(view.status(), null, 2));
    const s = view.status() as unknown as Status;
    for (const name of ['namespaces', 'nodes', 'services', 'serviceentries.networking.istio.io', 'egresses.policy.openservicemesh.io']) {
      const informer = s.informers.find((i) => i.name === name);
      if (!disposable && !informer) continue; // a real cluster may lack the mesh CRDs
      assert.ok(informer?.synced && informer.healthy, `${name}: ${JSON.stringify(informer)}`);
    }
    assert.ok(view.current().namespaces.has('kube-system'));
    // a namespace created now reaches the snapshot through the watch
    const ns = `${id}-watched`;
    must(['create', 'namespace', ns]);
    try {
      await eventually(`namespace ${ns} is in the snapshot`, () => (view.current().namespaces.has(ns) ? true : undefined));
    } finally {
      kubectl(['delete', 'namespace', ns, '--wait=false']);
    }
  } finally {
    await view.stop();
  }
});

onDisposable('the service range is read from the API server\'s answer to a dry-run Service outside it', async () => {
  const view = await startClusterView({ env: { KUBECONFIG: kubeconfig }, log: quiet, namespace: 'default' });
  try {
    assert.ok(await view.untilReady(60_000));
    const rows = (view.status() as unknown as Status).cidrs.ranges.filter((r) => r.kind === 'service');
    assert.equal(rows.map((r) => [r.cidr, r.source]), [[process.env.EW_E2E_SERVICE_RANGE, 'dry-run']]);
  } finally {
    await view.stop();
  }
});

onDisposable('the pod range is the union of the nodes\' podCIDRs, marked partial, and follows a node that joins', async () => {
  const node = (name: string, cidr: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR: cidr, podCIDRs: [cidr] } });
  must(['create', '-f', '-'], JSON.stringify(node(nodes[0]!, '10.244.1.0/24')));
  const view = await startClusterView({ env: { KUBECONFIG: kubeconfig }, log: quiet, namespace: 'default' });
  try {
    assert.ok(await view.untilReady(60_000));
    const podRows = () => (view.status() as unknown as Status).cidrs.ranges.filter((r) => r.kind === 'pod');
    await eventually('the first node\'s range is detected', () => (podRows().some((r) => r.cidr === '10.244.1.0/24') ? true : undefined));
    const first = podRows();
    assert.equal(first.map((r) => r.source), ['nodes']);
    assert.ok(first.every((r) => r.partial), JSON.stringify(first));
    assert.match(first[0]!.origin, /Node\.spec\.podCIDRs \(1 of 1 node, partial\)/);
    must(['create', '-f', '-'], JSON.stringify(node(nodes[1]!, '10.244.2.0/24')));
    await eventually('the joining node\'s range is detected', () => (podRows().some((r) => r.cidr === '10.244.2.0/24') ? true : undefined));
    assert.match(podRows()[0]!.origin, /2 of 2 nodes/);
  } finally {
    await view.stop();
  }
});

test('egress-warden cidrs prints the detected ranges with their sources, says there are no pods with IPs to check, and exits 0', async () => {
  const io = captureIo('', { KUBECONFIG: kubeconfig });
  const code = await runCidrs(['--output', 'json'], io);
  const report = JSON.parse(io.stdout()) as {
    cluster: string | null; pod: { source: string }[]; service: { cidr: string; source: string }[];
    verification: { pods: { checked: number }; unchecked: string[] } | null;
  };
  assert.is(code, 0, io.stderr() + io.stdout());
  assert.ok(report.cluster);
  assert.ok(report.pod.length > 0 && report.service.length > 0, io.stdout());
  if (disposable) {
    assert.equal(report.service.map((r) => r.cidr), [process.env.EW_E2E_SERVICE_RANGE]);
    // no kubelet, so no pod has an IP: said plainly, not reported as a check that passed
    assert.is(report.verification?.pods.checked, 0);
    assert.ok(report.verification?.unchecked.includes('no pods with IPs to check'), io.stdout());
    const text = captureIo('', { KUBECONFIG: kubeconfig });
    assert.is(await runCidrs([], text), 0);
    assert.match(text.stdout(), /no pods with IPs to check/);
  }
});

Cluster.run();
