import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { validateNamespace } from '../../src/capture/namespace-rule.ts';
import { planPod } from '../../src/capture/plan-pod.ts';
import type { Result } from '../../src/catalogue/result.ts';
import { snapshotFromObjects } from '../../src/cluster/indexes.ts';
import { DEFAULT_MESH_LOCATIONS, meshConfigFrom, NO_MESH_CONFIG } from '../../src/cluster/mesh-config.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { parseCidr } from '../../src/net/cidr.ts';
import { RULES } from '../../src/review/rules.ts';

const MeshMode = suite("findings that depend on the mesh's own settings");

const cidrs = {
  pod: [{ cidr: parseCidr('10.244.0.0/16')!, origin: 'test' }],
  service: [{ cidr: parseCidr('10.96.0.0/12')!, origin: 'test' }],
};
const withMesh = (objects: KubeObject[]): ClusterSnapshot => ({
  ...snapshotFromObjects(objects, cidrs),
  mesh: meshConfigFrom(objects, DEFAULT_MESH_LOCATIONS),
});
const codes = (r: Result) => [...r.errors, ...r.warnings].map((i) => i.code);

const meshConfig = (spec: object): KubeObject =>
  ({
    apiVersion: 'config.openservicemesh.io/v1alpha2',
    kind: 'MeshConfig',
    metadata: { namespace: 'osm-system', name: 'osm-mesh-config' },
    spec,
  }) as KubeObject;
const istio = (mode: string): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'istio-system', name: 'istio' },
    data: { mesh: `outboundTrafficPolicy:\n  mode: ${mode}\n` },
  }) as KubeObject;
const egress = {
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { namespace: 'curl', name: 'httpbin' },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'curl', namespace: 'curl' }],
    hosts: ['httpbin.org'],
    ports: [{ number: 80, protocol: 'http' }],
  },
} as KubeObject;
const judgeEgress = (snapshot: ClusterSnapshot) => codes(RULES.egress(egress, { snapshot, namespace: 'curl', operation: 'CREATE' }));

MeshMode("an Egress while OSM's egress policy is off is warned to have no effect (EW348)", () => {
  assert.equal(judgeEgress(withMesh([meshConfig({ traffic: { enableEgress: false }, featureFlags: { enableEgressPolicy: false } })])), [
    'EW348',
  ]);
});

MeshMode("an Egress while OSM's egress is open to all is warned to restrict nothing (EW349)", () => {
  assert.equal(judgeEgress(withMesh([meshConfig({ traffic: { enableEgress: true }, featureFlags: { enableEgressPolicy: true } })])), [
    'EW349',
  ]);
});

MeshMode('an Egress with egress closed and policy on, or with no MeshConfig known, gets no mesh finding', () => {
  assert.equal(judgeEgress(withMesh([meshConfig({ traffic: { enableEgress: false }, featureFlags: { enableEgressPolicy: true } })])), []);
  assert.equal(judgeEgress({ ...withMesh([]), mesh: NO_MESH_CONFIG }), []);
  assert.equal(judgeEgress(withMesh([])), []);
});

const namespace = (labels: Record<string, string>, mode: string): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'shop', labels, annotations: { 'egress-warden.io/outbound-capture': mode } },
  }) as KubeObject;

MeshMode(
  'an Istio namespace switched to cluster capture in a REGISTRY_ONLY mesh is warned that external traffic escapes the lockdown (EW519)',
  () => {
    const r = validateNamespace(namespace({ 'istio-injection': 'enabled' }, 'cluster'), { snapshot: withMesh([istio('REGISTRY_ONLY')]) });
    assert.equal(codes(r), ['EW520']);
    assert.match(r.warnings[0]!.message, /REGISTRY_ONLY/);
    assert.equal(r.errors, []);
  },
);

MeshMode('cluster capture under ALLOW_ANY, capture all under REGISTRY_ONLY, or a namespace Istio does not inject: no EW519', () => {
  assert.equal(
    codes(validateNamespace(namespace({ 'istio-injection': 'enabled' }, 'cluster'), { snapshot: withMesh([istio('ALLOW_ANY')]) })),
    [],
  );
  assert.equal(
    codes(validateNamespace(namespace({ 'istio-injection': 'enabled' }, 'all'), { snapshot: withMesh([istio('REGISTRY_ONLY')]) })),
    [],
  );
  assert.equal(codes(validateNamespace(namespace({}, 'cluster'), { snapshot: withMesh([istio('REGISTRY_ONLY')]) })), []);
});

