/**
 * The continuous audit over the newer egress kinds: a change re-judges the stored objects whose
 * verdict reads it (related.ts), in a pass over those objects only, never a full one.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { snapshotFromObjects } from '../../src/cluster/indexes.ts';
import type { EgressRecordKind } from '../../src/cluster/snapshot.ts';
import { cidrsOf } from '../support.ts';
import { auditedCluster } from './harness.ts';

/** What serve audits of these kinds; Gateways are watched, not judged. */
const AUDITED = ['Namespace', 'ServiceEntry', 'AuthorizationPolicy', 'TCPRoute', 'Sidecar', 'EgressNetwork'];
const KNOWN: ReadonlySet<EgressRecordKind> = new Set(['Sidecar', 'Gateway', 'EgressNetwork', 'ServiceEntry']);

const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const entry = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: 'egress', labels, uid: `se-${name}` },
  spec: {
    hosts: [`${name}.example.com`],
    addresses: ['203.0.113.7'],
    location: 'MESH_EXTERNAL',
    resolution: 'STATIC',
    endpoints: [{ address: '203.0.113.7' }],
    ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
  },
});
const waypoint = (name: string, ns = 'egress'): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace: ns, labels: { 'istio.io/waypoint-for': 'service' } },
  spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
});
const policy = (target: string): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: `on-${target}`, namespace: 'egress', uid: `ap-${target}` },
  spec: { targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: target }], action: 'ALLOW', rules: [{}] },
});
const tcpRoute = (name: string, parent: { group: string; kind: string; name: string }): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1alpha2',
  kind: 'TCPRoute',
  metadata: { name, namespace: 'egress', uid: `route-${name}` },
  spec: {
    parentRefs: [{ ...parent, port: 443 }],
    rules: [{ backendRefs: [{ group: parent.group, kind: parent.kind, name: parent.name }] }],
  },
});
const network = (name: string): KubeObject => ({
  apiVersion: 'policy.linkerd.io/v1alpha1',
  kind: 'EgressNetwork',
  metadata: { name, namespace: 'egress', uid: `en-${name}` },
  spec: { trafficPolicy: 'Allow', networks: [{ cidr: '203.0.113.0/24' }] },
});
const sidecar = (name: string, created: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: { name, namespace: 'shop', creationTimestamp: created, uid: `sc-${name}` },
  spec: { egress: [{ hosts: ['./*'] }] },
});

/** Stored objects by kind, and the snapshot a view with synced informers of every kind publishes. */
const cluster = (objects: KubeObject[]) =>
  auditedCluster(AUDITED, objects, (all) => ({
    ...snapshotFromObjects(all, cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12'])),
    knownKinds: KNOWN,
  }));

const Audit = suite('audit/continuous: the newer egress kinds judged again when what they read changes');

Audit('a waypoint Gateway created after its ServiceEntry clears EW625 on the entry, in a pass over the related objects', async () => {
  const c = cluster([namespace('egress'), entry('api', { 'istio.io/use-waypoint': 'egress-waypoint' }), entry('other')]);
  await c.start();
  assert.ok(c.codesOf('ServiceEntry', 'api').includes('EW625'), c.codesOf('ServiceEntry', 'api').join());
  await c.write(waypoint('egress-waypoint'));
  assert.equal(c.codesOf('ServiceEntry', 'api'), []);
  const last = c.passes.at(-1)!;
  assert.is(last.full, false);
  assert.is(last.objects, 1, 'only the entry bound to the Gateway is judged again');
  await c.write(waypoint('egress-waypoint'), true);
  assert.ok(c.codesOf('ServiceEntry', 'api').includes('EW625'));
});

Audit('a relist of the Gateways judges everything again: a Gateway gone without a delete event is not missed', async () => {
  const c = cluster([namespace('egress'), entry('api', { 'istio.io/use-waypoint': 'egress-waypoint' })]);
  await c.start();
  const before = c.passes.length;
  await c.relisted('Gateway');
  assert.ok(
    c.passes.slice(before).some((p) => p.full),
    'a full pass follows',
  );
});

Audit('a Gateway named by a namespace label re-judges the ServiceEntries of that namespace', async () => {
  const c = cluster([namespace('egress', { 'istio.io/use-waypoint': 'shared' }), entry('api')]);
  await c.start();
  assert.ok(c.codesOf('ServiceEntry', 'api').includes('EW625'), c.codesOf('ServiceEntry', 'api').join());
  await c.write(waypoint('shared'));
  assert.equal(c.codesOf('ServiceEntry', 'api'), []);
  assert.is(c.passes.at(-1)!.full, false);
});

Audit('a ServiceEntry deleted turns the routes and the AuthorizationPolicies naming it into EW644 and EW630', async () => {
  const api = entry('api', { 'istio.io/use-waypoint': 'egress-waypoint' });
  const c = cluster([
    namespace('egress'),
    waypoint('egress-waypoint'),
    api,
    policy('api'),
    tcpRoute('to-api', { group: 'networking.istio.io', kind: 'ServiceEntry', name: 'api' }),
  ]);
  await c.start();
  assert.equal(c.codesOf('AuthorizationPolicy', 'on-api'), []);
  assert.ok(!c.codesOf('TCPRoute', 'to-api').includes('EW644'), c.codesOf('TCPRoute', 'to-api').join());
  await c.write(api, true);
  assert.equal(c.codesOf('AuthorizationPolicy', 'on-api'), ['EW630']);
  assert.ok(c.codesOf('TCPRoute', 'to-api').includes('EW644'), c.codesOf('TCPRoute', 'to-api').join());
  assert.is(c.passes.at(-1)!.full, false);
});

Audit('an EgressNetwork created clears EW645 on the route attached to it', async () => {
  const c = cluster([namespace('egress'), tcpRoute('db', { group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'partners' })]);
  await c.start();
  assert.ok(c.codesOf('TCPRoute', 'db').includes('EW645'), c.codesOf('TCPRoute', 'db').join());
  await c.write(network('partners'));
  assert.ok(!c.codesOf('TCPRoute', 'db').includes('EW645'), c.codesOf('TCPRoute', 'db').join());
  assert.is(c.passes.at(-1)!.full, false);
});

Audit('a second Sidecar without a selector reports the pair on the newer one, the older judged again with it', async () => {
  const c = cluster([namespace('shop'), sidecar('default', '2026-01-01T00:00:00Z')]);
  await c.start();
  assert.equal(c.codesOf('Sidecar', 'default'), []);
  await c.write(sidecar('late', '2026-02-01T00:00:00Z'));
  assert.ok(c.codesOf('Sidecar', 'late').includes('EW611'), c.codesOf('Sidecar', 'late').join());
  const last = c.passes.at(-1)!;
  assert.is(last.full, false);
  assert.is(last.objects, 3, 'both Sidecars of the namespace are judged again, with the Namespace the new one reads');
});

Audit.run();
