/**
 * The pods Istio's own injector produces (pkg/kube/inject/testdata/inject/*.injected, converted by
 * test/fixtures/istio-injected/convert.ts at the commit pods.json records), mutated in a namespace
 * with `outbound-capture: cluster`, and in one with a bypass range too. What each gets is held to
 * what the data plane that captures it would read, decided from the injected output alone.
 */
import jsonpatch from 'fast-json-patch';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { planPod } from '../../src/capture/plan-pod.ts';
import { EXCLUDE_FLAG, flagValue, INCLUDE_FLAG } from '../../src/capture/pod-patch.ts';
import { APPLIED, MESH_KEYS } from '../../src/catalogue/keys.ts';
import type { NamespaceInfo } from '../../src/cluster/snapshot.ts';
import { contains, parseIpOrCidr } from '../../src/net/cidr.ts';
import { cidrsOf, snapshotWith } from '../support.ts';

type Golden = {
  readonly golden: string;
  readonly index: number;
  readonly pod: KubeObject;
  readonly dataPlane: 'istio-init' | 'istio-cni' | 'none' | 'not-injected';
  readonly ranges?: { readonly include: string; readonly exclude: string };
};
const { istio, pods } = JSON.parse(readFileSync(new URL('../fixtures/istio-injected/pods.json', import.meta.url), 'utf8')) as {
  istio: { commit: string };
  pods: Golden[];
};

const Goldens = suite(`capture: the pods of Istio's injector goldens (istio/istio ${istio.commit.slice(0, 7)})`);

const CLUSTER_RANGES = '10.96.0.0/12,10.244.0.0/16';
const BYPASS = '203.0.113.0/24';
const snapshot = snapshotWith([], cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']));
const namespace = (annotations: Record<string, string>): NamespaceInfo => ({ name: 'shop', labels: {}, annotations });
const CLUSTER = namespace({ 'egress-warden.io/outbound-capture': 'cluster' });
const WITH_BYPASS = namespace({ 'egress-warden.io/outbound-capture': 'cluster', 'egress-warden.io/bypass-ip-ranges': BYPASS });

const { include: INCLUDE_KEY, exclude: EXCLUDE_KEY } = MESH_KEYS.istio;

/** The pod after the mutation: the annotations and the init containers' args it would have. */
function mutated(g: Golden, ns: NamespaceInfo) {
  const plan = planPod(g.pod, 'shop', ns, snapshot);
  const patch = plan.build?.().patch ?? [];
  const after = jsonpatch.applyPatch(structuredClone(g.pod), patch, true, false).newDocument as KubeObject;
  const annotations: Record<string, unknown> = { ...(after.metadata?.annotations ?? {}) };
  const inits = (after.spec as { initContainers?: { name: string; args?: unknown[] }[] }).initContainers ?? [];
  return { plan, annotations, inits, patch };
}

const userSet = (g: Golden, key: string) => typeof g.pod.metadata?.annotations?.[key] === 'string';
/** what istio-iptables and the CNI plugin both accept: no spaces, no empty items */
const bothParsersAccept = (v: unknown) => typeof v === 'string' && /^(\*|[^\s,]+(,[^\s,]+)*)?$/.test(v);
const label = (g: Golden) => `${g.golden}#${g.index}`;

Goldens('holds every golden of the recorded commit, each classified', () => {
  assert.ok(pods.length >= 100, `${pods.length} pods`);
  for (const plane of ['istio-init', 'istio-cni', 'none', 'not-injected'])
    assert.ok(
      pods.some((g) => g.dataPlane === plane),
      plane,
    );
});

Goldens('a pod nothing captures gets no capture annotation and no applied record (gateway, proxyless, interceptionMode NONE)', () => {
  for (const g of pods.filter((p) => p.dataPlane === 'none' || p.dataPlane === 'not-injected')) {
    for (const ns of [CLUSTER, WITH_BYPASS]) {
      const m = mutated(g, ns);
      assert.equal(m.patch, [], label(g));
      assert.is(m.annotations[APPLIED], undefined, label(g));
    }
  }
});

Goldens('a pod istio-init captures gets the cluster ranges in -i and in the annotation, unless it set its own', () => {
  for (const g of pods.filter((p) => p.dataPlane === 'istio-init')) {
    const m = mutated(g, CLUSTER);
    const init = m.inits.find((c) => c.name === 'istio-init')!;
    const ownInclude = userSet(g, INCLUDE_KEY);
    const expected = ownInclude ? g.pod.metadata!.annotations![INCLUDE_KEY] : CLUSTER_RANGES;
    assert.is(m.annotations[INCLUDE_KEY], expected, label(g));
    // the args Istio's data plane reads follow, where istio-iptables runs them
    if (!ownInclude) {
      assert.is(flagValue(init.args ?? [], INCLUDE_FLAG), CLUSTER_RANGES, label(g));
      assert.ok(typeof m.annotations[APPLIED] === 'string', label(g));
    }
  }
});

Goldens('a pod the CNI plugin captures gets the ranges in the annotations the plugin reads (sidecar_redirect.go)', () => {
  for (const g of pods.filter((p) => p.dataPlane === 'istio-cni')) {
    const m = mutated(g, CLUSTER);
    assert.is(m.annotations[INCLUDE_KEY], CLUSTER_RANGES, label(g));
    assert.ok(typeof m.annotations[APPLIED] === 'string', label(g));
  }
});

Goldens(
  "a bypass keeps the operator's mesh-wide excludes and the pod's own, and every value written parses in both istio-iptables and the CNI plugin",
  () => {
    for (const g of pods.filter((p) => p.dataPlane === 'istio-init' || p.dataPlane === 'istio-cni')) {
      const m = mutated(g, WITH_BYPASS);
      const exclude = String(m.annotations[EXCLUDE_KEY] ?? '');
      if (userSet(g, EXCLUDE_KEY)) assert.is(exclude, g.pod.metadata!.annotations![EXCLUDE_KEY], label(g));
      else {
        assert.ok(exclude.split(',').includes(BYPASS), `${label(g)}: ${exclude}`);
        // ranges the injector put in -x from values.global.proxy.excludeIPRanges stay excluded
        // compared as networks: istio-iptables reads 10.96.0.2/24 as 10.96.0.0/24
        const written = exclude.split(',').map((r) => parseIpOrCidr(r)!.cidr);
        for (const r of (g.dataPlane === 'istio-init' ? (g.ranges?.exclude ?? '') : '').split(',').filter(Boolean))
          assert.ok(
            written.some((w) => contains(w, parseIpOrCidr(r)!.cidr)),
            `${label(g)}: ${r} dropped from ${exclude}`,
          );
        const init = m.inits.find((c) => c.name === 'istio-init');
        if (init && g.dataPlane === 'istio-init') assert.is(flagValue(init.args ?? [], EXCLUDE_FLAG), exclude, label(g));
      }
      for (const key of [INCLUDE_KEY, EXCLUDE_KEY])
        if (m.annotations[key] !== undefined) assert.ok(bothParsersAccept(m.annotations[key]), `${label(g)} ${key}`);
    }
  },
);

Goldens('capture mode cluster names the include list the operator narrowed for every pod when it replaces it (EW523)', () => {
  const g = pods.find((p) => p.golden === 'traffic-params.yaml.injected')!;
  const m = mutated(g, CLUSTER);
  const w = m.plan.findings.warnings.find((i) => i.code === 'EW523');
  assert.ok(w, JSON.stringify(m.plan.findings));
  assert.match(w!.message, '127.0.0.1/24,10.96.0.1/24 [istio-init -i as injected]');
});

Goldens.run();
