/**
 * Which stored objects a change can alter the verdict on. Each object names the facts it offers to
 * other objects' rules (`offers`: its hosts as written, its tcp ports that share 0.0.0.0, its Egress
 * source and port, the HTTPRouteGroup it is) and the facts its own verdict reads from others
 * (`reads`: wildcards that would cover its hosts, its namespace, the HTTPRouteGroups it matches).
 * When an object changes, the objects to judge again are those that offer or read what it offers,
 * and those that offer what it reads. A fact no key names (a Service's ports, the mesh settings, the
 * cluster ranges) is caught by the periodic full pass, or by the full pass a mesh or range change starts.
 */
import type { KubeObject } from '../admission/types.ts';
import { isPlainTcp, TCP_SERVER_FIRST } from '../catalogue/protocols.ts';
import { asArr, asObj, asStr, onlyStrs } from '../json.ts';

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
  }
  if (namespace) reads.push(`ns:${namespace}`);
  return { offers, reads };
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
