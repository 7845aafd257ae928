import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { overlay } from '../../src/cluster/overlay.ts';
import { startClusterView, staticClusterView, NO_CLUSTER_REASON, type ClusterView, type Timing } from '../../src/cluster/view.ts';
import { fixture } from '../support.ts';
import { apiServerSlice, endpointSlice, fakeApi, recordingLog, serve, until, type Fake } from './fake-api.ts';

const FAST: Partial<Timing> = {
  coalesceMs: 5,
  maxCoalesceMs: 20,
  restartMinMs: 5,
  restartMaxMs: 40,
  silenceMs: 60_000,
  rediscoverMs: 60_000,
};

const se = (name: string, hosts: string[], port = 443, namespace = 'shop'): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace, resourceVersion: '1' },
  spec: { hosts, location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: port, name: `tls-${port}`, protocol: 'TLS' }] },
});
const egress = (name: string, sa: string, port: number): KubeObject => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace: 'shop' },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: sa, namespace: 'shop' }],
    hosts: ['api.example.com'],
    ports: [{ number: port, protocol: 'tcp-server-first' }],
  },
});
const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const service = (name: string, ip: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
  spec: { clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80 }] },
});
const node = (name: string, podCIDRs: string[]): KubeObject => ({
  ...fixture('cluster/node.json'),
  metadata: { name },
  spec: { podCIDRs },
});
const serviceCidr = (cidrs: string[]): KubeObject => ({ ...fixture('cluster/servicecidr.json'), spec: { cidrs } });

function cluster(): Fake {
  const fake = fakeApi({
    Namespace: [ns('shop', { 'egress-warden.io/mode': 'warn' }), ns('kube-system')],
    Service: [service('api', '10.96.0.10')],
    Node: [node('a', ['10.244.0.0/24']), node('b', ['10.244.1.0/24'])],
    ServiceCIDR: [serviceCidr(['10.96.0.0/16'])],
    ServiceEntry: [se('github', ['github.com']), se('pypi', ['pypi.org', 'files.pythonhosted.org'])],
    Egress: [egress('db', 'app', 5432)],
  });
  serve(fake, 'networking.k8s.io', 'servicecidrs', ['v1', 'v1beta1']);
  serve(fake, 'networking.istio.io', 'serviceentries', ['v1', 'v1beta1', 'v1alpha3']);
  serve(fake, 'policy.openservicemesh.io', 'egresses', ['v1alpha1']);
  return fake;
}

let views: ClusterView[] = [];
async function start(fake: Fake, timing: Partial<Timing> = FAST, extra: { stateDir?: string } = {}) {
  const log = recordingLog();
  const view = await startClusterView({ env: {}, log, api: fake.api, timing: { ...FAST, ...timing }, ...extra });
  views.push(view);
  return { view, log };
}
const hosts = (v: ClusterView) => [...v.current().serviceEntriesByHost.keys()].sort();
const informer = (v: ClusterView, name: string) => v.status().informers.find((i) => i.name === name);

const View = suite('cluster/view');
View.after.each(async () => {
  await Promise.all(views.map((v) => v.stop()));
  views = [];
});

View('a mesh ConfigMap switched to REGISTRY_ONLY reaches the snapshot on its watch event, without waiting for the next read', async () => {
  const fake = cluster();
  const { view } = await start(fake, { regatherMs: 3_600_000 });
  await view.untilReady(2_000);
  await until(() => fake.namedWatches.get('istio-system/istio')?.length === 1, 'the watch on the mesh ConfigMap');
  assert.is(view.current().mesh.istio, undefined);
  fake.configMaps.set('istio-system/istio', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio', namespace: 'istio-system' },
    data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' },
  });
  fake.touch('istio-system', 'istio');
  await until(() => view.current().mesh.istio?.outboundPolicy.value === 'REGISTRY_ONLY', 'the new mesh settings in the snapshot');
  await view.stop();
  assert.is(fake.namedWatches.get('istio-system/istio')?.length, 0, 'stopping the view closes its watches');
});