MeshMode('a pod asking for cluster capture in a REGISTRY_ONLY Istio mesh is warned, and still mutated', () => {
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } } as KubeObject;
  const snapshot = withMesh([istio('REGISTRY_ONLY'), ns]);
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'shop', name: 'p', annotations: { 'egress-warden.io/outbound-capture': 'cluster' } },
    spec: { containers: [{ name: 'app' }] },
  } as KubeObject;
  const plan = planPod(pod, 'shop', snapshot.namespaces.get('shop'), snapshot);
  assert.equal(codes(plan.findings), ['EW520']);
  assert.ok(plan.build?.().patch.length);
});

const vs = (spec: object): KubeObject =>
  ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { namespace: 'shop', name: 'httpbin' }, spec }) as KubeObject;
const judgeVs = (v: KubeObject, snapshot: ClusterSnapshot) =>
  RULES['virtual-service'](v, { snapshot, namespace: 'shop', operation: 'CREATE' });
const httpbinRoute = vs({ hosts: ['httpbin.org'], http: [{ timeout: '3s', route: [{ destination: { host: 'httpbin.org' } }] }] });
const httpbinEntry = (exportTo: string[] = []) =>
  ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { namespace: 'shop', name: 'httpbin' },
    spec: {
      hosts: ['httpbin.org'],
      exportTo,
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
    },
  }) as KubeObject;

MeshMode('a VirtualService for an external host no ServiceEntry registers, under REGISTRY_ONLY, is warned once per host (EW407)', () => {
  const r = judgeVs(httpbinRoute, withMesh([istio('REGISTRY_ONLY')]));
  assert.equal(codes(r), ['EW407']);
  assert.is(r.warnings[0]!.path, 'spec.hosts[0]');
});

MeshMode('no EW407 with a visible ServiceEntry, under ALLOW_ANY, for in-cluster names, or on a gateway-bound VirtualService', () => {
  assert.equal(codes(judgeVs(httpbinRoute, withMesh([istio('REGISTRY_ONLY'), httpbinEntry()]))), []);
  assert.equal(codes(judgeVs(httpbinRoute, withMesh([istio('ALLOW_ANY')]))), []);
  const internal = vs({ hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews.bookinfo.svc.cluster.local' } }] }] });
  assert.equal(codes(judgeVs(internal, withMesh([istio('REGISTRY_ONLY')]))), []);
  const ingress = vs({
    hosts: ['httpbin.org'],
    gateways: ['istio-system/ingress'],
    http: [{ route: [{ destination: { host: 'httpbin.org' } }] }],
  });
  assert.equal(codes(judgeVs(ingress, withMesh([istio('REGISTRY_ONLY')]))), []);
});

MeshMode('a ServiceEntry exported to another namespace only does not register the host for this VirtualService', () => {
  assert.equal(codes(judgeVs(httpbinRoute, withMesh([istio('REGISTRY_ONLY'), { ...httpbinEntry(['other']) }]))), ['EW407']);
});

const sidecar = (namespace: string, mode: string, selector?: object): KubeObject =>
  ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { namespace, name: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { ...(selector ? { workloadSelector: { labels: selector } } : {}), outboundTrafficPolicy: { mode } },
  }) as KubeObject;

MeshMode("the namespace's Sidecar decides EW407 over the mesh config, as getSidecarScope does", () => {
  const underSidecar = judgeVs(httpbinRoute, withMesh([istio('ALLOW_ANY'), sidecar('shop', 'REGISTRY_ONLY')]));
  assert.equal(codes(underSidecar), ['EW407']);
  assert.match(underSidecar.warnings[0]!.message, 'REGISTRY_ONLY (Sidecar shop/default spec.outboundTrafficPolicy.mode)');
  assert.equal(codes(judgeVs(httpbinRoute, withMesh([istio('REGISTRY_ONLY'), sidecar('shop', 'ALLOW_ANY')]))), []);
  // the mesh root namespace's Sidecar applies to namespaces without their own
  assert.equal(codes(judgeVs(httpbinRoute, withMesh([istio('ALLOW_ANY'), sidecar('istio-system', 'REGISTRY_ONLY')]))), ['EW407']);
  // one with a selector applies to some pods only: the namespace stays under the mesh's ALLOW_ANY
  assert.equal(codes(judgeVs(httpbinRoute, withMesh([istio('ALLOW_ANY'), sidecar('shop', 'REGISTRY_ONLY', { app: 'x' })]))), []);
});

MeshMode.run();
