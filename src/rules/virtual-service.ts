/**
 * VirtualService validation with Istio parity (istiod's ValidateVirtualService): hosts, gateways,
 * delegates, http routes (http-route.ts), tls and tcp routes, exportTo and the unreachable-rule
 * warnings; then the cross-object checks.
 */
import type { KubeObject } from '../admission/types.ts';
import { finding, merge, mergeAll, ok, type Result } from '../catalogue/result.ts';
import { boundToGatewaysOnly } from '../cluster/snapshot.ts';
import { asArr, asObj, asStr, asStrs, isObj, q, type Obj } from '../json.ts';
import { routeDestinations } from './destination.ts';
import {
  checkExportTo,
  got,
  ipSubnetProblem,
  isIpAddress,
  istioMetadataProblem,
  labelProblems,
  portNumberProblem,
  wildcardDomainProblem,
  DOMAIN_MAX,
} from './fields.ts';
import { gatewayNames } from './gateway-names.ts';
import { httpRoute, jwtClaimRoutes } from './http-route.ts';
import { virtualServiceCross } from './istio-cross.ts';
import type { Rule } from './rule.ts';
import { unreachableRules } from './unreachable-rules.ts';

/** Overlapping host pairs listed: a list with thousands of copies of one host has millions of pairs. */
const HOST_PAIRS_SHOWN = 50;
/** Hosts named in one message. */
const HOSTS_NAMED = 10;

const shownHosts = (hosts: readonly string[]): string =>
  hosts.length > HOSTS_NAMED ? `${hosts.slice(0, HOSTS_NAMED).join(', ')}, …` : hosts.join(', ');

/** VirtualService validation: Istio parity, then the cross-object checks. */
export const validateVirtualService: Rule = (obj, ctx) =>
  merge(validateVirtualServiceParity(obj, ctx.namespace), virtualServiceCross(obj, ctx));

/** What istiod's validating webhook says about a VirtualService. */
export function validateVirtualServiceParity(obj: KubeObject, contextNamespace: string): Result {
  const namespace = asStr(obj.metadata?.namespace) || contextNamespace;
  const meta = istioMetadataProblem(obj.metadata);
  if (meta) return finding('EW201', `metadata.annotations[${meta[0]}]`, meta[1]);

  const spec = asObj(obj.spec);
  const hosts = asStrs(spec.hosts);
  const gateways = asStrs(spec.gateways);
  const rawHosts = asArr(spec.hosts);
  const http = asArr(spec.http);
  const tls = asArr(spec.tls);
  const tcp = asArr(spec.tcp);
  const out: Result[] = [];

  if (hosts.length === 0) {
    if (gateways.length) out.push(finding('EW202', 'spec.gateways', 'delegate virtual service must have no gateways specified'));
    if (tls.length) out.push(finding('EW202', 'spec.tls', 'delegate virtual service must have no tls route specified'));
    if (tcp.length) out.push(finding('EW202', 'spec.tcp', 'delegate virtual service must have no tcp route specified'));
  }
  out.push(gatewayNames(asArr(spec.gateways), 'spec.gateways'));

  const boundToGateway = boundToGatewaysOnly(gateways);
  out.push(jwtClaimRoutes(http, gateways, boundToGateway));
  const hasSni = tls.some((r) => asArr(asObj(r).match).some((m) => asArr(asObj(m).sniHosts).length > 0));
  let allHostsValid = true;
  rawHosts.forEach((raw, i) => {
    if (typeof raw !== 'string') {
      out.push(finding('EW205', `spec.hosts[${i}]`, `host must be a string, got ${got(raw)}`));
      allHostsValid = false;
      return;
    }
    const h = raw;
    const p = boundToGateway ? gatewayDomainProblem(hasSni, h) : wildcardDomainProblem(h);
    if (p) {
      if (!isIpAddress(h)) {
        out.push(finding('EW205', `spec.hosts[${i}]`, p));
        allHostsValid = false;
      }
    } else if (!boundToGateway && h === '*') {
      out.push(finding('EW206', `spec.hosts[${i}]`, 'wildcard host * is not allowed for virtual services bound to the mesh gateway'));
      allHostsValid = false;
    }
  });
  const index = hostIndex(hosts);
  if (allHostsValid) out.push(overlappingHosts(hosts, index));

  if (http.length === 0 && tcp.length === 0 && tls.length === 0)
    out.push(finding('EW208', 'spec', 'http, tcp or tls must be provided in virtual service'));

  http.forEach((r, i) => out.push(httpRoute(r, `spec.http[${i}]`, { delegate: hosts.length === 0 })));
  tls.forEach((r, i) => out.push(tlsRoute(r, `spec.tls[${i}]`, hosts, index, boundToGateway)));
  tcp.forEach((r, i) => out.push(tcpRoute(r, `spec.tcp[${i}]`)));
  out.push(checkExportTo(asStrs(spec.exportTo), namespace, 'spec.exportTo', 'EW221'));
  out.push(unreachableRules(http, 'http', 'spec.http'), unreachableRules(tcp, 'tcp', 'spec.tcp'), unreachableRules(tls, 'tls', 'spec.tls'));
  return mergeAll(out);
}

