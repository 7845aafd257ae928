/**
 * Which Linkerd EgressNetwork decides a meshed pod's connection to an address: Linkerd's
 * resolve_egress_network (policy-controller/k8s/index/src/outbound/index/egress_network.rs). Only
 * the EgressNetworks of the pod's namespace count when it has any, else those of the global egress
 * namespace; among them the most specific network containing the address wins, then the oldest,
 * then namespace and name. A Service address never gets here (lookup_ip tries Services first).
 */
import { finding, ok, type Result } from '../catalogue/result.ts';
import { contains, parseIpOrCidr, type Cidr } from '../net/cidr.ts';
import type { EgressNetworkRecord } from './egress-records.ts';

/** Linkerd's default --global-egress-network-namespace. */
export const LINKERD_GLOBAL_EGRESS_NAMESPACE = 'linkerd-egress';

const ALL: readonly Cidr[] = [parseIpOrCidr('0.0.0.0/0')!.cidr, parseIpOrCidr('::/0')!.cidr];

const size = (c: Cidr): bigint => 1n << BigInt((c.family === 4 ? 32 : 128) - c.bits);

/** The networks of a record as Linkerd reads them: without `networks`, everything outside the cluster networks. */
function networksOf(r: EgressNetworkRecord, cluster: readonly Cidr[]): { cidr: Cidr; except: Cidr[] }[] {
  if (r.networks === undefined) return ALL.map((cidr) => ({ cidr, except: cluster.filter((c) => c.family === cidr.family) }));
  return r.networks.flatMap((n) => {
    const cidr = parseIpOrCidr(n.cidr)?.cidr;
    if (!cidr) return [];
    return [{ cidr, except: n.except.flatMap((e) => parseIpOrCidr(e)?.cidr ?? []) }];
  });
}

/** match_network: the size of the most specific network holding the address (exceptions taken out), or undefined. */
function matchedSize(r: EgressNetworkRecord, address: Cidr, cluster: readonly Cidr[]): bigint | undefined {
  let best: bigint | undefined;
  for (const n of networksOf(r, cluster)) {
    if (!contains(n.cidr, address) || n.except.some((e) => contains(e, address))) continue;
    const s = size(n.cidr) - n.except.reduce((sum, e) => sum + size(e), 0n);
    if (best === undefined || s < best) best = s;
  }
  return best;
}

export type EgressNetworkScope = {
  /** Linkerd's clusterNetworks, for EgressNetworks without `networks` */
  readonly clusterNetworks: readonly Cidr[];
  readonly globalNamespace?: string;
};

/** The EgressNetwork that decides a connection from `sourceNamespace` to `address`, or undefined (plain external traffic). */
export function decidingEgressNetwork(
  address: string,
  sourceNamespace: string,
  networks: readonly EgressNetworkRecord[],
  { clusterNetworks, globalNamespace = LINKERD_GLOBAL_EGRESS_NAMESPACE }: EgressNetworkScope,
): EgressNetworkRecord | undefined {
  const addr = parseIpOrCidr(address)?.cidr;
  if (!addr) return undefined;
  const own = networks.filter((n) => n.namespace === sourceNamespace);
  const pool = own.length ? own : networks.filter((n) => n.namespace === globalNamespace);
  let best: { r: EgressNetworkRecord; s: bigint } | undefined;
  for (const r of pool) {
    const s = matchedSize(r, addr, clusterNetworks);
    if (s === undefined) continue;
    if (!best || s < best.s || (s === best.s && before(r, best.r))) best = { r, s };
  }
  return best?.r;
}

/** compare_matched_egress_network's tie-breaks: older first, then namespace, then name. */
function before(a: EgressNetworkRecord, b: EgressNetworkRecord): boolean {
  if (a.created !== b.created) return a.created !== '' && (b.created === '' || a.created < b.created);
  if (a.namespace !== b.namespace) return a.namespace < b.namespace;
  return a.name < b.name;
}

/**
 * An EgressNetwork outside the global egress namespace takes every address out of the global ones
 * for its namespace's pods: once the namespace has one, Linkerd considers no other. `global` are the
 * EgressNetworks of the global namespace as the lookup holds them (undefined: not known).
 */
export function shadowsGlobalNetworks(
  namespace: string,
  global: readonly EgressNetworkRecord[] | undefined,
  globalNamespace = LINKERD_GLOBAL_EGRESS_NAMESPACE,
): Result {
  if (namespace === globalNamespace || !global?.length) return ok;
  const first = global[0]!;
  const more = global.length > 1 ? ` and ${global.length - 1} more` : '';
  return finding(
    'EW666',
    'metadata.namespace',
    `pods here stop using ${first.namespace}/${first.name} (${first.trafficPolicy})${more} for every address; repeat them here`,
  );
}
