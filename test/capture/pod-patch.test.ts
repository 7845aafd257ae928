import jsonpatch from 'fast-json-patch';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { EXCLUDE_FLAG, INCLUDE_FLAG, patchPod, setFlag } from '../../src/capture/pod-patch.ts';
import { fixture } from '../support.ts';
import { initArgs, plainPod } from './pods.ts';

const PodPatch = suite('capture/pod-patch');

const FORMS: readonly [string[], string[]][] = [
  [
    ['istio-iptables', '-i', '*', '-b', '*'],
    ['istio-iptables', '-i', 'V', '-b', '*'],
  ],
  [
    ['istio-iptables', '-i=*', '-b', '*'],
    ['istio-iptables', '-i=V', '-b', '*'],
  ],
  [
    ['istio-iptables', '--istio-service-cidr', '*'],
    ['istio-iptables', '--istio-service-cidr', 'V'],
  ],
  [
    ['istio-iptables', '--istio-service-cidr=*', '-x', ''],
    ['istio-iptables', '--istio-service-cidr=V', '-x', ''],
  ],
  [
    ['istio-iptables', '-i', '*', '--istio-service-cidr=10.0.0.0/8'],
    ['istio-iptables', '-i', 'V', '--istio-service-cidr=V'],
  ],
  [
    ['istio-iptables', '-p', '15001'],
    ['istio-iptables', '-p', '15001', '-i', 'V'],
  ],
  [
    ['istio-iptables', '-i'],
    ['istio-iptables', '-i', 'V'],
  ],
];

for (const [before, after] of FORMS) {
  PodPatch(`rewrites ${JSON.stringify(before.slice(1))} in place, keeping every other arg`, () => {
    assert.equal(setFlag(before, INCLUDE_FLAG, 'V'), after);
  });
}

PodPatch('does not mistake the value of another flag, or the exclude flag, for the include flag', () => {
  assert.equal(setFlag(['istio-iptables', '-x', '-i', '-i', '*'], EXCLUDE_FLAG, 'X'), ['istio-iptables', '-x', 'X', '-i', '*']);
});

PodPatch('a pod without annotations gets one add of the whole map', () => {
  const ops = patchPod(plainPod(), { annotations: { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '192.0.2.0/24' } });
  assert.equal(ops, [
    { op: 'add', path: '/metadata/annotations', value: { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '192.0.2.0/24' } },
  ]);
});

PodPatch('escapes "/" in annotation keys and removes keys set to null', () => {
  const pod = plainPod({ 'egress-warden.io/applied': '{}', keep: 'me' });
  const ops = patchPod(pod, {
    annotations: { 'egress-warden.io/applied': null, 'openservicemesh.io/outbound-ip-range-exclusion-list': '192.0.2.0/24' },
  });
  assert.equal(ops, [
    { op: 'remove', path: '/metadata/annotations/egress-warden.io~1applied' },
    { op: 'add', path: '/metadata/annotations/openservicemesh.io~1outbound-ip-range-exclusion-list', value: '192.0.2.0/24' },
  ]);
});

PodPatch('rewrites only the init containers named, and the patch applies to the whole pod', () => {
  const pod: KubeObject = fixture('objects/pod-native-sidecar.json');
  const ops = patchPod(pod, { annotations: {}, args: { containers: [0], include: '10.0.0.0/8', exclude: '' } });
  assert.equal(ops, [{ op: 'replace', path: '/spec/initContainers/0/args/10', value: '10.0.0.0/8' }]);
  const patched = jsonpatch.applyPatch(structuredClone(pod), ops, true, false).newDocument;
  assert.equal(initArgs(patched, 1), initArgs(pod, 1));
});

PodPatch('an unchanged pod yields an empty patch', () => {
  const pod: KubeObject = fixture('objects/pod-istio-init.json');
  assert.equal(patchPod(pod, { annotations: {}, args: { containers: [0], include: '*', exclude: '' } }), []);
});

PodPatch.run();
