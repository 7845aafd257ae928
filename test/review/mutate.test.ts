import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Decision } from '../../src/admission/decision.ts';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { admitPod } from '../../src/review/mutate.ts';
import {
  ISTIO_NS,
  OSM_INJECT,
  OSM_NS,
  annotate,
  initArgs,
  label,
  namespace,
  plainPod,
  podReview,
  reviewFixture,
  shopNamespace,
  withSpec,
} from '../capture/pods.ts';
import { cidrsOf, denies, fixture, snapshotWith, warns } from '../support.ts';

const AdmitPod = suite('review/mutate: pods under the enforcement modes');

const CLUSTER = { 'egress-warden.io/outbound-capture': 'cluster' };

/** `ns: null` leaves the namespace out of the snapshot. */
function admit(pod: KubeObject, ns: KubeObject | null = namespace('shop', ISTIO_NS), extra: Partial<AdmissionRequest> = {}): Decision {
  return admitPod(podReview(pod, 'shop', extra), snapshotWith(ns ? [ns] : []));
}

const touched = (v: Decision) => v.patch.map((o) => o.path);
const admitPodReview = (pod: KubeObject, ns: KubeObject) => admitPod(podReview(pod), snapshotWith([ns]));
const unchanged = (v: Decision) => {
  assert.ok(v.allowed, v.message);
  assert.equal(v.patch, []);
};

AdmitPod('allows every kind other than Pod untouched', () => {
  const req = reviewFixture('011-validate-update-namespace.review-v1.json');
  unchanged(admitPod(req, snapshotWith([shopNamespace()])));
});

AdmitPod('does not patch on UPDATE (init containers are immutable), DELETE or a subresource', () => {
  const pod = plainPod(CLUSTER);
  unchanged(admit(pod, null, { operation: 'UPDATE', oldObject: pod }));
  unchanged(admit(pod, null, { operation: 'DELETE', object: null, oldObject: pod }));
  unchanged(admit(pod, namespace('shop', ISTIO_NS), { subResource: 'ephemeralcontainers', operation: 'UPDATE' }));
});

AdmitPod('leaves alone host-network pods, mirror pods, kube-system and pods with no mesh', () => {
  unchanged(admit(withSpec(plainPod(CLUSTER), { hostNetwork: true })));
  unchanged(admit(plainPod({ ...CLUSTER, 'kubernetes.io/config.mirror': 'x' })));
  unchanged(admitPod(podReview(plainPod(CLUSTER), 'kube-system'), snapshotWith([namespace('kube-system', ISTIO_NS)])));
  unchanged(admit(plainPod(CLUSTER), namespace('shop', { record: 'yes' })));
});

AdmitPod('honours sidecar.istio.io/inject: "false" on the pod', () => {
  unchanged(admit(label(plainPod(CLUSTER), { 'sidecar.istio.io/inject': 'false' })));
});

AdmitPod('off mode leaves the pod alone, even with a bypass list', () => {
  unchanged(admit(plainPod({ 'egress-warden.io/outbound-capture': 'off', 'egress-warden.io/bypass-ip-ranges': '192.0.2.0/24' })));
});

AdmitPod('all mode without a bypass list makes no patch', () => {
  const v = admit(plainPod({ 'egress-warden.io/outbound-capture': 'all' }));
  unchanged(v);
  assert.equal(v.warnings, []);
});

AdmitPod('a namespace missing from the snapshot counts as having no labels or annotations', () => {
  unchanged(admit(plainPod(CLUSTER), null));
  const v = admit(label(plainPod(CLUSTER), { 'sidecar.istio.io/inject': 'true' }), null);
  assert.ok(touched(v).includes('/metadata/annotations/traffic.sidecar.istio.io~1includeOutboundIPRanges'));
});

AdmitPod('denies an invalid pod value, naming the key, the value and the source, with no patch', () => {
  const v = admit(plainPod({ 'egress-warden.io/outbound-capture': 'clustre' }));
  assert.not.ok(v.allowed);
  assert.is(v.code, 403);
  assert.equal(v.patch, []);
  assert.match(v.message ?? '', '[EW501] metadata.annotations[egress-warden.io/outbound-capture]: "clustre" on pod');
});

