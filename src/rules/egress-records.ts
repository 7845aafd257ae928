/**
 * What the rules of the newer egress kinds read of other objects that the cluster snapshot does
 * not hold yet: the Sidecars of a namespace, waypoint Gateways, Linkerd EgressNetworks and
 * ServiceEntries by name. Each is a compact record, as the snapshot's indexes are, and a lookup
 * that is absent means "not known": a rule then says nothing rather than report a missing object.
 *
 * `check` builds the lookup from the objects it reads (recordsOf); `serve` will build it from
 * informers. The records depend only on json.ts, so they can move into cluster/snapshot.ts as they are.
 */
import type { KubeObject } from '../admission/types.ts';
import { ISTIO_USE_WAYPOINT } from '../catalogue/keys.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
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
  /** false when the record says nothing of labels (read from the snapshot's port index) */
  readonly labelsKnown: boolean;
};

/** Each member absent: that kind is not known, and the rules reading it stay silent. */
export type EgressLookup = {
  readonly sidecars?: (namespace: string) => readonly SidecarRecord[];
  readonly waypoint?: (namespace: string, name: string) => WaypointRecord | undefined;
  readonly egressNetwork?: (namespace: string, name: string) => EgressNetworkRecord | undefined;
  /** the EgressNetworks of one namespace */
  readonly egressNetworksIn?: (namespace: string) => readonly EgressNetworkRecord[];
  readonly serviceEntry?: (namespace: string, name: string) => ServiceEntryRecord | undefined;
};

export const NOTHING_KNOWN: EgressLookup = Object.freeze({});

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

/**
 * The lookup of everything in `objects`: what `check` knows. A kind is known only when `objects`
 * hold at least one object of it: a set of files without any Gateway says nothing of the cluster's
 * waypoints. Objects of the same kind, namespace and name count once, the last one, as
 * `kubectl apply` leaves them.
 */
/** The group (as the apiVersion prefix) of each kind the lookup holds. */
const GROUP_PREFIX: Readonly<Record<string, string>> = {
  Sidecar: 'networking.istio.io/',
  Gateway: 'gateway.networking.k8s.io/',
  EgressNetwork: 'policy.linkerd.io/',
  ServiceEntry: 'networking.istio.io/',
};

export function recordsOf(objects: readonly KubeObject[]): EgressLookup {
  const sidecars = new Map<string, Map<string, SidecarRecord>>();
  const waypoints = new Map<string, WaypointRecord>();
  const networks = new Map<string, EgressNetworkRecord>();
  // `audit` hands over every stored ServiceEntry and judges no kind that asks for them by name:
  // their records are built on the first question only.
  const entryObjects: KubeObject[] = [];
  let entries: Map<string, ServiceEntryRecord> | undefined;
  const key = (ns: string, name: string) => `${ns}/${name}`;
  for (const o of objects) {
    // read without building strings: audit hands over every stored object
    const kind = o.kind ?? '';
    const prefix = Object.hasOwn(GROUP_PREFIX, kind) ? GROUP_PREFIX[kind] : undefined;
    if (prefix === undefined || !o.apiVersion?.startsWith(prefix)) continue;
    switch (kind) {
      case 'Sidecar': {
        const r = sidecarRecord(o);
        let byName = sidecars.get(r.namespace);
        if (!byName) sidecars.set(r.namespace, (byName = new Map()));
        byName.set(r.name, r);
        break;
      }
      case 'Gateway': {
        const r = waypointRecord(o);
        waypoints.set(key(r.namespace, r.name), r);
        break;
      }
      case 'EgressNetwork': {
        const r = egressNetworkRecord(o);
        networks.set(key(r.namespace, r.name), r);
        break;
      }
      case 'ServiceEntry':
        entryObjects.push(o);
        break;
    }
  }
  const entry = (ns: string, name: string): ServiceEntryRecord | undefined => {
    if (!entries) {
      entries = new Map();
      for (const o of entryObjects) {
        const r = serviceEntryRecord(o);
        entries.set(key(r.namespace, r.name), r);
      }
    }
    return entries.get(key(ns, name));
  };
  return {
    ...(sidecars.size ? { sidecars: (ns: string) => [...(sidecars.get(ns)?.values() ?? [])] } : {}),
    ...(waypoints.size ? { waypoint: (ns: string, name: string) => waypoints.get(key(ns, name)) } : {}),
    ...(networks.size
      ? {
          egressNetwork: (ns: string, name: string) => networks.get(key(ns, name)),
          egressNetworksIn: (ns: string) => [...networks.values()].filter((n) => n.namespace === ns),
        }
      : {}),
    ...(entryObjects.length ? { serviceEntry: entry } : {}),
  };
}

/**
 * ServiceEntries by name, read from the snapshot's port index: a scan of every port record, until
 * the snapshot indexes entries by name. Entries without ports are not in that index, and labels are
 * not kept there (labelsKnown false).
 */
export function serviceEntriesIn(snapshot: ClusterSnapshot): (namespace: string, name: string) => ServiceEntryRecord | undefined {
  return (namespace, name) => {
    let found: { hosts: readonly string[]; ports: ServiceEntryPortRecord[] } | undefined;
    for (const list of snapshot.serviceEntriesByPort.values()) {
      for (const p of list) {
        if (p.entry.name !== name || p.entry.namespace !== namespace) continue;
        found ??= { hosts: p.entry.hosts, ports: [] };
        if (!found.ports.some((q) => q.number === p.number)) found.ports.push({ number: p.number, name: p.name, protocol: p.protocol });
      }
    }
    return found && { namespace, name, hosts: found.hosts, ports: found.ports, labelsKnown: false };
  };
}

/** What the snapshot tells today: ServiceEntries by name. */
export const snapshotLookup = (snapshot: ClusterSnapshot): EgressLookup => ({ serviceEntry: serviceEntriesIn(snapshot) });
