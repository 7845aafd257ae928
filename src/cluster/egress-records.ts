/**
 * The records of the newer egress kinds that rules compare with other objects: the Sidecars of a
 * namespace, waypoint Gateways, Linkerd EgressNetworks and ServiceEntries by name. Each is what the
 * rules read of the object and nothing more, built the same way for the snapshot's indexes
 * (indexes.ts), the files `check` and `explain` read, and the informers' carriers.
 */
import type { KubeObject } from '../admission/types.ts';
import { ISTIO_USE_WAYPOINT } from '../catalogue/keys.ts';
import { asArr, asInt, asObj, asStr, isObj, onlyStrs } from '../json.ts';

/** Istio: the namespace of the waypoint `istio.io/use-waypoint` names, when not the object's own. */
export const ISTIO_USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace';
/** Istio: which traffic a waypoint serves (service, workload, all, none), on the Gateway or its GatewayClass. */
export const ISTIO_WAYPOINT_FOR = 'istio.io/waypoint-for';
export const WAYPOINT_CLASS = 'istio-waypoint';
/** The GatewayClasses istiod deploys waypoints for (constants.WaypointGatewayClassName, AgentgatewayWaypointClassName). */
export const WAYPOINT_CLASSES: readonly string[] = [WAYPOINT_CLASS, 'istio-agentgateway-waypoint'];

export type SidecarRecord = {
  readonly namespace: string;
  readonly name: string;
  /** undefined: no workloadSelector (the namespace's default Sidecar) */
  readonly selector: Readonly<Record<string, string>> | undefined;
  /** RFC 3339, as stored; "" when unknown (objects read from files) */
  readonly created: string;
  /** outboundTrafficPolicy.mode as written (REGISTRY_ONLY, the zero value, when the policy omits it); "" without a policy */
  readonly outboundPolicy: string;
  /** the egress listeners: port number (undefined: the catch-all) and hosts as written */
  readonly egress: readonly { readonly port: number | undefined; readonly hosts: readonly string[] }[];
};

export type WaypointRecord = {
  readonly namespace: string;
  readonly name: string;
  readonly gatewayClassName: string;
  /** the Gateway's istio.io/waypoint-for label; undefined when unset */
  readonly waypointFor: string | undefined;
  /** allowedRoutes.namespaces of the listener istiod reads (HBONE on 15008); undefined: no such listener, "Same" */
  readonly from: 'All' | 'Same' | 'Selector' | undefined;
  /** matchLabels of a Selector; undefined when the selector uses matchExpressions (not judged) */
  readonly selector: Readonly<Record<string, string>> | undefined;
};

export type EgressNetworkRecord = {
  readonly namespace: string;
  readonly name: string;
  readonly trafficPolicy: string;
  /** as written; undefined: every address outside the cluster networks */
  readonly networks: readonly { readonly cidr: string; readonly except: readonly string[] }[] | undefined;
  readonly created: string;
};

export type ServiceEntryPortRecord = { readonly number: number; readonly name: string; readonly protocol: string };

export type ServiceEntryRecord = {
  readonly namespace: string;
  readonly name: string;
  readonly hosts: readonly string[];
  readonly ports: readonly ServiceEntryPortRecord[];
  /** the entry's own istio.io/use-waypoint label; undefined when unset or not known */
  readonly useWaypoint?: string | undefined;
  /** false when the record says nothing of labels */
  readonly labelsKnown: boolean;
};

/** The kinds whose records the rules look up by name or namespace; a kind not known leaves its rules silent. */
export const EGRESS_RECORD_KINDS = ['Sidecar', 'Gateway', 'EgressNetwork', 'ServiceEntry'] as const;
export type EgressRecordKind = (typeof EGRESS_RECORD_KINDS)[number];

/** The group (as the apiVersion prefix) of each kind records are kept of. */
export const EGRESS_RECORD_GROUPS: Readonly<Record<EgressRecordKind, string>> = {
  Sidecar: 'networking.istio.io',
  Gateway: 'gateway.networking.k8s.io',
  EgressNetwork: 'policy.linkerd.io',
  ServiceEntry: 'networking.istio.io',
};

const labelMap = (v: unknown): Readonly<Record<string, string>> => {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(asObj(v))) if (typeof x === 'string') out[k] = x;
  return out;
};

const ref = (o: KubeObject) => ({ namespace: asStr(o.metadata?.namespace), name: asStr(o.metadata?.name) });

export function sidecarRecord(o: KubeObject): SidecarRecord {
  const spec = asObj(o.spec);
  return {
    ...ref(o),
    selector: isObj(spec.workloadSelector) ? labelMap(spec.workloadSelector.labels) : undefined,
    created: asStr(o.metadata?.creationTimestamp),
    outboundPolicy: isObj(spec.outboundTrafficPolicy) ? asStr(spec.outboundTrafficPolicy.mode) || 'REGISTRY_ONLY' : '',
    egress: asArr(spec.egress)
      .map(asObj)
      .map((l) => ({ port: isObj(l.port) ? asInt(l.port.number) : undefined, hosts: onlyStrs(l.hosts) })),
  };
}

/** The listener whose allowedRoutes istiod reads for attachment (makeAllowedRoutes): HBONE on 15008. */
export function waypointRecord(o: KubeObject): WaypointRecord {
  const spec = asObj(o.spec);
  const hbone = asArr(spec.listeners)
    .map(asObj)
    .find((l) => l.protocol === 'HBONE' && l.port === 15008);
  const namespaces = asObj(asObj(hbone?.allowedRoutes).namespaces);
  const from = hbone ? asStr(namespaces.from) || 'Same' : undefined;
  const sel = asObj(namespaces.selector);
  return {
    ...ref(o),
    gatewayClassName: asStr(spec.gatewayClassName),
    waypointFor: o.metadata?.labels?.[ISTIO_WAYPOINT_FOR],
    from: from === 'All' || from === 'Same' || from === 'Selector' ? from : from === undefined ? undefined : 'Same',
    selector: asArr(sel.matchExpressions).length ? undefined : labelMap(sel.matchLabels),
  };
}

export function egressNetworkRecord(o: KubeObject): EgressNetworkRecord {
  const spec = asObj(o.spec);
  return {
    ...ref(o),
    trafficPolicy: asStr(spec.trafficPolicy),
    networks: Array.isArray(spec.networks)
      ? spec.networks.map(asObj).map((n) => ({ cidr: asStr(n.cidr), except: onlyStrs(n.except) }))
      : undefined,
    created: asStr(o.metadata?.creationTimestamp),
  };
}

export function serviceEntryRecord(o: KubeObject): ServiceEntryRecord {
  const spec = asObj(o.spec);
  return {
    ...ref(o),
    hosts: onlyStrs(spec.hosts),
    ports: asArr(spec.ports)
      .map(asObj)
      .map((p) => ({ number: asInt(p.number), name: asStr(p.name), protocol: asStr(p.protocol).toUpperCase() })),
    useWaypoint: o.metadata?.labels?.[ISTIO_USE_WAYPOINT],
    labelsKnown: true,
  };
}
