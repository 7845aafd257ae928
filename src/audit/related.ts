/**
 * Which stored objects a change can alter the verdict on. Each object names the facts it offers to
 * other objects' rules (`offers`: its hosts as written, its tcp ports that share 0.0.0.0, its Egress
 * source and port, the HTTPRouteGroup it is) and the facts its own verdict reads from others
 * (`reads`: wildcards that would cover its hosts, its namespace, the HTTPRouteGroups it matches).
 * When an object changes, the objects to judge again are those that offer or read what it offers,
 * and those that offer what it reads. A fact no key names (a Service's ports, the mesh settings, the
 * cluster ranges) is caught by the periodic full pass, or by the full pass a mesh or range change starts.
 *
 * The newer egress kinds: a ServiceEntry offers itself by name (`se:`), which the routes whose
 * parentRefs name it and the AuthorizationPolicies targeting it read, and reads the waypoint its own
 * label names (`wp:`); an EgressNetwork offers itself (`en:`) to routes, and the EgressNetworks of a
 * namespace (`ens:`) to those of other namespaces that the global ones concern; the Sidecars of a
 * namespace offer `sidecars:` to one another and read the hosts they import. A Gateway is judged by
 * nobody: its change names the key it would offer (keysOfChange), and the namespaces whose
 * use-waypoint label names it (namespacesUsingWaypoint) are judged again with what they hold.
 */
import type { KubeObject } from '../admission/types.ts';
import { ISTIO_USE_WAYPOINT, namesWaypoint } from '../catalogue/keys.ts';
import { isPlainTcp, TCP_SERVER_FIRST } from '../catalogue/protocols.ts';
import { ISTIO_USE_WAYPOINT_NAMESPACE, type ClusterSnapshot } from '../cluster/snapshot.ts';
import { asArr, asObj, asStr, isObj, onlyStrs } from '../json.ts';
import { serviceEntryTargets } from '../rules/authorization-policy.ts';
import { LINKERD_GLOBAL_EGRESS_NAMESPACE } from '../rules/egress-network-scope.ts';
import { egressParents } from '../rules/gateway-routes.ts';

export type Keys = { readonly offers: readonly string[]; readonly reads: readonly string[] };

const host = (h: string) => `host:${h.toLowerCase()}`;

/** The wildcards that would cover a host: a.b.example.com → *.b.example.com, *.example.com, *.com, *. */
function coveringWildcards(h: string): string[] {
  const labels = h.toLowerCase().replace(/^\*\./, '').split('.');
  const out: string[] = [];
  for (let i = 1; i < labels.length; i++) out.push(host(`*.${labels.slice(i).join('.')}`));
  out.push(host('*'));
  return out;
}

/** Hosts a VirtualService routes to, besides its own: the destinations its routes name. */
function destinationHosts(spec: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const section of ['http', 'tls', 'tcp'] as const) {
    for (const route of asArr(spec[section])) {
      for (const to of asArr(asObj(route).route)) {
        const h = asStr(asObj(asObj(to).destination).host);
        if (h) out.push(h);
      }
      for (const match of asArr(asObj(route).match)) out.push(...onlyStrs(asObj(match).sniHosts));
    }
  }
  return out;
}

