import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import type { ClusterApi } from '../../src/cluster/api.ts';
import { connectCluster } from '../../src/cluster/kube.ts';
import { ENDPOINT_SLICES } from '../../src/cluster/resources.ts';
import { compactOf } from '../../src/cluster/slim.ts';
import { startClusterView, type ClusterView } from '../../src/cluster/view.ts';
import { runCidrs } from '../../src/commands/cidrs.ts';
import { captureIo } from '../../src/commands/io.ts';
import { fixture } from '../support.ts';
import { fakeApiServer, type FakeServer } from './fake-apiserver.ts';
import { recordingLog, until } from './fake-api.ts';

const messages = fixture<Record<string, string>>('cluster/dry-run-messages.json');
const managed = { managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }] };
const se = (name: string, hosts: string[]): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: {
    name,
    namespace: 'shop',
    resourceVersion: '10',
    ...managed,
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
  },
  spec: { hosts, resolution: 'DNS', ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] },
});
// list items of built-in kinds come without apiVersion and kind, as from a real API server
const node = (name: string, cidr: string) => {
  const { apiVersion: _, kind: __, ...rest } = fixture('cluster/node.json');
  return { ...rest, metadata: { ...rest.metadata, name, ...managed }, spec: { podCIDR: cidr, podCIDRs: [cidr] } } as KubeObject;
};
/** An EndpointSlice list item as the API server sends it: no apiVersion and kind, every field the controller writes. */
const slice = (service: string, endpoints: { pod?: string; ip: string }[]) =>
  ({
    metadata: { name: `${service}-x7k2p`, namespace: 'shop', labels: { 'kubernetes.io/service-name': service }, ...managed },
    addressType: 'IPv4',
    endpoints: endpoints.map(({ pod, ip }) => ({
      addresses: [ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'a',
      zone: 'z1',
      ...(pod ? { targetRef: { kind: 'Pod', namespace: 'shop', name: pod, uid: `uid-${pod}` } } : {}),
    })),
    ports: [{ name: 'grpc', port: 9090, protocol: 'TCP' }],
  }) as KubeObject;
const SLICES = '/apis/discovery.k8s.io/v1/endpointslices';

let server: FakeServer;
let api: ClusterApi;

const Kube = suite('cluster/kube against a fake API server');
Kube.before(async () => {
  server = await fakeApiServer({ '192.0.2.1': messages['bitmap-allocator']!, '2001:db8::1': messages['family-not-configured']! });
  server.collections.set('/api/v1/namespaces', [
    {
      metadata: {
        name: 'shop',
        labels: { 'egress-warden.io/mode': 'warn' },
        annotations: { 'egress-warden.io/outbound-capture': 'cluster', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
    },
  ]);
  server.collections.set('/api/v1/nodes', [node('a', '10.100.0.0/24'), node('b', '10.100.1.0/24'), node('c', '10.100.2.0/24')]);
  server.collections.set('/api/v1/services', [
    {
      metadata: { name: 'api', namespace: 'shop' },
      spec: { clusterIP: '10.100.128.1', clusterIPs: ['10.100.128.1'], ports: [{ name: 'grpc', port: 9090 }] },
    },
  ]);
  // the third endpoint is a host-network pod: its address is the nodes' InternalIP (test/fixtures/cluster/node.json)
  server.collections.set(SLICES, [
    slice('api', [
      { pod: 'web', ip: '10.100.0.7' },
      { pod: 'job', ip: '10.100.2.9' },
      { pod: 'agent', ip: '172.18.0.2' },
    ]),
    slice('kubernetes', [{ ip: '192.168.49.2' }]),
  ]);
  server.collections.set('/apis/networking.k8s.io/v1/servicecidrs', [fixture('cluster/servicecidr.json')]);
  server.collections.set('/apis/networking.istio.io/v1/serviceentries', [se('gh', ['github.com']), se('npm', ['registry.npmjs.org'])]);
  server.collections.set('/apis/networking.istio.io/v1beta1/virtualservices', []);
  const sel = connectCluster({ kubeconfig: server.kubeconfig, env: {} });
  assert.ok('api' in sel);
  api = sel.api;
});
Kube.after(() => server.close());

Kube('selects the cluster and namespace of the kubeconfig context', () => {
  assert.is(api.server, server.url);
  assert.is(api.namespace, 'egress-warden');
});

Kube('reports no cluster when nothing selects one', () => {
  assert.equal(connectCluster({ env: { HOME: '/nonexistent' } }), {
    none: 'no --kubeconfig, no KUBECONFIG, not running in a pod, no ~/.kube/config',
  });
});

Kube('names the cause when the API server cannot be reached, not only that the request failed', async () => {
  const closed = await fakeApiServer({});
  await closed.close();
  const sel = connectCluster({ kubeconfig: closed.kubeconfig, env: {} });
  assert.ok('api' in sel);
  try {
    await sel.api.discover();
    assert.unreachable('discovery should fail');
  } catch (e) {
    assert.match((e as Error).message, /ECONNREFUSED/);
  }
});

Kube('discovers served versions per resource, preferred first, skipping subresources', async () => {
  const d = await api.discover();
  assert.equal(Object.fromEntries(d), {
    'networkpolicies.networking.k8s.io': ['v1'],
    'servicecidrs.networking.k8s.io': ['v1'],
    'serviceentries.networking.istio.io': ['v1', 'v1beta1'],
    'virtualservices.networking.istio.io': ['v1beta1'],
  });
});

Kube('lists across pages and keeps slim objects stamped with their kind, Nodes with only their host addresses', async () => {
  const nodes = await api.list({ group: '', version: 'v1', resource: 'nodes', kind: 'Node' });
  assert.equal(
    nodes,
    ['a', 'b', 'c'].map((name, i) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, resourceVersion: '48213' },
      spec: { podCIDR: `10.100.${i}.0/24`, podCIDRs: [`10.100.${i}.0/24`] },
      status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }] },
    })),
  );
  assert.ok(server.requests.some((r) => r.startsWith('GET /api/v1/nodes?') && r.includes('continue=page-2')));
});

