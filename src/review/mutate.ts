/**
 * POST /mutate: the capture plan of a Pod, under the namespace's enforcement mode exactly as on
 * the validating side. A denial carries no patch, and a failure in capture never blocks a pod.
 */
import { offlinePointer, type Pointer } from '../catalogue/docs.ts';
import { allow, type Decision } from '../admission/decision.ts';
import type { AdmissionRequest, KubeObject } from '../admission/types.ts';
import { planPod } from '../capture/plan-pod.ts';
import { captureInputs } from '../capture/pod-inputs.ts';
import { judgedKind } from '../catalogue/kinds.ts';
import { modeOf, type Mode } from '../catalogue/modes.ts';
import { finding } from '../catalogue/result.ts';
import { compact } from '../cluster/indexes.ts';
import { withNamespace } from '../cluster/overlay.ts';
import { currentSnapshotMemo, type ClusterSnapshot, type NamespaceInfo } from '../cluster/snapshot.ts';
import { asArr, describe, errorText, fitsJson, isObj, sameJson } from '../json.ts';
import { enforce, formatWarnings } from './enforce.ts';

/** The namespace a pod request is for, and the pod when its mutation is this webhook's business. */
function podRequest(req: AdmissionRequest, snapshot: ClusterSnapshot) {
  const namespace = req.namespace || req.object?.metadata?.namespace || '';
  const ns = snapshot.namespaces.get(namespace);
  const mode = modeOf(ns?.labels);
  const pod = req.object;
  const kind = judgedKind(req.kind);
  const mutated =
    kind?.webhook === 'mutate' &&
    req.kind.group === kind.group &&
    (kind.operations as readonly string[]).includes(req.operation) &&
    !req.subResource &&
    pod !== null &&
    typeof pod === 'object';
  return { namespace, ns, mode, pod: mutated ? pod : undefined };
}

/** The decision for a pod's capture inputs; `inputs` is called inside the guard, so what it throws is named too. */
function decide(
  inputs: () => KubeObject,
  namespace: string,
  ns: NamespaceInfo | undefined,
  mode: Mode,
  snapshot: ClusterSnapshot,
  pointer: Pointer,
): Decision {
  try {
    const plan = planPod(inputs(), namespace, ns, snapshot);
    const decision = enforce(plan.findings, mode, pointer);
    if (!decision.allowed || !plan.build) return decision;
    const { patch, applied } = plan.build();
    return { ...decision, patch, ...(applied !== undefined ? { applied } : {}) };
  } catch (e) {
    // Every input problem is a finding; what lands here is a bug, named for the bug report.
    const failure = e instanceof Error ? `${e.name}: ${e.message}` : `thrown ${describe(e)}`;
    const findings = finding('EW599', 'metadata', `internal error, pod admitted unchanged: ${failure}`);
    return { ...allow(mode), warnings: formatWarnings(findings.warnings, pointer), findings };
  }
}

/**
 * The mutation for one admission request. Only the operations the catalogue lists for a mutated
 * kind are mutated (Pod CREATE: init containers are immutable after creation, so a patch on UPDATE
 * could only make the API server refuse the update), and never a subresource. The plan sees only
 * the pod's capture inputs (pod-inputs.ts), on every path: that is what makes remembering it sound.
 */
export function admitPod(req: AdmissionRequest, snapshot: ClusterSnapshot, pointer: Pointer = offlinePointer): Decision {
  const { namespace, ns, mode, pod } = podRequest(req, snapshot);
  return pod ? decide(() => captureInputs(pod), namespace, ns, mode, snapshot, pointer) : allow(mode);
}

/** Decisions remembered per snapshot: enough for the distinct pod templates of a rollout. */
export const REMEMBERED_PODS = 256;
/** Capture inputs longer than this (in JSON) are planned each time: the memory stays bounded. */
export const REMEMBERED_POD_CHARS = 8_192;

/**
 * The pods a pod may repeat: the replicas of its controller (ReplicaSet, StatefulSet, Job), else
 * those of its generateName, else of its name. Only a candidate: a pod repeats one only when their
 * capture inputs are equal.
 */
