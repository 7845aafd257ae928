/**
 * Which function judges each rule the catalogue names. Typed by the catalogue's rule names, so a
 * kind added there without its rule here does not type-check.
 */
import { validateNamespace } from '../capture/namespace-rule.ts';
import type { ValidatingRuleName } from '../catalogue/kinds.ts';
import { merge } from '../catalogue/result.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { asStr } from '../json.ts';
import { authorizationPolicyTargets } from '../rules/authorization-policy.ts';
import { validateEgress } from '../rules/egress.ts';
import { validateEgressNetwork } from '../rules/egress-network.ts';
import { LINKERD_GLOBAL_EGRESS_NAMESPACE, shadowsGlobalNetworks } from '../rules/egress-network-scope.ts';
import { snapshotLookup, type EgressLookup } from '../rules/egress-records.ts';
import { validateEgressRoute } from '../rules/gateway-routes.ts';
import { validateHttpRouteGroup } from '../rules/http-route-group.ts';
import { egressUnderMeshConfig, virtualServiceUnderMeshConfig } from '../rules/mesh-mode.ts';
import type { Rule } from '../rules/rule.ts';
import { validateServiceEntry } from '../rules/service-entry.ts';
import { validateSidecar } from '../rules/sidecar.ts';
import { validateVirtualService } from '../rules/virtual-service.ts';
import { serviceEntryOnWaypoint, useWaypoint, waypointServes } from '../rules/waypoint.ts';

export type Rules = Readonly<Record<ValidatingRuleName, Rule>>;

/** What the rules read of objects the snapshot does not hold, given the snapshot. */
export type LookupOf = (snapshot: ClusterSnapshot) => EgressLookup;

/**
 * The rules, with the cross-object lookups of the newer egress kinds taken from `lookupOf`: the
 * webhook's comes from the snapshot alone; `check` adds the objects it reads.
 */
export function rulesWith(lookupOf: LookupOf): Rules {
  const ns = (obj: Parameters<Rule>[0], fallback: string) => asStr(obj.metadata?.namespace) || fallback;
  return {
    'service-entry': (obj, ctx) => {
      const base = merge(validateServiceEntry(obj, ctx), serviceEntryOnWaypoint(obj, ctx.snapshot, ctx.namespace));
      const waypoints = lookupOf(ctx.snapshot).waypoint;
      if (!waypoints) return base;
      const namespace = ns(obj, ctx.namespace);
      const labels = ctx.snapshot.namespaces.get(namespace)?.labels;
      const binding = useWaypoint(obj.metadata?.labels, namespace, labels);
      return binding
        ? merge(
            base,
            waypointServes(
              binding,
              waypoints(binding.namespace, binding.name),
              namespace,
              labels,
              'metadata.labels[istio.io/use-waypoint]',
            ),
          )
        : base;
    },
    'virtual-service': (obj, ctx) => merge(validateVirtualService(obj, ctx), virtualServiceUnderMeshConfig(obj, ctx)),
    egress: (obj, ctx) => merge(validateEgress(obj, ctx), egressUnderMeshConfig(obj, ctx)),
    'http-route-group': validateHttpRouteGroup,
    namespace: validateNamespace,
    sidecar: (obj, ctx) => validateSidecar(obj, ctx, lookupOf(ctx.snapshot).sidecars?.(ns(obj, ctx.namespace))),
    'egress-network': (obj, ctx) => {
      const global = lookupOf(ctx.snapshot).egressNetworksIn?.(LINKERD_GLOBAL_EGRESS_NAMESPACE);
      return merge(validateEgressNetwork(obj, ctx), shadowsGlobalNetworks(ns(obj, ctx.namespace), global));
    },
    'egress-route': (obj, ctx) => validateEgressRoute(obj, ctx.snapshot, ctx.namespace, lookupOf(ctx.snapshot)),
    'authorization-policy': (obj, ctx) => {
      const namespace = ns(obj, ctx.namespace);
      const labels = ctx.snapshot.namespaces.get(namespace)?.labels;
      return authorizationPolicyTargets(obj, namespace, lookupOf(ctx.snapshot).serviceEntry, labels);
    },
  };
}

export const RULES: Rules = rulesWith(snapshotLookup);
