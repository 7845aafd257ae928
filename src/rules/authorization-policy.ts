/**
 * Istio AuthorizationPolicy attached to a ServiceEntry by `targetRefs` (ambient egress): the entry
 * must exist in the policy's namespace (istiod forbids cross-namespace targetRefs, so its own
 * validatePolicyTargetReference leaves nothing else to name), and must use a waypoint, the only
 * proxy that enforces such a policy. The rest of the policy is left to istiod's own webhook.
 */
import type { KubeObject } from '../admission/types.ts';
import { ISTIO_USE_WAYPOINT } from '../catalogue/keys.ts';
import { SERVICE_ENTRY_REF, SERVICE_ENTRY_TARGETS } from '../catalogue/resources.ts';
import { finding, mergeAll, ok, type Result } from '../catalogue/result.ts';
import { asArr, asObj, asStr, isObj } from '../json.ts';
import type { ServiceEntryRecord } from './egress-records.ts';
import { useWaypoint } from './waypoint.ts';

export const ISTIO_NETWORKING = SERVICE_ENTRY_REF.group;

/**
 * The targetRefs naming a ServiceEntry, with their paths (targetRef, the deprecated single form,
 * too): the fields and kind the resource table says the webhook is sent for (SERVICE_ENTRY_TARGETS).
 */
export function serviceEntryTargets(obj: KubeObject): { readonly name: string; readonly at: string }[] {
  const spec = asObj(obj.spec);
  const refs: { ref: unknown; at: string }[] = SERVICE_ENTRY_TARGETS.refs.flatMap(({ field, list }) =>
    list
      ? asArr(spec[field]).map((ref, i) => ({ ref, at: `spec.${field}[${i}]` }))
      : isObj(spec[field])
        ? [{ ref: spec[field], at: `spec.${field}` }]
        : [],
  );
  const [target] = SERVICE_ENTRY_TARGETS.naming;
  return refs
    .filter(({ ref }) => isObj(ref) && ref.kind === target?.kind && ref.group === target?.group && !asStr(ref.namespace))
    .map(({ ref, at }) => ({ name: asStr(asObj(ref).name), at: `${at}.name` }))
    .filter((t) => t.name !== '');
}

/**
 * `entry` finds a ServiceEntry of the policy's namespace by name (undefined: none); absent, nothing
 * is known and nothing is said. `namespaceLabels` are the policy's namespace's, for a waypoint the
 * namespace names.
 */
export function authorizationPolicyTargets(
  obj: KubeObject,
  contextNamespace: string,
  entry: ((namespace: string, name: string) => ServiceEntryRecord | undefined) | undefined,
  namespaceLabels: Readonly<Record<string, unknown>> | undefined,
): Result {
  if (!entry) return ok;
  const namespace = asStr(obj.metadata?.namespace) || contextNamespace;
  return mergeAll(
    serviceEntryTargets(obj).map(({ name, at }) => {
      const found = entry(namespace, name);
      if (!found) return finding('EW630', at, `ServiceEntry ${name} not found in this namespace: the policy applies nowhere`);
      if (!found.labelsKnown) return ok;
      const labels = found.useWaypoint === undefined ? {} : { [ISTIO_USE_WAYPOINT]: found.useWaypoint };
      return useWaypoint(labels, namespace, namespaceLabels)
        ? ok
        : finding('EW631', at, `ServiceEntry ${name} uses no waypoint: nothing enforces this policy; label it istio.io/use-waypoint`);
    }),
  );
}
