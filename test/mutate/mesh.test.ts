import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { meshOf, type NamespaceView } from '../../src/mutate/mesh.ts';
import { fixture } from '../support.ts';
import { ISTIO_NS, OSM_NS, annotate, label, plainPod, withSpec } from './pods.ts';

const Mesh = suite('mutate/mesh');

const ns = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}): NamespaceView => ({ labels, annotations });
const which = (pod: KubeObject, view?: NamespaceView, name = 'shop') => {
  const t = meshOf(pod, name, view);
  return 'skip' in t ? 'none' : t.mesh;
};

const TABLE: readonly [string, KubeObject, NamespaceView | undefined, string][] = [
  ['namespace istio-injection=enabled', plainPod(), ns(ISTIO_NS), 'istio'],
  ['namespace istio.io/rev', plainPod(), ns({ 'istio.io/rev': 'canary' }), 'istio'],
  ['pod label sidecar.istio.io/inject=true', label(plainPod(), { 'sidecar.istio.io/inject': 'true' }), ns(), 'istio'],
  ['pod annotation sidecar.istio.io/inject=true', plainPod({ 'sidecar.istio.io/inject': 'true' }), undefined, 'istio'],
  ['pod label istio.io/rev', label(plainPod(), { 'istio.io/rev': 'default' }), ns(), 'istio'],
  ['pod that already has istio-init', fixture('objects/pod-istio-init.json'), ns(), 'istio'],
  ['pod with a native istio-proxy sidecar', fixture('objects/pod-native-sidecar.json'), ns(), 'istio'],
  ['pod with istio-validation (CNI)', fixture('objects/pod-istio-cni.json'), ns(), 'istio'],
  ['pod opting out with sidecar.istio.io/inject=false', label(plainPod(), { 'sidecar.istio.io/inject': 'false' }), ns(ISTIO_NS), 'none'],
  ['opt-out annotation in an injected namespace', plainPod({ 'sidecar.istio.io/inject': 'false' }), ns(ISTIO_NS), 'none'],
  ['label true wins over annotation false', label(plainPod({ 'sidecar.istio.io/inject': 'false' }), { 'sidecar.istio.io/inject': 'true' }), ns(), 'istio'],
  ['namespace istio-injection=disabled beats the pod asking', label(plainPod(), { 'sidecar.istio.io/inject': 'true' }), ns({ 'istio-injection': 'disabled' }), 'none'],
  ['namespace monitored by OSM', plainPod(), ns(OSM_NS), 'osm'],
  ['pod asking OSM for a sidecar', plainPod({ 'openservicemesh.io/sidecar-injection': 'enabled' }), ns(), 'osm'],
  ['pod opting out of OSM', plainPod({ 'openservicemesh.io/sidecar-injection': 'disabled' }), ns(OSM_NS), 'none'],
  ['OSM namespace with injection disabled', plainPod(), ns(OSM_NS, { 'openservicemesh.io/sidecar-injection': 'disabled' }), 'none'],
  ['Istio first when both meshes claim the pod', plainPod(), ns({ ...ISTIO_NS, ...OSM_NS }), 'istio'],
  ['no mesh at all', plainPod(), ns({ record: 'yes' }), 'none'],
  ['namespace unknown (no cluster)', plainPod(), undefined, 'none'],
];

for (const [what, pod, view, expected] of TABLE) {
  Mesh(`${what}: ${expected}`, () => assert.is(which(pod, view), expected));
}

Mesh('skips host-network pods, mirror pods and the system namespaces, saying why', () => {
  const injected = ns(ISTIO_NS);
  const reasons = [
    meshOf(withSpec(plainPod(), { hostNetwork: true }), 'shop', injected),
    meshOf(annotate(plainPod(), { 'kubernetes.io/config.mirror': 'abc' }), 'shop', injected),
    ...['kube-system', 'kube-public', 'kube-node-lease'].map((n) => meshOf(plainPod(), n, injected)),
  ];
  for (const r of reasons) assert.ok('skip' in r && r.skip.length > 0, JSON.stringify(r));
});

Mesh('finds the Istio init containers whose args carry the ranges, and which ones run istio-iptables', () => {
  const t = meshOf(fixture('objects/pod-native-sidecar.json'), 'shop', undefined);
  assert.ok('mesh' in t && t.mesh === 'istio');
  assert.equal('inits' in t && t.inits, [{ index: 0, name: 'istio-init', rewritable: true }]);
  const custom = withSpec(plainPod(), { initContainers: [{ name: 'istio-init', command: ['/bin/sh', '-c', 'iptables -t nat ...'] }] });
  const c = meshOf(custom, 'shop', undefined);
  assert.equal('inits' in c && c.inits, [{ index: 0, name: 'istio-init', rewritable: false }]);
  const cni = meshOf(fixture('objects/pod-istio-cni.json'), 'shop', undefined);
  assert.ok('cni' in cni && cni.cni && cni.injected);
});

Mesh('tells whether OSM already injected osm-init', () => {
  const pod = withSpec(plainPod(), { initContainers: [{ name: 'osm-init', command: ['/bin/sh', '-c', 'iptables-restore'] }] });
  assert.equal(meshOf(pod, 'shop', ns()), { mesh: 'osm', injected: true });
});

Mesh.run();