function templateOf(pod: KubeObject): string {
  const meta = isObj(pod.metadata) ? pod.metadata : undefined;
  const owner = asArr(meta?.ownerReferences).find((o) => isObj(o) && o.controller === true);
  if (isObj(owner) && typeof owner.uid === 'string') return `owner\u0000${owner.uid}`;
  const generated = typeof meta?.generateName === 'string' ? meta.generateName : '';
  return generated ? `generated\u0000${generated}` : `named\u0000${typeof meta?.name === 'string' ? meta.name : ''}`;
}

type Planned = { readonly inputs: KubeObject; readonly decision: Decision };

/**
 * admitPod, remembering each template's last decision for the snapshot it was made against. The
 * replicas of a ReplicaSet reach the webhook identical, so a rollout plans each pod template once
 * per cluster state instead of once per pod. A pod is answered from the one before it of the same
 * controller (or generateName) and namespace when their capture inputs are equal, compared value by
 * value: building a JSON key of them cost a third of the plan. Decisions are immutable and shared;
 * the remembered ones go with their snapshot.
 */
export function rememberingAdmitPod(pointer: Pointer = offlinePointer) {
  const memoOf = currentSnapshotMemo<Planned>();
  return (req: AdmissionRequest, snapshot: ClusterSnapshot): Decision => {
    const { namespace, ns, mode, pod } = podRequest(req, snapshot);
    if (!pod) return allow(mode);
    let inputs: KubeObject;
    let slot: string;
    try {
      inputs = captureInputs(pod);
      slot = `${namespace}\u0000${templateOf(pod)}`;
    } catch {
      return decide(() => captureInputs(pod), namespace, ns, mode, snapshot, pointer); // which names the failure
    }
    const memo = memoOf(snapshot);
    const known = memo.get(slot);
    if (known && sameJson(known.inputs, inputs)) return known.decision;
    const decision = decide(() => inputs, namespace, ns, mode, snapshot, pointer);
    if (!fitsJson(inputs, REMEMBERED_POD_CHARS)) return decision;
    if (!known && memo.size >= REMEMBERED_PODS) memo.clear();
    memo.set(slot, { inputs, decision });
    return decision;
  };
}

/** How long a pod's review waits for its namespace from the API server: well inside the webhook's 3 s timeout. */
export const NAMESPACE_READ_MS = 1_000;

export type NamespaceSource = {
  /** the Namespace from the API server; undefined when it does not exist */
  readonly read: (name: string) => Promise<KubeObject | undefined>;
  /** a Namespace read through, for the reviews that follow before the informer delivers it */
  readonly remember?: (ns: KubeObject) => void;
  readonly timeoutMs?: number;
};

const withWarning = (d: Decision, text: string): Decision => ({ ...d, warnings: [...d.warnings, text] });

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * admitPod, except that a pod whose namespace the snapshot (with the writes this webhook admitted)
 * does not hold waits (at most timeoutMs) for the namespace from the API server: a Namespace and a Pod applied together
 * reach us before the informer has the Namespace, and the pod's init containers cannot change later.
 * Only that case is asynchronous. If the namespace still cannot be known, the pod says so.
 */
export function admitPodReadingThrough(source: NamespaceSource | undefined, pointer: Pointer = offlinePointer) {
  const admit = rememberingAdmitPod(pointer);
  return (req: AdmissionRequest, snapshot: ClusterSnapshot): Decision | Promise<Decision> => {
    const namespace = req.namespace || req.object?.metadata?.namespace || '';
    // Without a cluster (no source) namespaces come only from --state: nothing to read through.
    if (!source || req.operation !== 'CREATE' || req.subResource || !namespace || snapshot.namespaces.has(namespace))
      return admit(req, snapshot);
    const unknown = (why: string) =>
      withWarning(
        admitPod(req, snapshot, pointer),
        `egress-warden could not read namespace ${namespace} (${why}): its enforcement mode and capture settings were not applied to this pod`,
      );
    return within(source.read(namespace), source.timeoutMs ?? NAMESPACE_READ_MS).then(
      (ns) => {
        const c = ns && compact(ns);
        if (!ns || c?.kind !== 'Namespace') return unknown('not found');
        source.remember?.(ns);
        return admitPod(req, withNamespace(snapshot, c.namespace), pointer);
      },
      (e: unknown) => unknown(errorText(e)),
    );
  };
}
