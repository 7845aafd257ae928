import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject, Operation } from '../../src/admission/types.ts';
import { validateNamespace } from '../../src/capture/namespace-rule.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { admitPod } from '../../src/review/mutate.ts';
import { judge } from '../../src/review/validate.ts';
import { accepts, clean, denies, snapshotWith, warns } from '../support.ts';
import { ISTIO_NS, namespace, plainPod, podReview, shopNamespace } from './pods.ts';

const Namespace = suite('capture/namespace-rule');

const check = (ns: KubeObject, _operation: Operation = 'CREATE', snapshot: ClusterSnapshot = snapshotWith()) =>
  validateNamespace(ns, { snapshot });

/** The review the API server sends for a Namespace write. */
const review = (ns: KubeObject, operation: Operation = 'CREATE', oldObject: KubeObject | null = null): AdmissionRequest => ({
  uid: '00000000-0000-4000-8000-000000000001',
  kind: { group: '', version: 'v1', kind: 'Namespace' },
  name: ns.metadata?.name ?? '',
  operation,
  object: ns,
  oldObject,
});

/** A namespace whose metadata holds values YAML did not make strings. */
const untyped = (annotations: Record<string, unknown>, labels: Record<string, unknown> = ISTIO_NS): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'shop', labels, annotations } as KubeObject['metadata'],
});

const annotated = (annotations: Record<string, string>, labels: Record<string, string> = ISTIO_NS) =>
  namespace('shop', labels, annotations);

Namespace('accepts the annotation of review 011 (a bypass range outside the cluster)', () => {
  clean(check(shopNamespace(), 'UPDATE'));
});

Namespace('accepts a namespace without any of these annotations', () => {
  clean(check(namespace('plain', {})));
});

Namespace('denies a typo in outbound-capture at kubectl annotate time', () => {
  denies(
    check(annotated({ 'egress-warden.io/outbound-capture': 'clusterr' })),
    'EW501',
    'metadata.annotations[egress-warden.io/outbound-capture]',
  );
});

Namespace('denies a CIDR list entry that does not parse', () => {
  const r = check(annotated({ 'egress-warden.io/capture-ip-ranges': '10.0.0.0/8,192.168.0.256/24' }));
  denies(r, 'EW502', 'metadata.annotations[egress-warden.io/capture-ip-ranges]');
  assert.match(r.errors[0]!.message, '"192.168.0.256/24" is not an IP or CIDR in "10.0.0.0/8,192.168.0.256/24" on namespace shop');
});

Namespace('warns about host bits, overlaps with cluster CIDRs and excluding everything', () => {
  const r = check(annotated({ 'egress-warden.io/bypass-ip-ranges': '10.244.3.1/16,0.0.0.0/0' }));
  accepts(r);
  warns(r, 'EW503');
  warns(r, 'EW504');
  warns(r, 'EW505');
});

Namespace('warns when capture-ip-ranges is set but the namespace is not in cluster mode', () => {
  warns(check(annotated({ 'egress-warden.io/capture-ip-ranges': '192.0.2.0/24' })), 'EW510');
  clean(check(annotated({ 'egress-warden.io/outbound-capture': 'cluster', 'egress-warden.io/capture-ip-ranges': '192.0.2.0/24' })));
});

Namespace('warns about an unknown egress-warden.io key and a mode written as an annotation', () => {
  const r = check(annotated({ 'egress-warden.io/bypass-ranges': '192.0.2.0/24', 'egress-warden.io/mode': 'warn' }));
  accepts(r);
  warns(r, 'EW512', 'metadata.annotations[egress-warden.io/bypass-ranges]');
  warns(r, 'EW512', 'metadata.annotations[egress-warden.io/mode]');
});

Namespace('warns that the meshes read their capture annotations from pods only', () => {
  warns(check(annotated({ 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '192.0.2.0/24' })), 'EW515');
  warns(check(annotated({ 'openservicemesh.io/outbound-ip-range-exclusion-list': '192.0.2.0/24' })), 'EW515');
  clean(check(annotated({ 'openservicemesh.io/sidecar-injection': 'enabled' })));
});

Namespace('warns about an enforcement mode label it does not know', () => {
  warns(check(annotated({}, { 'egress-warden.io/mode': 'Warn' })), 'EW516', 'metadata.labels[egress-warden.io/mode]');
  clean(check(annotated({}, { 'egress-warden.io/mode': 'audit' })));
});

Namespace('off mode ignores the range lists (but still checks their syntax)', () => {
  clean(check(annotated({ 'egress-warden.io/outbound-capture': 'off', 'egress-warden.io/capture-ip-ranges': '192.0.2.0/24' })));
  denies(check(annotated({ 'egress-warden.io/outbound-capture': 'off', 'egress-warden.io/bypass-ip-ranges': 'x' })), 'EW502');
});

