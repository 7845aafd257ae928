import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { snapshotFromObjects } from '../../src/cluster/indexes.ts';
import { DEFAULT_MESH_LOCATIONS, meshConfigFrom } from '../../src/cluster/mesh-config.ts';
import { parseCidr } from '../../src/net/cidr.ts';
import { runExplain } from '../../src/commands/explain.ts';
import { captureIo } from '../../src/commands/io.ts';
import { existingPod, explain, parseDestination, prospectivePod, type Destination } from '../../src/explain/explain.ts';

const Explain = suite('explain: will this pod reach this destination, and if not, why');

const cidrs = {
  pod: [{ cidr: parseCidr('10.244.0.0/16')!, origin: 'test' }],
  service: [{ cidr: parseCidr('10.96.0.0/12')!, origin: 'test' }],
};
const snap = (objects: KubeObject[]) => ({ ...snapshotFromObjects(objects, cidrs), mesh: meshConfigFrom(objects, DEFAULT_MESH_LOCATIONS) });
const to = (url: string, address?: string): Destination => {
  const d = parseDestination(url, address);
  if ('problem' in d) throw new Error(d.problem);
  return d;
};

const istioMesh = (mode: string): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'istio-system', name: 'istio' },
    data: { mesh: `outboundTrafficPolicy:\n  mode: ${mode}\n` },
  }) as KubeObject;
const ns = (name: string, labels: Record<string, string>, annotations: Record<string, string> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } }) as KubeObject;
const se = (name: string, hosts: string[], ports: object[], extra: object = {}): KubeObject =>
  ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { namespace: 'shop', name },
    spec: { hosts, ports, resolution: 'DNS', ...extra },
  }) as KubeObject;
const osmMesh = (egress: boolean, policy: boolean): KubeObject =>
  ({
    apiVersion: 'config.openservicemesh.io/v1alpha2',
    kind: 'MeshConfig',
    metadata: { namespace: 'osm-system', name: 'osm-mesh-config' },
    spec: { traffic: { enableEgress: egress }, featureFlags: { enableEgressPolicy: policy } },
  }) as KubeObject;
const egress = (name: string, sa: string, ports: object[], extra: object = {}): KubeObject =>
  ({
    apiVersion: 'policy.openservicemesh.io/v1alpha1',
    kind: 'Egress',
    metadata: { namespace: 'curl', name },
    spec: { sources: [{ kind: 'ServiceAccount', name: sa, namespace: 'curl' }], ports, ...extra },
  }) as KubeObject;

const shop = ns('shop', { 'istio-injection': 'enabled' });
const osmNs = ns('curl', { 'openservicemesh.io/monitored-by': 'osm' }, { 'openservicemesh.io/sidecar-injection': 'enabled' });

Explain('REGISTRY_ONLY without a ServiceEntry is blocked, and the fix is a ServiceEntry with an http port for the host', () => {
  const e = explain(prospectivePod('shop', 'curl'), to('http://httpbin.org'), snap([istioMesh('REGISTRY_ONLY'), shop]));
  assert.is(e.verdict, 'blocked');
  assert.ok(e.reasons.some((r) => r.says.includes('BlackHoleCluster')));
  const fix = e.fix[0] as { kind: string; spec: { hosts: string[]; ports: { number: number; name: string; protocol: string }[] } };
  assert.equal(
    [fix.kind, fix.spec.hosts, fix.spec.ports],
    ['ServiceEntry', ['httpbin.org'], [{ number: 80, name: 'http-80', protocol: 'HTTP' }]],
  );
});

Explain('the fix applied makes the same question allowed', () => {
  const first = explain(prospectivePod('shop', 'curl'), to('http://httpbin.org'), snap([istioMesh('REGISTRY_ONLY'), shop]));
  const e = explain(
    prospectivePod('shop', 'curl'),
    to('http://httpbin.org'),
    snap([istioMesh('REGISTRY_ONLY'), shop, ...(first.fix as KubeObject[])]),
  );
  assert.is(e.verdict, 'allowed');
  assert.equal(e.fix, []);
});

