/**
 * Ambient egress: a ServiceEntry bound to a waypoint by `istio.io/use-waypoint` on itself or on its
 * namespace (Istio's GetUseWaypoint / fetchWaypointForTarget). istiod accepts all of these and then
 * sends the traffic around the waypoint, reporting at most a status condition; so all are warnings.
 * The entry's own-label DYNAMIC_DNS case istiod rejects is EW131 (service-entry.ts).
 */
import type { KubeObject } from '../admission/types.ts';
import { ISTIO_AUTOALLOCATE, ISTIO_USE_WAYPOINT, namesWaypoint } from '../catalogue/keys.ts';
import { isPlainTcp } from '../catalogue/protocols.ts';
import { finding, mergeAll, ok, type Result } from '../catalogue/result.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { asArr, asObj, asStr, onlyStrs } from '../json.ts';
import {
  ISTIO_USE_WAYPOINT_NAMESPACE,
  ISTIO_WAYPOINT_FOR,
  WAYPOINT_CLASS,
  WAYPOINT_CLASSES,
  type WaypointRecord,
} from './egress-records.ts';

/** The waypoint an object uses, and where the label was read. */
export type WaypointBinding = { readonly namespace: string; readonly name: string; readonly from: 'object' | 'namespace' };

/**
 * Istio's GetUseWaypoint over the object, then its namespace: the object's label wins, even one that
 * names no waypoint (namesWaypoint); `istio.io/use-waypoint-namespace` (read from the same labels)
 * moves the waypoint.
 */
export function useWaypoint(
  labels: Readonly<Record<string, unknown>> | undefined,
  namespace: string,
  namespaceLabels: Readonly<Record<string, unknown>> | undefined,
): WaypointBinding | undefined {
  for (const [from, set] of [
    ['object', labels],
    ['namespace', namespaceLabels],
  ] as const) {
    const value = set?.[ISTIO_USE_WAYPOINT];
    if (value === undefined) continue;
    if (!namesWaypoint(value)) return undefined;
    const ns = set?.[ISTIO_USE_WAYPOINT_NAMESPACE];
    return { namespace: typeof ns === 'string' && ns ? ns : namespace, name: value, from };
  }
  return undefined;
}

/** The waypoint as messages name it: its namespace only when it is not the object's own. */
const described = (b: WaypointBinding, own: string): string =>
  `waypoint ${b.namespace === own ? b.name : `${b.namespace}/${b.name}`}${b.from === 'namespace' ? ' (from the namespace label)' : ''}`;

/** Whether istiod allocates an address for an entry without one (ShouldV2AutoAllocateIP, keepHost). */
function autoAllocated(obj: KubeObject): boolean {
  const spec = asObj(obj.spec);
  const resolution = asStr(spec.resolution) || 'NONE';
  if (resolution === 'NONE') return false;
  if (asStr(obj.metadata?.labels?.[ISTIO_AUTOALLOCATE]).toLowerCase() === 'false') return false;
  return resolution === 'DYNAMIC_DNS' || onlyStrs(spec.hosts).some((h) => !h.startsWith('*'));
}

/** The ServiceEntry's own findings once it is bound to a waypoint: what the entry and its namespace say. */
export function serviceEntryOnWaypoint(obj: KubeObject, snapshot: ClusterSnapshot, contextNamespace: string): Result {
  const namespace = asStr(obj.metadata?.namespace) || contextNamespace;
  const binding = useWaypoint(obj.metadata?.labels, namespace, snapshot.namespaces.get(namespace)?.labels);
  if (!binding) return ok;
  const spec = asObj(obj.spec);
  const out: Result[] = [];
  if (binding.from === 'namespace' && spec.resolution === 'DYNAMIC_DNS' && spec.location === 'MESH_INTERNAL') {
    out.push(finding('EW621', 'spec.location', `${described(binding, namespace)} skips DYNAMIC_DNS with MESH_INTERNAL; use MESH_EXTERNAL`));
  }
  if (onlyStrs(spec.addresses).length === 0 && !autoAllocated(obj)) {
    out.push(
      finding(
        'EW622',
        'spec.addresses',
        `no addresses and none auto-allocated: traffic bypasses ${described(binding, namespace)}; add addresses`,
      ),
    );
  }
  const ports = asArr(spec.ports).map(asObj);
  if (ports.length && ports.every((p) => isPlainTcp(asStr(p.protocol)))) {
    out.push(
      finding(
        'EW623',
        'spec.ports',
        `TCP-only ports: traffic is reported to bypass ${described(binding, namespace)} (istio#59576); declare TLS if it is TLS`,
      ),
    );
  }
  const exportTo = onlyStrs(spec.exportTo);
  if (exportTo.length && !exportTo.includes('*')) {
    out.push(
      finding(
        'EW624',
        'spec.exportTo',
        `ztunnel ignores exportTo (istio#55163): all namespaces reach ${described(binding, namespace)}; use an AuthorizationPolicy`,
      ),
    );
  }
  return mergeAll(out);
}

/** matchLabels of an allowedRoutes Selector against a namespace's labels. */
const selects = (selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, unknown>>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * Whether the waypoint a binding names serves the object in `namespace` (fetchWaypointForService):
 * it exists, is a waypoint, serves service traffic, and admits the namespace. `waypoint` is the
 * Gateway the binding names as the lookup holds it (undefined: none exists).
 */
export function waypointServes(
  binding: WaypointBinding,
  waypoint: WaypointRecord | undefined,
  namespace: string,
  namespaceLabels: Readonly<Record<string, unknown>> | undefined,
  at: string,
): Result {
  if (!waypoint) {
    return finding('EW625', at, `${described(binding, namespace)} does not exist: traffic bypasses it; create it or fix the label`);
  }
  if (!WAYPOINT_CLASSES.includes(waypoint.gatewayClassName)) {
    return finding(
      'EW626',
      at,
      `${described(binding, namespace)} is a Gateway of class ${waypoint.gatewayClassName || '(none)'}, not ${WAYPOINT_CLASS}`,
    );
  }
  const serves = waypoint.waypointFor ?? 'service';
  if (serves !== 'service' && serves !== 'all') {
    return finding(
      'EW627',
      at,
      `${described(binding, namespace)} has ${ISTIO_WAYPOINT_FOR}: ${serves}; it serves no service traffic: label it service or all`,
    );
  }
  const from = waypoint.from ?? 'Same';
  const admitted =
    from === 'All' ||
    (from === 'Same' && waypoint.namespace === namespace) ||
    (from === 'Selector' && (waypoint.selector === undefined || selects(waypoint.selector, namespaceLabels ?? {})));
  return admitted ? ok : finding('EW628', at, `${described(binding, namespace)} rejects this namespace: fix allowedRoutes`);
}
