/**
 * Listener conflicts between OSM egress matches of one client proxy on one port.
 *
 * OSM builds a single outbound listener per proxy. For every destination port that any match
 * declares `tcp-server-first`, it turns off the TLS and HTTP inspectors on that port, whatever the
 * host or IP. tcp, tcp-server-first and https matches become filter chains keyed by
 * (port, destination CIDR entries, SNI server names); two chains that share a key at every level
 * and are not deduplicated make Envoy reject the whole listener, and the proxy loses every egress
 * and mesh route. The scope is the source ServiceAccount and the port number: the same client may
 * be listed by Egress objects in any namespace.
 */
import type { KubeObject } from '../admission/types.ts';
import { egressKey, sameObject, type ClusterSnapshot, type ObjectRef } from '../cluster/snapshot.ts';
import { overlaps, parseCidrDetailed, type Cidr } from '../net/cidr.ts';
import { err, merge, ok, warn, type Issue, type Result } from './result.ts';

export const TCP_SERVER_FIRST = 'tcp-server-first';

/** Protocols that produce a filter chain, compared case-sensitively as OSM's listener builder does. */
export const EGRESS_PROTOCOLS: readonly string[] = ['http', 'https', 'tcp', TCP_SERVER_FIRST];

export const CONFLICT_CODES: Readonly<Record<string, string>> = {
  EW420: 'tcp-server-first and http on the same port for the same client: the http match never applies (error)',
  EW421: 'tcp-server-first and https with hosts on the same port for the same client: no SNI is read, hosts never match (error)',
  EW422: 'tcp-server-first and tcp (or https without hosts) with the same destination match: Envoy rejects the listener (error)',
  EW423: 'tcp-server-first and tcp on the same port for the same client with distinct IP matches: works, OSM docs forbid it (warning)',
  EW424: 'tcp/https matches of the same client and port that collide without tcp-server-first: Envoy rejects the listener (error)',
  EW425: 'an in-mesh Service makes the port tcp-server-first, which breaks this Egress port for mesh clients (warning)',
};

/** One Egress port as OSM turns it into a filter chain. */
export type EgressMatch = {
  /** as written; only the exact lower-case names build a chain */
  readonly protocol: string;
  readonly ipAddresses: readonly string[];
  readonly hosts: readonly string[];
};

export type Conflict = {
  readonly code: string;
  readonly severity: 'error' | 'warning';
  /** what breaks, completing a sentence about the port of the object being validated */
  readonly why: string;
};

type Chain = {
  readonly protocol: string;
  /** destination CIDR keys, host bits cleared; "" for a chain without prefix ranges (every IP) */
  readonly rangeKeys: ReadonlySet<string>;
  readonly cidrs: readonly Cidr[];
  /** as written, for OSM's deduplication, which compares the lists as sets of strings */
  readonly rawRanges: ReadonlySet<string>;
  /** SNI server names ("" for none); only https sets them */
  readonly nameKeys: ReadonlySet<string>;
};

/** A CIDR the way OSM's Go code parses it (no surrounding spaces); others are dropped, as OSM does. */
function goCidr(text: string): Cidr | undefined {
  return text === text.trim() ? parseCidrDetailed(text)?.cidr : undefined;
}

function chainOf(m: EgressMatch): Chain {
  const cidrs = m.ipAddresses.map(goCidr).filter((c): c is Cidr => c !== undefined);
  const names = m.protocol === 'https' ? m.hosts.map((h) => h.toLowerCase()) : [];
  return {
    protocol: m.protocol,
    rangeKeys: new Set(cidrs.length ? cidrs.map((c) => c.text) : ['']),
    cidrs,
    rawRanges: new Set(m.ipAddresses),
    nameKeys: new Set(names.length ? names : ['']),
  };
}

const shared = (a: ReadonlySet<string>, b: ReadonlySet<string>): string | undefined => {
  for (const k of a) if (b.has(k)) return k;
  return undefined;
};

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => a.size === b.size && [...a].every((k) => b.has(k));

const isTcpLike = (p: string): boolean => p === 'tcp' || p === 'https' || p === TCP_SERVER_FIRST;

/** https with hosts is told apart by SNI; without hosts it matches like tcp. */
const hasNames = (c: Chain): boolean => !c.nameKeys.has('');

/**
 * The verdict for two matches of the same client on the same port: `ours` belongs to the object
 * being validated, `other` to another Egress (or another port of the same one), named by
 * `where` ("Egress shop/db", "spec.ports[0]"). Severities are symmetric; the wording completes a sentence about
 * `ours` ("tcp port 5432 of shop/curl …").
 */
