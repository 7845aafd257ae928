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
import { namespacedName, type KubeObject } from '../admission/types.ts';
import { severityOf, type Code } from '../catalogue/findings.ts';
import { OSM_MONITORED_BY } from '../catalogue/keys.ts';
import { EGRESS_PROTOCOLS, TCP_SERVER_FIRST } from '../catalogue/protocols.ts';
import { collector, type Result } from '../catalogue/result.ts';
import { egressKey, sameObject, type ClusterSnapshot, type EgressPort, type ObjectRef } from '../cluster/snapshot.ts';
import { asArr, asObj, asStr, onlyStrs } from '../json.ts';
import { compareCidrs, parseCidrDetailed, type Cidr } from '../net/cidr.ts';

/** One Egress port as OSM turns it into a filter chain. */
export type EgressMatch = {
  /** as written; only the exact lower-case names build a chain */
  readonly protocol: string;
  readonly ipAddresses: readonly string[];
  readonly hosts: readonly string[];
};

export type Conflict = {
  readonly code: Code;
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

/**
 * The first key of `a` (in its order, which the message names) that `b` also has. Walks the smaller
 * set first, so a huge list on one side costs nothing when the sides share no key.
 */
function shared(a: ReadonlySet<string>, b: ReadonlySet<string>): string | undefined {
  if (a.size > b.size) {
    let found: string | undefined;
    let count = 0;
    for (const k of b) {
      if (!a.has(k)) continue;
      found = k;
      if (++count > 1) break;
    }
    if (count <= 1) return found;
  }
  for (const k of a) if (b.has(k)) return k;
  return undefined;
}

const WIDTH = { 4: 32n, 6: 128n } as const;
const lastOf = (c: Cidr): bigint => c.base | ((1n << (WIDTH[c.family] - BigInt(c.bits))) - 1n);

/**
 * Whether any range of `a` overlaps any range of `b`: one sweep over both lists sorted by start,
 * instead of comparing every pair (lists can hold thousands of entries).
 */
function anyOverlap(a: readonly Cidr[], b: readonly Cidr[]): boolean {
  const all = [...a.map((c) => ({ c, side: 0 })), ...b.map((c) => ({ c, side: 1 }))].sort((x, y) => compareCidrs(x.c, y.c));
  const reach: [bigint, bigint] = [-1n, -1n];
  let family = 0;
  for (const { c, side } of all) {
    if (c.family !== family) {
      family = c.family;
      reach[0] = reach[1] = -1n;
    }
    if (reach[1 - side]! >= c.base) return true;
    const end = lastOf(c);
    if (end > reach[side]!) reach[side] = end;
  }
  return false;
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => a.size === b.size && [...a].every((k) => b.has(k));

const isTcpLike = (p: string): boolean => p === 'tcp' || p === 'https' || p === TCP_SERVER_FIRST;

/** https with hosts is told apart by SNI; without hosts it matches like tcp. */
const hasNames = (c: Chain): boolean => !c.nameKeys.has('');

/**
 * The verdict for two matches of the same client on the same port: `ours` belongs to the object
 * being validated, `other` to another Egress (or another port of the same one), named by
 * `where` ("Egress shop/db", "spec.ports[0]"). Severities are symmetric; the wording completes a sentence
 * about `ours` ("tcp port 5432 …"), short enough that two names of 127 characters and the port
 * still fit in one 256-character warning.
 */
export function egressConflict(ours: EgressMatch, other: EgressMatch, where: string): Conflict | undefined {
  return conflictOf(ours, other, where, chainOf);
}

/** egressConflict with the chains built by `chain`, so callers comparing many pairs build each once. */
function conflictOf(ours: EgressMatch, other: EgressMatch, where: string, chain: (m: EgressMatch) => Chain): Conflict | undefined {
  const a = ours.protocol;
  const b = other.protocol;
  if (!EGRESS_PROTOCOLS.includes(a) || !EGRESS_PROTOCOLS.includes(b)) return undefined;
  const pair = (x: string, y: string) => (a === x && b === y) || (a === y && b === x);

  if (pair(TCP_SERVER_FIRST, 'http')) {
    return {
      code: 'EW420',
      why:
        a === 'http'
          ? `never matches: ${where} makes the port tcp-server-first; use another port`
          : `turns off the http match of ${where}; use another port`,
    };
  }
  const ca = chain(ours);
  const cb = chain(other);
  if (pair(TCP_SERVER_FIRST, 'https') && (hasNames(ca) || hasNames(cb))) {
    return {
      code: 'EW421',
      why:
        a === 'https'
          ? `never matches its hosts: ${where} makes the port tcp-server-first`
          : `means no SNI is read for the https hosts of ${where}`,
    };
  }
  if (!isTcpLike(a) || !isTcpLike(b)) return undefined;

  // OSM deduplicates identical matches before building chains: same protocol and same sets.
  if (a === b && sameSet(ca.rawRanges, cb.rawRanges) && sameSet(ca.nameKeys, cb.nameKeys)) return undefined;
  const range = shared(ca.rangeKeys, cb.rangeKeys);
  const name = shared(ca.nameKeys, cb.nameKeys);
  const withServerFirst = a === TCP_SERVER_FIRST || b === TCP_SERVER_FIRST;
  if (range !== undefined && name !== undefined) {
    const on = [range === '' ? 'no ipAddresses' : `both list ${range}`, ...(name === '' ? [] : [`both name host ${name}`])].join(' and ');
    return {
      code: withServerFirst ? 'EW422' : 'EW424',
      why: `matches like ${b} in ${where} (${on}): Envoy rejects the listener`,
    };
  }
  if (!withServerFirst || a === b) return undefined;
  const how =
    ca.cidrs.length === 0 || cb.cidrs.length === 0
      ? 'IPs on one side'
      : anyOverlap(ca.cidrs, cb.cidrs)
        ? 'overlapping IPs'
        : 'disjoint IPs';
  // OSM's own code accepts the pair (its webhook checks only spec.matches): each side is a tcp_proxy
  // chain to the port's original-destination cluster, and the inspectors tcp-server-first turns
  // off are ones a chain without SNI never reads. Only OSM's egress guide says not to share the port.
  return {
    code: 'EW423',
    why: `works with ${b} in ${where} (${how}); use separate ports`,
  };
}

/** Source ServiceAccounts of an Egress as "namespace/name", the key OSM selects policies by. */
export function egressSources(spec: unknown): string[] {
  const out = new Set<string>();
  for (const s of asArr(asObj(spec).sources).map(asObj)) {
    if (s.kind === 'ServiceAccount' && typeof s.name === 'string' && s.name && typeof s.namespace === 'string' && s.namespace) {
      out.add(namespacedName(s.namespace, s.name));
    }
  }
  return [...out];
}

/** Whether a Service's namespace is in the mesh, or unknown to the snapshot (offline checks). */
function inMesh(snapshot: ClusterSnapshot, namespace: string): boolean {
  const ns = snapshot.namespaces.get(namespace);
  return ns === undefined || ns.labels[OSM_MONITORED_BY] !== undefined;
}

/**
 * Findings listed per Egress. An object with thousands of ports on one number would otherwise
 * produce a finding per pair; past this many, the rest are counted in one last finding.
 */
const CONFLICTS_SHOWN = 50;

/** A finding every port of one (number, protocol) gets alike, up to the port's own path. */
type Verdict = { readonly code: Code; readonly message: string };

/** The findings of one (number, protocol) and, for counting them past the limit at once, their summary. */
type Verdicts = { readonly list: readonly Verdict[]; readonly code: Code | undefined };

function summarized(list: readonly Verdict[]): Verdicts {
  const first = list.find((v) => severityOf(v.code) === 'error') ?? list[0];
  return { list, code: first?.code };
}

/**
 * The match and chain of a snapshot record, per protocol. Records are immutable and shared by
 * every review of a snapshot, so a record's CIDRs are parsed once, not once per review that meets it.
 */
const recordMatches = new WeakMap<EgressPort['egress'], Map<string, EgressMatch>>();
const recordChains = new WeakMap<EgressMatch, Chain>();

function other(e: EgressPort): EgressMatch {
  let byProtocol = recordMatches.get(e.egress);
  if (!byProtocol) recordMatches.set(e.egress, (byProtocol = new Map()));
  let m = byProtocol.get(e.protocol);
  if (!m) {
    byProtocol.set(e.protocol, (m = { protocol: e.protocol, ipAddresses: e.egress.ipAddresses, hosts: e.egress.hosts }));
    recordChains.set(m, chainOf(m));
  }
  return m;
}

/**
 * Where the records of one client and port stand, for finding the few a match can conflict with: a
 * pair conflicts only when one side is tcp-server-first, or when both are tcp-like and share a
 * range key and a name key (conflictOf). Built once per list of a published snapshot, whose lists
 * are frozen; the lists `check` and read-your-writes grow are scanned whole.
 */
type BucketIndex = {
  readonly serverFirst: readonly number[];
  /** positions of the http, https and tcp records */
  readonly others: readonly number[];
  /** `${rangeKey}\0${nameKey}` → positions of tcp-like records with that key */
  readonly byKey: ReadonlyMap<string, readonly number[]>;
};

const bucketIndexes = new WeakMap<readonly EgressPort[], BucketIndex>();
/** Below this many records a list is scanned whole: the index would cost more than it saves. */
const INDEXED_FROM = 16;
/** A match with more key pairs than this is compared with every record instead. */
const MAX_KEY_PAIRS = 256;

const keyPairs = (c: Chain): string[] | undefined => {
  if (c.rangeKeys.size * c.nameKeys.size > MAX_KEY_PAIRS) return undefined;
  const out: string[] = [];
  for (const r of c.rangeKeys) for (const n of c.nameKeys) out.push(`${r}\0${n}`);
  return out;
};

function bucketIndex(bucket: readonly EgressPort[]): BucketIndex | undefined {
  if (bucket.length < INDEXED_FROM || !Object.isFrozen(bucket)) return undefined;
  let index = bucketIndexes.get(bucket);
  if (index) return index;
  const serverFirst: number[] = [];
  const others: number[] = [];
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < bucket.length; i++) {
    const m = other(bucket[i]!);
    if (!EGRESS_PROTOCOLS.includes(m.protocol)) continue;
    (m.protocol === TCP_SERVER_FIRST ? serverFirst : others).push(i);
    if (!isTcpLike(m.protocol)) continue;
    const pairs = keyPairs(recordChains.get(m)!);
    // a record with too many pairs to file is a candidate for every match
    for (const k of pairs ?? ['*']) {
      const list = byKey.get(k);
      if (list) list.push(i);
      else byKey.set(k, [i]);
    }
  }
  bucketIndexes.set(bucket, (index = { serverFirst, others, byKey }));
  return index;
}

/** The records of `bucket` that can conflict with `ours`, in the list's order: all of them when the list is not indexed. */
function candidates(bucket: readonly EgressPort[], ours: EgressMatch, chain: Chain): readonly EgressPort[] {
  const index = bucketIndex(bucket);
  if (!index || !EGRESS_PROTOCOLS.includes(ours.protocol)) return bucket;
  const pairs = isTcpLike(ours.protocol) ? keyPairs(chain) : [];
  if (pairs === undefined) return bucket;
  const at = new Set<number>(ours.protocol === TCP_SERVER_FIRST ? index.others : index.serverFirst);
  for (const k of [...pairs, '*']) for (const i of index.byKey.get(k) ?? []) at.add(i);
  return [...at].sort((a, b) => a - b).map((i) => bucket[i]!);
}

/**
 * Every listener conflict the Egress `o` would cause: against the other ports of `o` itself,
 * against Egress objects of the snapshot that list the same client and port (the previous version
 * of `o` excluded), and against in-mesh Services whose port is tcp-server-first.
 *
 * All ports of one Egress share its hosts and ipAddresses, so two ports of one number and protocol
 * are the same match: the cluster is read once per (number, protocol), and a port is compared with
 * the first earlier port of each other protocol only. Work per port is then bounded, whatever the
 * number of ports.
 */
export function egressConflicts(o: KubeObject, snapshot: ClusterSnapshot, namespace: string): Result {
  const self: ObjectRef = { namespace: asStr(o.metadata?.namespace) || namespace, name: asStr(o.metadata?.name) };
  const spec = asObj(o.spec);
  const hosts = onlyStrs(spec.hosts);
  const ipAddresses = onlyStrs(spec.ipAddresses);
  const sources = egressSources(spec);

  // Chains are built once per match: the object's own matches differ only by protocol, and a
  // snapshot record shares its Egress (hosts, ipAddresses) with the other ports of that Egress.
  const chains = new Map<EgressMatch, Chain>();
  const chain = (m: EgressMatch): Chain => {
    let c = chains.get(m) ?? recordChains.get(m);
    if (!c) chains.set(m, (c = chainOf(m)));
    return c;
  };
  const ownMatches = new Map<string, EgressMatch>();
  const own = (protocol: string): EgressMatch => {
    let m = ownMatches.get(protocol);
    if (!m) ownMatches.set(protocol, (m = { protocol, ipAddresses, hosts }));
    return m;
  };

  // The other Egress is what a conflict names; the client only when this Egress has several, as
  // two names of 127 characters leave no room for the rest of a 256-character warning.
  const client = (source: string): string => (sources.length > 1 ? ` for ${source}` : '');

  /** What the cluster says about every port of this number and protocol. */
  const fromCluster = (number: number, protocol: string): Verdicts => {
    const out: Verdict[] = [];
    const ours = own(protocol);
    for (const source of sources) {
      // a record repeats when its Egress lists the client or the port twice
      const seen = new Set<string>();
      const bucket = snapshot.egressesBySourcePort.get(egressKey(source, number)) ?? [];
      for (const e of candidates(bucket, ours, chain(ours))) {
        if (sameObject(e.egress, self)) continue;
        const id = `${e.egress.namespace}/${e.egress.name}#${e.protocol}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const c = conflictOf(ours, other(e), `Egress ${e.egress.namespace}/${e.egress.name}`, chain);
        if (c) out.push({ code: c.code, message: `${protocol} port ${number}${client(source)} ${c.why}` });
      }
    }
    if (protocol === TCP_SERVER_FIRST) return summarized(out);
    const breaks =
      protocol === 'http'
        ? 'http here never matches'
        : protocol === 'https' && hosts.length
          ? 'no SNI is read, hosts never match'
          : 'it still works';
    const services = new Set<string>();
    for (const s of snapshot.servicesByPort.get(number) ?? []) {
      if (s.protocol !== TCP_SERVER_FIRST || !inMesh(snapshot, s.service.namespace)) continue;
      const name = namespacedName(s.service.namespace, s.service.name);
      if (services.has(name)) continue;
      services.add(name);
      out.push({ code: 'EW425', message: `Service ${name} makes port ${number} tcp-server-first: ${breaks}` });
    }
    return summarized(out);
  };

  const found = collector(CONFLICTS_SHOWN);
  const cluster = new Map<string, Verdicts>();
  /** protocol → index of the first port with it, per port number */
  const earlier = new Map<number, Map<string, number>>();

  asArr(spec.ports).forEach((raw, i) => {
    const port = asObj(raw);
    const number = port.number;
    const protocol = asStr(port.protocol);
    if (typeof number !== 'number' || !Number.isInteger(number) || !EGRESS_PROTOCOLS.includes(protocol)) return;
    const path = `spec.ports[${i}]`;

    let firsts = earlier.get(number);
    if (!firsts) earlier.set(number, (firsts = new Map()));
    for (const [theirs, j] of firsts) {
      const c = conflictOf(own(protocol), own(theirs), `spec.ports[${j}]`, chain);
      if (c) found.add(c.code, path, `${protocol} port ${number} ${c.why}`);
    }
    if (!firsts.has(protocol)) firsts.set(protocol, i);

    const key = `${number}#${protocol}`;
    let verdicts = cluster.get(key);
    if (!verdicts) cluster.set(key, (verdicts = fromCluster(number, protocol)));
    if (!found.full()) for (const v of verdicts.list) found.add(v.code, path, v.message);
    else if (verdicts.code !== undefined) found.skip(verdicts.list.length, verdicts.code);
  });
  return found.result((more) => ['spec.ports', `${more} more listener ${more === 1 ? 'conflict' : 'conflicts'} not listed`]);
}
