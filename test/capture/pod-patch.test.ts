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

/** The diff patchPod replaced: project, copy what changes, change it, compare. */
function diffed(pod: KubeObject, changes: Parameters<typeof patchPod>[1]) {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const spec = isObj(pod.spec) ? pod.spec : undefined;
  const current = pod.metadata?.annotations;
  type M = { metadata?: { annotations?: Record<string, unknown> }; spec?: { initContainers: unknown[] } };
  const before: M = {
    metadata: isObj(current) ? { annotations: { ...current } } : {},
    ...(spec && Array.isArray(spec.initContainers) ? { spec: { initContainers: spec.initContainers } } : {}),
  };
  const after: M = {
    metadata: { ...before.metadata },
    ...(before.spec ? { spec: { initContainers: before.spec.initContainers.map((c) => (isObj(c) ? { ...c } : c)) } } : {}),
  };
  const annotations: Record<string, unknown> = { ...after.metadata?.annotations };
  for (const [k, v] of Object.entries(changes.annotations)) {
    if (v === null) delete annotations[k];
    else annotations[k] = v;
  }
  if (Object.keys(annotations).length || after.metadata?.annotations) after.metadata = { ...after.metadata, annotations };
  const inits = (after.spec?.initContainers ?? []) as { args?: unknown }[];
  for (const i of changes.args?.containers ?? []) {
    const c = inits[i];
    if (!isObj(c) || !Array.isArray(c.args)) continue;
    let args = c.args.map(String);
    if (changes.args?.include !== undefined) args = setFlag(args, INCLUDE_FLAG, changes.args.include);
    if (changes.args?.exclude !== undefined) args = setFlag(args, EXCLUDE_FLAG, changes.args.exclude);
    c.args = args;
  }
  return jsonpatch.compare(before, after);
}

PodPatch('gives the operations, in the order, of a diff of the pod before and after (random pods)', () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const KEYS = [
    'egress-warden.io/applied',
    'traffic.sidecar.istio.io/includeOutboundIPRanges',
    'a~b/c',
    'keep',
    '7',
    'sidecar.istio.io/status',
  ];
  const ARGS = ['istio-iptables', '-i', '*', '-x', '', '-i=1.2.3.4/32', '--istio-service-cidr', '--', '-p', '15001', 5, null];
  for (let n = 0; n < 3000; n++) {
    const annotations =
      rnd(6) === 0
        ? pick([undefined, null, 'x', [1]])
        : Object.fromEntries(KEYS.filter(() => rnd(2)).map((k) => [k, pick(['v', 'w', '', 3])]));
    const inits = Array.from({ length: rnd(4) }, () =>
      rnd(8) === 0 ? pick([null, 'c', [1]]) : { name: 'i', ...(rnd(6) ? { args: Array.from({ length: rnd(7) }, () => pick(ARGS)) } : {}) },
    );
    const pod = {
      metadata: { name: 'p', ...(annotations === undefined ? {} : { annotations }) },
      ...(rnd(8) ? { spec: { containers: [], ...(rnd(6) ? { initContainers: inits } : {}) } } : {}),
    } as KubeObject;
    const changes = {
      annotations: Object.fromEntries(KEYS.filter(() => rnd(3) === 0).map((k) => [k, pick([null, 'v', 'new'])])),
      ...(rnd(3)
        ? {
            args: {
              containers: Array.from({ length: rnd(3) }, () => rnd(5)),
              include: pick([undefined, '*', '10.0.0.0/8']),
              exclude: pick([undefined, '', '192.0.2.1/32']),
            },
          }
        : {}),
    };
    const want = diffed(pod, changes);
    assert.equal(patchPod(pod, changes), want, JSON.stringify({ pod, changes }));
  }
});

PodPatch.run();
