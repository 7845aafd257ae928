/**
 * Compaction: each cluster object becomes the few small records the rules need, and a set of
 * objects becomes a ClusterSnapshot. Pure; used by the informer layer, `--state` and `check`.
 */
import { objectGroupKind, type KubeObject, namespacedName } from '../admission/types.ts';
import { ISTIO_USE_WAYPOINT, OWN_PREFIX } from '../catalogue/keys.ts';
import { isPlainTcp, SERVICE_PORT_PROTOCOLS } from '../catalogue/protocols.ts';
import { asArr, asInt, asObj, asStr, onlyStrs } from '../json.ts';
import { NO_MESH_CONFIG } from './mesh-config.ts';
import {
  EGRESS_RECORD_GROUPS,
  egressNetworkRecord,
  sidecarRecord,
  waypointRecord,
  type EgressNetworkRecord,
  type EgressRecordKind,
  type ServiceEntryRecord,
  type SidecarRecord,
  type WaypointRecord,
} from './egress-records.ts';
import {
  type ClusterCidrs,
  type ClusterSnapshot,
  type EgressPort,
  type NamespaceInfo,
  type ObjectRef,
  type ServiceEntryPort,
  type ServicePort,
  type VirtualServiceRoute,
  boundToGatewaysOnly,
  egressKey,
} from './snapshot.ts';

/** Everything one object contributes to the snapshot. */
export type Compact =
  | { readonly kind: 'Namespace'; readonly namespace: NamespaceInfo }
  | { readonly kind: 'ServiceEntry'; readonly ports: readonly ServiceEntryPort[]; readonly entry: ServiceEntryRecord }
  | { readonly kind: 'VirtualService'; readonly routes: readonly VirtualServiceRoute[] }
  | { readonly kind: 'Egress'; readonly ports: readonly EgressPort[] }
  | { readonly kind: 'Service'; readonly ports: readonly ServicePort[] }
  | { readonly kind: 'HTTPRouteGroup'; readonly ref: string; readonly matches: number }
  | { readonly kind: 'Sidecar'; readonly sidecar: SidecarRecord }
  | { readonly kind: 'Gateway'; readonly waypoint: WaypointRecord }
  | { readonly kind: 'EgressNetwork'; readonly network: EgressNetworkRecord };

// Records are held for every object in the cluster, so repeated values are stored once: strings
// that recur across objects (namespaces, protocols, port names, sources) come from a pool, lists of
// one such string are shared, and every empty list is the same frozen array.
const NONE: readonly string[] = Object.freeze([]);
const POOL_MAX = 200_000;
const pool = new Map<string, string>();

/** The pooled copy of a string that recurs across objects. */
export function intern(s: string): string {
  const found = pool.get(s);
  if (found !== undefined) return found;
  if (pool.size < POOL_MAX) pool.set(s, s);
  return s;
}

const singles = new Map<string, readonly string[]>();

/** One frozen list per pooled string: most objects export to ['.'] or ['*']. */
function single(s: string): readonly string[] {
  const found = singles.get(s);
  if (found !== undefined) return found;
  const list = Object.freeze([s]);
  if (singles.size < POOL_MAX) singles.set(s, list);
  return list;
}

const strs = (v: unknown, pooled = false): readonly string[] => {
  const out = onlyStrs(v);
  if (out.length === 0) return NONE;
  if (!pooled) return out;
  return out.length === 1 ? single(intern(out[0]!)) : out.map(intern);
};

/** Annotation prefixes this project reads from namespaces; the rest is dropped to keep the index small. */
const NAMESPACE_ANNOTATION_PREFIXES = [OWN_PREFIX, 'traffic.sidecar.istio.io/', 'openservicemesh.io/'];

/** A Service port's protocol the way OSM and Istio read it: appProtocol first, then the name prefix. */
export function servicePortProtocol(port: { readonly name?: unknown; readonly appProtocol?: unknown }): string {
  const app = asStr(port.appProtocol).toLowerCase();
  if (app) return app;
  const name = asStr(port.name).toLowerCase();
  return SERVICE_PORT_PROTOCOLS.find((p) => name === p || name.startsWith(`${p}-`)) ?? '';
}

/** namespace/name of an object, read the same way wherever records are filed by owner. */
export function refOf(o: KubeObject): ObjectRef {
  return { namespace: intern(asStr(o.metadata?.namespace)), name: asStr(o.metadata?.name) };
}