View('carries the mesh settings in the snapshot, read from where Istio installs them, without waiting for them to be ready', async () => {
  const fake = cluster();
  fake.configMaps.set('istio-system/istio', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'istio-system', name: 'istio' },
    data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' },
  });
  const { view } = await start(fake);
  await until(() => view.current().mesh.istio?.outboundPolicy.value === 'REGISTRY_ONLY', 'the mesh settings in the snapshot');
  assert.is(view.current().mesh.osm, undefined);
});

View('builds compact indexes from the initial lists and turns ready once everything synced', async () => {
  const { view } = await start(cluster());
  assert.is(view.ready(), false);
  assert.ok(await view.untilReady(2_000), JSON.stringify(view.status()));
  const snap = view.current();
  assert.equal(hosts(view), ['files.pythonhosted.org', 'github.com', 'pypi.org']);
  assert.is(snap.serviceEntriesByPort.get(443)?.length, 2);
  assert.equal([...snap.egressesBySourcePort.keys()], ['shop/app#5432']);
  assert.equal(snap.namespaces.get('shop')?.labels, { 'egress-warden.io/mode': 'warn' });
  assert.equal(
    snap.servicesByPort.get(80)?.map((p) => p.protocol),
    ['http'],
  );
  assert.equal(
    snap.cidrs.service.map((r) => `${r.cidr.text} ${r.origin}`),
    ['10.96.0.0/16 ServiceCIDR/kubernetes'],
  );
  assert.equal(
    snap.cidrs.pod.map((r) => r.cidr.text),
    ['10.244.0.0/23'],
  );
  const s = view.status();
  assert.is(s.reason, 'ready');
  assert.equal([...s.absent].sort(), [
    'authorizationpolicies.security.istio.io',
    'egressnetworks.policy.linkerd.io',
    'gateways.gateway.networking.k8s.io',
    'grpcroutes.gateway.networking.k8s.io',
    'httproutegroups.specs.smi-spec.io',
    'httproutes.gateway.networking.k8s.io',
    'sidecars.networking.istio.io',
    'tcproutes.gateway.networking.k8s.io',
    'tlsroutes.gateway.networking.k8s.io',
    'virtualservices.networking.istio.io',
  ]);
  // a kind whose CRD is not installed has no object: known, and empty; ServiceEntries were listed
  assert.equal([...snap.knownKinds].sort(), ['EgressNetwork', 'Gateway', 'ServiceEntry', 'Sidecar']);
  assert.equal(s.informers.map((i) => `${i.name}@${i.version}=${i.objects}`).sort(), [
    'egresses.policy.openservicemesh.io@v1alpha1=1',
    'namespaces@v1=2',
    'nodes@v1=2',
    'servicecidrs.networking.k8s.io@v1=1',
    'serviceentries.networking.istio.io@v1=2',
    'services@v1=1',
  ]);
  assert.ok(s.informers.every((i) => i.synced && i.healthy && i.restarts === 0));
});

View('keeps the indexes right through add, update and delete events, publishing coalesced snapshots', async () => {
  const fake = cluster();
  const { view } = await start(fake);
  await view.untilReady(2_000);
  const before = view.current();
  const on = fake.informer('ServiceEntry').on;
  on.add(se('npm', ['registry.npmjs.org']));
  on.update({ ...se('github', ['api.github.com']), metadata: { name: 'github', namespace: 'shop', resourceVersion: '2' } });
  on.delete(se('pypi', ['pypi.org', 'files.pythonhosted.org']));
  assert.is(view.current(), before, 'the snapshot is not rebuilt per event');
  await until(() => view.current() !== before, 'a new snapshot');
  assert.equal(hosts(view), ['api.github.com', 'registry.npmjs.org']);
  assert.is(view.current().egressesBySourcePort, before.egressesBySourcePort, 'indexes of unchanged kinds are shared');
  assert.is(informer(view, 'serviceentries.networking.istio.io')?.objects, 2);
  assert.ok(informer(view, 'serviceentries.networking.istio.io')?.lastEvent);
  fake.informer('Namespace').on.update(ns('shop', { 'egress-warden.io/mode': 'audit' }));
  await until(() => view.current().namespaces.get('shop')?.labels['egress-warden.io/mode'] === 'audit', 'namespace label update');
});

