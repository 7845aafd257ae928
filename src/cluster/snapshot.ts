/**
 * The immutable view of the cluster that rules and mutation read. Indexes hold compact records
 * (what the rules need), never whole objects, so memory stays flat as clusters grow.
 */
import type { Cidr } from '../net/cidr.ts';
import type { EgressNetworkRecord, EgressRecordKind, ServiceEntryRecord, SidecarRecord, WaypointRecord } from './egress-records.ts';
import { NO_MESH_CONFIG, type MeshConfig } from './mesh-config.ts';

// The records of the newer egress kinds are part of the snapshot; rules reach them through here.
export * from './egress-records.ts';

/** A detected range with where it came from, e.g. "ServiceCIDR/kubernetes", "config", "default (kubeadm)". */
export type DetectedRange = {
  readonly cidr: Cidr;
  readonly origin: string;
  /** the range is a slice of the real one (a node's podCIDR): ranges of nodes that join later are missing */
  readonly partial?: boolean;
};

export type ClusterCidrs = {
  readonly pod: readonly DetectedRange[];
  readonly service: readonly DetectedRange[];
};

export type NamespaceInfo = {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** only the annotations this project reads (egress-warden.io/*, mesh capture keys) */
  readonly annotations: Readonly<Record<string, string>>;
};

/** Identity of an indexed object: lets a rule skip the previous version of the object it validates. */
export type ObjectRef = { readonly namespace: string; readonly name: string };

export type ServiceEntryRef = ObjectRef & {
  readonly hosts: readonly string[];
  /** as written; empty means the mesh default (all namespaces) */
  readonly exportTo: readonly string[];
  readonly resolution: string;
  readonly addresses: readonly string[];
};

export type ServiceEntryPort = {
  readonly entry: ServiceEntryRef;
  readonly number: number;
  readonly name: string;
  /** upper case, as Istio compares it; "" when unset */
  readonly protocol: string;
};

/** One match of a VirtualService route that sidecars use (matches bound to gateways only are left out). */
export type VirtualServiceRoute = {
  readonly service: ObjectRef & { readonly hosts: readonly string[]; readonly exportTo: readonly string[] };
  readonly type: 'http' | 'tls' | 'tcp';
  /** match port; undefined matches any port */
  readonly port: number | undefined;
};

export type EgressPort = {
  readonly egress: ObjectRef & { readonly hosts: readonly string[]; readonly ipAddresses: readonly string[] };
  /** "namespace/name" of the source ServiceAccount */
  readonly source: string;
  readonly number: number;
  /** as written (OSM is case-sensitive) */
  readonly protocol: string;
};

export type ServicePort = {
  readonly service: ObjectRef & { readonly clusterIPs: readonly string[] };
  readonly port: number;
  readonly name: string;
  /** lower case, from appProtocol or the port-name prefix; "" when neither says */
  readonly protocol: string;
};

export type ClusterSnapshot = {
  readonly cidrs: ClusterCidrs;
  readonly namespaces: ReadonlyMap<string, NamespaceInfo>;
  /** keyed by exact host as written (wildcards included verbatim) */
  readonly serviceEntriesByHost: ReadonlyMap<string, readonly ServiceEntryPort[]>;
  readonly serviceEntriesByPort: ReadonlyMap<number, readonly ServiceEntryPort[]>;
  /**
   * The ports of serviceEntriesByPort whose entry has no addresses and whose protocol is plain TCP
   * or unset (isPlainTcp): the ports that share 0.0.0.0:<port> and can take one another's traffic.
   * A port shared by thousands of addressed or TLS entries then costs nothing to check.
   */
  readonly unaddressedTcpServiceEntriesByPort: ReadonlyMap<number, readonly ServiceEntryPort[]>;
  readonly virtualServicesByHost: ReadonlyMap<string, readonly VirtualServiceRoute[]>;
  /** keyed by egressKey(source, port) */
  readonly egressesBySourcePort: ReadonlyMap<string, readonly EgressPort[]>;
  readonly servicesByPort: ReadonlyMap<number, readonly ServicePort[]>;
  /** "namespace/name" of every HTTPRouteGroup → how many matches it lists (0: an Egress using it allows nothing) */
  readonly httpRouteGroups: ReadonlyMap<string, number>;
  /** the meshes' own egress settings (mesh-config.ts); `read: false` when nothing could be read */
  readonly mesh: MeshConfig;
  /** Istio Sidecars by namespace */
  readonly sidecarsByNamespace: ReadonlyMap<string, readonly SidecarRecord[]>;
  /** Gateway API Gateways (read as waypoints) by name; names rarely repeat across namespaces, and no key string is built */
  readonly waypointsByName: ReadonlyMap<string, readonly WaypointRecord[]>;
  /** Linkerd EgressNetworks by namespace */
  readonly egressNetworksByNamespace: ReadonlyMap<string, readonly EgressNetworkRecord[]>;
  /** every ServiceEntry (with or without ports) by name, with its use-waypoint label */
  readonly serviceEntriesByName: ReadonlyMap<string, readonly ServiceEntryRecord[]>;
  /**
   * The kinds whose records above are the whole of what the cluster holds (docs/cluster-state.md):
   * an informer that synced (even with no object), a CRD that discovery says is not installed, or
   * objects of the kind read from files. A rule reports an object of a kind missing only when it
   * is known here; of any other kind it says nothing.
   */
  readonly knownKinds: ReadonlySet<EgressRecordKind>;
};

export const egressKey = (source: string, port: number): string => `${source}#${port}`;

/**
 * A value worked out from a snapshot, once, and kept on the snapshot object itself. Not in a
 * WeakMap keyed by snapshots: the overlay lays a new snapshot over the published one for the
 * review after each admitted write, and in V8 a WeakMap entry with a young key survived the
 * young-generation collections with all it reached, which copied every such snapshot into the old
 * generation (a fifth of a review's time went to collecting them). The property is not enumerable,
 * so a snapshot spread into another (`{ ...base, namespaces }`) does not take the old one's values
 * along.
 */
export function derived<T>(snapshot: ClusterSnapshot, key: symbol, build: (snapshot: ClusterSnapshot) => T): T {
  const held = (snapshot as unknown as Record<symbol, T | undefined>)[key];
  if (held !== undefined) return held;
  const value = build(snapshot);
  // a frozen snapshot (none is, but a test or a caller may freeze one) is worked out each time
  if (Object.isExtensible(snapshot)) Object.defineProperty(snapshot, key, { value, enumerable: false });
  return value;
}

/**
 * A map of values worked out for the snapshot reviews run against now, started afresh when a review
 * comes with another one. One snapshot at a time: reviews follow the newest snapshot (or layering of
 * it, cluster/overlay.ts), and one replaced never comes back. Unlike `derived`, it defines no
 * property on each snapshot, which cost a microsecond on every new layering.
 */
export function currentSnapshotMemo<V>(): (snapshot: ClusterSnapshot) => Map<string, V> {
  let held: { readonly snapshot: ClusterSnapshot; readonly memo: Map<string, V> } | undefined;
  return (snapshot) => {
    if (held?.snapshot !== snapshot) held = { snapshot, memo: new Map() };
    return held.memo;
  };
}

/**
 * Whether gateways bind a VirtualService (or one of its matches) to gateways only, so that sidecars
 * never use it: istiod's isGateway, a non-empty list without "mesh".
 */
export const boundToGatewaysOnly = (gateways: readonly string[]): boolean => gateways.length > 0 && !gateways.includes('mesh');

export const sameObject = (a: ObjectRef, b: ObjectRef): boolean => a.namespace === b.namespace && a.name === b.name;

const none = new Map<never, never>();
const noKinds: ReadonlySet<never> = new Set();

export const emptySnapshot = (cidrs: ClusterCidrs = { pod: [], service: [] }): ClusterSnapshot => ({
  cidrs,
  namespaces: none,
  serviceEntriesByHost: none,
  serviceEntriesByPort: none,
  unaddressedTcpServiceEntriesByPort: none,
  virtualServicesByHost: none,
  egressesBySourcePort: none,
  servicesByPort: none,
  httpRouteGroups: none,
  mesh: NO_MESH_CONFIG,
  sidecarsByNamespace: none,
  waypointsByName: none,
  egressNetworksByNamespace: none,
  serviceEntriesByName: none,
  knownKinds: noKinds,
});
