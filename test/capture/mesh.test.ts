import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { meshOf, type NamespaceView } from '../../src/capture/mesh.ts';
import { clean, denies, fixture } from '../support.ts';
import { ISTIO_NS, OSM_INJECT, OSM_NS, annotate, label, plainPod, withSpec } from './pods.ts';

const Mesh = suite('capture/mesh');

const ns = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}): NamespaceView => ({ labels, annotations });
const which = (pod: KubeObject, view?: NamespaceView, name = 'shop') => {
  const t = meshOf(pod, name, view).target;
  return 'skip' in t ? 'none' : t.mesh;
};

const INJECT = 'sidecar.istio.io/inject';
const OSM = 'openservicemesh.io/sidecar-injection';

/** what, pod, its namespace, expected mesh, and the namespace's name when not shop */
const TABLE: readonly [string, KubeObject, NamespaceView | undefined, string, string?][] = [
  ['namespace istio-injection=enabled', plainPod(), ns(ISTIO_NS), 'istio'],
  ['namespace istio.io/rev', plainPod(), ns({ 'istio.io/rev': 'canary' }), 'istio'],
  [
    'namespace istio.io/rev next to istio-injection=disabled',
    plainPod(),
    ns({ 'istio.io/rev': 'canary', 'istio-injection': 'disabled' }),
    'none',
  ],
  ['pod label sidecar.istio.io/inject=true', label(plainPod(), { [INJECT]: 'true' }), ns(), 'istio'],
  ['pod label sidecar.istio.io/inject=true, namespace unknown', label(plainPod(), { [INJECT]: 'true' }), undefined, 'istio'],
  ['pod label sidecar.istio.io/inject=True (the selector compares exactly)', label(plainPod(), { [INJECT]: 'True' }), ns(), 'none'],
  ['pod label sidecar.istio.io/inject=yes (the selector compares exactly)', label(plainPod(), { [INJECT]: 'yes' }), ns(), 'none'],
  ['pod annotation sidecar.istio.io/inject=true alone (no webhook selects on annotations)', plainPod({ [INJECT]: 'true' }), ns(), 'none'],
  ['pod annotation sidecar.istio.io/inject=true alone, namespace unknown', plainPod({ [INJECT]: 'true' }), undefined, 'none'],
  ['pod annotation sidecar.istio.io/inject=true in an injected namespace', plainPod({ [INJECT]: 'true' }), ns(ISTIO_NS), 'istio'],
  ['pod label istio.io/rev', label(plainPod(), { 'istio.io/rev': 'default' }), ns(), 'istio'],
  ['pod label istio.io/rev with the opt-out label', label(plainPod(), { 'istio.io/rev': 'default', [INJECT]: 'false' }), ns(), 'none'],
  [
    'pod label istio.io/rev with the opt-out annotation',
    label(plainPod({ [INJECT]: 'false' }), { 'istio.io/rev': 'default' }),
    ns(),
    'none',
  ],
  ['pod that already has istio-init', fixture('objects/pod-istio-init.json'), ns(), 'istio'],
  ['pod with a native istio-proxy sidecar', fixture('objects/pod-native-sidecar.json'), ns(), 'istio'],
  ['pod with istio-validation (CNI)', fixture('objects/pod-istio-cni.json'), ns(), 'istio'],
  ['pod opting out with sidecar.istio.io/inject=false', label(plainPod(), { [INJECT]: 'false' }), ns(ISTIO_NS), 'none'],
  ['opt-out annotation in an injected namespace', plainPod({ [INJECT]: 'false' }), ns(ISTIO_NS), 'none'],
  // injectRequired (pkg/kube/inject/inject.go): only "true" and "false" are read; the rest falls back to the default
  [
    'a value other than "true" or "false" injects by the namespace default (injectRequired)',
    label(plainPod(), { [INJECT]: 'no' }),
    ns(ISTIO_NS),
    'istio',
  ],
  ['"False" is not "false": injected by the namespace default (injectRequired)', plainPod({ [INJECT]: 'False' }), ns(ISTIO_NS), 'istio'],
  // the injection template (injection-template.yaml) emits no istio-init under interceptionMode NONE
  ['interceptionMode NONE: nothing captures', plainPod({ 'sidecar.istio.io/interceptionMode': 'NONE' }), ns(ISTIO_NS), 'none'],
  ['a gateway template: nothing captures', plainPod({ 'inject.istio.io/templates': 'gateway' }), ns(ISTIO_NS), 'none'],
  ['a proxyless gRPC template: nothing captures', plainPod({ 'inject.istio.io/templates': 'grpc-agent' }), ns(ISTIO_NS), 'none'],
  [
    'a sidecar template next to a gateway one: captured',
    plainPod({ 'inject.istio.io/templates': 'sidecar,gateway' }),
    ns(ISTIO_NS),
    'istio',
  ],
  // ztunnel captures ambient pods (cni/pkg/iptables); a pod labelled none is kept out
  ['a namespace in ambient mode: left to ztunnel', plainPod(), ns({ 'istio.io/dataplane-mode': 'ambient' }), 'none'],
  [
    'a sidecar-injected pod in an ambient namespace: the sidecar captures',
    plainPod(),
    ns({ ...ISTIO_NS, 'istio.io/dataplane-mode': 'ambient' }),
    'istio',
  ],
  [
    'an empty label leaves it to the namespace, over the annotation',
    label(plainPod({ [INJECT]: 'false' }), { [INJECT]: '' }),
    ns(ISTIO_NS),
    'istio',
  ],
  ['label true wins over annotation false', label(plainPod({ [INJECT]: 'false' }), { [INJECT]: 'true' }), ns(), 'istio'],
  [
    'namespace istio-injection=disabled beats the pod asking',
    label(plainPod(), { [INJECT]: 'true' }),
    ns({ 'istio-injection': 'disabled' }),
    'none',
  ],
  ['namespace local-path-storage, which Istio never injects', plainPod(), ns(ISTIO_NS), 'none', 'local-path-storage'],
  ['namespace monitored by OSM with injection enabled', plainPod(), ns(OSM_NS, OSM_INJECT), 'osm'],
  ['namespace monitored by OSM without the injection annotation', plainPod(), ns(OSM_NS), 'none'],
  ['pod asking OSM for a sidecar in a monitored namespace', plainPod({ [OSM]: 'enabled' }), ns(OSM_NS), 'osm'],
  ['pod asking OSM for a sidecar in a namespace OSM does not monitor', plainPod({ [OSM]: 'enabled' }), ns(), 'none'],
  ['pod asking OSM for a sidecar, namespace unknown', plainPod({ [OSM]: 'enabled' }), undefined, 'none'],
  ['pod asking OSM where the namespace annotation says disabled', plainPod({ [OSM]: 'yes' }), ns(OSM_NS, { [OSM]: 'disabled' }), 'osm'],
  ['pod opting out of OSM', plainPod({ [OSM]: 'disabled' }), ns(OSM_NS, OSM_INJECT), 'none'],
  ['OSM namespace with injection disabled', plainPod(), ns(OSM_NS, { [OSM]: 'disabled' }), 'none'],
  [
    'OSM namespace labelled openservicemesh.io/ignore',
    plainPod(),
    ns({ ...OSM_NS, 'openservicemesh.io/ignore': 'true' }, OSM_INJECT),
    'none',
  ],
  ['OSM namespace labelled control-plane', plainPod(), ns({ ...OSM_NS, 'control-plane': 'x' }, OSM_INJECT), 'none'],
  ['Istio first when both meshes claim the pod', plainPod(), ns({ ...ISTIO_NS, ...OSM_NS }, OSM_INJECT), 'istio'],
  ['no mesh at all', plainPod(), ns({ record: 'yes' }), 'none'],
  ['namespace unknown (no cluster)', plainPod(), undefined, 'none'],
];