View('restarts a failing informer with backoff and is not ready until it has synced', async () => {
  const fake = cluster();
  fake.failures.set('Egress', [new Error('connect ECONNREFUSED'), Object.assign(new Error('HTTP 500'), { status: 500 })]);
  const { view, log } = await start(fake, { restartMinMs: 20 });
  await until(() => (informer(view, 'egresses.policy.openservicemesh.io')?.error ?? '') !== '', 'the first failure');
  assert.is(view.ready(), false);
  assert.match(view.status().reason, /^informer egresses\.policy\.openservicemesh\.io \(v1alpha1\) has not synced: /);
  assert.ok(await view.untilReady(2_000), view.status().reason);
  const inf = informer(view, 'egresses.policy.openservicemesh.io')!;
  assert.equal([inf.restarts, inf.healthy, inf.synced, inf.error], [2, true, true, undefined]);
  assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === 'informer stopped; restarting'));
  assert.equal([...view.current().egressesBySourcePort.keys()], ['shop/app#5432']);
});

View('stays ready on the last snapshot while a synced informer is down, and says how stale it is', async () => {
  const fake = cluster();
  const { view } = await start(fake, { restartMinMs: 200, restartMaxMs: 200 });
  await view.untilReady(2_000);
  fake.informer('Service').on.error(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  await new Promise((r) => setTimeout(r, 100));
  assert.is(view.ready(), true);
  assert.ok(view.status().staleSeconds >= 0.1, `staleSeconds ${view.status().staleSeconds}`);
  assert.is(view.current().servicesByPort.get(80)?.length, 1, 'the last snapshot keeps serving');
  await until(() => informer(view, 'services')?.healthy === true, 'healthy after the restart');
  assert.is(view.status().staleSeconds, 0);
});

View('turns unready when a synced informer stays down longer than the staleness bound, and ready again once it restarted', async () => {
  const fake = cluster();
  const { view } = await start(fake, { restartMinMs: 30, staleMs: 0 });
  await view.untilReady(2_000);
  fake.informer('Service').on.error(Object.assign(new Error('Forbidden'), { status: 403 }));
  assert.is(view.ready(), false);
  assert.match(
    view.status().reason,
    /^informer services \(v1\) failed 0 s ago, longer than the 0 s its last objects are served: Forbidden; restarting$/,
  );
  assert.is(view.current().servicesByPort.get(80)?.length, 1, 'the last snapshot keeps serving');
  await until(() => view.ready(), 'ready after the restart');
  assert.is(informer(view, 'services')?.restarts, 1);
  assert.is(fake.informer('Service').starts, 2, 'the same informer resumes');
});

View('waits longer after each failure in a row, jittered, and starts over once a restarted informer stayed up', async () => {
  const fake = cluster();
  fake.failures.set('Egress', [new Error('connect ECONNREFUSED'), new Error('connect ECONNREFUSED'), new Error('connect ECONNREFUSED')]);
  const { view, log } = await start(fake, { restartMinMs: 20, restartMaxMs: 60 });
  assert.ok(await view.untilReady(2_000), view.status().reason);
  const waits = () =>
    log.lines.filter((l) => l.msg === 'informer stopped; restarting').map((l) => (l.obj as { restartInMs: number }).restartInMs);
  const [first, second, third] = waits();
  assert.ok(first! >= 10 && first! <= 20 && second! >= 20 && second! <= 40 && third! >= 30 && third! <= 60, waits().join());
  await new Promise((r) => setTimeout(r, 80));
  fake.informer('Egress').on.error(new Error('watch closed'));
  await until(() => waits().length === 4, 'the fourth failure');
  assert.ok(waits()[3]! >= 10 && waits()[3]! <= 20, `a new streak starts at the shortest wait: ${waits().join()}`);
  await until(() => view.ready(), 'ready again');
});

View('starts the informer of a CRD that appears later and drops it when it goes away', async () => {
  const fake = cluster();
  fake.objects.set('VirtualService', [
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'gh', namespace: 'shop' },
      spec: { hosts: ['github.com'], tls: [{ match: [{ port: 443, sniHosts: ['github.com'] }] }] },
    },
  ]);
  const { view } = await start(fake, { rediscoverMs: 15 });
  await view.untilReady(2_000);
  assert.is(view.current().virtualServicesByHost.size, 0);
  serve(fake, 'networking.istio.io', 'virtualservices', ['v1']);
  await until(() => view.current().virtualServicesByHost.get('github.com')?.length === 1, 'VirtualService indexed');
  assert.ok(view.ready());
  fake.served.delete('virtualservices.networking.istio.io');
  await until(() => view.current().virtualServicesByHost.size === 0, 'VirtualService dropped');
  assert.ok(view.status().absent.includes('virtualservices.networking.istio.io'));
  assert.ok(fake.informers.filter((i) => i.target.kind === 'VirtualService').every((i) => i.stopped));
});