Explain('a pod in an ambient namespace is on ztunnel: REGISTRY_ONLY does not block it, and the waypoint it uses is named', () => {
  const mesh = ns('mesh', { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'egress-waypoint' });
  const e = explain(prospectivePod('mesh', 'app'), to('http://httpbin.org'), snap([istioMesh('REGISTRY_ONLY'), mesh]));
  assert.is(e.verdict, 'allowed');
  assert.is(e.mesh, 'istio');
  const said = e.reasons.map((r) => r.says).join('\n');
  assert.match(said, 'ztunnel captures all outbound traffic');
  assert.match(said, 'ztunnel does not enforce it (istio/istio#54281)');
  assert.match(said, 'waypoint egress-waypoint');
  assert.equal(e.fix, []);
});

Explain('ALLOW_ANY lets an unregistered host through PassthroughCluster', () => {
  assert.is(explain(prospectivePod('shop', 'x'), to('https://example.com'), snap([istioMesh('ALLOW_ANY'), shop])).verdict, 'allowed');
});

Explain('a wildcard HTTPS ServiceEntry covers a host below it; HTTP to that TLS port is a protocol clash', () => {
  const objects = [
    istioMesh('REGISTRY_ONLY'),
    shop,
    se('google', ['*.google.com'], [{ number: 443, name: 'tls', protocol: 'TLS' }], { resolution: 'NONE' }),
  ];
  assert.is(explain(prospectivePod('shop', 'x'), to('https://www.google.com'), snap(objects)).verdict, 'allowed');
  const clash = explain(prospectivePod('shop', 'x'), to('http://www.google.com:443'), snap(objects));
  assert.is(clash.verdict, 'blocked');
  assert.ok(clash.reasons.some((r) => r.step === 'conflict' && r.objects?.includes('ServiceEntry shop/google')));
});

Explain('a ServiceEntry exported only to its own namespace does not register the host for another namespace', () => {
  const objects = [
    istioMesh('REGISTRY_ONLY'),
    shop,
    ns('other', { 'istio-injection': 'enabled' }),
    se('bin', ['httpbin.org'], [{ number: 80, name: 'http', protocol: 'HTTP' }], { exportTo: ['.'] }),
  ];
  assert.is(explain(prospectivePod('shop', 'x'), to('http://httpbin.org'), snap(objects)).verdict, 'allowed');
  assert.is(explain(prospectivePod('other', 'x'), to('http://httpbin.org'), snap(objects)).verdict, 'blocked');
});

Explain('two plain TCP entries without addresses on one port are a conflict naming both', () => {
  const objects = [
    istioMesh('REGISTRY_ONLY'),
    shop,
    se('db-a', ['a.db.example'], [{ number: 5432, name: 'tcp', protocol: 'TCP' }]),
    se('db-b', ['b.db.example'], [{ number: 5432, name: 'tcp', protocol: 'TCP' }]),
  ];
  const e = explain(prospectivePod('shop', 'x'), to('tcp://a.db.example:5432'), snap(objects));
  assert.is(e.verdict, 'blocked');
  assert.equal(e.reasons.find((r) => r.step === 'conflict')?.objects, ['ServiceEntry shop/db-a', 'ServiceEntry shop/db-b']);
});

Explain(
  'a namespace capturing only cluster traffic bypasses the sidecar for an external host, and says the lockdown does not apply',
  () => {
    const local = ns('local', { 'istio-injection': 'enabled' }, { 'egress-warden.io/outbound-capture': 'cluster' });
    const e = explain(prospectivePod('local', 'x'), to('https://www.google.com'), snap([istioMesh('REGISTRY_ONLY'), local]));
    assert.is(e.verdict, 'bypassed');
    assert.ok(e.reasons.some((r) => r.says.includes('lockdown does not apply')));
    assert.is(
      explain(prospectivePod('local', 'x'), to('https://10.96.0.10'), snap([istioMesh('REGISTRY_ONLY'), local])).verdict,
      'blocked',
    );
  },
);

Explain('a pod without a sidecar is bypassed', () => {
  const e = explain(prospectivePod('plain', 'x'), to('http://httpbin.org'), snap([istioMesh('REGISTRY_ONLY'), ns('plain', {})]));
  assert.is(e.verdict, 'bypassed');
  assert.is(e.mesh, null);
});

