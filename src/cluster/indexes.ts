/**
 * Compaction: each cluster object becomes the few small records the rules need, and a set of
 * objects becomes a ClusterSnapshot. Pure; used by the informer layer, `--state` and `check`.
 */
import { objectGroupKind, type KubeObject } from '../admission/types.ts';
import {
  type ClusterCidrs, type ClusterSnapshot, type EgressPort, type NamespaceInfo, type ServiceEntryPort,
  type ServicePort, type VirtualServiceRoute, egressKey,
} from './snapshot.ts';

/** Everything one object contributes to the snapshot. */
export type Compact =
  | { readonly kind: 'Namespace'; readonly namespace: NamespaceInfo }
  | { readonly kind: 'ServiceEntry'; readonly ports: readonly ServiceEntryPort[] }
  | { readonly kind: 'VirtualService'; readonly routes: readonly VirtualServiceRoute[] }
  | { readonly kind: 'Egress'; readonly ports: readonly EgressPort[] }
  | { readonly kind: 'Service'; readonly ports: readonly ServicePort[] }
  | { readonly kind: 'HTTPRouteGroup'; readonly ref: string };

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) ? v : 0);

// Records are held for every object in the cluster, so repeated values are stored once: strings
// that recur across objects (namespaces, protocols, port names, sources) come from a pool, and
// every empty list is the same frozen array.
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

const strs = (v: unknown, pooled = false): readonly string[] => {
  if (!Array.isArray(v) || v.length === 0) return NONE;
  const out = v.filter((x): x is string => typeof x === 'string');
  return out.length === 0 ? NONE : pooled ? out.map(intern) : out;
};

/** Annotation prefixes this project reads from namespaces; the rest is dropped to keep the index small. */
const NAMESPACE_ANNOTATION_PREFIXES = ['egress-warden.io/', 'traffic.sidecar.istio.io/', 'openservicemesh.io/'];

const SERVICE_PROTOCOLS = ['tcp-server-first', 'https', 'http2', 'http', 'grpc-web', 'grpc', 'tls', 'tcp', 'udp', 'mongo', 'mysql', 'redis'];

/** A Service port's protocol the way OSM and Istio read it: appProtocol first, then the name prefix. */
export function servicePortProtocol(port: { readonly name?: unknown; readonly appProtocol?: unknown }): string {
  const app = str(port.appProtocol).toLowerCase();
  if (app) return app;
  const name = str(port.name).toLowerCase();
  return SERVICE_PROTOCOLS.find((p) => name === p || name.startsWith(`${p}-`)) ?? '';
}

function meta(o: KubeObject): { namespace: string; name: string } {
  return { namespace: intern(o.metadata?.namespace ?? ''), name: o.metadata?.name ?? '' };
}