export function egressConflict(ours: EgressMatch, other: EgressMatch, where: string): Conflict | undefined {
  const a = ours.protocol;
  const b = other.protocol;
  if (!EGRESS_PROTOCOLS.includes(a) || !EGRESS_PROTOCOLS.includes(b)) return undefined;
  const pair = (x: string, y: string) => (a === x && b === y) || (a === y && b === x);

  if (pair(TCP_SERVER_FIRST, 'http')) {
    return {
      code: 'EW420', severity: 'error',
      why: a === 'http'
        ? `never matches: ${where} makes the port tcp-server-first, which turns off the HTTP inspector`
        : `turns off the HTTP inspector, so the http match of ${where} never applies`,
    };
  }
  const ca = chainOf(ours);
  const cb = chainOf(other);
  if (pair(TCP_SERVER_FIRST, 'https') && (hasNames(ca) || hasNames(cb))) {
    return {
      code: 'EW421', severity: 'error',
      why: a === 'https'
        ? `never matches its hosts: ${where} makes the port tcp-server-first, which turns off the TLS inspector (no SNI is read)`
        : `turns off the TLS inspector, so no SNI is read and the https hosts of ${where} never match`,
    };
  }
  if (!isTcpLike(a) || !isTcpLike(b)) return undefined;

  // OSM deduplicates identical matches before building chains: same protocol and same sets.
  if (a === b && sameSet(ca.rawRanges, cb.rawRanges) && sameSet(ca.nameKeys, cb.nameKeys)) return undefined;
  const range = shared(ca.rangeKeys, cb.rangeKeys);
  const name = shared(ca.nameKeys, cb.nameKeys);
  const withServerFirst = a === TCP_SERVER_FIRST || b === TCP_SERVER_FIRST;
  if (range !== undefined && name !== undefined) {
    const on = [
      range === '' ? 'neither lists ipAddresses' : `both list ${range}`,
      ...(name === '' ? [] : [`both name host ${name}`]),
    ].join(' and ');
    return {
      code: withServerFirst ? 'EW422' : 'EW424', severity: 'error',
      why: `has the same listener match as ${b} in ${where} (${on}): Envoy rejects the whole outbound listener, so the client loses every egress and mesh route`,
    };
  }
  if (!withServerFirst || a === b) return undefined;
  const how = ca.cidrs.length === 0 || cb.cidrs.length === 0 ? 'IPs on one side'
    : ca.cidrs.some((x) => cb.cidrs.some((y) => overlaps(x, y))) ? 'overlapping IPs'
    : 'disjoint IPs';
  return { code: 'EW423', severity: 'warning', why: `is ${b} in ${where} (${how}); OSM forbids it` };
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strs = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');

const MONITORED_LABEL = 'openservicemesh.io/monitored-by';

/** Source ServiceAccounts of an Egress as "namespace/name", the key OSM selects policies by. */
export function egressSources(spec: unknown): string[] {
  const out = new Set<string>();
  for (const s of arr(obj(spec).sources).map(obj)) {
    if (s.kind === 'ServiceAccount' && typeof s.name === 'string' && s.name && typeof s.namespace === 'string' && s.namespace) {
      out.add(`${s.namespace}/${s.name}`);
    }
  }
  return [...out];
}

const issue = (c: Conflict, path: string, message: string): Result =>
  c.severity === 'error' ? err(c.code, path, message) : warn(c.code, path, message);

function unique(r: Result): Result {
  const once = (list: readonly Issue[]) => {
    const seen = new Set<string>();
    return list.filter((i) => {
      const k = `${i.code} ${i.path} ${i.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  };
  return r.errors.length || r.warnings.length ? { errors: once(r.errors), warnings: once(r.warnings) } : ok;
}

/** Whether a Service's namespace is in the mesh, or unknown to the snapshot (offline checks). */
function inMesh(snapshot: ClusterSnapshot, namespace: string): boolean {
  const ns = snapshot.namespaces.get(namespace);
  return ns === undefined || ns.labels[MONITORED_LABEL] !== undefined;
}

/**
 * Every listener conflict the Egress `o` would cause: against the other ports of `o` itself,
 * against Egress objects of the snapshot that list the same client and port (the previous version
 * of `o` excluded), and against in-mesh Services whose port is tcp-server-first.
 */
export function egressConflicts(o: KubeObject, snapshot: ClusterSnapshot, namespace: string): Result {
  const self: ObjectRef = { namespace: o.metadata?.namespace ?? namespace, name: o.metadata?.name ?? '' };
  const spec = obj(o.spec);
  const hosts = strs(spec.hosts);
  const ipAddresses = strs(spec.ipAddresses);
  const sources = egressSources(spec);
  const ports = arr(spec.ports).map(obj).map((p, i) => ({ i, number: p.number, protocol: typeof p.protocol === 'string' ? p.protocol : '' }))
    .filter((p): p is { i: number; number: number; protocol: string } =>
      typeof p.number === 'number' && Number.isInteger(p.number) && EGRESS_PROTOCOLS.includes(p.protocol));
  const found: Result[] = [];

  for (const [k, p] of ports.entries()) {
    const path = `spec.ports[${p.i}]`;
    const ours: EgressMatch = { protocol: p.protocol, ipAddresses, hosts };

    for (const q of ports.slice(0, k)) {
      if (q.number !== p.number) continue;
      const c = egressConflict(ours, { protocol: q.protocol, ipAddresses, hosts }, `spec.ports[${q.i}]`);
      if (c) found.push(issue(c, path, `${p.protocol} port ${p.number} ${c.why}`));
    }

    for (const source of sources) {
      for (const e of snapshot.egressesBySourcePort.get(egressKey(source, p.number)) ?? []) {
        if (sameObject(e.egress, self)) continue;
        const other = { protocol: e.protocol, ipAddresses: e.egress.ipAddresses, hosts: e.egress.hosts };
        const c = egressConflict(ours, other, `Egress ${e.egress.namespace}/${e.egress.name}`);
        if (c) found.push(issue(c, path, `${p.protocol} port ${p.number} of ${source} ${c.why}`));
      }
    }

    if (p.protocol === TCP_SERVER_FIRST) continue;
    const breaks = p.protocol === 'http' ? 'http here never matches'
      : p.protocol === 'https' && hosts.length ? 'no SNI is read, hosts never match'
      : 'OSM docs forbid mixing it with tcp';
    for (const s of snapshot.servicesByPort.get(p.number) ?? []) {
      if (s.protocol !== TCP_SERVER_FIRST || !inMesh(snapshot, s.service.namespace)) continue;
      found.push(warn('EW425', path, `Service ${s.service.namespace}/${s.service.name} makes port ${p.number} tcp-server-first: ${breaks}`));
    }
  }
  return unique(merge(ok, ...found));
}