for (const [what, pod, view, expected, name] of TABLE) {
  Mesh(`${what}: ${expected}`, () => assert.is(which(pod, view, name), expected));
}

Mesh('reports a sidecar.istio.io/inject label written as a YAML boolean instead of failing, and reads it as absent', () => {
  const pod = label(plainPod(), { [INJECT]: true as unknown as string });
  const d = meshOf(pod, 'shop', ns());
  denies(d.findings, 'EW518', `metadata.labels[${INJECT}]`);
  assert.match(d.findings.errors[0]!.message, 'value on pod must be a string, got boolean true: quote it in YAML');
  assert.ok('skip' in d.target);
});

Mesh('reports unreadable injection values on the pod and on the namespace, naming where each is', () => {
  const pod = plainPod({ [INJECT]: 1 as unknown as string, [OSM]: null as unknown as string });
  const view = ns({ 'istio-injection': false as unknown as string }, { [OSM]: [] as unknown as string });
  const d = meshOf(pod, 'shop', view);
  denies(d.findings, 'EW518', `metadata.annotations[${INJECT}]`);
  denies(d.findings, 'EW518', `metadata.annotations[${OSM}]`);
  denies(d.findings, 'EW518', 'metadata.labels[istio-injection]');
  assert.is(d.findings.errors.length, 4);
  assert.ok(d.findings.errors.some((e) => e.message.includes('on namespace shop')));
});

