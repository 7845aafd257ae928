import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import jsonpatch from 'fast-json-patch';
import type { KubeObject } from '../../src/admission/types.ts';
import { stalePods } from '../../src/audit/stale.ts';
import type { ClusterCidrs } from '../../src/cluster/snapshot.ts';
import { admitPod } from '../../src/review/mutate.ts';
import { ISTIO_NS, namespace, plainPod, podReview, withSpec } from '../capture/pods.ts';
import { cidrsOf, snapshotWith, warns } from '../support.ts';

const Stale = suite('audit/stale: pods whose capture ranges went stale');

const CLUSTER = { 'egress-warden.io/outbound-capture': 'cluster' };
const partialNodes = (...ranges: string[]): ClusterCidrs => {
  const c = cidrsOf(ranges, ['10.96.0.0/12'], `Node.spec.podCIDRs (${ranges.length} of ${ranges.length} nodes, partial)`);
  return { pod: c.pod.map((r) => ({ ...r, partial: true })), service: c.service };
};

const named = (name: string): KubeObject => {
  const pod = plainPod();
  return { ...pod, metadata: { ...pod.metadata, name, namespace: 'shop' } };
};

/** `pod` as the API server stores it after the webhook mutated it under `cidrs`. */
function storedAfterMutation(pod: KubeObject, ns: KubeObject, cidrs: ClusterCidrs): KubeObject {
  const d = admitPod(podReview(pod, 'shop'), snapshotWith([ns], cidrs));
  assert.ok(d.allowed, d.message);
  return jsonpatch.applyPatch(structuredClone(pod), structuredClone(d.patch) as jsonpatch.Operation[]).newDocument as KubeObject;
}

/** The pod as the API server stores it after the webhook mutated it under `cidrs`. */
function created(name: string, ns: KubeObject, cidrs: ClusterCidrs): KubeObject {
  const pod = named(name);
  const d = admitPod(podReview(pod, 'shop'), snapshotWith([ns], cidrs));
  assert.ok(d.allowed, d.message);
  return jsonpatch.applyPatch(structuredClone(pod), structuredClone(d.patch) as jsonpatch.Operation[]).newDocument as KubeObject;
}

Stale('a node that joins with a new podCIDR makes exactly the pods in cluster capture mode stale', () => {
  const clusterNs = namespace('shop', ISTIO_NS, CLUSTER);
  const before = partialNodes('10.244.1.0/24', '10.244.2.0/24');
  const pod = created('web', clusterNs, before);
  assert.equal(stalePods([pod], snapshotWith([clusterNs], before)), [], 'nothing changed yet');
  const after = partialNodes('10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24');
  const stale = stalePods([pod], snapshotWith([clusterNs], after));
  assert.is(stale.length, 1);
  assert.is(stale[0]!.name, 'web');
  assert.equal(stale[0]!.changes, [
    {
      where: 'traffic.sidecar.istio.io/includeOutboundIPRanges',
      was: '10.96.0.0/12,10.244.1.0/24,10.244.2.0/24',
      now: '10.96.0.0/12,10.244.1.0/24,10.244.2.0/23',
    },
  ]);
  assert.match(stale[0]!.why, /restart it/);
});

Stale('pods that capture everything, or whose namespace leaves them alone, never go stale with the CIDRs', () => {
  const allNs = namespace('shop', ISTIO_NS);
  const pod = created('web', allNs, partialNodes('10.244.1.0/24'));
  assert.equal(stalePods([pod], snapshotWith([allNs], partialNodes('10.244.1.0/24', '10.244.3.0/24'))), []);
  const plain = namespace('shop', {}, CLUSTER);
  assert.equal(stalePods([pod], snapshotWith([plain], partialNodes('10.244.3.0/24'))), [], 'not meshed: nothing to capture');
});

Stale('a pod created before the webhook in a cluster-mode namespace is listed as never mutated', () => {
  const clusterNs = namespace('shop', ISTIO_NS, CLUSTER);
  const pod = named('old');
  const stale = stalePods([pod], snapshotWith([clusterNs], partialNodes('10.244.1.0/24')));
  assert.is(stale.length, 1);
  assert.is(stale[0]!.changes[0]!.was, null);
  assert.match(stale[0]!.why, /never mutated it/);
});

Stale('a pod mutated with a pod range known only from node podCIDRs gets a warning saying so', () => {
  const clusterNs = namespace('shop', ISTIO_NS, CLUSTER);
  const d = admitPod(podReview(plainPod(), 'shop'), snapshotWith([clusterNs], partialNodes('10.244.1.0/24')));
  assert.ok(d.allowed);
  warns(d.findings, 'EW519', 'metadata.annotations[egress-warden.io/outbound-capture]');
  assert.match(d.applied ?? '', /partial/);
  const whole = admitPod(podReview(plainPod(), 'shop'), snapshotWith([clusterNs], cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12'])));
  assert.not.ok(whole.findings.warnings.some((w) => w.code === 'EW519'));
});

Stale('a stale istio-init shows the one argument that changes, named by its flag, on both sides', () => {
  const ns = namespace('shop', ISTIO_NS, CLUSTER);
  const pod = withSpec(named('init'), {
    initContainers: [{ name: 'istio-init', args: ['istio-iptables', '-i', '10.96.0.0/12,10.244.0.0/16', '-x', ''] }],
  });
  const [stale] = stalePods(
    [storedAfterMutation(pod, ns, cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']))],
    snapshotWith([ns], cidrsOf(['10.244.0.0/16', '10.245.0.0/16'], ['10.96.0.0/12'])),
  );
  const arg = stale!.changes.find((c) => c.where.startsWith('initContainers[0].args'))!;
  assert.is(arg.where, 'initContainers[0].args[2] -i');
  assert.is(arg.was, '10.96.0.0/12,10.244.0.0/16');
  assert.is(arg.now, '10.96.0.0/12,10.244.0.0/15');
});

Stale.run();
