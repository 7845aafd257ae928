/**
 * Pods whose capture went stale. The ranges are computed once, when a pod is created, from the
 * cluster CIDRs and bypass settings known then; init containers and these annotations cannot change
 * afterwards. When a node joins with a new podCIDR, a ServiceCIDR is added or a namespace's bypass
 * changes, existing pods keep the old ranges: traffic to the new range goes around the sidecar
 * (no mTLS, no policy) until the pod is restarted. A pod is stale when the mutation, run on it now,
 * would write different ranges than it carries.
 */
import type { KubeObject } from '../admission/types.ts';
import { planPod } from '../capture/plan-pod.ts';
import { APPLIED, MESH_KEYS } from '../catalogue/keys.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { asObj, asStr } from '../json.ts';

export type RangeChange = {
  /** the annotation key, or `initContainers[N].args` for istio-init */
  readonly where: string;
  /** what the pod carries; null when absent */
  readonly was: string | null;
  /** what the mutation would write now; null when it would remove it */
  readonly now: string | null;
};

export type StalePod = {
  readonly namespace: string;
  readonly name: string;
  readonly changes: readonly RangeChange[];
  /** why the pod is stale, in words: restart it to apply the current ranges */
  readonly why: string;
};

const RANGE_KEYS: ReadonlySet<string> = new Set(Object.values(MESH_KEYS).flatMap((k) => [k.include, k.exclude]));

/** JSON Pointer segment decoding (RFC 6901). */
const decodePointer = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');

/** The range changes a capture patch makes, read against the pod it applies to. */
function rangeChanges(pod: KubeObject, patch: readonly { op: string; path: string; value?: unknown }[]): RangeChange[] {
  const annotations = asObj(pod.metadata?.annotations);
  const was = (key: string) => (typeof annotations[key] === 'string' ? (annotations[key] as string) : null);
  const out: RangeChange[] = [];
  for (const op of patch) {
    if (op.path === '/metadata/annotations' && op.op === 'add') {
      for (const [key, value] of Object.entries(asObj(op.value)))
        if (RANGE_KEYS.has(key)) out.push({ where: key, was: null, now: asStr(value) });
      continue;
    }
    const annotation = /^\/metadata\/annotations\/(.+)$/.exec(op.path);
    if (annotation) {
      const key = decodePointer(annotation[1]!);
      if (RANGE_KEYS.has(key)) out.push({ where: key, was: was(key), now: op.op === 'remove' ? null : asStr(op.value) });
      continue;
    }
    const init = /^\/spec\/initContainers\/(\d+)\/args(?:\/(\d+))?$/.exec(op.path);
    if (init) {
      const i = Number(init[1]);
      const args = (pod.spec as { initContainers?: { args?: unknown }[] } | undefined)?.initContainers?.[i]?.args;
      const list = Array.isArray(args) ? args : undefined;
      if (init[2] !== undefined) {
        // one argument replaced: that argument on both sides, named by the flag before it
        const at = Number(init[2]);
        const flag = typeof list?.[at - 1] === 'string' ? ` ${list[at - 1]}` : '';
        out.push({
          where: `initContainers[${i}].args[${at}]${flag}`,
          was: typeof list?.[at] === 'string' ? (list[at] as string) : null,
          now: op.op === 'remove' ? null : asStr(op.value),
        });
      } else {
        out.push({
          where: `initContainers[${i}].args`,
          was: list ? list.join(' ') : null,
          now: op.op === 'remove' ? null : Array.isArray(op.value) ? op.value.join(' ') : asStr(op.value),
        });
      }
    }
  }
  return out;
}

/** Stale pods among `pods`, judged against `snapshot` (its namespaces and cluster CIDRs). */
export function stalePods(pods: Iterable<KubeObject>, snapshot: ClusterSnapshot): StalePod[] {
  const out: StalePod[] = [];
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const plan = planPod(pod, namespace, snapshot.namespaces.get(namespace), snapshot);
    if (!plan.build || plan.findings.errors.length) continue;
    const changes = rangeChanges(pod, plan.build().patch);
    if (!changes.length) continue;
    const ours = typeof asObj(pod.metadata?.annotations)[APPLIED] === 'string';
    const why = ours
      ? 'its ranges were computed from the cluster as it was when the pod was created; restart it to capture the current ranges'
      : 'egress-warden never mutated it (created before the webhook was installed, or while it failed open); restart it to apply its capture settings';
    out.push({ namespace, name, changes, why });
  }
  return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}
