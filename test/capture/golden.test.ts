import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import jsonpatch from 'fast-json-patch';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import type { ClusterCidrs } from '../../src/cluster/snapshot.ts';
import { admitPod } from '../../src/review/mutate.ts';
import { cidrsOf, fixture, snapshotWith } from '../support.ts';
import { ISTIO_NS, OSM_INJECT, OSM_NS, annotate, initArgs, namespace, plainPod, podReview, reviewFixture, shopNamespace } from './pods.ts';

const Golden = suite('capture/golden');

const DIR = resolve('test/fixtures/golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const DUAL = cidrsOf(['10.244.0.0/16', 'fd00:10:244::/56'], ['10.96.0.0/12', 'fd00:10:96::/112'], 'kubeadm-config');

type Case = {
  readonly name: string;
  readonly request: AdmissionRequest;
  readonly namespaces: readonly KubeObject[];
  readonly cidrs?: ClusterCidrs;
  /** finding codes expected among the warnings */
  readonly warns?: readonly string[];
  readonly check: (pod: KubeObject, original: KubeObject) => void;
};

const ann = (pod: KubeObject, key: string) => pod.metadata?.annotations?.[key];
const applied = (pod: KubeObject) => JSON.parse(ann(pod, 'egress-warden.io/applied') ?? 'null') as Record<string, unknown>;

const cases: readonly Case[] = [
  {
    name: 'istio-init-namespace-bypass',
    request: reviewFixture('012-mutate-create-pod.review-v1.json'),
    namespaces: [shopNamespace()],
    check: (pod, original) => {
      assert.is(ann(pod, 'traffic.sidecar.istio.io/excludeOutboundIPRanges'), '203.0.113.0/24');
      assert.is(ann(pod, 'traffic.sidecar.istio.io/includeOutboundIPRanges'), undefined);
      const expected = [...initArgs(original)];
      expected[expected.indexOf('-x') + 1] = '203.0.113.0/24';
      assert.equal(initArgs(pod), expected);
      assert.equal(applied(pod), {
        mesh: 'istio',
        mode: 'all',
        modeFrom: 'default',
        exclude: { value: '203.0.113.0/24', from: { '203.0.113.0/24': 'namespace shop' } },
      });
    },
  },
  {
    name: 'deployment-pod-cluster-mode',
    request: reviewFixture('013-mutate-create-pod.review-v1.json'),
    namespaces: [shopNamespace()],
    check: (pod) => {
      assert.is(pod.metadata?.name, undefined);
      assert.is(ann(pod, 'traffic.sidecar.istio.io/includeOutboundIPRanges'), '10.96.0.0/12,10.244.0.0/16');
      assert.is(ann(pod, 'traffic.sidecar.istio.io/excludeOutboundIPRanges'), '203.0.113.0/24');
      assert.is(applied(pod).modeFrom, 'pod');
    },
  },
  {
    name: 'pod-without-annotations',
    request: podReview(plainPod()),
    namespaces: [namespace('shop', ISTIO_NS, { 'egress-warden.io/outbound-capture': 'cluster' })],
    cidrs: DUAL,
    check: (pod) => {
      assert.is(
        ann(pod, 'traffic.sidecar.istio.io/includeOutboundIPRanges'),
        '10.96.0.0/12,10.244.0.0/16,fd00:10:96::/112,fd00:10:244::/56',
      );
      assert.equal(applied(pod).include, {
        value: '10.96.0.0/12,10.244.0.0/16,fd00:10:96::/112,fd00:10:244::/56',
        from: {
          '10.96.0.0/12': 'service CIDR (kubeadm-config)',
          '10.244.0.0/16': 'pod CIDR (kubeadm-config)',
          'fd00:10:96::/112': 'service CIDR (kubeadm-config)',
          'fd00:10:244::/56': 'pod CIDR (kubeadm-config)',
        },
      });
    },
  },
  {
    name: 'capture-ranges-merged',
    request: podReview(
      annotate(plainPod(), {
        'egress-warden.io/outbound-capture': 'cluster',
        'egress-warden.io/capture-ip-ranges': '192.168.128.0/17, 192.168.0.0/17 10.96.4.0/24 2001:db8::/32',
        'egress-warden.io/bypass-ip-ranges': '198.51.100.7,2001:db8:ffff::/48',
      }),
    ),
    namespaces: [namespace('shop', ISTIO_NS)],
    warns: ['EW506'],
    check: (pod) => {
      assert.is(ann(pod, 'traffic.sidecar.istio.io/includeOutboundIPRanges'), '10.96.0.0/12,10.244.0.0/16,192.168.0.0/16,2001:db8::/32');
      assert.is(ann(pod, 'traffic.sidecar.istio.io/excludeOutboundIPRanges'), '198.51.100.7/32,2001:db8:ffff::/48');
    },
  },
  {
    name: 'native-sidecar',
    request: podReview(fixture('objects/pod-native-sidecar.json')),
    namespaces: [
      namespace(
        'shop',
        { 'istio.io/rev': 'default' },
        {
          'egress-warden.io/outbound-capture': 'cluster',
          'egress-warden.io/bypass-ip-ranges': '169.254.169.254/32',
        },
      ),
    ],
    check: (pod, original) => {
      const args = initArgs(pod);
      assert.is(args[args.indexOf('-i') + 1], '10.96.0.0/12,10.244.0.0/16');
      assert.is(args[args.indexOf('-x') + 1], '169.254.169.254/32');
      assert.equal(initArgs(pod, 1), initArgs(original, 1), 'the istio-proxy native sidecar keeps its args');
      assert.is(ann(pod, 'traffic.sidecar.istio.io/excludeOutboundIPRanges'), '169.254.169.254/32');
    },
  },
  {
    name: 'istio-cni',
    request: podReview(fixture('objects/pod-istio-cni.json')),
    namespaces: [namespace('shop', ISTIO_NS, { 'egress-warden.io/outbound-capture': 'cluster' })],
    check: (pod) => {
      assert.is(ann(pod, 'traffic.sidecar.istio.io/includeOutboundIPRanges'), '10.96.0.0/12,10.244.0.0/16');
      const args = initArgs(pod);
      assert.is(args[args.indexOf('-i') + 1], '10.96.0.0/12,10.244.0.0/16');
      assert.equal(args.slice(-2), ['--run-validation', '--skip-rule-apply']);
    },
  },
  {
    name: 'long-flag-spelling',
    request: podReview(
      (() => {
        const pod = fixture('objects/pod-istio-init.json');
        const args = initArgs(pod);
        args.splice(args.indexOf('-i'), 4, '--istio-service-cidr=*', '--istio-service-exclude-cidr', '');
        return pod;
      })(),
    ),
    namespaces: [
      namespace('shop', ISTIO_NS, {
        'egress-warden.io/outbound-capture': 'cluster',
        'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24',
      }),
    ],
    check: (pod) => {
      const args = initArgs(pod);
      assert.ok(args.includes('--istio-service-cidr=10.96.0.0/12,10.244.0.0/16'));
      assert.is(args[args.indexOf('--istio-service-exclude-cidr') + 1], '203.0.113.0/24');
      assert.not.ok(args.includes('-i') || args.includes('-x'), 'no second spelling is added');
    },
  },
  {
    name: 'istio-user-include-wins',
    request: podReview(
      annotate(fixture('objects/pod-istio-init.json'), { 'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8' }),
    ),
    namespaces: [
      namespace('shop', ISTIO_NS, {
        'egress-warden.io/outbound-capture': 'cluster',
        'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24',
      }),
    ],
    warns: ['EW513'],
    check: (pod) => {
      assert.is(ann(pod, 'traffic.sidecar.istio.io/includeOutboundIPRanges'), '10.0.0.0/8');
      const args = initArgs(pod);
      assert.is(args[args.indexOf('-i') + 1], '*', 'the -i arg is left to the user and Istio');
      assert.is(args[args.indexOf('-x') + 1], '203.0.113.0/24');
      assert.equal(applied(pod).include, { value: '10.0.0.0/8', from: 'pod traffic.sidecar.istio.io/includeOutboundIPRanges' });
    },
  },
  {
    name: 'osm-dual-stack',
    request: podReview(plainPod({ 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24,2001:db8::/32' })),
    namespaces: [namespace('shop', OSM_NS, { ...OSM_INJECT, 'egress-warden.io/outbound-capture': 'cluster' })],
    cidrs: DUAL,
    warns: ['EW509'],
    check: (pod) => {
      assert.is(ann(pod, 'openservicemesh.io/outbound-ip-range-inclusion-list'), '10.96.0.0/12,10.244.0.0/16');
      assert.is(ann(pod, 'openservicemesh.io/outbound-ip-range-exclusion-list'), '203.0.113.0/24');
      assert.is(ann(pod, 'traffic.sidecar.istio.io/includeOutboundIPRanges'), undefined);
    },
  },
];

for (const c of cases) {
  Golden(`${c.name}: patch matches its golden, applies cleanly and is not repeated on reinvocation`, () => {
    const snapshot = snapshotWith(c.namespaces, c.cidrs);
    const verdict = admitPod(c.request, snapshot);
    assert.ok(verdict.allowed, verdict.message);
    const codes = verdict.findings.warnings.map((w) => w.code);
    assert.equal([...new Set(codes)].sort(), [...(c.warns ?? [])].sort(), `warnings: ${verdict.warnings.join(' | ')}`);
    const file = resolve(DIR, `${c.name}.patch.json`);
    const text = `${JSON.stringify(verdict.patch, null, 2)}\n`;
    if (UPDATE) writeFileSync(file, text);
    assert.ok(existsSync(file), `missing golden ${file}: run with UPDATE_GOLDEN=1`);
    assert.fixture(text, readFileSync(file, 'utf8'), `stale golden ${file}: run with UPDATE_GOLDEN=1 and review the diff`);

    const original = c.request.object!;
    const patched = jsonpatch.applyPatch(structuredClone(original), structuredClone(verdict.patch), true, false).newDocument as KubeObject;
    assert.is(patched.metadata?.annotations?.['egress-warden.io/applied'], verdict.applied);
    c.check(patched, original);

    const again = admitPod({ ...c.request, object: patched }, snapshot);
    assert.equal(again.patch, [], 'a reinvocation on the mutated pod yields no patch');
    assert.ok(again.allowed);
  });
}

Golden('every golden file belongs to a case', () => {
  const names = new Set(cases.map((c) => `${c.name}.patch.json`));
  const orphans = readdirSync(DIR).filter((f) => f.endsWith('.patch.json') && !names.has(f));
  assert.equal(orphans, [], 'remove golden files no case produces');
});

Golden.run();
