/**
 * An ambient pod's egress: ztunnel captures all of it and does not enforce REGISTRY_ONLY
 * (istio/istio#54281), so nothing is blocked for lack of a ServiceEntry; what can silently go wrong
 * is the waypoint a ServiceEntry for the destination names: absent, not a waypoint, serving
 * workloads only or refusing the namespace, and the traffic goes around it, with the
 * AuthorizationPolicies attached there. The same readings as the admission rules (rules/waypoint.ts).
 */
import type { KubeObject } from '../admission/types.ts';
import type { ClusterSnapshot, ServiceEntryPort } from '../cluster/snapshot.ts';
import { ISTIO_USE_WAYPOINT } from '../catalogue/keys.ts';
import { ISTIO_WAYPOINT_FOR, WAYPOINT_CLASS } from '../rules/egress-records.ts';
import { useWaypoint, waypointServes, type WaypointBinding } from '../rules/waypoint.ts';
import { hostMatches, type Destination } from './destination.ts';
import { appliable, type EgressObjects } from './egress-objects.ts';
import { matchingPorts } from './istio.ts';
import type { FixOption, Reason, Source } from './types.ts';

/** The waypoint `istioctl waypoint generate --for service` writes. */
export function waypointGateway(b: Pick<WaypointBinding, 'namespace' | 'name'>): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: b.name, namespace: b.namespace, labels: { [ISTIO_WAYPOINT_FOR]: 'service' } },
    spec: { gatewayClassName: WAYPOINT_CLASS, listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
  };
}

const wpName = (b: WaypointBinding): string => `Gateway ${b.namespace}/${b.name}`;

/** The reasons and fixes for the ServiceEntries of the destination, seen from an ambient pod. */
export function ambientEgress(
  source: Source,
  dest: Destination,
  snapshot: ClusterSnapshot,
  egress: EgressObjects,
): { readonly reasons: readonly Reason[]; readonly fix: readonly FixOption[] } {
  const reasons: Reason[] = [];
  const fix: FixOption[] = [];
  const entries = new Map<string, ServiceEntryPort['entry']>();
  for (const p of matchingPorts(snapshot, dest, source.namespace)) entries.set(`${p.entry.namespace}/${p.entry.name}`, p.entry);
  if (entries.size === 0) {
    reasons.push({
      step: 'route',
      says: `no ServiceEntry names ${dest.host}:${dest.port}: ztunnel sends the connection straight out, with no waypoint on the way`,
    });
    return { reasons, fix };
  }
  for (const entry of entries.values()) {
    const name = `ServiceEntry ${entry.namespace}/${entry.name}`;
    const record = egress.lookup.serviceEntry?.(entry.namespace, entry.name);
    const nsLabels = snapshot.namespaces.get(entry.namespace)?.labels;
    if (!record?.labelsKnown) {
      reasons.push({ step: 'note', says: `the labels of ${name} were not read: whether it uses a waypoint is not known`, objects: [name] });
      continue;
    }
    const labels = record.useWaypoint === undefined ? {} : { [ISTIO_USE_WAYPOINT]: record.useWaypoint };
    const binding = useWaypoint(labels, entry.namespace, nsLabels);
    const host = entry.hosts.find((h) => hostMatches(h, dest.host)) ?? dest.host;
    if (!binding) {
      reasons.push({
        step: 'route',
        says: `${name} registers ${host} and uses no waypoint (${ISTIO_USE_WAYPOINT} on neither it nor its namespace): ztunnel sends the traffic directly, and AuthorizationPolicies attached to the entry are not enforced`,
        objects: [name],
      });
      continue;
    }
    const waypoints = egress.lookup.waypoint;
    if (!waypoints) {
      reasons.push({
        step: 'note',
        says: `${name} uses waypoint ${binding.namespace}/${binding.name}; no Gateway was read, so whether it exists and serves service traffic is not known`,
        objects: [name],
      });
      continue;
    }
    const r = waypointServes(binding, waypoints(binding.namespace, binding.name), entry.namespace, nsLabels, 'metadata.labels');
    const problem = r.warnings[0] ?? r.errors[0];
    if (!problem) {
      reasons.push({
        step: 'route',
        says: `${name} sends ${host} through waypoint ${binding.namespace}/${binding.name}, which exists and serves service traffic: its AuthorizationPolicies apply there`,
        objects: [name, wpName(binding)],
      });
      continue;
    }
    reasons.push({
      step: 'conflict',
      says: `${name} uses waypoint ${binding.namespace}/${binding.name} (from the ${binding.from === 'object' ? 'entry' : 'namespace'} label), but [${problem.code}] ${problem.message}: the traffic goes around it, and the policies attached there do not apply`,
      objects: [name, wpName(binding)],
    });
    if (problem.code === 'EW625') {
      fix.push({ objects: [waypointGateway(binding)], what: `the waypoint ${wpName(binding)} (istioctl waypoint generate --for service)` });
    } else if (problem.code === 'EW627') {
      const stored = egress.stored('Gateway', binding.namespace, binding.name);
      if (stored) {
        const g = appliable(stored);
        fix.push({
          objects: [{ ...g, metadata: { ...g.metadata, labels: { ...g.metadata?.labels, [ISTIO_WAYPOINT_FOR]: 'service' } } }],
          what: `${wpName(binding)} labelled ${ISTIO_WAYPOINT_FOR}=service`,
          note: 'the Gateway is printed whole, as stored, with the label changed',
        });
      }
    }
  }
  return { reasons, fix };
}
