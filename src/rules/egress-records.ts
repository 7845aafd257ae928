/**
 * How the rules of the newer egress kinds look up other objects: the Sidecars of a namespace,
 * waypoint Gateways, Linkerd EgressNetworks and ServiceEntries by name. The records themselves are
 * the snapshot's (cluster/egress-records.ts); a lookup member that is absent means "not known", and
 * a rule then says nothing rather than report a missing object.
 *
 * The webhook, the audits and `check` (through the snapshot it grows from its files) read the
 * snapshot (snapshotLookup); `explain`, which also needs the stored objects whole for its fixes,
 * the objects it read (recordsOf).
 */
import type { KubeObject } from '../admission/types.ts';
import {
  derived,
  EGRESS_RECORD_GROUPS,
  egressNetworkRecord,
  serviceEntryRecord,
  sidecarRecord,
  waypointRecord,
  type ClusterSnapshot,
  type EgressNetworkRecord,
  type EgressRecordKind,
  type ServiceEntryRecord,
  type SidecarRecord,
  type WaypointRecord,
} from '../cluster/snapshot.ts';

export {
  egressNetworkRecord,
  ISTIO_USE_WAYPOINT_NAMESPACE,
  ISTIO_WAYPOINT_FOR,
  serviceEntryRecord,
  sidecarRecord,
  WAYPOINT_CLASS,
  WAYPOINT_CLASSES,
  waypointRecord,
  type EgressNetworkRecord,
  type ServiceEntryPortRecord,
  type ServiceEntryRecord,
  type SidecarRecord,
  type WaypointRecord,
} from '../cluster/snapshot.ts';

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

/** The group (as the apiVersion prefix) of each kind the lookup holds. */
const GROUP_PREFIX: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(EGRESS_RECORD_GROUPS).map(([kind, group]) => [kind, `${group}/`]),
);

/**
 * The lookup of everything in `objects`: what `explain` knows. A kind is known only when `objects`
 * hold at least one object of it: a set of files without any Gateway says nothing of the cluster's
 * waypoints. Objects of the same kind, namespace and name count once, the last one, as
 * `kubectl apply` leaves them.
 */
export function recordsOf(objects: readonly KubeObject[]): EgressLookup {
  const sidecars = new Map<string, Map<string, SidecarRecord>>();
  const waypoints = new Map<string, WaypointRecord>();
  const networks = new Map<string, EgressNetworkRecord>();
  // A cluster's worth of ServiceEntries may be handed over and none asked for by name: their
  // records are built on the first question only.
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

const NO_RECORDS: readonly never[] = Object.freeze([]);

const LOOKUP = Symbol('egress lookup');

/**
 * What the snapshot holds: ServiceEntries by name always (the rules have always compared with the
 * snapshot's entries), the other kinds only when the snapshot knows them (knownKinds). Built once
 * per snapshot: every review of a kind asks for it.
 */
export const snapshotLookup = (snapshot: ClusterSnapshot): EgressLookup => derived(snapshot, LOOKUP, lookupOf);

function lookupOf(snapshot: ClusterSnapshot): EgressLookup {
  const known = (kind: EgressRecordKind) => snapshot.knownKinds.has(kind);
  const named = <R extends { readonly namespace: string }>(list: readonly R[] | undefined, namespace: string) =>
    list?.find((r) => r.namespace === namespace);
  return {
    ...(known('Sidecar') ? { sidecars: (ns: string) => snapshot.sidecarsByNamespace.get(ns) ?? NO_RECORDS } : {}),
    ...(known('Gateway') ? { waypoint: (ns: string, name: string) => named(snapshot.waypointsByName.get(name), ns) } : {}),
    ...(known('EgressNetwork')
      ? {
          egressNetwork: (ns: string, name: string) => snapshot.egressNetworksByNamespace.get(ns)?.find((n) => n.name === name),
          egressNetworksIn: (ns: string) => snapshot.egressNetworksByNamespace.get(ns) ?? NO_RECORDS,
        }
      : {}),
    serviceEntry: (ns: string, name: string) => named(snapshot.serviceEntriesByName.get(name), ns),
  };
}