View('lists a silent informer again and drops what was deleted meanwhile', async () => {
  const fake = cluster();
  const { view } = await start(fake, { silenceMs: 40 });
  await view.untilReady(2_000);
  fake.objects.set('ServiceEntry', [se('github', ['github.com'])]);
  await until(() => hosts(view).join() === 'github.com', 'the relisted ServiceEntries', 3_000);
  assert.ok((informer(view, 'serviceentries.networking.istio.io')?.relists ?? 0) >= 1);
  assert.ok(fake.informers.filter((i) => i.target.kind === 'ServiceEntry').length >= 2, 'a fresh informer');
});

View('detects the CIDRs again when ServiceCIDRs or Nodes change', async () => {
  const fake = cluster();
  const { view, log } = await start(fake);
  await view.untilReady(2_000);
  fake.informer('ServiceCIDR').on.add({ ...serviceCidr(['10.100.0.0/16']), metadata: { name: 'extra' } });
  fake.informer('Node').on.add(node('c', ['10.244.2.0/24']));
  await until(() => view.current().cidrs.service.length === 2, 'the second ServiceCIDR');
  await until(
    () =>
      view
        .current()
        .cidrs.pod.map((r) => r.cidr.text)
        .join() === '10.244.0.0/23,10.244.2.0/24',
    'the third node',
  );
  assert.ok(log.lines.some((l) => l.msg === 'cluster CIDRs changed'));
  assert.equal(
    view
      .status()
      .cidrs.ranges.filter((r) => r.kind === 'service')
      .map((r) => r.origin),
    ['ServiceCIDR/extra', 'ServiceCIDR/kubernetes'],
  );
});

View('verifies the pod IPs of EndpointSlices and Service addresses against the detected ranges', async () => {
  const fake = cluster();
  fake.objects.set('EndpointSlice', [endpointSlice('shop', 'api', 'IPv4', { web: '10.244.0.5', vpc: '192.168.7.7' })]);
  const { view, log } = await start(fake);
  await view.untilReady(2_000);
  await until(() => view.status().cidrs.verification !== null, 'verification');
  const v = view.status().cidrs.verification!;
  assert.equal([v.checkedPods, v.podsOutside, v.checkedServices, v.servicesOutside, v.examples], [2, 1, 1, 0, ['shop/vpc 192.168.7.7']]);
  assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg.startsWith('addresses outside the detected cluster CIDRs')));
});

View("does not count a host-network pod, whose address is its node's InternalIP, as outside the pod range", async () => {
  const fake = cluster();
  // both nodes of cluster() report InternalIP 172.18.0.2 (test/fixtures/cluster/node.json)
  fake.objects.set('EndpointSlice', [
    endpointSlice('monitoring', 'node-exporter', 'IPv4', { 'node-exporter-a': '172.18.0.2' }),
    endpointSlice('shop', 'api', 'IPv4', { web: '10.244.0.5' }),
  ]);
  const { view, log } = await start(fake);
  await view.untilReady(2_000);
  await until(() => view.status().cidrs.verification !== null, 'verification');
  const v = view.status().cidrs.verification!;
  assert.equal([v.checkedPods, v.podsOutside, v.examples], [1, 0, []]);
  assert.not.ok(log.lines.some((l) => l.msg.startsWith('addresses outside')));
});

View("says when EndpointSlices name no pod IPs to verify the pod ranges against, skipping the API server's own endpoint", async () => {
  const fake = cluster();
  fake.objects.set('EndpointSlice', [apiServerSlice('192.168.49.2')]);
  const { view } = await start(fake);
  await view.untilReady(2_000);
  await until(() => view.status().cidrs.verification !== null, 'verification');
  const v = view.status().cidrs.verification!;
  assert.equal([v.checkedPods, v.podsOutside, v.checkedServices, v.unchecked], [0, 0, 1, ['no pod IPs from EndpointSlices to check']]);
});

