/**
 * The capture plan of a Pod: which mesh, which settings (pod over namespace), which ranges, and the
 * patch that writes them. Only reports: the review layer applies the namespace's mode to the
 * findings and builds the patch only when the pod is allowed.
 */
import type { Operation } from 'fast-json-patch';
import type { KubeObject } from '../admission/types.ts';
import { APPLIED, BYPASS, CAPTURE, CAPTURE_RANGES, MESH_KEYS, type Mesh, type Side } from '../catalogue/keys.ts';
import { finding, merge, ok, type Issue, type Result } from '../catalogue/result.ts';
import type { ClusterSnapshot, NamespaceInfo } from '../cluster/snapshot.ts';
import { asArr, asObj } from '../json.ts';
import type { Cidr } from '../net/cidr.ts';
import {
  annotationPath,
  effectiveSettings,
  formatApplied,
  formatMeshRanges,
  originText,
  parseApplied,
  parseIstioRanges,
  parseMeshRanges,
  readCaptureAnnotations,
  stringValues,
  writtenByUs,
  type AppliedSide,
  type CaptureMode,
  type CaptureSettings,
  type MeshValue,
} from './annotations.ts';
import { lockdownBypass } from './lockdown.ts';
import { meshOf, type IstioInit } from './mesh.ts';
import { EXCLUDE_FLAG, flagValue, INCLUDE_FLAG, patchPod, type Flag } from './pod-patch.ts';
import { planRanges, rangeInput, type Plan, type PlannedSide, type UserValue } from './ranges.ts';

export type PodPlan = {
  readonly findings: Result;
  /** the patch and the egress-warden.io/applied value it writes; absent when there is nothing to write */
  readonly build?: () => { readonly patch: Operation[]; readonly applied?: string };
};

const SIDES: readonly Side[] = ['include', 'exclude'];

const keyOf: Readonly<Record<string, keyof CaptureSettings>> = {
  [annotationPath(CAPTURE)]: 'mode',
  [annotationPath(BYPASS)]: 'bypass',
  [annotationPath(CAPTURE_RANGES)]: 'capture',
};

const only = (r: Result, keep: (i: Issue) => boolean): Result =>
  merge({ errors: r.errors.filter(keep), warnings: r.warnings.filter(keep) });

function appliedSide(p: PlannedSide | undefined): AppliedSide | undefined {
  if (!p) return undefined;
  return p.by === 'computed' ? { value: formatMeshRanges(p.cidrs), from: p.from } : { value: p.user.value, from: `pod ${p.user.key}` };
}