export function compact(o: KubeObject): Compact | undefined {
  const spec = asObj(o.spec);
  switch (objectGroupKind(o)) {
    case '/Namespace': {
      // Values are kept as sent, strings or not: the rules that read them report the wrong types.
      const annotations: Record<string, string> = {};
      for (const [k, v] of Object.entries(asObj(o.metadata?.annotations))) {
        if (NAMESPACE_ANNOTATION_PREFIXES.some((p) => k.startsWith(p))) annotations[k] = v as string;
      }
      return {
        kind: 'Namespace',
        namespace: { name: asStr(o.metadata?.name), labels: { ...asObj(o.metadata?.labels) } as Record<string, string>, annotations },
      };
    }
    case 'networking.istio.io/ServiceEntry': {
      const { namespace, name } = refOf(o);
      const entry = {
        namespace,
        name,
        hosts: strs(spec.hosts),
        exportTo: strs(spec.exportTo, true),
        resolution: intern(asStr(spec.resolution) || 'NONE'),
        addresses: strs(spec.addresses),
      };
      const ports = asArr(spec.ports).map((v) => {
        const p = asObj(v);
        return { entry, number: asInt(p.number), name: intern(asStr(p.name)), protocol: intern(asStr(p.protocol).toUpperCase()) };
      });
      // the by-name record shares the hosts and the port records: an entry costs one more small object
      const label = o.metadata?.labels?.[ISTIO_USE_WAYPOINT];
      const byName: ServiceEntryRecord = {
        namespace,
        name,
        hosts: entry.hosts,
        ports,
        useWaypoint: typeof label === 'string' ? intern(label) : undefined,
        labelsKnown: true,
      };
      return { kind: 'ServiceEntry', ports, entry: byName };
    }
    case 'networking.istio.io/Sidecar':
      return { kind: 'Sidecar', sidecar: { ...sidecarRecord(o), namespace: refOf(o).namespace } };
    case 'gateway.networking.k8s.io/Gateway':
      return { kind: 'Gateway', waypoint: { ...waypointRecord(o), namespace: refOf(o).namespace } };
    case 'policy.linkerd.io/EgressNetwork':
      return { kind: 'EgressNetwork', network: { ...egressNetworkRecord(o), namespace: refOf(o).namespace } };
    case 'networking.istio.io/VirtualService': {
      const { namespace, name } = refOf(o);
      const service = { namespace, name, hosts: strs(spec.hosts), exportTo: strs(spec.exportTo, true) };
      const gateways = onlyStrs(spec.gateways);
      // Only what sidecars use is kept: a match's own gateways replace the VirtualService's.
      const routes: VirtualServiceRoute[] = [];
      for (const type of ['http', 'tls', 'tcp'] as const) {
        for (const route of asArr(spec[type]).map(asObj)) {
          const matches = asArr(route.match).map(asObj);
          if (matches.length === 0 && !boundToGatewaysOnly(gateways)) routes.push({ service, type, port: undefined });
          for (const m of matches) {
            const own = onlyStrs(m.gateways);
            if (!boundToGatewaysOnly(own.length ? own : gateways)) routes.push({ service, type, port: asInt(m.port) || undefined });
          }
        }
      }
      return { kind: 'VirtualService', routes };
    }
    case 'policy.openservicemesh.io/Egress': {
      const { namespace, name } = refOf(o);
      const egress = { namespace, name, hosts: strs(spec.hosts), ipAddresses: strs(spec.ipAddresses) };
      const ports: EgressPort[] = [];
      for (const s of asArr(spec.sources).map(asObj)) {
        const source = intern(namespacedName(asStr(s.namespace), asStr(s.name)));
        for (const p of asArr(spec.ports).map(asObj))
          ports.push({ egress, source, number: asInt(p.number), protocol: intern(asStr(p.protocol)) });
      }
      return { kind: 'Egress', ports };
    }
    case '/Service': {
      const listed = strs(spec.clusterIPs).length ? strs(spec.clusterIPs) : strs([spec.clusterIP]);
      const clusterIPs = listed.filter((ip) => ip && ip !== 'None');
      const { namespace, name } = refOf(o);
      const service = { namespace, name, clusterIPs: clusterIPs.length ? clusterIPs : NONE };
      const ports = asArr(spec.ports)
        .map(asObj)
        .map((p) => ({ service, port: asInt(p.port), name: intern(asStr(p.name)), protocol: intern(servicePortProtocol(p)) }));
      return { kind: 'Service', ports };
    }
    case 'specs.smi-spec.io/HTTPRouteGroup': {
      const m = refOf(o);
      return { kind: 'HTTPRouteGroup', ref: namespacedName(m.namespace, m.name), matches: asArr(spec.matches).length };
    }
    default:
      return undefined;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Whether a ServiceEntry port belongs in unaddressedTcpServiceEntriesByPort. */
export const isUnaddressedTcp = (p: ServiceEntryPort): boolean => p.entry.addresses.length === 0 && isPlainTcp(p.protocol);

/** The snapshot indexes that map a key to a list of records. */
export type ListIndex =
  | 'serviceEntriesByHost'
  | 'serviceEntriesByPort'
  | 'unaddressedTcpServiceEntriesByPort'
  | 'virtualServicesByHost'
  | 'egressesBySourcePort'
  | 'servicesByPort'
  | 'sidecarsByNamespace'
  | 'waypointsByName'
  | 'egressNetworksByNamespace'
  | 'serviceEntriesByName';

export type ListIndexes = Record<ListIndex, Map<unknown, unknown[]>>;

export const emptyListIndexes = (): ListIndexes => ({
  serviceEntriesByHost: new Map(),
  serviceEntriesByPort: new Map(),
  unaddressedTcpServiceEntriesByPort: new Map(),
  virtualServicesByHost: new Map(),
  egressesBySourcePort: new Map(),
  servicesByPort: new Map(),
  sidecarsByNamespace: new Map(),
  waypointsByName: new Map(),
  egressNetworksByNamespace: new Map(),
  serviceEntriesByName: new Map(),
});

/** The object a list-index record came from, for taking an object's records out again. */
export const LIST_INDEX_OWNERS: Readonly<
  Record<ListIndex, { readonly kind: Compact['kind']; readonly owner: (record: unknown) => ObjectRef }>
> = {
  serviceEntriesByHost: { kind: 'ServiceEntry', owner: (r) => (r as ServiceEntryPort).entry },
  serviceEntriesByPort: { kind: 'ServiceEntry', owner: (r) => (r as ServiceEntryPort).entry },
  unaddressedTcpServiceEntriesByPort: { kind: 'ServiceEntry', owner: (r) => (r as ServiceEntryPort).entry },
  virtualServicesByHost: { kind: 'VirtualService', owner: (r) => (r as VirtualServiceRoute).service },
  egressesBySourcePort: { kind: 'Egress', owner: (r) => (r as EgressPort).egress },
  servicesByPort: { kind: 'Service', owner: (r) => (r as ServicePort).service },
  sidecarsByNamespace: { kind: 'Sidecar', owner: (r) => r as SidecarRecord },
  waypointsByName: { kind: 'Gateway', owner: (r) => r as WaypointRecord },
  egressNetworksByNamespace: { kind: 'EgressNetwork', owner: (r) => r as EgressNetworkRecord },
  serviceEntriesByName: { kind: 'ServiceEntry', owner: (r) => r as ServiceEntryRecord },
};

/**
 * Every list-index entry one compacted object makes: the one place that says which record is filed
 * under which key, for the full build, the per-kind rebuild and the incremental snapshot of `check`.
 */
export function eachIndexEntry(c: Compact, put: (index: ListIndex, key: unknown, record: unknown) => void): void {
  switch (c.kind) {
    case 'ServiceEntry':
      for (const p of c.ports) {
        put('serviceEntriesByPort', p.number, p);
        if (isUnaddressedTcp(p)) put('unaddressedTcpServiceEntriesByPort', p.number, p);
        for (const h of p.entry.hosts) put('serviceEntriesByHost', h, p);
      }
      put('serviceEntriesByName', c.entry.name, c.entry);
      break;
    case 'Sidecar':
      put('sidecarsByNamespace', c.sidecar.namespace, c.sidecar);
      break;
    case 'Gateway':
      put('waypointsByName', c.waypoint.name, c.waypoint);
      break;
    case 'EgressNetwork':
      put('egressNetworksByNamespace', c.network.namespace, c.network);
      break;
    case 'VirtualService':
      for (const r of c.routes) for (const h of r.service.hosts) put('virtualServicesByHost', h, r);
      break;
    case 'Egress':
      for (const p of c.ports) put('egressesBySourcePort', egressKey(p.source, p.number), p);
      break;
    case 'Service':
      for (const p of c.ports) put('servicesByPort', p.port, p);
      break;
    case 'Namespace':
    case 'HTTPRouteGroup':
      break;
  }
}

/** Whether a kind's records are looked up by name or namespace (known or not: ClusterSnapshot.knownKinds). */
export const isEgressRecordKind = (kind: string): kind is EgressRecordKind => Object.hasOwn(EGRESS_RECORD_GROUPS, kind);

/**
 * Build a snapshot from compacted objects. The kinds of records among them are known: objects read
 * from files say nothing of a kind they hold none of. The informers' publisher says which kinds
 * are known in a cluster (publisher.ts).
 */
export function snapshotFromCompact(items: Iterable<Compact>, cidrs: ClusterCidrs): ClusterSnapshot {
  const namespaces = new Map<string, NamespaceInfo>();
  const routeGroups = new Map<string, number>();
  const lists = emptyListIndexes();
  const known = new Set<EgressRecordKind>();
  const put = (index: ListIndex, key: unknown, record: unknown) => push(lists[index], key, record);
  for (const c of items) {
    if (c.kind === 'Namespace') namespaces.set(c.namespace.name, c.namespace);
    else if (c.kind === 'HTTPRouteGroup') routeGroups.set(c.ref, c.matches);
    else {
      if (isEgressRecordKind(c.kind)) known.add(c.kind);
      eachIndexEntry(c, put);
    }
  }
  freezeLists(lists);
  return {
    cidrs,
    namespaces,
    httpRouteGroups: routeGroups,
    ...(lists as unknown as Pick<ClusterSnapshot, ListIndex>),
    mesh: NO_MESH_CONFIG,
    knownKinds: known,
  };
}

/**
 * A published snapshot's lists never change; frozen, they say so, and rules may index them once
 * per snapshot (tcp-server-first.ts). `check` and read-your-writes build their own lists to grow.
 */
function freezeLists(lists: ListIndexes): void {
  for (const index of Object.values(lists)) for (const list of index.values()) Object.freeze(list);
}

/** Build a snapshot from whole objects (state folders, `check` inputs, tests). Unknown kinds are ignored. */
export function snapshotFromObjects(objects: Iterable<KubeObject>, cidrs: ClusterCidrs): ClusterSnapshot {
  const items: Compact[] = [];
  for (const o of objects) {
    const c = compact(o);
    if (c) items.push(c);
  }
  return snapshotFromCompact(items, cidrs);
}

/**
 * Whether two compact records hold the same values: plain objects, arrays and primitives compared
 * all the way down. Anything else counts as different, which only costs filing the record again.
 * (node:util's isDeepStrictEqual took longer than the review it would save.) Records share parts
 * (a ServiceEntry's ports each point at its entry, and its by-name record holds the same ports), so
 * a pair of objects found equal once is not compared again.
 */
export const sameRecord = (a: unknown, b: unknown): boolean => same(a, b, []);

/** `equal`: pairs of objects already found equal, side by side. */
function same(a: unknown, b: unknown, equal: object[]): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i], equal)) return false;
    return true;
  }
  for (let i = 0; i < equal.length; i += 2) if (equal[i] === a && equal[i + 1] === b) return true;
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    if (!Object.hasOwn(y, k) || !same(x[k], y[k], equal)) return false;
    n++;
  }
  for (const _ in y) n--;
  if (n !== 0) return false;
  equal.push(a, b);
  return true;
}