export function relatedKeys(o: KubeObject): Keys {
  const namespace = o.metadata?.namespace ?? '';
  const name = o.metadata?.name ?? '';
  const spec = asObj((o as { spec?: unknown }).spec);
  const offers: string[] = [];
  const reads: string[] = [];
  const hosts = (list: readonly string[], offered: boolean) => {
    for (const h of list) {
      if (offered) offers.push(host(h));
      else reads.push(host(h));
      reads.push(...coveringWildcards(h));
    }
  };
  switch (o.kind) {
    case 'Namespace':
      return { offers: [`ns:${name}`], reads: [] };
    case 'ServiceEntry': {
      hosts(onlyStrs(spec.hosts), true);
      if (onlyStrs(spec.addresses).length === 0) {
        for (const p of asArr(spec.ports)) {
          const port = asObj(p);
          if (isPlainTcp(asStr(port.protocol))) offers.push(`tcpport:${String(port.number)}`);
        }
      }
      break;
    }
    case 'VirtualService':
      hosts(onlyStrs(spec.hosts), true);
      hosts(destinationHosts(spec), false);
      break;
    case 'Egress': {
      hosts(onlyStrs(spec.hosts), false);
      const sources = asArr(spec.sources).map((s) => `${asStr(asObj(s).namespace) || namespace}/${asStr(asObj(s).name)}`);
      for (const p of asArr(spec.ports)) {
        const port = asObj(p);
        for (const source of sources) offers.push(`egress:${source}#${String(port.number)}`);
        if (asStr(port.protocol) === TCP_SERVER_FIRST) offers.push(`tsf:${String(port.number)}`);
        else reads.push(`tsf:${String(port.number)}`);
      }
      for (const m of asArr(spec.matches)) {
        const match = asObj(m);
        if (asStr(match.kind) === 'HTTPRouteGroup') reads.push(`hrg:${namespace}/${asStr(match.name)}`);
      }
      break;
    }
    case 'HTTPRouteGroup':
      offers.push(`hrg:${namespace}/${name}`);
      break;
    case 'Sidecar': {
      offers.push(`sidecars:${namespace}`);
      const imported: string[] = [];
      for (const l of asArr(spec.egress)) {
        for (const h of onlyStrs(asObj(l).hosts)) {
          const dns = h.slice(h.indexOf('/') + 1);
          if (dns && dns !== '*') imported.push(dns);
        }
      }
      hosts(imported, false);
      break;
    }
    case 'EgressNetwork':
      offers.push(`en:${namespace}/${name}`, `ens:${namespace}`);
      if (namespace !== LINKERD_GLOBAL_EGRESS_NAMESPACE) reads.push(`ens:${LINKERD_GLOBAL_EGRESS_NAMESPACE}`);
      break;
    case 'AuthorizationPolicy':
      for (const t of serviceEntryTargets(o)) reads.push(`se:${namespace}/${t.name}`);
      break;
    case 'HTTPRoute':
    case 'GRPCRoute':
    case 'TLSRoute':
    case 'TCPRoute': {
      for (const p of egressParents(o, namespace)) reads.push(`${p.kind === 'EgressNetwork' ? 'en' : 'se'}:${p.namespace}/${p.name}`);
      const backends: string[] = [];
      for (const rule of asArr(spec.rules)) {
        for (const b of asArr(asObj(rule).backendRefs)) if (isObj(b) && b.kind === 'Hostname') backends.push(asStr(b.name));
      }
      hosts(backends.filter(Boolean), false);
      break;
    }
  }
  if (o.kind === 'ServiceEntry') {
    offers.push(`se:${namespace}/${name}`);
    const labels = o.metadata?.labels;
    const waypoint = labels?.[ISTIO_USE_WAYPOINT];
    if (namesWaypoint(waypoint)) reads.push(`wp:${asStr(labels?.[ISTIO_USE_WAYPOINT_NAMESPACE]) || namespace}/${waypoint}`);
  }
  if (namespace) reads.push(`ns:${namespace}`);
  return { offers, reads };
}

/** Kinds nobody judges whose objects others' verdicts read. */
export const READ_ONLY_KINDS: readonly string[] = ['Gateway'];

/** The keys a change of a kind nobody judges touches (a Gateway: the waypoint it is); none for other kinds. */
export function keysOfChange(kind: string, namespace: string, name: string): string[] {
  return kind === 'Gateway' ? [`wp:${namespace}/${name}`] : [];
}

/** The namespaces whose istio.io/use-waypoint label names the waypoint a `wp:` key names. */
export function namespacesUsingWaypoint(key: string, snapshot: ClusterSnapshot): string[] {
  if (!key.startsWith('wp:')) return [];
  const out: string[] = [];
  for (const [ns, info] of snapshot.namespaces) {
    const waypoint = info.labels[ISTIO_USE_WAYPOINT];
    if (!namesWaypoint(waypoint)) continue;
    if (key === `wp:${asStr(info.labels[ISTIO_USE_WAYPOINT_NAMESPACE]) || ns}/${waypoint}`) out.push(ns);
  }
  return out;
}

/** Objects by the keys they offer and read, so the objects a change touches are found without a scan. */
export class RelatedIndex<Id> {
  private readonly offering = new Map<string, Set<Id>>();
  private readonly reading = new Map<string, Set<Id>>();
  private readonly keys = new Map<Id, Keys>();

  set(id: Id, keys: Keys): void {
    this.delete(id);
    this.keys.set(id, keys);
    for (const k of keys.offers) add(this.offering, k, id);
    for (const k of keys.reads) add(this.reading, k, id);
  }

  delete(id: Id): void {
    const old = this.keys.get(id);
    if (!old) return;
    this.keys.delete(id);
    for (const k of old.offers) remove(this.offering, k, id);
    for (const k of old.reads) remove(this.reading, k, id);
  }

  /** the objects whose verdict may change with `id`'s keys, as they are now (call before and after a change) */
  related(id: Id, into: Set<Id>): void {
    const keys = this.keys.get(id);
    if (!keys) return;
    for (const k of keys.offers) {
      for (const other of this.offering.get(k) ?? []) into.add(other);
      for (const other of this.reading.get(k) ?? []) into.add(other);
    }
    for (const k of keys.reads) for (const other of this.offering.get(k) ?? []) into.add(other);
  }

  /** the objects that offer or read `key` */
  touching(key: string, into: Set<Id>): void {
    for (const other of this.offering.get(key) ?? []) into.add(other);
    for (const other of this.reading.get(key) ?? []) into.add(other);
  }

  get size(): number {
    return this.keys.size;
  }
}

function add<Id>(m: Map<string, Set<Id>>, k: string, id: Id): void {
  const s = m.get(k);
  if (s) s.add(id);
  else m.set(k, new Set([id]));
}

function remove<Id>(m: Map<string, Set<Id>>, k: string, id: Id): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(id);
  if (s.size === 0) m.delete(k);
}