/** What capture would do to `pod` in `namespace` (ns: that namespace as the snapshot holds it). */
export function planPod(pod: KubeObject, namespace: string, ns: NamespaceInfo | undefined, snapshot: ClusterSnapshot): PodPlan {
  const { target, findings: meshFindings } = meshOf(pod, namespace, ns);
  if ('skip' in target) return withdrawn(pod, meshFindings);
  const podAnnotations = asObj(pod.metadata?.annotations);
  const fromNamespace = readCaptureAnnotations(ns?.annotations, { kind: 'namespace', name: namespace });
  const fromPod = readCaptureAnnotations(podAnnotations, { kind: 'pod' });
  const settings = effectiveSettings(fromNamespace.settings, fromPod.settings);
  // A namespace finding matters to this pod only where the pod does not set the key itself.
  const namespaceFindings = only(fromNamespace.findings, (i) => {
    const key = keyOf[i.path];
    return key !== undefined && fromPod.settings[key].state === 'absent';
  });
  const settingFindings = merge(meshFindings, namespaceFindings, fromPod.findings);

  if (settings.mode.state === 'invalid') return { findings: settingFindings };
  const capture = settings.mode.state === 'valid' ? settings.mode.value : 'all';
  if (capture === 'off') return { findings: ok };
  const modeFrom = settings.mode.state === 'valid' ? originText(settings.mode.origin) : 'default';

  const keys = MESH_KEYS[target.mesh];
  const own = stringValues(podAnnotations, [keys.include, keys.exclude, APPLIED], { field: 'annotations', origin: { kind: 'pod' } });
  const previous = parseApplied(own.values[APPLIED]);
  const user: { include?: UserValue; exclude?: UserValue } = {};
  /** user values rewritten to the form both of Istio's parsers read */
  const tidied: { include?: string; exclude?: string } = {};
  const ours = new Set<Side>();
  const blocked = new Set<Side>();
  const userFindings: Result[] = [own.findings];
  for (const side of SIDES) {
    const key = keys[side];
    if (own.unreadable.has(key)) {
      blocked.add(side);
      continue;
    }
    const value = own.values[key];
    if (value === undefined) continue;
    if (writtenByUs(previous, side, value)) {
      ours.add(side);
      continue;
    }
    // Under istio-cni, Istio's template copies its defaults onto the pod; "*" is the mesh default, not a choice.
    if (target.mesh === 'istio' && target.cni && target.injected && side === 'include' && value === '*') continue;
    const parsed = parseMeshRanges(target.mesh, value, side);
    const tidy = 'problem' in parsed && target.mesh === 'istio' ? tidyRanges(value, side) : undefined;
    if (tidy) {
      user[side] = { ...tidy.ok, key };
      tidied[side] = tidy.value;
      userFindings.push(
        finding(
          'EW522',
          annotationPath(key),
          `written as "${tidy.value}": istio-iptables skips spaces and empty items, but the istio-cni plugin reads every item strictly and would fail the pod's network set-up`,
        ),
      );
    } else if ('problem' in parsed) {
      blocked.add(side);
      userFindings.push(finding(target.mesh === 'istio' ? 'EW507' : 'EW508', annotationPath(key), parsed.problem));
    } else {
      user[side] = { ...parsed.ok, key };
    }
  }

  const plan = planRanges({
    mode: capture,
    cluster: snapshot.cidrs,
    capture: rangeInput(settings.capture),
    bypass: rangeInput(settings.bypass),
    ...(target.mesh === 'istio' ? { meshExclude: meshWideExcludes(pod, target.inits, previous, user.exclude, snapshot) } : {}),
    user,
    keys,
    ipv4Only: target.mesh === 'osm',
  });
  const computed = SIDES.filter((s) => plan[s]?.by === 'computed' && !blocked.has(s));
  const rewritable = target.mesh === 'istio' ? target.inits.filter((i) => i.rewritable) : [];
  const lateFindings = merge(
    target.mesh === 'osm' && target.injected && computed.length
      ? finding('EW514', 'spec.initContainers', 'osm-init came first: its iptables rules miss the computed ranges')
      : ok,
    ...(target.mesh === 'istio' && computed.length
      ? target.inits
          .filter((i) => !i.rewritable)
          .map((i) => finding('EW517', `spec.initContainers[${i.index}].args`, `${i.name} does not run istio-iptables: args left alone`))
      : []),
  );
  const lockdown = target.mesh === 'istio' ? lockdownBypass(capture, modeFrom, snapshot) : ok;
  const replaced = target.mesh === 'istio' && computed.includes('include') ? replacedInclude(pod, target.inits, previous, snapshot) : ok;
  const findings = merge(settingFindings, ...userFindings, plan.findings, lateFindings, lockdown, replaced);
  // istio-init replaced by a template that runs no istio-iptables, and no CNI: nothing reads what
  // would be written (the CNI plugin skips a pod with an istio-init), so nothing is written
  if (target.mesh === 'istio' && !target.cni && target.inits.length > 0 && rewritable.length === 0) return withdrawn(pod, findings);
  return {
    findings,
    build: () => build(pod, target.mesh, { capture, modeFrom, plan, computed, ours, tidied, podAnnotations, rewritable }),
  };
}

/**
 * An Istio range list both of Istio's parsers read, when the only fault was spaces or empty items
 * (istio-iptables drops them, tools/common/config; the CNI plugin splits on "," and parses each item
 * strictly, cni/pkg/plugin/sidecar_redirect.go). A list that still does not parse has no safe reading.
 */
function tidyRanges(value: string, side: Side): { readonly value: string; readonly ok: MeshValue } | undefined {
  const tidy = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .join(',');
  if (tidy === value) return undefined;
  const parsed = parseIstioRanges(tidy, side);
  return 'ok' in parsed ? { value: tidy, ok: parsed.ok } : undefined;
}

/** Where a mesh-wide exclude range came from, in the applied record. */
const MESH_WIDE = 'Istio mesh-wide exclude';

/**
 * The ranges Istio's operator excludes for every pod: values.global.proxy.excludeIPRanges from the
 * injector config, and what the injected istio-init's -x carries that neither this webhook nor a pod
 * annotation put there. Merged into a computed exclude list, so a bypass never drops them (the
 * cloud metadata address, typically).
 */
function meshWideExcludes(
  pod: KubeObject,
  inits: readonly IstioInit[],
  previous: ReturnType<typeof parseApplied>,
  userExclude: UserValue | undefined,
  snapshot: ClusterSnapshot,
): { cidr: Cidr; from: string }[] {
  const out: { cidr: Cidr; from: string }[] = [];
  const add = (text: string, from: string) => {
    const parsed = parseIstioRanges(text, 'exclude');
    if ('ok' in parsed) for (const cidr of parsed.ok.cidrs) out.push({ cidr, from: `${MESH_WIDE} (${from})` });
  };
  const configured = snapshot.mesh.istio?.excludeIPRanges;
  if (configured?.value) add(configured.value, configured.from);
  // what an earlier call recorded as mesh-wide stays so, though it now sits in a -x this webhook wrote
  const recorded = previous?.exclude && typeof previous.exclude.from === 'object' ? previous.exclude.from : {};
  for (const [range, from] of Object.entries(recorded)) if (from.startsWith(MESH_WIDE)) add(range, from.slice(MESH_WIDE.length + 2, -1));
  if (userExclude) return out;
  for (const x of injectedValues(pod, inits, EXCLUDE_FLAG)) if (x.value && x.value !== previous?.exclude?.value) add(x.value, x.from);
  return out;
}

