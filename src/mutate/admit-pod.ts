/**
 * POST /mutate for Pods: which mesh, which settings (pod over namespace), which ranges, then the
 * patch. Findings fold into a verdict under the namespace's enforcement mode exactly as on the
 * validating side; a denial carries no patch, and a failure in this code never blocks a pod.
 */
import type { Operation } from 'fast-json-patch';
import type { AdmissionRequest, KubeObject } from '../admission/types.ts';
import type { ClusterSnapshot, NamespaceInfo } from '../cluster/snapshot.ts';
import { asObj, describe } from '../json.ts';
import { formatWarnings, modeOf, verdictOf, type Mode } from '../rules/registry.ts';
import { finding, merge, ok, type Issue, type Result } from '../catalogue/result.ts';
import {
  APPLIED, BYPASS, CAPTURE, CAPTURE_RANGES, MESH_KEYS, annotationPath, effectiveSettings, formatApplied,
  formatMeshRanges, originText, parseApplied, parseMeshRanges, readCaptureAnnotations, stringValues, writtenByUs,
  type AppliedSide, type CaptureSettings, type Side,
} from './annotations.ts';
import { meshOf } from './mesh.ts';
import { patchPod } from './pod-patch.ts';
import { planRanges, rangeInput, type PlannedSide, type UserValue } from './ranges.ts';

export type PodVerdict = {
  readonly allowed: boolean;
  readonly code?: number;
  readonly message?: string;
  readonly warnings: string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
  readonly patch: Operation[];
  readonly mode: Mode;
  readonly findings: Result;
  /** the egress-warden.io/applied value written to the pod, when there is a patch */
  readonly applied?: string;
};

const SIDES: readonly Side[] = ['include', 'exclude'];

const keyOf: Readonly<Record<string, keyof CaptureSettings>> = {
  [annotationPath(CAPTURE)]: 'mode', [annotationPath(BYPASS)]: 'bypass', [annotationPath(CAPTURE_RANGES)]: 'capture',
};

const only = (r: Result, keep: (i: Issue) => boolean): Result => merge({ errors: r.errors.filter(keep), warnings: r.warnings.filter(keep) });

function appliedSide(p: PlannedSide | undefined): AppliedSide | undefined {
  if (!p) return undefined;
  return p.by === 'computed' ? { value: formatMeshRanges(p.cidrs), from: p.from } : { value: p.user.value, from: `pod ${p.user.key}` };
}

function mutate(pod: KubeObject, namespace: string, ns: NamespaceInfo | undefined, snapshot: ClusterSnapshot, mode: Mode): PodVerdict {
  const pass: PodVerdict = { allowed: true, warnings: [], patch: [], mode, findings: ok };
  const { target, findings: meshFindings } = meshOf(pod, namespace, ns);
  if ('skip' in target) return meshFindings.errors.length || meshFindings.warnings.length ? { ...fold(meshFindings, mode), patch: [] } : pass;
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

  if (settings.mode.state === 'invalid') return { ...fold(settingFindings, mode), patch: [] };
  const capture = settings.mode.state === 'valid' ? settings.mode.value : 'all';
  if (capture === 'off') return pass;
  const modeFrom = settings.mode.state === 'valid' ? originText(settings.mode.origin) : 'default';

  const keys = MESH_KEYS[target.mesh];
  const own = stringValues(podAnnotations, [keys.include, keys.exclude, APPLIED], { field: 'annotations', origin: { kind: 'pod' } });
  const previous = parseApplied(own.values[APPLIED]);
  const user: { include?: UserValue; exclude?: UserValue } = {};
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
    if ('problem' in parsed) {
      blocked.add(side);
      userFindings.push(finding(target.mesh === 'istio' ? 'EW507' : 'EW508', annotationPath(key), parsed.problem));
    } else {
      user[side] = { ...parsed.ok, key };
    }
  }

  const plan = planRanges({
    mode: capture, cluster: snapshot.cidrs, capture: rangeInput(settings.capture), bypass: rangeInput(settings.bypass),
    user, keys, ipv4Only: target.mesh === 'osm',
  });
  const computed = SIDES.filter((s) => plan[s]?.by === 'computed' && !blocked.has(s));
  const rewritable = target.mesh === 'istio' ? target.inits.filter((i) => i.rewritable) : [];
  const lateFindings = merge(
    target.mesh === 'osm' && target.injected && computed.length
      ? finding('EW514', 'spec.initContainers', 'osm-init came first: its iptables rules miss the computed ranges') : ok,
    ...(target.mesh === 'istio' && computed.length
      ? target.inits.filter((i) => !i.rewritable).map((i) => finding('EW517', `spec.initContainers[${i.index}].args`, `${i.name} does not run istio-iptables: args left alone`))
      : []),
  );
  const verdict = fold(merge(settingFindings, ...userFindings, plan.findings, lateFindings), mode);
  if (!verdict.allowed) return { ...verdict, patch: [] };

  const annotations: Record<string, string | null> = {};
  const args: { include?: string; exclude?: string } = {};
  for (const side of SIDES) {
    const p = plan[side];
    if (p?.by === 'computed' && computed.includes(side)) {
      annotations[keys[side]] = args[side] = formatMeshRanges(p.cidrs);
    } else if (ours.has(side)) {
      annotations[keys[side]] = null; // written by an earlier invocation, no longer computed
    }
  }
  let applied: string | undefined;
  if (computed.length) {
    const record = (s: Side) => (computed.includes(s) || plan[s]?.by === 'pod' ? appliedSide(plan[s]) : undefined);
    const include = record('include');
    const exclude = record('exclude');
    applied = formatApplied({ mesh: target.mesh, mode: capture, modeFrom, ...(include ? { include } : {}), ...(exclude ? { exclude } : {}) });
    annotations[APPLIED] = applied;
  } else if (ours.size && podAnnotations[APPLIED] !== undefined) {
    annotations[APPLIED] = null;
  }
  const containers = rewritable.map((i) => i.index);
  const patch = Object.keys(annotations).length
    ? patchPod(pod, { annotations, ...(containers.length ? { args: { containers, ...args } } : {}) })
    : [];
  return { ...verdict, patch, ...(patch.length && applied !== undefined ? { applied } : {}) };
}

function fold(findings: Result, mode: Mode): Omit<PodVerdict, 'patch'> {
  const v = verdictOf(findings, mode);
  return { ...v, warnings: [...v.warnings] };
}

/**
 * The mutation for one admission request. Only Pod CREATE is mutated: init containers are
 * immutable after creation, so a patch on UPDATE could only make the API server refuse the update.
 */
export function admitPod(req: AdmissionRequest, snapshot: ClusterSnapshot): PodVerdict {
  const namespace = req.namespace || req.object?.metadata?.namespace || '';
  const ns = snapshot.namespaces.get(namespace);
  const mode = modeOf(ns?.labels);
  const pod = req.object;
  if (req.kind.group !== '' || req.kind.kind !== 'Pod' || req.operation !== 'CREATE' || req.subResource || !pod || typeof pod !== 'object') {
    return { allowed: true, warnings: [], patch: [], mode, findings: ok };
  }
  try {
    return mutate(pod, namespace, ns, snapshot, mode);
  } catch (e) {
    // Every input problem is a finding; what lands here is a bug, named for the bug report.
    const failure = e instanceof Error ? `${e.name}: ${e.message}` : `thrown ${describe(e)}`;
    const findings = finding('EW599', 'metadata', `internal error, pod admitted unchanged: ${failure}`);
    return { allowed: true, warnings: formatWarnings(findings.warnings), patch: [], mode, findings };
  }
}