AdmitPod('denies an invalid namespace value the pod inherits, naming the namespace', () => {
  const v = admit(plainPod(), namespace('shop', ISTIO_NS, { 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24;10.0.0.0/8' }));
  assert.not.ok(v.allowed);
  denies(v.findings, 'EW502', 'metadata.annotations[egress-warden.io/bypass-ip-ranges]');
  assert.match(v.message ?? '', 'on namespace shop');
});

AdmitPod('a pod value replaces an invalid namespace value, so the pod is allowed', () => {
  const ns = namespace('shop', ISTIO_NS, { 'egress-warden.io/bypass-ip-ranges': 'nope' });
  const v = admit(plainPod({ 'egress-warden.io/bypass-ip-ranges': '192.0.2.0/24' }), ns);
  assert.ok(v.allowed, v.message);
  assert.ok(touched(v).includes('/metadata/annotations/traffic.sidecar.istio.io~1excludeOutboundIPRanges'));
});

AdmitPod(
  'rewrites an Istio range list with spaces and a trailing comma to what istio-iptables and the CNI plugin both read, with a warning',
  () => {
    const key = 'traffic.sidecar.istio.io/excludeOutboundIPRanges';
    const v = admit(plainPod({ [key]: '10.0.0.0/8, 192.168.0.0/16,' }));
    assert.ok(v.allowed, v.message);
    warns(v.findings, 'EW522', `metadata.annotations[${key}]`);
    assert.equal(
      v.patch.filter((o) => o.path === `/metadata/annotations/${key.replace('/', '~1')}`),
      [{ op: 'replace', path: `/metadata/annotations/${key.replace('/', '~1')}`, value: '10.0.0.0/8,192.168.0.0/16' }],
    );
  },
);

AdmitPod("denies an Istio range list no tidying makes valid, in Istio's words", () => {
  const v = admit(plainPod({ 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.0.0.0/8, 192.168.0.0/33' }));
  assert.not.ok(v.allowed);
  denies(v.findings, 'EW507', 'metadata.annotations[traffic.sidecar.istio.io/excludeOutboundIPRanges]');
  assert.match(v.message ?? '', `excludeIPRanges invalid: failed parsing cidr ' 192.168.0.0/33'`);
  const star = admit(plainPod({ 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '*' }));
  denies(star.findings, 'EW507');
});

AdmitPod("denies a user-set OSM annotation OSM would reject, in OSM's words", () => {
  const v = admit(
    plainPod({ 'openservicemesh.io/outbound-ip-range-exclusion-list': '10.0.0.0/8,' }),
    namespace('shop', OSM_NS, OSM_INJECT),
  );
  assert.not.ok(v.allowed);
  denies(v.findings, 'EW508');
  assert.match(v.message ?? '', `Invalid IP range '' specified for annotation 'openservicemesh.io/outbound-ip-range-exclusion-list'`);
});

AdmitPod('warn mode allows an invalid value with a warning, and patches nothing from it', () => {
  const ns = namespace('shop', { ...ISTIO_NS, 'egress-warden.io/mode': 'warn' }, CLUSTER);
  const v = admit(plainPod({ 'egress-warden.io/bypass-ip-ranges': '192.0.2.0/33' }), ns);
  assert.ok(v.allowed);
  assert.is(v.mode, 'warn');
  assert.ok(
    v.warnings.some((w) => w.startsWith('[EW502]')),
    v.warnings.join('\n'),
  );
  assert.ok(touched(v).includes('/metadata/annotations/traffic.sidecar.istio.io~1includeOutboundIPRanges'));
  assert.not.ok(touched(v).includes('/metadata/annotations/traffic.sidecar.istio.io~1excludeOutboundIPRanges'));
  const bad = admit(plainPod({ 'egress-warden.io/outbound-capture': 'everything' }), ns);
  assert.ok(bad.allowed);
  assert.equal(bad.patch, [], 'an unreadable capture mode patches nothing at all');
});

AdmitPod('warn mode keeps an invalid user-set mesh annotation as it is', () => {
  const ns = namespace('shop', { ...ISTIO_NS, 'egress-warden.io/mode': 'warn' }, { 'egress-warden.io/bypass-ip-ranges': '192.0.2.0/24' });
  const v = admit(plainPod({ 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '*' }), ns);
  assert.ok(v.allowed);
  assert.equal(v.patch, []);
  assert.ok(v.warnings.some((w) => w.startsWith('[EW507]')));
});

AdmitPod('audit mode shows nothing, records findings for the audit log, and still patches valid input', () => {
  const ns = namespace('shop', { ...ISTIO_NS, 'egress-warden.io/mode': 'audit' }, CLUSTER);
  const v = admit(plainPod({ 'egress-warden.io/capture-ip-ranges': 'bad' }), ns);
  assert.ok(v.allowed);
  assert.equal(v.warnings, []);
  assert.match(v.auditAnnotations?.findings ?? '', '[EW502]');
  assert.ok(v.patch.length > 0);
});

AdmitPod('warns about host bits, overlaps with cluster CIDRs and excluding everything, and still patches', () => {
  const v = admit(plainPod({ 'egress-warden.io/bypass-ip-ranges': '192.0.2.9/24 10.96.0.1 ::/0' }));
  assert.ok(v.allowed);
  for (const code of ['EW503', 'EW504', 'EW505']) warns(v.findings, code);
  assert.ok(
    v.warnings.every((w) => w.length <= 256 && !w.includes('…')),
    v.warnings.join('\n'),
  );
  assert.ok(v.patch.length > 0);
});

AdmitPod('a dry-run review gets the same answer', () => {
  const req = reviewFixture('013-mutate-create-pod.review-v1.json');
  const snapshot = snapshotWith([shopNamespace()]);
  assert.equal(admitPod({ ...req, dryRun: true }, snapshot), admitPod(req, snapshot));
});

AdmitPod('warns that osm-init injected before this webhook ignores the computed ranges', () => {
  const pod = withSpec(plainPod(CLUSTER), { initContainers: [{ name: 'osm-init', command: ['/bin/sh', '-c', 'iptables-restore'] }] });
  const v = admit(pod, namespace('shop', OSM_NS));
  warns(v.findings, 'EW514', 'spec.initContainers');
  assert.ok(v.allowed);
});

AdmitPod('leaves a custom istio-init that does not run istio-iptables alone, saying so', () => {
  const pod = withSpec(plainPod(CLUSTER), { initContainers: [{ name: 'istio-init', command: ['/bin/sh', '-c', 'setup'], args: ['x'] }] });
  const v = admit(pod);
  warns(v.findings, 'EW517', 'spec.initContainers[0].args');
  assert.not.ok(touched(v).some((p) => p.startsWith('/spec/')));
});

AdmitPod('under istio-cni a "*" copied by Istio is the mesh default, while one set before injection is the user\'s', () => {
  const cni: KubeObject = fixture('objects/pod-istio-cni.json');
  assert.ok(
    touched(admit(cni, namespace('shop', ISTIO_NS, CLUSTER))).includes(
      '/metadata/annotations/traffic.sidecar.istio.io~1includeOutboundIPRanges',
    ),
  );
  const before = admit(plainPod({ 'traffic.sidecar.istio.io/includeOutboundIPRanges': '*' }), namespace('shop', ISTIO_NS, CLUSTER));
  assert.not.ok(touched(before).includes('/metadata/annotations/traffic.sidecar.istio.io~1includeOutboundIPRanges'));
  warns(before.findings, 'EW513');
});

AdmitPod('a reinvocation after the cluster CIDRs changed rewrites the values this webhook wrote', () => {
  const ns = namespace('shop', ISTIO_NS, CLUSTER);
  const first = admitPod(podReview(fixture('objects/pod-istio-init.json')), snapshotWith([ns]));
  const pod = annotate(fixture('objects/pod-istio-init.json'), {
    'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.96.0.0/12,10.244.0.0/16',
    'egress-warden.io/applied': first.applied!,
  });
  const later = admitPod(podReview(pod), snapshotWith([ns], cidrsOf(['10.0.0.0/14'], ['10.96.0.0/12'])));
  assert.ok(touched(later).includes('/metadata/annotations/traffic.sidecar.istio.io~1includeOutboundIPRanges'));
  assert.equal(later.findings.warnings, [], 'its own earlier value is not mistaken for a user choice');
});

AdmitPod('a pod that turns out to be a gateway when Istio reinvokes the webhook loses what this webhook wrote before', () => {
  const ns = namespace('shop', ISTIO_NS, CLUSTER);
  // first call: before Istio's injector, the data plane is not known yet
  const first = admitPod(podReview(plainPod({ 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24' })), snapshotWith([ns]));
  const include = 'traffic.sidecar.istio.io/includeOutboundIPRanges';
  const written = Object.fromEntries(
    first.patch
      .filter((o) => o.op === 'add' && o.path.startsWith('/metadata/annotations/'))
      .map((o) => [o.path.slice('/metadata/annotations/'.length).replace(/~1/g, '/'), (o as { value: string }).value]),
  );
  assert.ok(written[include] && first.applied);
  // reinvoked: Istio injected its gateway template, which captures nothing
  const gateway = withSpec(
    annotate(plainPod({ 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24', 'example.com/kept': 'yes' }), {
      ...written,
      'sidecar.istio.io/status': JSON.stringify({ initContainers: null, containers: ['istio-proxy'] }),
    }),
    { containers: [{ name: 'istio-proxy', args: ['proxy', 'router'] }] },
  );
  const later = admitPodReview(gateway, ns);
  assert.equal(touched(later).sort(), [
    '/metadata/annotations/egress-warden.io~1applied',
    '/metadata/annotations/traffic.sidecar.istio.io~1excludeOutboundIPRanges',
    '/metadata/annotations/traffic.sidecar.istio.io~1includeOutboundIPRanges',
  ]);
  assert.ok(later.patch.every((o) => o.op === 'remove'));
});

AdmitPod('a failure inside the mutation admits the pod unchanged with a warning naming the failure', () => {
  const pod = plainPod(CLUSTER);
  Object.defineProperty(pod, 'spec', {
    get: () => {
      throw new RangeError('spec went away');
    },
  });
  const v = admit(pod);
  assert.ok(v.allowed);
  assert.equal(v.patch, []);
  warns(v.findings, 'EW599');
  assert.equal(v.warnings, [
    '[EW599] metadata: internal error, pod admitted unchanged: RangeError: spec went away (egress-warden help EW599)',
  ]);
});

AdmitPod('denies a pod whose sidecar.istio.io/inject label is an unquoted YAML boolean, saying to quote it', () => {
  const v = admit(label(plainPod(CLUSTER), { 'sidecar.istio.io/inject': true as unknown as string }), namespace('shop', {}));
  assert.not.ok(v.allowed);
  assert.is(v.code, 403);
  assert.equal(v.patch, []);
  denies(v.findings, 'EW518', 'metadata.labels[sidecar.istio.io/inject]');
  assert.match(v.message ?? '', 'value on pod must be a string, got boolean true: quote it in YAML');
});

AdmitPod('denies a pod in a namespace whose outbound-capture has no value, naming the namespace, instead of failing', () => {
  const ns = namespace('shop', ISTIO_NS, { 'egress-warden.io/outbound-capture': null as unknown as string });
  const v = admit(plainPod(), ns);
  assert.not.ok(v.allowed);
  denies(v.findings, 'EW518', 'metadata.annotations[egress-warden.io/outbound-capture]');
  assert.match(v.message ?? '', 'on namespace shop must be a string, got null');
  assert.ok(admit(plainPod(CLUSTER), ns).allowed, 'a pod that sets the key itself is not held to the namespace value');
});

AdmitPod('denies a mesh capture annotation on the pod that is a number, and in warn mode leaves that side unwritten', () => {
  const pod = plainPod({ ...CLUSTER, 'traffic.sidecar.istio.io/excludeOutboundIPRanges': 10 as unknown as string });
  const v = admit(pod);
  assert.not.ok(v.allowed);
  denies(v.findings, 'EW518', 'metadata.annotations[traffic.sidecar.istio.io/excludeOutboundIPRanges]');
  const lenient = admit(
    pod,
    namespace('shop', { ...ISTIO_NS, 'egress-warden.io/mode': 'warn' }, { 'egress-warden.io/bypass-ip-ranges': '192.0.2.0/24' }),
  );
  assert.ok(lenient.allowed);
  assert.ok(touched(lenient).includes('/metadata/annotations/traffic.sidecar.istio.io~1includeOutboundIPRanges'));
  assert.not.ok(touched(lenient).includes('/metadata/annotations/traffic.sidecar.istio.io~1excludeOutboundIPRanges'));
});

AdmitPod('ignores pod labels and annotations it does not read, whatever their value', () => {
  const pod = label(plainPod({ ...CLUSTER, 'example.com/replicas': 3 as unknown as string }), {
    'example.com/canary': true as unknown as string,
  });
  const v = admit(pod);
  assert.ok(v.allowed, v.message);
  assert.equal(v.findings.errors, []);
  assert.ok(v.patch.length > 0);
});

AdmitPod("an applied record this webhook could not have written is read as the user's value, not as an internal error", () => {
  const pod = plainPod({
    ...CLUSTER,
    'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8',
    'egress-warden.io/applied': '{"mesh":"istio","mode":"cluster","modeFrom":"pod","include":null}',
  });
  const v = admit(pod);
  assert.ok(v.allowed, v.message);
  warns(v.findings, 'EW513', 'metadata.annotations[traffic.sidecar.istio.io/includeOutboundIPRanges]');
  assert.not.ok(
    v.findings.warnings.some((w) => w.code === 'EW599'),
    v.warnings.join('\n'),
  );
  assert.not.ok(touched(v).includes('/metadata/annotations/traffic.sidecar.istio.io~1includeOutboundIPRanges'));
});

AdmitPod('leaves alone a pod that asks OSM for a sidecar in a namespace OSM does not monitor', () => {
  unchanged(admit(plainPod({ ...CLUSTER, 'openservicemesh.io/sidecar-injection': 'enabled' }), namespace('shop', {})));
  const monitored = admit(plainPod({ ...CLUSTER, 'openservicemesh.io/sidecar-injection': 'enabled' }), namespace('shop', OSM_NS));
  assert.ok(touched(monitored).includes('/metadata/annotations/openservicemesh.io~1outbound-ip-range-inclusion-list'));
});

AdmitPod('leaves alone a pod that asks Istio only through the deprecated annotation in an unlabelled namespace', () => {
  unchanged(admit(plainPod({ ...CLUSTER, 'sidecar.istio.io/inject': 'true' }), namespace('shop', {})));
  const labelled = admit(label(plainPod(CLUSTER), { 'sidecar.istio.io/inject': 'true' }), namespace('shop', {}));
  assert.ok(touched(labelled).includes('/metadata/annotations/traffic.sidecar.istio.io~1includeOutboundIPRanges'));
});

AdmitPod('the fixture pod gets its -x arg rewritten and nothing else in its spec', () => {
  const req = reviewFixture('012-mutate-create-pod.review-v1.json');
  const v = admitPod(req, snapshotWith([shopNamespace()]));
  const specOps = v.patch.filter((o) => o.path.startsWith('/spec/'));
  const args = initArgs(req.object!);
  assert.equal(specOps, [{ op: 'replace', path: `/spec/initContainers/0/args/${args.indexOf('-x') + 1}`, value: '203.0.113.0/24' }]);
});

AdmitPod.run();