/** What each istio-init that runs istio-iptables was given for a flag, as injected, and where. */
function injectedValues(pod: KubeObject, inits: readonly IstioInit[], flag: Flag): { value: string | undefined; from: string }[] {
  const containers = asArr(asObj(pod.spec).initContainers);
  return inits
    .filter((i) => i.rewritable)
    .map((i) => ({ value: flagValue(asArr(asObj(containers[i.index]).args), flag), from: `${i.name} ${flag.short} as injected` }));
}

/**
 * EW523 when capture mode cluster replaces an include list the mesh operator narrowed for every pod
 * (values.global.proxy.includeIPRanges other than "*", in the injector config or the injected -i):
 * the namespace's choice wins, but the operator's list is not dropped without a word.
 */
function replacedInclude(
  pod: KubeObject,
  inits: readonly IstioInit[],
  previous: ReturnType<typeof parseApplied>,
  snapshot: ClusterSnapshot,
): Result {
  const narrowed = (v: string | undefined) => v !== undefined && v !== '' && v !== '*';
  const configured = snapshot.mesh.istio?.includeIPRanges;
  const injected = injectedValues(pod, inits, INCLUDE_FLAG).find((x) => narrowed(x.value) && x.value !== previous?.include?.value);
  const mesh = injected ?? (configured && narrowed(configured.value) ? { value: configured.value, from: configured.from } : undefined);
  if (!mesh) return ok;
  return finding(
    'EW523',
    annotationPath(CAPTURE),
    `capture mode cluster replaces the mesh-wide include list ${mesh.value} [${mesh.from}] with the cluster's ranges`,
  );
}

/**
 * A pod this webhook wrote capture annotations on before its data plane was known (the first call,
 * before Istio's injector), that nothing captures after all: what it wrote is taken back, so no
 * annotation or record claims ranges that are never applied. Values someone else wrote stay.
 */
function withdrawn(pod: KubeObject, findings: Result): PodPlan {
  const podAnnotations = asObj(pod.metadata?.annotations);
  const previous = parseApplied(podAnnotations[APPLIED]);
  if (!previous) return { findings };
  const annotations: Record<string, string | null> = { [APPLIED]: null };
  const keys = MESH_KEYS[previous.mesh];
  for (const side of SIDES) {
    const value = podAnnotations[keys[side]];
    if (typeof value === 'string' && writtenByUs(previous, side, value)) annotations[keys[side]] = null;
  }
  return { findings, build: () => ({ patch: patchPod(pod, { annotations }) }) };
}

type Built = {
  readonly capture: CaptureMode;
  readonly modeFrom: string;
  readonly plan: Plan;
  readonly computed: readonly Side[];
  readonly ours: ReadonlySet<Side>;
  readonly tidied: { readonly include?: string; readonly exclude?: string };
  readonly podAnnotations: Readonly<Record<string, unknown>>;
  readonly rewritable: readonly IstioInit[];
};

function build(pod: KubeObject, mesh: Mesh, { capture, modeFrom, plan, computed, ours, tidied, podAnnotations, rewritable }: Built) {
  const keys = MESH_KEYS[mesh];
  const annotations: Record<string, string | null> = {};
  const args: { include?: string; exclude?: string } = {};
  for (const side of SIDES) {
    const p = plan[side];
    if (p?.by === 'computed' && computed.includes(side)) {
      annotations[keys[side]] = args[side] = formatMeshRanges(p.cidrs);
    } else if (ours.has(side)) {
      annotations[keys[side]] = null; // written by an earlier invocation, no longer computed
    } else if (tidied[side] !== undefined) {
      annotations[keys[side]] = args[side] = tidied[side];
    }
  }
  let applied: string | undefined;
  if (computed.length) {
    const record = (s: Side) => (computed.includes(s) || plan[s]?.by === 'pod' ? appliedSide(plan[s]) : undefined);
    const include = record('include');
    const exclude = record('exclude');
    applied = formatApplied({ mesh, mode: capture, modeFrom, ...(include ? { include } : {}), ...(exclude ? { exclude } : {}) });
    annotations[APPLIED] = applied;
  } else if (ours.size && podAnnotations[APPLIED] !== undefined) {
    annotations[APPLIED] = null;
  }
  const containers = rewritable.map((i) => i.index);
  const patch = Object.keys(annotations).length
    ? patchPod(pod, { annotations, ...(containers.length ? { args: { containers, ...args } } : {}) })
    : [];
  return { patch, ...(patch.length && applied !== undefined ? { applied } : {}) };
}