Kube('lists EndpointSlices across pages, keeping of each endpoint only its addresses and the object it points at', async () => {
  const slices = await api.list(ENDPOINT_SLICES);
  assert.equal(
    slices.map((s) => [s.apiVersion, s.kind, s.metadata?.name, s.addressType]),
    [
      ['discovery.k8s.io/v1', 'EndpointSlice', 'api-x7k2p', 'IPv4'],
      ['discovery.k8s.io/v1', 'EndpointSlice', 'kubernetes-x7k2p', 'IPv4'],
    ],
  );
  assert.equal(slices[0]!.endpoints, [
    { addresses: ['10.100.0.7'], targetRef: { kind: 'Pod', namespace: 'shop', name: 'web' } },
    { addresses: ['10.100.2.9'], targetRef: { kind: 'Pod', namespace: 'shop', name: 'job' } },
    { addresses: ['172.18.0.2'], targetRef: { kind: 'Pod', namespace: 'shop', name: 'agent' } },
  ]);
  assert.equal(slices[1]!.endpoints, [{ addresses: ['192.168.49.2'] }], "the API server's endpoint points at nothing");
  assert.ok(server.requests.some((r) => r.startsWith(`GET ${SLICES}?`) && r.includes('continue=page-2')));
});

Kube('reads ConfigMaps and treats a missing one as absent', async () => {
  server.configMaps.set('kube-system/kubeadm-config', fixture('cluster/kubeadm-config.json'));
  const cm = await api.getConfigMap('kube-system', 'kubeadm-config');
  assert.match(String((cm?.data as Record<string, string> | undefined)?.ClusterConfiguration), /podSubnet: 10\.244\.0\.0\/16/);
  assert.is(await api.getConfigMap('kube-system', 'kube-proxy'), undefined);
  server.configMaps.clear();
});