View('notes, and logs, that the CIDRs are unverified when EndpointSlices cannot be listed', async () => {
  const fake = cluster();
  const list = fake.api.list;
  const forbidden = Object.assign(new Error('endpointslices.discovery.k8s.io is forbidden'), { status: 403 });
  const { view, log } = await start({
    ...fake,
    api: { ...fake.api, list: async (t, as) => (t.kind === 'EndpointSlice' ? Promise.reject(forbidden) : list(t, as)) },
  });
  await view.untilReady(2_000);
  await until(() => view.status().cidrs.notes.some((n) => n.startsWith('verification:')), 'the verification note');
  assert.ok(
    view.status().cidrs.notes.includes('verification: endpointslices.discovery.k8s.io is forbidden'),
    view.status().cidrs.notes.join('\n'),
  );
  assert.is(view.status().cidrs.verification, null);
  assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === 'could not list EndpointSlices to verify the detected CIDRs'));
});

View('falls back to the kubeadm ConfigMap on clusters without ServiceCIDRs', async () => {
  const fake = cluster();
  fake.served.delete('servicecidrs.networking.k8s.io');
  fake.configMaps.set('kube-system/kubeadm-config', fixture('cluster/kubeadm-config.json'));
  const { view } = await start(fake);
  await view.untilReady(2_000);
  assert.equal(
    view.status().cidrs.ranges.map((r) => `${r.kind} ${r.cidr} ${r.source}`),
    [
      'pod 10.244.0.0/16 kubeadm-config',
      'pod fd00:10:244::/56 kubeadm-config',
      'service 10.96.0.0/16 kubeadm-config',
      'service fd00:10:96::/112 kubeadm-config',
    ],
  );
});

View('reads the service range from a dry-run create where the cluster has no ServiceCIDR API', async () => {
  const fake = cluster();
  fake.served.delete('servicecidrs.networking.k8s.io');
  fake.dryRunMessage = fixture<Record<string, string>>('cluster/dry-run-messages.json')['bitmap-allocator'];
  const { view } = await start(fake);
  await view.untilReady(2_000);
  assert.equal(
    view
      .status()
      .cidrs.ranges.filter((r) => r.kind === 'service')
      .map((r) => `${r.cidr} ${r.source}`),
    ['10.100.0.0/16 dry-run'],
  );
});

View('adds --state objects to the cluster snapshot; cluster objects win on the same name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-state-'));
  writeFileSync(
    join(dir, 'entries.yaml'),
    [
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: github, namespace: shop}\nspec: {hosts: [old.github.com], ports: [{number: 443, name: tls, protocol: TLS}]}',
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: local, namespace: shop}\nspec: {hosts: [local.example.com], ports: [{number: 80, name: http, protocol: HTTP}]}',
    ].join('\n---\n'),
  );
  const { view } = await start(cluster(), FAST, { stateDir: dir });
  await view.untilReady(2_000);
  assert.equal(hosts(view), ['files.pythonhosted.org', 'github.com', 'local.example.com', 'pypi.org']);
});

View('confirms a pending write once its informer delivered it and a snapshot holding it was published', async () => {
  const fake = cluster();
  const pending = overlay();
  const log = recordingLog();
  const view = await startClusterView({
    env: {},
    log,
    api: fake.api,
    timing: FAST,
    observer: { delivered: pending.delivered, published: pending.published },
  });
  views.push(view);
  await view.untilReady(2_000);
  const written = { ...se('npm', ['registry.npmjs.org']), metadata: { name: 'npm', namespace: 'shop' } };
  pending.admitted(written, 'alice');
  assert.ok(pending.layer(view.current()).serviceEntriesByHost.has('registry.npmjs.org'), 'visible at once through the overlay');
  assert.not.ok(view.current().serviceEntriesByHost.has('registry.npmjs.org'));
  fake.informer('ServiceEntry').on.add({ ...written, metadata: { ...written.metadata, resourceVersion: '7' } });
  await until(() => pending.size() === 0, 'the pending write confirmed');
  assert.ok(view.current().serviceEntriesByHost.has('registry.npmjs.org'), 'the published snapshot holds it when the overlay lets go');
});

