/**
 * The cluster view and CIDR detection against a real API server: informers, readiness, the
 * dry-run Service probe and node podCIDRs, and `egress-warden cidrs` as a user runs it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi } from '../../src/cluster/kube.ts';
import { ACCESS } from '../../src/cluster/resources.ts';
import { startClusterView } from '../../src/cluster/view.ts';
import { runCidrs } from '../../src/commands/cidrs.ts';
import { captureIo } from '../../src/commands/io.ts';
import { renderInstallation } from '../../src/manifests/install.ts';
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

onDisposable("the service range is read from the API server's answer to a dry-run Service outside it", async () => {
  const view = await startClusterView({ env: { KUBECONFIG: kubeconfig }, log: quiet, namespace: 'default' });
  try {
    assert.ok(await view.untilReady(60_000));
    const rows = (view.status() as unknown as Status).cidrs.ranges.filter((r) => r.kind === 'service');
    assert.equal(
      rows.map((r) => [r.cidr, r.source]),
      [[process.env.EW_E2E_SERVICE_RANGE, 'dry-run']],
    );
  } finally {
    await view.stop();
  }
});

onDisposable("the pod range is the union of the nodes' podCIDRs, marked partial, and follows a node that joins", async () => {
  const node = (name: string, cidr: string) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: { podCIDR: cidr, podCIDRs: [cidr] },
  });
  must(['create', '-f', '-'], JSON.stringify(node(nodes[0]!, '10.244.1.0/24')));
  const view = await startClusterView({ env: { KUBECONFIG: kubeconfig }, log: quiet, namespace: 'default' });
  try {
    assert.ok(await view.untilReady(60_000));
    const podRows = () => (view.status() as unknown as Status).cidrs.ranges.filter((r) => r.kind === 'pod');
    await eventually("the first node's range is detected", () => (podRows().some((r) => r.cidr === '10.244.1.0/24') ? true : undefined));
    const first = podRows();
    assert.equal(
      first.map((r) => r.source),
      ['nodes'],
    );
    assert.ok(
      first.every((r) => r.partial),
      JSON.stringify(first),
    );
    assert.match(first[0]!.origin, /Node\.spec\.podCIDRs \(1 of 1 node, partial\)/);
    must(['create', '-f', '-'], JSON.stringify(node(nodes[1]!, '10.244.2.0/24')));
    await eventually("the joining node's range is detected", () => (podRows().some((r) => r.cidr === '10.244.2.0/24') ? true : undefined));
    assert.match(podRows()[0]!.origin, /2 of 2 nodes/);
  } finally {
    await view.stop();
  }
});

test('egress-warden cidrs prints the detected ranges with their sources, says there are no pod IPs from EndpointSlices to check, and exits 0', async () => {
  const io = captureIo('', { KUBECONFIG: kubeconfig });
  const code = await runCidrs(['--output', 'json'], io);
  const report = JSON.parse(io.stdout()) as {
    cluster: string | null;
    pod: { source: string }[];
    service: { cidr: string; source: string }[];
    verification: { pods: { checked: number }; unchecked: string[] } | null;
  };
  assert.is(code, 0, io.stderr() + io.stdout());
  assert.ok(report.cluster);
  assert.ok(report.pod.length > 0 && report.service.length > 0, io.stdout());
  if (disposable) {
    assert.equal(
      report.service.map((r) => r.cidr),
      [process.env.EW_E2E_SERVICE_RANGE],
    );
    // no kubelet, so no pod has an IP: said plainly, not reported as a check that passed
    assert.is(report.verification?.pods.checked, 0);
    assert.ok(report.verification?.unchecked.includes('no pod IPs from EndpointSlices to check'), io.stdout());
    const text = captureIo('', { KUBECONFIG: kubeconfig });
    assert.is(await runCidrs([], text), 0);
    assert.match(text.stdout(), /no pod IPs from EndpointSlices to check/);
  }
});

Cluster.run();

// ---

const Slices = suite('e2e/cluster: pod IPs come from EndpointSlices');
const slicesNs = `${id}-slices`;
const hostNode = `${id}-host`;
Slices.after(() => {
  kubectl(['delete', 'namespace', slicesNs, '--wait=false']);
  kubectl(['delete', 'endpointslice', 'kubernetes', '-n', 'default', '--ignore-not-found']);
  kubectl(['delete', 'node', hostNode, '--ignore-not-found']);
});
(disposable ? Slices : Slices.skip)(
  'cidrs checks the pod IPs of EndpointSlices, skipping the API server endpoint, FQDN slices and host-network pods',
  async () => {
    must(['create', 'namespace', slicesNs]);
    must(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: hostNode }, spec: {} }));
    must([
      'patch',
      'node',
      hostNode,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          addresses: [
            { type: 'InternalIP', address: '172.18.0.9' },
            { type: 'Hostname', address: hostNode },
          ],
        },
      }),
    ]);
    const meta = (name: string, namespace: string, service: string) => ({
      name,
      namespace,
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'e2e.egress-warden.io' },
    });
    const slices = [
      // what kube-apiserver writes for the kubernetes Service when its endpoint reconciler runs
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['192.168.49.2'], conditions: { ready: true } }],
        ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: meta('web-x1', slicesNs, 'web'),
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['10.244.1.7'], targetRef: { kind: 'Pod', namespace: slicesNs, name: 'web-1' } },
          { addresses: ['100.64.0.9'], targetRef: { kind: 'Pod', namespace: slicesNs, name: 'web-2' } },
          { addresses: ['172.18.0.9'], targetRef: { kind: 'Pod', namespace: slicesNs, name: 'host-agent' } },
        ],
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: meta('ext-x1', slicesNs, 'ext'),
        addressType: 'FQDN',
        endpoints: [{ addresses: ['db.example.com'] }],
      },
    ];
    for (const sl of slices) must(['create', '-f', '-'], JSON.stringify(sl));
    const io = captureIo('', { KUBECONFIG: kubeconfig, EW_POD_CIDRS: '10.244.0.0/16' });
    const code = await runCidrs(['--output', 'json'], io);
    const report = JSON.parse(io.stdout()) as {
      verification: { pods: { checked: number; outside: { name: string; ip: string }[] }; unchecked: string[] };
      failed: string[];
    };
    assert.equal(report.failed, []);
    assert.is(report.verification.pods.checked, 2);
    assert.equal(report.verification.pods.outside, [{ name: `${slicesNs}/web-2`, ip: '100.64.0.9' }]);
    assert.is(code, 1);
    const view = await startClusterView({
      env: { KUBECONFIG: kubeconfig, EW_POD_CIDRS: '10.244.0.0/16' },
      log: quiet,
      namespace: 'default',
    });
    try {
      assert.ok(await view.untilReady(60_000));
      const v = await eventually(
        'the verification',
        () =>
          (view.status() as unknown as { cidrs: { verification: { checkedPods: number; podsOutside: number; examples: string[] } | null } })
            .cidrs.verification ?? undefined,
      );
      assert.equal(
        [v.checkedPods, v.podsOutside, v.examples.filter((e) => e.includes(slicesNs))],
        [2, 1, [`${slicesNs}/web-2 100.64.0.9`]],
      );
    } finally {
      await view.stop();
    }
  },
);
Slices.run();

// ---

const rbacName = `${id}-rbac`;
const Rbac = suite('e2e/cluster: the rendered RBAC on a real API server');
Rbac.after(() => {
  for (const o of renderInstallation({ name: rbacName, namespace: rbacName })
    .filter((o) => /Role|ServiceAccount/.test(o.kind ?? ''))
    .reverse()) {
    kubectl([
      'delete',
      `${o.kind!.toLowerCase()}`,
      o.metadata!.name!,
      ...(o.metadata?.namespace ? ['-n', o.metadata.namespace] : []),
      '--ignore-not-found',
    ]);
  }
  kubectl(['delete', 'namespace', rbacName, '--wait=false']);
});

(disposable ? Rbac : Rbac.skip)(
  'the service account of the rendered installation has every ACCESS permission, lists EndpointSlices, cannot list pods, and verifies the CIDRs',
  async () => {
    const rbac = renderInstallation({ name: rbacName, namespace: rbacName }).filter((o) =>
      ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind ?? ''),
    );
    for (const o of rbac) must(['apply', '-f', '-'], JSON.stringify(o));
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig!);
    const admin = adminApi(kc, rbacName, 'admin');
    const user = `system:serviceaccount:${rbacName}:${rbacName}`;
    const asks = ACCESS.flatMap((a) =>
      a.verbs.flatMap((verb) =>
        (a.resourceNames ?? [undefined]).map((n) => ({
          group: a.group,
          resource: a.resource,
          verb,
          ...(a.namespace === 'kube-system' ? { namespace: 'kube-system' } : a.namespace === 'self' ? { namespace: rbacName } : {}),
          ...(n ? { name: n } : {}),
        })),
      ),
    );
    const answers = await Promise.all(asks.map((q) => admin.canI(q, user)));
    const denied = asks.filter((_, i) => !answers[i]!.allowed);
    assert.equal(denied, []);
    assert.ok(asks.some((q) => q.group === 'discovery.k8s.io' && q.resource === 'endpointslices' && q.verb === 'list'));
    assert.is((await admin.canI({ group: '', resource: 'pods', verb: 'list' }, user)).allowed, false);
    // as that service account, cidrs reads everything it needs
    const token = must(['create', 'token', rbacName, '-n', rbacName]).trim();
    const server = kc.getCurrentCluster()!;
    const dir = mkdtempSync(join(tmpdir(), 'ew-sa-'));
    const saConfig = join(dir, 'config');
    writeFileSync(
      saConfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'sa',
        clusters: [
          {
            name: 'c',
            cluster: { server: server.server, 'certificate-authority-data': server.caData, 'certificate-authority': server.caFile },
          },
        ],
        users: [{ name: 'sa', user: { token } }],
        contexts: [{ name: 'sa', context: { cluster: 'c', user: 'sa', namespace: rbacName } }],
      }),
    );
    const io = captureIo('', { KUBECONFIG: saConfig });
    await runCidrs(['--output', 'json'], io);
    // every read it needs is allowed (whether the ranges verify depends on what other tests created)
    const report = JSON.parse(io.stdout()) as { verification: unknown; failed: string[] };
    assert.equal(report.failed, []);
    assert.ok(report.verification);
  },
);

Rbac.run();