/** The snapshot fields each kind fills. */
export const INDEX_FIELDS: Readonly<Record<Compact['kind'], readonly (keyof ClusterSnapshot)[]>> = {
  Namespace: ['namespaces'],
  ServiceEntry: ['serviceEntriesByHost', 'serviceEntriesByPort', 'unaddressedTcpServiceEntriesByPort', 'serviceEntriesByName'],
  VirtualService: ['virtualServicesByHost'],
  Egress: ['egressesBySourcePort'],
  Service: ['servicesByPort'],
  HTTPRouteGroup: ['httpRouteGroups'],
  Sidecar: ['sidecarsByNamespace'],
  Gateway: ['waypointsByName'],
  EgressNetwork: ['egressNetworksByNamespace'],
};

/**
 * A new snapshot that rebuilds only the indexes of the kinds that changed and shares the others
 * with `prev`: an Egress event does not pay for re-indexing 100,000 ServiceEntries.
 * `itemsOf(kind)` yields every current record of that kind.
 */
export function rebuildSnapshot(
  prev: ClusterSnapshot,
  changed: Iterable<Compact['kind']>,
  itemsOf: (kind: Compact['kind']) => Iterable<Compact>,
  cidrs: ClusterCidrs,
): ClusterSnapshot {
  const next: Record<string, unknown> = { ...prev, cidrs };
  const known = new Set(prev.knownKinds);
  for (const kind of new Set(changed)) {
    // a kind without indexes (watched only for the audit) has nothing to rebuild
    if (!Object.hasOwn(INDEX_FIELDS, kind)) continue;
    const part = snapshotFromCompact(itemsOf(kind), cidrs);
    for (const field of INDEX_FIELDS[kind]) next[field] = part[field];
    if (isEgressRecordKind(kind)) {
      if (part.knownKinds.has(kind)) known.add(kind);
      else known.delete(kind);
    }
  }
  next.knownKinds = known;
  return next as ClusterSnapshot;
}