View('stops its informers and timers', async () => {
  const fake = cluster();
  const { view } = await start(fake);
  await view.untilReady(2_000);
  await view.stop();
  assert.ok(fake.informers.every((i) => i.stopped));
  assert.is(view.ready(), false);
  assert.is(await view.untilReady(10), false);
});

View('stays stopped: a discovery that fails after stop() is neither retried nor logged', async () => {
  const fake = cluster();
  let fail: (e: Error) => void = () => {};
  fake.discoveryGate = new Promise<void>((_, reject) => {
    fail = reject;
  });
  const { view, log } = await start(fake, { restartMinMs: 1, rediscoverMs: 1 });
  assert.is(fake.discoveries, 1);
  await view.stop();
  const logged = log.lines.length;
  fail(new Error('connection reset by peer'));
  await new Promise((r) => setTimeout(r, 30));
  assert.is(fake.discoveries, 1, 'no discovery after stop()');
  assert.equal(
    log.lines.slice(logged).map((l) => l.msg),
    [],
  );
});

// ---

const NoCluster = suite('cluster/view without a cluster');

NoCluster('is ready at once on the documented defaults and says why', () => {
  const log = recordingLog();
  const view = staticClusterView({ env: {}, log });
  assert.ok(view.ready());
  const s = view.status();
  assert.equal([s.reason, s.cluster, s.cidrs.defaulted], [NO_CLUSTER_REASON, null, true]);
  assert.equal(
    s.cidrs.ranges.map((r) => `${r.kind} ${r.cidr} ${r.origin}`),
    ['pod 10.244.0.0/16 default (kubeadm)', 'service 10.96.0.0/12 default (kubeadm)'],
  );
  assert.ok(log.lines.some((l) => l.level === 'warn' && l.msg === NO_CLUSTER_REASON));
});

NoCluster('uses configured ranges from options or environment, naming where they came from', async () => {
  const view = await startClusterView({
    env: { EW_SERVICE_CIDRS: '172.20.0.0/16' },
    log: recordingLog(),
    noCluster: true,
    podCidrs: ['10.1.0.0/16', 'fd00:1::/56'],
  });
  assert.equal(
    view.status().cidrs.ranges.map((r) => `${r.kind} ${r.cidr} ${r.origin}`),
    ['pod 10.1.0.0/16 --pod-cidrs', 'pod fd00:1::/56 --pod-cidrs', 'service 172.20.0.0/16 EW_SERVICE_CIDRS'],
  );
});

NoCluster('refuses configured values that are not CIDRs', async () => {
  try {
    await startClusterView({ env: { EW_POD_CIDRS: '10.1.0.0/16,10.2.0.0' }, log: recordingLog(), noCluster: true });
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.is((e as Error).message, 'config: EW_POD_CIDRS: "10.2.0.0" is not a CIDR');
  }
});

NoCluster('serves --state objects so cross-object checks work offline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-state-'));
  writeFileSync(
    join(dir, 'egress.json'),
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [egress('db', 'app', 5432), ns('shop')] }),
  );
  const view = staticClusterView({ env: {}, log: recordingLog(), stateDir: dir });
  assert.equal([...view.current().egressesBySourcePort.keys()], ['shop/app#5432']);
  assert.ok(view.current().namespaces.has('shop'));
});

NoCluster("reads the meshes' settings from --state ConfigMaps next to the objects it indexes", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-state-'));
  writeFileSync(join(dir, 'a-egress.json'), JSON.stringify(egress('db', 'app', 5432)));
  writeFileSync(
    join(dir, 'b-mesh.json'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: 'istio-system' },
      data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' },
    }),
  );
  const view = staticClusterView({ env: {}, log: recordingLog(), stateDir: dir });
  assert.is(view.current().mesh.istio?.outboundPolicy.value, 'REGISTRY_ONLY');
  assert.equal([...view.current().egressesBySourcePort.keys()], ['shop/app#5432']);
});

View.run();
NoCluster.run();
