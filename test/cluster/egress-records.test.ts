/**
 * The records of the newer egress kinds in the snapshot: what compaction keeps, which kinds are
 * known, and what the rules' lookup answers from them at admission (snapshotLookup).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Decision } from '../../src/admission/decision.ts';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { incrementalSnapshot } from '../../src/cluster/incremental.ts';
import { compact, rebuildSnapshot, snapshotFromObjects, type Compact } from '../../src/cluster/indexes.ts';
import { overlay } from '../../src/cluster/overlay.ts';
import { WATCHED } from '../../src/cluster/resources.ts';
import { carrier, compactOf, judgedOf, referencesJudged } from '../../src/cluster/slim.ts';
import { snapshotLookup } from '../../src/rules/egress-records.ts';
import { judge } from '../../src/review/validate.ts';
import { cidrsOf } from '../support.ts';

const cidrs = cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']);

const entry = (name: string, ns: string, labels: Record<string, string> = {}, ports = [{ number: 443, name: 'tls', protocol: 'tls' }]) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: ns, labels },
  spec: { hosts: [`${name}.example.com`], addresses: ['203.0.113.9'], resolution: 'STATIC', ports },
});
const gateway = (name: string, ns: string): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace: ns, labels: { 'istio.io/waypoint-for': 'service' } },
  spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
});
const network = (name: string, ns: string): KubeObject => ({
  apiVersion: 'policy.linkerd.io/v1alpha1',
  kind: 'EgressNetwork',
  metadata: { name, namespace: ns, creationTimestamp: '2026-12-01T10:00:00Z' },
  spec: { trafficPolicy: 'Deny' },
});
const sidecar = (name: string, ns: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: { name, namespace: ns, creationTimestamp: '2026-12-01T10:00:00Z' },
  spec: { egress: [{ hosts: ['./*'] }], outboundTrafficPolicy: {} },
});
const reviewOf = (o: KubeObject, group: string): AdmissionRequest => ({
  uid: 'u',
  kind: { group, version: 'v1', kind: o.kind! },
  operation: 'CREATE',
  namespace: o.metadata?.namespace ?? '',
  name: o.metadata?.name ?? '',
  object: o,
});
const codes = (r: Decision) => [...r.findings.errors, ...r.findings.warnings].map((i) => i.code).sort();

const Records = suite('cluster/egress-records: Sidecars, waypoints, EgressNetworks and ServiceEntries in the snapshot');

Records('compaction keeps what the rules read of each kind, and ServiceEntries without ports are found by name', () => {
  const s = snapshotFromObjects(
    [
      entry('api', 'egress', { 'istio.io/use-waypoint': 'wp' }),
      entry('bare', 'egress', {}, []),
      gateway('wp', 'egress'),
      network('n', 'egress'),
      sidecar('default', 'shop'),
    ],
    cidrs,
  );
  const lookup = snapshotLookup(s);
  assert.equal(lookup.serviceEntry?.('egress', 'api')?.useWaypoint, 'wp');
  assert.equal(
    lookup.serviceEntry?.('egress', 'api')?.ports.map((p) => `${p.number}/${p.protocol}`),
    ['443/TLS'],
  );
  assert.is(lookup.serviceEntry?.('egress', 'api')?.labelsKnown, true);
  assert.equal(lookup.serviceEntry?.('egress', 'bare')?.hosts, ['bare.example.com']);
  assert.is(lookup.serviceEntry?.('other', 'api'), undefined, 'by namespace and name, not by name alone');
  assert.equal(lookup.waypoint?.('egress', 'wp'), {
    namespace: 'egress',
    name: 'wp',
    gatewayClassName: 'istio-waypoint',
    waypointFor: 'service',
    from: 'Same',
    selector: {},
  });
  assert.is(lookup.egressNetwork?.('egress', 'n')?.trafficPolicy, 'Deny');
  assert.equal(
    lookup.egressNetworksIn?.('egress').map((n) => n.name),
    ['n'],
  );
  assert.equal(
    lookup.sidecars?.('shop').map((x) => `${x.name} ${x.outboundPolicy} ${x.created}`),
    ['default REGISTRY_ONLY 2026-12-01T10:00:00Z'],
  );
  assert.ok(Object.isFrozen(s.sidecarsByNamespace.get('shop')), 'published lists are frozen like the others');
});

Records('a kind is known only when objects of it were read: otherwise its lookup is absent and its rules stay silent', () => {
  const s = snapshotFromObjects([entry('api', 'egress', { 'istio.io/use-waypoint': 'wp' })], cidrs);
  assert.equal([...s.knownKinds], ['ServiceEntry']);
  const lookup = snapshotLookup(s);
  assert.is(lookup.waypoint, undefined);
  assert.is(lookup.egressNetwork, undefined);
  assert.is(lookup.sidecars, undefined);
  assert.ok(lookup.serviceEntry, 'ServiceEntries are always compared with the snapshot');
  assert.equal(codes(judge(reviewOf(entry('api', 'egress', { 'istio.io/use-waypoint': 'wp' }), 'networking.istio.io'), s)), []);
  // known and empty (an informer that synced with no Gateway, or a CRD not installed): the waypoint is missing
  const known = { ...s, knownKinds: new Set(['ServiceEntry', 'Gateway'] as const) };
  assert.equal(codes(judge(reviewOf(entry('api', 'egress', { 'istio.io/use-waypoint': 'wp' }), 'networking.istio.io'), known)), ['EW625']);
});

Records('a rebuild of one kind keeps the others known, and a kind rebuilt without objects is known no more', () => {
  const prev = snapshotFromObjects([gateway('wp', 'egress'), network('n', 'egress')], cidrs);
  const items = new Map<string, Compact[]>([['Gateway', []]]);
  const next = rebuildSnapshot(prev, ['Gateway'], (k) => items.get(k) ?? [], cidrs);
  assert.equal([...next.knownKinds].sort(), ['EgressNetwork']);
  assert.is(next.egressNetworksByNamespace, prev.egressNetworksByNamespace, 'untouched kinds share their indexes');
  assert.is(next.waypointsByName.size, 0);
  // kinds watched only for the audit (routes) have no index: marking them rebuilds nothing
  assert.is(rebuildSnapshot(prev, ['TCPRoute' as Compact['kind']], () => [], cidrs).waypointsByName, prev.waypointsByName);
});

Records("check's incremental snapshot replaces a re-declared object's records and learns the kinds added", () => {
  const live = incrementalSnapshot(snapshotFromObjects([], cidrs));
  live.add(sidecar('default', 'shop'));
  live.add({ ...sidecar('default', 'shop'), spec: { egress: [{ hosts: ['istio-system/*'] }] } });
  assert.equal(
    snapshotLookup(live.snapshot)
      .sidecars?.('shop')
      .map((x) => x.egress[0]?.hosts),
    [['istio-system/*']],
  );
  assert.ok(live.snapshot.knownKinds.has('Sidecar'));
});

Records('an informer carrier keeps the labels and the creation time the records read, listed (Date) or watched (string)', () => {
  const t = { group: 'networking.istio.io', version: 'v1', resource: 'serviceentries', kind: 'ServiceEntry' };
  const listed = {
    ...entry('api', 'egress', { 'istio.io/use-waypoint': 'wp' }),
    metadata: { ...entry('api', 'egress', { 'istio.io/use-waypoint': 'wp' }).metadata, managedFields: [{}] },
  };
  const c = compactOf(carrier(listed, t)) as Extract<Compact, { kind: 'ServiceEntry' }>;
  assert.is(c.entry.useWaypoint, 'wp');
  const st = { group: 'networking.istio.io', version: 'v1', resource: 'sidecars', kind: 'Sidecar' };
  const asListed = {
    ...sidecar('a', 'shop'),
    metadata: { name: 'a', namespace: 'shop', creationTimestamp: new Date('2026-12-01T10:00:00Z') },
  };
  const fromList = compactOf(carrier(asListed, st)) as Extract<Compact, { kind: 'Sidecar' }>;
  const fromWatch = compactOf(carrier(sidecar('a', 'shop'), st)) as Extract<Compact, { kind: 'Sidecar' }>;
  assert.is(fromList.sidecar.created, '2026-12-01T10:00:00Z');
  assert.is(fromList.sidecar.created, fromWatch.sidecar.created);
  assert.is(compact({ ...gateway('wp', 'egress'), apiVersion: 'example.com/v1' }), undefined, 'kinds are matched by group');
});

Records('an admitted EgressNetwork is seen by the next review of a route naming it (read-your-writes)', () => {
  const base = { ...snapshotFromObjects([], cidrs), knownKinds: new Set(['EgressNetwork'] as const) };
  const route: KubeObject = {
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind: 'TCPRoute',
    metadata: { name: 'db', namespace: 'egress' },
    spec: {
      parentRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'n', port: 5432 }],
      rules: [{ backendRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'n' }] }],
    },
  };
  const routeReview = {
    ...reviewOf(route, 'gateway.networking.k8s.io'),
    kind: { group: 'gateway.networking.k8s.io', version: 'v1alpha2', kind: 'TCPRoute' },
  };
  const o = overlay();
  assert.ok(codes(judge(routeReview, o.layer(base))).includes('EW645'));
  o.admitted(network('n', 'egress'), 'alice');
  assert.ok(!codes(judge(routeReview, o.layer(base))).includes('EW645'), 'the pending EgressNetwork is the parent');
});

Records('of the routes watched for the audit, only those naming a ServiceEntry or an EgressNetwork keep their spec', () => {
  const routes = WATCHED.find((w) => w.kind === 'TCPRoute' && w.group === 'gateway.networking.k8s.io')!;
  assert.is(routes.role, 'audit');
  const when = routes.sentWhen!;
  const to = (parentRefs: unknown) => ({ apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', spec: { parentRefs } });
  assert.ok(referencesJudged(to([{ name: 'public' }, { group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'n' }]), when));
  assert.ok(referencesJudged(to([{ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'api' }]), when));
  assert.not.ok(referencesJudged(to([{ name: 'public' }]), when), 'an ingress route');
  assert.not.ok(referencesJudged(to('api'), when), 'a shape the rules read as no reference');
  const t = { group: routes.group, version: 'v1alpha2', resource: routes.resource, kind: routes.kind };
  const ingress = to([{ name: 'public' }]);
  assert.is(judgedOf(carrier(ingress, t, referencesJudged(ingress, when))).spec, undefined);
});

Records.run();