type HostIndex = {
  /** indices of the hosts that overlap host `i` (Istio's host.Name.Matches), `i` itself included */
  readonly overlapping: (i: number) => number[];
  /** whether `name` is a subset of one of the hosts (Istio's host.Name.SubsetOf) */
  readonly covers: (name: string) => boolean;
};

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The hosts of one VirtualService, indexed for Istio's matching: "*x" matches every name ending in
 * "x" as a string ("*foo.com" matches "barfoo.com"). A lookup tries only the suffix lengths of the
 * wildcards present, so n hosts cost n × (distinct wildcard lengths), not n × n.
 */
function hostIndex(hosts: readonly string[]): HostIndex {
  const exact = new Map<string, number[]>();
  /** wildcard "*x" by "x" */
  const wild = new Map<string, number[]>();
  hosts.forEach((h, i) => (h.startsWith('*') ? push(wild, h.slice(1), i) : push(exact, h, i)));
  const lengths = [...new Set([...wild.keys()].map((x) => x.length))];
  const body = (h: string): string => (h.startsWith('*') ? h.slice(1) : h);
  // what a wildcard "*x" covers: the hosts, and the rests of narrower wildcards, that end with "x"
  const bySuffix = new Map<string, number[]>();
  hosts.forEach((h, i) => {
    const b = body(h);
    for (const n of lengths) if (n <= b.length) push(bySuffix, b.slice(b.length - n), i);
  });
  /** wildcards whose "x" is a suffix of `name` */
  const wildcardsEnding = (name: string): number[][] =>
    lengths.filter((n) => n <= name.length).map((n) => wild.get(name.slice(name.length - n)) ?? []);
  return {
    overlapping(i) {
      const h = hosts[i]!;
      const lists = h.startsWith('*')
        ? [bySuffix.get(body(h)) ?? [], ...wildcardsEnding(body(h))]
        : [exact.get(h) ?? [], ...wildcardsEnding(h)];
      return [...new Set(lists.flat())].sort((a, b) => a - b);
    },
    covers(name) {
      if (!name.startsWith('*') && exact.has(name)) return true;
      return wildcardsEnding(body(name)).some((l) => l.length > 0);
    },
  };
}

/** Pairs of hosts that overlap, each reported at the later host as Istio does, up to HOST_PAIRS_SHOWN. */
function overlappingHosts(hosts: readonly string[], index: HostIndex): Result {
  const out: Result[] = [];
  for (let i = 0; i < hosts.length; i++) {
    for (const j of index.overlapping(i)) {
      if (j <= i) continue;
      if (out.length === HOST_PAIRS_SHOWN) {
        out.push(finding('EW207', 'spec.hosts', `more duplicate hosts in virtual service not listed (first ${HOST_PAIRS_SHOWN} shown)`));
        return mergeAll(out);
      }
      out.push(finding('EW207', `spec.hosts[${j}]`, `duplicate hosts in virtual service: ${hosts[i]} & ${hosts[j]}`));
    }
  }
  return mergeAll(out);
}

const OUTBOUND_FORMAT = 'outbound_.<PORT>_._.<HOSTNAME>';

/** Hosts of a gateway-bound VirtualService: also the SNI names Envoy generates for AUTO_PASSTHROUGH. */
function gatewayDomainProblem(sni: boolean, domain: string): string | undefined {
  if (domain.length > DOMAIN_MAX) return `domain name ${q(domain)} too long (max ${DOMAIN_MAX})`;
  if (domain.length === 0) return 'empty domain name not allowed';
  if (sni && domain.startsWith('outbound_')) {
    const parts = domain.split('_');
    if (parts.length < 4) return `domain name ${domain} invalid, should follow '${OUTBOUND_FORMAT}' format`;
    const trim = (s: string) => s.replace(/^\.+|\.+$/g, '');
    const direction = parts[0]!;
    const port = trim(parts[1]!);
    const hostname = trim(parts[3]!);
    if (direction !== 'outbound') return `domain name ${q(domain)} invalid (label ${q(direction)} invalid)`;
    if (!/[0-9]/.test(port)) return `domain name ${q(domain)} invalid (label ${q(port)} invalid). should follow ${OUTBOUND_FORMAT} format`;
    if (!/[a-zA-Z]/.test(hostname))
      return `domain name ${q(domain)} invalid (label ${q(hostname)} invalid). should follow ${OUTBOUND_FORMAT} format`;
    return undefined;
  }
  return wildcardDomainProblem(domain);
}

