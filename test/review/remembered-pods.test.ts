import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeReview } from '../../src/admission/codec.ts';
import type { KubeObject } from '../../src/admission/types.ts';
import { captureInputs } from '../../src/capture/pod-inputs.ts';
import { admitPod, REMEMBERED_POD_CHARS, REMEMBERED_PODS, rememberingAdmitPod } from '../../src/review/mutate.ts';
import { annotate, ISTIO_NS, namespace, plainPod, podReview, reviewFixture, shopNamespace, withSpec } from '../capture/pods.ts';
import { snapshotWith } from '../support.ts';

const Remembered = suite('review/mutate: pod decisions remembered per snapshot');

const CLUSTER = { 'egress-warden.io/outbound-capture': 'cluster' };
const shop = (annotations: Record<string, string> = {}) => namespace('shop', ISTIO_NS, annotations);

/** A replica of `pod` as the API server sends the next one of a ReplicaSet: same template, other request. */
function replica(pod: KubeObject, n: number): KubeObject {
  const copy = structuredClone(pod) as { metadata: Record<string, unknown>; spec: { containers: Record<string, unknown>[] } };
  copy.metadata.creationTimestamp = `2026-12-07T10:00:0${n % 10}Z`;
  copy.spec.containers[0]!.image = `registry.example/app:${n}`;
  return copy as KubeObject;
}

Remembered('the replicas of one template get the decision admitPod gives, planned once for the snapshot', () => {
  const review = rememberingAdmitPod();
  const snapshot = snapshotWith([shop()]);
  const first = review(podReview(plainPod(CLUSTER), 'shop', { uid: 'a' }), snapshot);
  const second = review(podReview(replica(plainPod(CLUSTER), 2), 'shop', { uid: 'b' }), snapshot);
  assert.equal(first, admitPod(podReview(plainPod(CLUSTER)), snapshot));
  assert.ok(first.patch.length > 0, 'the pod is patched');
  assert.is(second, first, 'the second replica is answered from the first one plan');
});

Remembered('a pod whose annotations or init container args differ is planned for itself', () => {
  const review = rememberingAdmitPod();
  const snapshot = snapshotWith([shop()]);
  const plain = review(podReview(plainPod(CLUSTER)), snapshot);
  const bypass = annotate(plainPod(CLUSTER), { 'egress-warden.io/bypass-ip-ranges': '192.0.2.0/24' });
  const withBypass = review(podReview(bypass), snapshot);
  assert.is.not(withBypass, plain);
  assert.equal(withBypass, admitPod(podReview(bypass), snapshot));
  // an Istio-injected pod, its istio-init given another -x
  const injected = reviewFixture('012-mutate-create-pod.review-v1.json').object!;
  const init = (injected.spec as { initContainers: { args: string[] }[] }).initContainers[0]!;
  const narrowed = withSpec(injected, {
    initContainers: [{ ...init, args: init.args.map((a, i) => (init.args[i - 1] === '-x' ? '203.0.113.0/24' : a)) }],
  });
  const cluster = snapshotWith([shopNamespace()]);
  const original = review(podReview(injected), cluster);
  const rewritten = review(podReview(narrowed), cluster);
  assert.equal(original, admitPod(podReview(injected), cluster));
  assert.equal(rewritten, admitPod(podReview(narrowed), cluster));
  assert.not.equal(rewritten.patch, original.patch);
});

Remembered('the same pod in another namespace, or after the namespace changed, is planned again', () => {
  const review = rememberingAdmitPod();
  const before = snapshotWith([shop(), namespace('cart', ISTIO_NS)]);
  const inShop = review(podReview(plainPod(CLUSTER), 'shop'), before);
  const inCart = review(podReview(plainPod(CLUSTER), 'cart'), before);
  assert.is.not(inCart, inShop);
  const after = snapshotWith([shop({ 'egress-warden.io/bypass-ip-ranges': '198.51.100.0/24' })]);
  const again = review(podReview(plainPod(CLUSTER), 'shop'), after);
  assert.equal(again, admitPod(podReview(plainPod(CLUSTER), 'shop'), after));
  assert.not.equal(again.patch, inShop.patch, "the namespace's new bypass range is in the patch");
});

/** `pod` as a replica of another ReplicaSet: its own owner, generateName and template hash. */
function ofReplicaSet(pod: KubeObject, rs: string): KubeObject {
  const copy = structuredClone(pod) as { metadata: Record<string, unknown> };
  copy.metadata.generateName = `${rs}-`;
  copy.metadata.labels = { ...(copy.metadata.labels as Record<string, string>), 'pod-template-hash': rs };
  copy.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: `uid-${rs}`, controller: true }];
  return copy as KubeObject;
}