Kube('returns the message of a rejected dry-run Service create', async () => {
  assert.is(await api.dryRunService('192.0.2.1'), messages['bitmap-allocator']);
  assert.ok(server.requests.includes('POST /api/v1/namespaces/egress-warden/services?dryRun=All'));
});

Kube('runs informers that list, then follow watch events, caching only identity and the compact record', async () => {
  const seen: string[] = [];
  const inf = api.informer(
    {
      group: 'networking.istio.io',
      version: 'v1',
      resource: 'serviceentries',
      kind: 'ServiceEntry',
      watched: {
        group: 'networking.istio.io',
        resource: 'serviceentries',
        kind: 'ServiceEntry',
        optional: true,
        role: 'index',
        audited: false,
      },
    },
    {
      add: (o) => seen.push(`add ${o.metadata?.name} ${JSON.stringify(o.metadata)}`),
      update: (o) => {
        const c = compactOf(o);
        seen.push(`update ${o.metadata?.name} ${c?.kind === 'ServiceEntry' ? c.ports[0]?.entry.hosts.join() : ''}`);
      },
      delete: (o) => seen.push(`delete ${o.metadata?.name}`),
      error: (e) => seen.push(`error ${e}`),
      connect: () => seen.push('connect'),
    },
  );
  await inf.start();
  await until(() => server.watching('/apis/networking.istio.io/v1/serviceentries') === 1, 'the watch');
  server.emit('/apis/networking.istio.io/v1/serviceentries', 'MODIFIED', se('gh', ['api.github.com']));
  server.emit('/apis/networking.istio.io/v1/serviceentries', 'DELETED', se('npm', ['registry.npmjs.org']));
  await until(() => seen.length >= 5, 'watch events');
  await inf.stop();
  assert.equal(seen, [
    'connect',
    'add gh {"name":"gh","namespace":"shop","resourceVersion":"10"}',
    'add npm {"name":"npm","namespace":"shop","resourceVersion":"10"}',
    'update gh api.github.com',
    'delete npm',
  ]);
});

let view: ClusterView | undefined;

Kube('serves a ready snapshot from the real informers', async () => {
  view = await startClusterView({ kubeconfig: server.kubeconfig, env: {}, log: recordingLog(), timing: { coalesceMs: 5 } });
  assert.ok(await view.untilReady(5_000), view.status().reason);
  const snap = view.current();
  assert.equal([...snap.serviceEntriesByHost.keys()].sort(), ['github.com', 'registry.npmjs.org']);
  assert.equal(snap.namespaces.get('shop')?.annotations, { 'egress-warden.io/outbound-capture': 'cluster' });
  assert.equal(
    snap.servicesByPort.get(9090)?.map((p) => p.protocol),
    ['grpc'],
  );
  assert.equal(
    view.status().cidrs.ranges.map((r) => `${r.kind} ${r.cidr} ${r.source}`),
    ['pod 10.100.0.0/23 nodes', 'pod 10.100.2.0/24 nodes', 'service 10.96.0.0/16 ServiceCIDR'],
  );
  assert.equal(
    view
      .status()
      .informers.map((i) => `${i.name}@${i.version}`)
      .sort(),
    [
      'namespaces@v1',
      'nodes@v1',
      'servicecidrs.networking.k8s.io@v1',
      'serviceentries.networking.istio.io@v1',
      'services@v1',
      'virtualservices.networking.istio.io@v1beta1',
    ],
  );
  server.emit('/apis/networking.istio.io/v1/serviceentries', 'ADDED', se('pypi', ['pypi.org']));
  await until(() => view!.current().serviceEntriesByHost.has('pypi.org'), 'the watched ServiceEntry');
  await view.stop();
});