function tlsRoute(raw: unknown, at: string, hosts: readonly string[], index: HostIndex, boundToGateway: boolean): Result {
  if (!isObj(raw)) return ok;
  const out: Result[] = [];
  const matches = asArr(raw.match);
  if (matches.length === 0) out.push(finding('EW209', `${at}.match`, 'TLS route must have at least one match condition'));
  matches.forEach((m, j) => out.push(tlsMatch(m, `${at}.match[${j}]`, hosts, index, boundToGateway)));
  const route = asArr(raw.route);
  if (route.length === 0) out.push(finding('EW218', `${at}.route`, 'TLS route is required'));
  out.push(routeDestinations(route, `${at}.route`));
  return mergeAll(out);
}

function tcpRoute(raw: unknown, at: string): Result {
  if (!isObj(raw)) return ok;
  const out: Result[] = [];
  asArr(raw.match).forEach((m, j) => {
    const mat = `${at}.match[${j}]`;
    if (!isObj(m)) out.push(finding('EW210', mat, 'tcp match may not be nil'));
    else out.push(l4Match(m, mat, false));
  });
  const route = asArr(raw.route);
  if (route.length === 0) out.push(finding('EW218', `${at}.route`, 'TCP route is required'));
  out.push(routeDestinations(route, `${at}.route`));
  return mergeAll(out);
}

function tlsMatch(raw: unknown, at: string, hosts: readonly string[], index: HostIndex, boundToGateway: boolean): Result {
  if (!isObj(raw)) return finding('EW210', at, 'TLS match may not be null');
  const out: Result[] = [];
  const sniHosts = asArr(raw.sniHosts);
  if (sniHosts.length === 0)
    out.push(
      finding('EW211', `${at}.sniHosts`, 'TLS match must have at least one SNI host: add sniHosts with the server names the route is for'),
    );
  sniHosts.forEach((s, k) => {
    const sat = `${at}.sniHosts[${k}]`;
    out.push(
      typeof s === 'string'
        ? sniHost(s, sat, hosts, index, boundToGateway)
        : finding('EW213', sat, `SNI host must be a string, got ${got(s)}`),
    );
  });
  out.push(l4Match(raw, at, true));
  return mergeAll(out);
}

function sniHost(sni: string, at: string, hosts: readonly string[], index: HostIndex, boundToGateway: boolean): Result {
  const p = boundToGateway ? gatewayDomainProblem(true, sni) : wildcardDomainProblem(sni);
  if (p) {
    if (isIpAddress(sni)) return finding('EW212', at, `${q(sni)} is an IP address: against the SNI spec, few clients send it`);
    return finding('EW213', at, p);
  }
  if (index.covers(sni)) return ok;
  return finding('EW214', at, `SNI host ${q(sni)} is not a compatible subset of any of the virtual service hosts: [${shownHosts(hosts)}]`);
}

/**
 * The L4 parts shared by tls and tcp matches. istiod drops the legacy gateway name warning of a
 * tcp match (it collects tcp match problems as plain errors), and keeps it for tls.
 */
function l4Match(m: Obj, at: string, gatewayWarnings: boolean): Result {
  const out: Result[] = [];
  asArr(m.destinationSubnets).forEach((s, k) => {
    const p = typeof s === 'string' ? ipSubnetProblem(s) : `destination subnet must be a string, got ${got(s)}`;
    if (p) out.push(finding('EW215', `${at}.destinationSubnets[${k}]`, p));
  });
  if (m.port !== undefined && m.port !== null && m.port !== 0) {
    const p = portNumberProblem(m.port);
    if (p) out.push(finding('EW216', `${at}.port`, p));
  }
  for (const l of labelProblems(asObj(m.sourceLabels))) out.push(finding('EW217', `${at}.sourceLabels`, l));
  const gw = gatewayNames(asArr(m.gateways), `${at}.gateways`);
  out.push({ errors: gw.errors.map((e) => ({ ...e, code: 'EW217' })), warnings: gatewayWarnings ? gw.warnings : [] });
  return mergeAll(out);
}