Explain("an existing pod's own exclude annotation takes the address out of capture", () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'shop', name: 'p', annotations: { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '203.0.113.0/24' } },
    spec: { serviceAccountName: 'curl', containers: [{ name: 'app' }] },
  } as KubeObject;
  const e = explain(existingPod(pod), to('tcp://db.example:5432', '203.0.113.7'), snap([istioMesh('REGISTRY_ONLY'), shop]));
  assert.is(e.verdict, 'bypassed');
  assert.equal(e.from, { namespace: 'shop', pod: 'p', serviceAccount: 'curl' });
});

Explain('OSM: an http Egress for the ServiceAccount allows its host; another ServiceAccount is blocked with an Egress fix for it', () => {
  const objects = [osmMesh(false, true), osmNs, egress('httpbin', 'curl', [{ number: 80, protocol: 'http' }], { hosts: ['httpbin.org'] })];
  assert.is(explain(prospectivePod('curl', 'curl'), to('http://httpbin.org'), snap(objects)).verdict, 'allowed');
  const other = explain(prospectivePod('curl', 'other'), to('http://httpbin.org'), snap(objects));
  assert.is(other.verdict, 'blocked');
  assert.equal((other.fix[0] as { spec: object }).spec, {
    sources: [{ kind: 'ServiceAccount', name: 'other', namespace: 'curl' }],
    hosts: ['httpbin.org'],
    ports: [{ number: 80, protocol: 'http' }],
  });
});

Explain('OSM: Egress objects do nothing while egress policy is off; open egress lets everything through', () => {
  const policy = [egress('httpbin', 'curl', [{ number: 80, protocol: 'http' }], { hosts: ['httpbin.org'] }), osmNs];
  const off = explain(prospectivePod('curl', 'curl'), to('http://httpbin.org'), snap([osmMesh(false, false), ...policy]));
  assert.is(off.verdict, 'blocked');
  assert.equal(
    off.fix.map((o) => o.kind),
    ['MeshConfig', 'Egress'],
  );
  assert.is(explain(prospectivePod('curl', 'nobody'), to('http://example.com'), snap([osmMesh(true, false), osmNs])).verdict, 'allowed');
});

Explain('OSM: a tcp-server-first match on the port breaks the http match, naming both Egresses', () => {
  const objects = [
    osmMesh(false, true),
    osmNs,
    egress('httpbin', 'curl', [{ number: 80, protocol: 'http' }], { hosts: ['httpbin.org'] }),
    egress('mysql', 'curl', [{ number: 80, protocol: 'tcp-server-first' }], { ipAddresses: ['192.0.2.0/24'] }),
  ];
  const e = explain(prospectivePod('curl', 'curl'), to('http://httpbin.org'), snap(objects));
  assert.is(e.verdict, 'blocked');
  assert.equal(e.reasons.find((r) => r.step === 'conflict')?.objects, ['Egress curl/mysql', 'Egress curl/httpbin']);
});

Explain('OSM: an upper-case protocol builds no filter chain', () => {
  const e = explain(
    prospectivePod('curl', 'curl'),
    to('http://httpbin.org'),
    snap([osmMesh(false, true), osmNs, egress('x', 'curl', [{ number: 80, protocol: 'HTTP' }], { hosts: ['httpbin.org'] })]),
  );
  assert.is(e.verdict, 'blocked');
});

Explain('the command exits 1 when blocked, 0 when allowed, 2 on bad usage', async () => {
  const io = captureIo();
  assert.is(await runExplain(['--from', 'shop', '--to', 'ftp://x'], io), 2);
  assert.is(await runExplain(['--to', 'http://x'], captureIo()), 2);
  assert.is(await runExplain(['--from', 'shop/missing', '--to', 'http://x'], captureIo()), 2);
  const none = captureIo();
  assert.is(await runExplain(['--from', 'shop', '--to', 'http://x', '-o', 'json'], none), 0);
  assert.is(JSON.parse(none.stdout()).verdict, 'bypassed');
});

Explain.run();