Kube('prints CIDRs, sources and the verification for a cluster', async () => {
  const io = captureIo('', {});
  const code = await runCidrs(['--kubeconfig', server.kubeconfig], io);
  assert.is(io.stderr(), '');
  assert.is(code, 1, 'a Service address lies outside 10.96.0.0/16');
  const out = io.stdout();
  assert.match(out, `cluster: kubeconfig ${server.kubeconfig} (context fake, ${server.url})`);
  assert.match(out, /pod CIDRs\n {2}10\.100\.0\.0\/23 +nodes +Node\.spec\.podCIDRs \(3 of 3 nodes, partial\)\n {2}10\.100\.2\.0\/24 /);
  assert.match(out, /service CIDRs\n {2}10\.96\.0\.0\/16 +ServiceCIDR +ServiceCIDR\/kubernetes\n/);
  assert.match(
    out,
    'verification: 2 pods and 1 Services checked; 0 pod and 1 Service addresses are OUTSIDE the detected ranges:\n  Service shop/api 10.100.128.1\n',
  );
  assert.not.match(out, 'notes:', 'a cluster serving ServiceCIDRs is not probed with a dry-run create');
  assert.not.ok(
    server.requests.some((r) => r.startsWith('POST') && !r.includes('dryRun=All')),
    'every create is a dry run',
  );
});

Kube('never reads pods: neither the view nor egress-warden cidrs', () => {
  assert.ok(server.requests.some((r) => r.startsWith(`GET ${SLICES}?`)));
  assert.equal(
    server.requests.filter((r) => r.includes('/pods')),
    [],
  );
});

Kube('gives the same report as JSON', async () => {
  const io = captureIo('', { KUBECONFIG: server.kubeconfig, EW_SERVICE_CIDRS: '10.100.128.0/17' });
  assert.is(await runCidrs(['--output', 'json'], io), 0);
  const report = JSON.parse(io.stdout()) as {
    service: { cidr: string; origin: string }[];
    verification: { services: { outside: unknown[] } };
    failed: string[];
  };
  assert.equal(
    report.service.map((r) => `${r.cidr} ${r.origin}`),
    ['10.100.128.0/17 EW_SERVICE_CIDRS'],
  );
  assert.equal(report.verification.services.outside, []);
  assert.equal(report.failed, [], 'absent ConfigMaps (404) are no failure');
});

Kube('exits 1 saying it could not verify when listing EndpointSlices is forbidden, instead of passing on zero pods', async () => {
  server.forbidden.add(SLICES);
  try {
    const io = captureIo('', { KUBECONFIG: server.kubeconfig, EW_SERVICE_CIDRS: '10.100.128.0/17' });
    assert.is(await runCidrs([], io), 1);
    const out = io.stdout();
    assert.match(out, '\ncould not verify: list endpointslices.discovery.k8s.io: forbidden (RBAC)\n');
    assert.not.match(out, 'verification:');
    assert.not.match(out, 'every address is inside');
    const json = captureIo('', { KUBECONFIG: server.kubeconfig, EW_SERVICE_CIDRS: '10.100.128.0/17' });
    assert.is(await runCidrs(['--output', 'json'], json), 1);
    const report = JSON.parse(json.stdout()) as { verification: unknown; failed: string[] };
    assert.equal([report.verification, report.failed], [null, ['list endpointslices.discovery.k8s.io: forbidden (RBAC)']]);
  } finally {
    server.forbidden.clear();
  }
});

Kube('exits 1 saying it could not verify when a CIDR ConfigMap cannot be read for another reason than being absent', async () => {
  server.forbidden.add('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
  try {
    const io = captureIo('', { KUBECONFIG: server.kubeconfig, EW_SERVICE_CIDRS: '10.100.128.0/17' });
    assert.is(await runCidrs([], io), 1);
    const out = io.stdout();
    assert.match(out, 'verification: 2 pods and 1 Services checked; every address is inside the detected ranges\n');
    assert.match(out, '\ncould not verify: kube-system/kubeadm-config: forbidden (RBAC)\n');
  } finally {
    server.forbidden.clear();
  }
});

Kube.run();