Namespace('on UPDATE, an invalid value that was already there warns instead of blocking other edits', () => {
  const before = annotated({ 'egress-warden.io/bypass-ip-ranges': '10.0.0.0/33' });
  const relabelled = annotated({ 'egress-warden.io/bypass-ip-ranges': '10.0.0.0/33' }, { ...ISTIO_NS, team: 'a' });
  const v = judge(review(relabelled, 'UPDATE', before), snapshotWith([before]));
  assert.ok(v.allowed, v.message);
  warns(v.findings, 'EW502');
  assert.is(v.findings.warnings[0]!.preexisting, true);
  assert.ok(
    v.warnings.some((w) => w.includes('pre-existing')),
    v.warnings.join('\n'),
  );
  // a new invalid value, or the same one on a new namespace, still denies
  assert.is(
    judge(review(annotated({ 'egress-warden.io/bypass-ip-ranges': '10.0.0.0/34' }), 'UPDATE', before), snapshotWith([before])).allowed,
    false,
  );
  assert.is(judge(review(relabelled, 'CREATE'), snapshotWith()).allowed, false);
});

Namespace('denies an annotation written as YAML null or a number with a clear finding, not an internal error', () => {
  for (const value of [null, 7]) {
    const ns = untyped({ 'egress-warden.io/outbound-capture': value });
    denies(check(ns), 'EW518', 'metadata.annotations[egress-warden.io/outbound-capture]');
    const v = judge(review(ns), snapshotWith());
    assert.is(v.code, 403, v.message);
    assert.match(
      v.message ?? '',
      '[EW518] metadata.annotations[egress-warden.io/outbound-capture]: value on namespace shop must be a string',
    );
  }
  const empty = check(untyped({ 'egress-warden.io/bypass-ip-ranges': null }));
  denies(empty, 'EW518', 'metadata.annotations[egress-warden.io/bypass-ip-ranges]');
  assert.match(empty.errors[0]!.message, 'give it a value, or "" for an empty one');
});

Namespace('denies an unquoted mode label or injection label, which would otherwise be read as absent', () => {
  denies(check(untyped({}, { 'egress-warden.io/mode': true })), 'EW518', 'metadata.labels[egress-warden.io/mode]');
  denies(check(untyped({}, { 'istio-injection': true })), 'EW518', 'metadata.labels[istio-injection]');
  denies(
    check(untyped({ 'openservicemesh.io/sidecar-injection': true }, {})),
    'EW518',
    'metadata.annotations[openservicemesh.io/sidecar-injection]',
  );
});

Namespace('ignores labels and annotations it does not read, whatever their value', () => {
  clean(check(untyped({ 'example.com/owner': null, 'example.com/replicas': 3 }, { ...ISTIO_NS, team: true })));
});

Namespace('on UPDATE, the stored namespace the API server sends decides what was already there, even when the cache lacks it', () => {
  const before = annotated({ 'egress-warden.io/bypass-ip-ranges': '10.0.0.0/33' });
  const relabelled = annotated({ 'egress-warden.io/bypass-ip-ranges': '10.0.0.0/33' }, { ...ISTIO_NS, team: 'a' });
  const v = judge(review(relabelled, 'UPDATE', before), snapshotWith());
  assert.ok(v.allowed, v.message);
  warns(v.findings, 'EW502');
  // The stored object wins over a stale cache that still shows a valid value, and the other way round.
  const stale = snapshotWith([annotated({ 'egress-warden.io/bypass-ip-ranges': '192.0.2.0/24' })]);
  assert.ok(judge(review(relabelled, 'UPDATE', before), stale).allowed);
  assert.is(judge(review(relabelled, 'UPDATE', annotated({})), snapshotWith([before])).allowed, false);
});

Namespace('on UPDATE, an unquoted value that was already there warns instead of blocking other edits', () => {
  const before = untyped({ 'egress-warden.io/outbound-capture': null });
  const after = untyped({ 'egress-warden.io/outbound-capture': null }, { ...ISTIO_NS, team: 'a' });
  const v = judge(review(after, 'UPDATE', before), snapshotWith());
  assert.ok(v.allowed, v.message);
  warns(v.findings, 'EW518', 'metadata.annotations[egress-warden.io/outbound-capture]');
});

const AGREEMENT: readonly Record<string, string>[] = [
  { 'egress-warden.io/outbound-capture': 'cluster' },
  { 'egress-warden.io/outbound-capture': 'Cluster' },
  { 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24 198.51.100.1' },
  { 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24;198.51.100.1' },
  { 'egress-warden.io/capture-ip-ranges': '::1/129', 'egress-warden.io/outbound-capture': 'cluster' },
  { 'egress-warden.io/capture-ip-ranges': '2001:db8::/32', 'egress-warden.io/outbound-capture': 'cluster' },
  { 'egress-warden.io/outbound-capture': null as unknown as string },
  { 'egress-warden.io/bypass-ip-ranges': 10 as unknown as string },
];

Namespace('a namespace the rule accepts never makes a pod in it fail, and one it denies always does', () => {
  for (const annotations of AGREEMENT) {
    const ns = annotated(annotations);
    const rule = check(ns);
    const pod = admitPod(podReview(plainPod()), snapshotWith([ns]));
    assert.is(pod.allowed, rule.errors.length === 0, JSON.stringify(annotations));
  }
});

Namespace.run();