export function compact(o: KubeObject): Compact | undefined {
  const spec = obj(o.spec);
  switch (objectGroupKind(o)) {
    case '/Namespace': {
      const annotations: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.metadata?.annotations ?? {})) {
        if (NAMESPACE_ANNOTATION_PREFIXES.some((p) => k.startsWith(p))) annotations[k] = v;
      }
      return { kind: 'Namespace', namespace: { name: o.metadata?.name ?? '', labels: { ...o.metadata?.labels }, annotations } };
    }
    case 'networking.istio.io/ServiceEntry': {
      const { namespace, name } = meta(o);
      const entry = {
        namespace, name, hosts: strs(spec.hosts), exportTo: strs(spec.exportTo, true),
        resolution: intern(str(spec.resolution) || 'NONE'), addresses: strs(spec.addresses),
      };
      const ports = arr(spec.ports).map((v) => {
        const p = obj(v);
        return { entry, number: num(p.number), name: intern(str(p.name)), protocol: intern(str(p.protocol).toUpperCase()) };
      });
      return { kind: 'ServiceEntry', ports };
    }
    case 'networking.istio.io/VirtualService': {
      const { namespace, name } = meta(o);
      const service = { namespace, name, hosts: strs(spec.hosts), exportTo: strs(spec.exportTo, true) };
      const routes: VirtualServiceRoute[] = [];
      for (const type of ['http', 'tls', 'tcp'] as const) {
        for (const route of arr(spec[type]).map(obj)) {
          const matches = arr(route.match).map(obj);
          if (matches.length === 0) routes.push({ service, type, port: undefined });
          for (const m of matches) routes.push({ service, type, port: num(m.port) || undefined });
        }
      }
      return { kind: 'VirtualService', routes };
    }
    case 'policy.openservicemesh.io/Egress': {
      const { namespace, name } = meta(o);
      const egress = { namespace, name, hosts: strs(spec.hosts), ipAddresses: strs(spec.ipAddresses) };
      const ports: EgressPort[] = [];
      for (const s of arr(spec.sources).map(obj)) {
        const source = intern(`${str(s.namespace)}/${str(s.name)}`);
        for (const p of arr(spec.ports).map(obj)) ports.push({ egress, source, number: num(p.number), protocol: intern(str(p.protocol)) });
      }
      return { kind: 'Egress', ports };
    }
    case '/Service': {
      const listed = strs(spec.clusterIPs).length ? strs(spec.clusterIPs) : strs([spec.clusterIP]);
      const clusterIPs = listed.filter((ip) => ip && ip !== 'None');
      const { namespace, name } = meta(o);
      const service = { namespace, name, clusterIPs: clusterIPs.length ? clusterIPs : NONE };
      const ports = arr(spec.ports).map(obj).map((p) => ({ service, port: num(p.port), name: intern(str(p.name)), protocol: intern(servicePortProtocol(p)) }));
      return { kind: 'Service', ports };
    }
    case 'specs.smi-spec.io/HTTPRouteGroup': {
      const m = meta(o);
      return { kind: 'HTTPRouteGroup', ref: `${m.namespace}/${m.name}` };
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

/** Build a snapshot from compacted objects. */
export function snapshotFromCompact(items: Iterable<Compact>, cidrs: ClusterCidrs): ClusterSnapshot {
  const namespaces = new Map<string, NamespaceInfo>();
  const seByHost = new Map<string, ServiceEntryPort[]>();
  const seByPort = new Map<number, ServiceEntryPort[]>();
  const vsByHost = new Map<string, VirtualServiceRoute[]>();
  const egresses = new Map<string, EgressPort[]>();
  const services = new Map<number, ServicePort[]>();
  const routeGroups = new Set<string>();
  for (const c of items) {
    switch (c.kind) {
      case 'Namespace':
        namespaces.set(c.namespace.name, c.namespace);
        break;
      case 'ServiceEntry':
        for (const p of c.ports) {
          push(seByPort, p.number, p);
          for (const h of p.entry.hosts) push(seByHost, h, p);
        }
        break;
      case 'VirtualService':
        for (const r of c.routes) for (const h of r.service.hosts) push(vsByHost, h, r);
        break;
      case 'Egress':
        for (const p of c.ports) push(egresses, egressKey(p.source, p.number), p);
        break;
      case 'Service':
        for (const p of c.ports) push(services, p.port, p);
        break;
      case 'HTTPRouteGroup':
        routeGroups.add(c.ref);
        break;
    }
  }
  return {
    cidrs, namespaces, serviceEntriesByHost: seByHost, serviceEntriesByPort: seByPort, virtualServicesByHost: vsByHost,
    egressesBySourcePort: egresses, servicesByPort: services, httpRouteGroups: routeGroups,
  };
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

/** The snapshot fields each kind fills. */
export const INDEX_FIELDS: Readonly<Record<Compact['kind'], readonly (keyof ClusterSnapshot)[]>> = {
  Namespace: ['namespaces'],
  ServiceEntry: ['serviceEntriesByHost', 'serviceEntriesByPort'],
  VirtualService: ['virtualServicesByHost'],
  Egress: ['egressesBySourcePort'],
  Service: ['servicesByPort'],
  HTTPRouteGroup: ['httpRouteGroups'],
};

/**
 * A new snapshot that rebuilds only the indexes of the kinds that changed and shares the others
 * with `prev`: an Egress event does not pay for re-indexing 100,000 ServiceEntries.
 * `itemsOf(kind)` yields every current record of that kind.
 */
export function rebuildSnapshot(
  prev: ClusterSnapshot, changed: Iterable<Compact['kind']>, itemsOf: (kind: Compact['kind']) => Iterable<Compact>, cidrs: ClusterCidrs,
): ClusterSnapshot {
  const next: Record<string, unknown> = { ...prev, cidrs };
  for (const kind of new Set(changed)) {
    const part = snapshotFromCompact(itemsOf(kind), cidrs);
    for (const field of INDEX_FIELDS[kind]) next[field] = part[field];
  }
  return next as ClusterSnapshot;
}