Mesh('ignores labels and annotations it does not read, whatever their value', () => {
  const pod = label(plainPod({ 'example.com/replicas': 3 as unknown as string }), {
    'app.kubernetes.io/managed': true as unknown as string,
  });
  const d = meshOf(pod, 'shop', ns(ISTIO_NS, { 'example.com/x': null as unknown as string }));
  clean(d.findings);
  assert.is('mesh' in d.target && d.target.mesh, 'istio');
});

Mesh('skips host-network pods, mirror pods and the system namespaces, saying why', () => {
  const injected = ns(ISTIO_NS);
  const reasons = [
    meshOf(withSpec(plainPod(), { hostNetwork: true }), 'shop', injected).target,
    meshOf(annotate(plainPod(), { 'kubernetes.io/config.mirror': 'abc' }), 'shop', injected).target,
    ...['kube-system', 'kube-public', 'kube-node-lease'].map((n) => meshOf(plainPod(), n, injected).target),
  ];
  for (const r of reasons) assert.ok('skip' in r && r.skip.length > 0, JSON.stringify(r));
});

Mesh('finds the Istio init containers whose args carry the ranges, and which ones run istio-iptables', () => {
  const t = meshOf(fixture('objects/pod-native-sidecar.json'), 'shop', undefined).target;
  assert.ok('mesh' in t && t.mesh === 'istio');
  assert.equal('inits' in t && t.inits, [{ index: 0, name: 'istio-init', rewritable: true }]);
  const custom = withSpec(plainPod(), { initContainers: [{ name: 'istio-init', command: ['/bin/sh', '-c', 'iptables -t nat ...'] }] });
  const c = meshOf(custom, 'shop', undefined).target;
  assert.equal('inits' in c && c.inits, [{ index: 0, name: 'istio-init', rewritable: false }]);
  const cni = meshOf(fixture('objects/pod-istio-cni.json'), 'shop', undefined).target;
  assert.ok('cni' in cni && cni.cni && cni.injected);
});

Mesh('warns about a sidecar.istio.io/inject value the injector ignores, naming where it is (injectRequired)', () => {
  const d = meshOf(label(plainPod(), { [INJECT]: 'yes' }), 'shop', ns(ISTIO_NS));
  assert.equal(
    d.findings.warnings.map((w) => [w.code, w.path]),
    [['EW521', `metadata.labels[${INJECT}]`]],
  );
  clean(meshOf(label(plainPod(), { [INJECT]: 'true' }), 'shop', ns(ISTIO_NS)).findings);
});

Mesh('an injected pod whose status lists no istio-init or istio-validation is captured by nothing (gateway, proxyless)', () => {
  const gateway = withSpec(
    annotate(plainPod(), { 'sidecar.istio.io/status': JSON.stringify({ initContainers: null, containers: ['istio-proxy'] }) }),
    {
      containers: [{ name: 'istio-proxy', args: ['proxy', 'router'] }],
    },
  );
  const t = meshOf(gateway, 'shop', ns(ISTIO_NS)).target;
  assert.ok('skip' in t && t.skip.includes('no istio-init or istio-validation'), JSON.stringify(t));
  const cni = meshOf(fixture('objects/pod-istio-cni.json'), 'shop', ns(ISTIO_NS)).target;
  assert.ok('mesh' in cni);
});

Mesh('tells whether OSM already injected osm-init', () => {
  const pod = withSpec(plainPod(), { initContainers: [{ name: 'osm-init', command: ['/bin/sh', '-c', 'iptables-restore'] }] });
  assert.equal(meshOf(pod, 'shop', ns()).target, { mesh: 'osm', injected: true });
});

Mesh('an ambient pod names a waypoint only as istiod reads use-waypoint: empty and any case of none name none', () => {
  const waypointOf = (value: string) => {
    const t = meshOf(plainPod(), 'apps', ns({ 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': value })).target;
    return 'ambient' in t ? t.ambient?.waypoint : 'not ambient';
  };
  assert.is(waypointOf('egress-waypoint'), 'egress-waypoint');
  for (const none of ['none', 'None', 'NONE', '']) assert.is(waypointOf(none), undefined, JSON.stringify(none));
});

Mesh.run();