Remembered('the replicas of two rollouts arriving interleaved are each answered from their own template', () => {
  const review = rememberingAdmitPod();
  const snapshot = snapshotWith([shop()]);
  const web = ofReplicaSet(plainPod(CLUSTER), 'web-1');
  const api = ofReplicaSet(annotate(plainPod(CLUSTER), { 'egress-warden.io/bypass-ip-ranges': '192.0.2.0/24' }), 'api-1');
  const first = [review(podReview(web), snapshot), review(podReview(api), snapshot)];
  for (let n = 2; n < 6; n++) {
    assert.is(review(podReview(replica(web, n)), snapshot), first[0], `web replica ${n}`);
    assert.is(review(podReview(replica(api, n)), snapshot), first[1], `api replica ${n}`);
  }
  assert.equal(first[0], admitPod(podReview(web), snapshot));
  assert.equal(first[1], admitPod(podReview(api), snapshot));
});

Remembered('a pod of the same ReplicaSet whose capture inputs differ is planned for itself, and the template after it too', () => {
  const review = rememberingAdmitPod();
  const snapshot = snapshotWith([shop()]);
  const web = plainPod(CLUSTER);
  const edited = annotate(web, { 'egress-warden.io/bypass-ip-ranges': '192.0.2.0/24' });
  const a = review(podReview(web), snapshot);
  const b = review(podReview(edited), snapshot);
  const c = review(podReview(web), snapshot);
  assert.equal(b, admitPod(podReview(edited), snapshot));
  assert.not.equal(b.patch, a.patch);
  assert.equal(c, a);
});

Remembered('a pod with capture inputs past the size limit is planned every time, and answered alike', () => {
  const review = rememberingAdmitPod();
  const snapshot = snapshotWith([shop()]);
  const big = annotate(plainPod(CLUSTER), { 'example.com/notes': 'x'.repeat(REMEMBERED_POD_CHARS) });
  const a = review(podReview(big), snapshot);
  const b = review(podReview(big), snapshot);
  assert.equal(a, b);
  assert.is.not(a, b);
});

Remembered('at most REMEMBERED_PODS decisions are held: past that the oldest are planned again', () => {
  const review = rememberingAdmitPod();
  const snapshot = snapshotWith([shop()]);
  const first = review(podReview(plainPod(CLUSTER)), snapshot);
  for (let i = 0; i < REMEMBERED_PODS; i++) review(podReview(annotate(plainPod(CLUSTER), { 'example.com/n': String(i) })), snapshot);
  const again = review(podReview(plainPod(CLUSTER)), snapshot);
  assert.equal(again, first);
  assert.is.not(again, first);
});

Remembered('capture inputs keep what the plan reads and drop the rest of the pod', () => {
  const pod = reviewFixture('012-mutate-create-pod.review-v1.json').object!;
  const inputs = captureInputs(pod) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  assert.equal(Object.keys(inputs.metadata), ['labels', 'annotations']);
  assert.is(inputs.metadata.annotations, pod.metadata?.annotations);
  assert.equal(JSON.stringify(captureInputs(replica(pod, 3))), JSON.stringify(inputs), 'image and timestamps are not inputs');
  const spec = pod.spec as { initContainers: { name: string; args: string[] }[]; containers: { name: string }[] };
  assert.equal(
    inputs.spec.initContainers,
    spec.initContainers.map((c) => ({ name: c.name, args: c.args })),
  );
  assert.equal(
    inputs.spec.containers,
    spec.containers.map((c) => ({ name: c.name })),
  );
  assert.equal(captureInputs({ metadata: 'not an object' as never, spec: null }), {
    metadata: { labels: undefined, annotations: undefined },
    spec: undefined,
  });
});

Remembered('a shared patch is encoded the same every time, and another patch after it is encoded for itself', () => {
  const review = rememberingAdmitPod();
  const snapshot = snapshotWith([shop()]);
  const decision = review(podReview(plainPod(CLUSTER)), snapshot);
  const other = review(podReview(annotate(plainPod(CLUSTER), { 'egress-warden.io/bypass-ip-ranges': '192.0.2.0/24' })), snapshot);
  const text = (d: typeof decision) => Buffer.from(encodeReview('admission.k8s.io/v1', 'u', d).response?.patch ?? '', 'base64').toString();
  assert.is(text(decision), JSON.stringify(decision.patch));
  assert.is(text(other), JSON.stringify(other.patch));
  assert.is(text(decision), JSON.stringify(decision.patch));
  assert.is.not(text(other), text(decision));
});

Remembered.run();
