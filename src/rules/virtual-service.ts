/**
 * VirtualService validation with Istio parity for what egress configurations use: hosts, gateways,
 * tls and tcp routes, exportTo and the unreachable-rule warnings. http routes are only required to
 * exist (one of http, tcp or tls) and are read by the cross-object checks, not validated in depth.
 */
import type { KubeObject } from '../admission/types.ts';
import {
  asArr, asObj, asStr, asStrs, checkExportTo, fqdnProblem, hostSubsetOf, hostsOverlap, ipSubnetProblem, isDns1123Label,
  isIpAddress, isObj, istioMetadataProblem, labelProblems, portNumberProblem, q, wildcardDomainProblem, DOMAIN_MAX, type Obj,
} from './fields.ts';
import { virtualServiceCross } from './istio-cross.ts';
import type { Rule } from './registry.ts';
import { err, merge, ok, warn, type Result } from './result.ts';

export const CODES: Record<string, string> = {
  EW201: 'annotation istiod rejects on a VirtualService (istio.io/dry-run, internal.istio.io/*)',
  EW202: 'delegate VirtualService (no hosts) with gateways, tls or tcp routes',
  EW203: 'invalid gateway reference',
  EW204: 'legacy gateway reference "name.namespace" (warning)',
  EW205: 'host is not a valid (wildcard) domain name',
  EW206: 'host "*" on a VirtualService bound to the mesh',
  EW207: 'two hosts of the VirtualService overlap',
  EW208: 'none of http, tcp or tls is provided',
  EW209: 'tls route without match',
  EW210: 'null tls or tcp match',
  EW211: 'tls match without sniHosts',
  EW212: 'SNI host is an IP address (warning)',
  EW213: 'SNI host is not a valid domain name',
  EW214: 'SNI host is not within any host of the VirtualService',
  EW215: 'match destinationSubnets entry is not an IP or CIDR',
  EW216: 'match port outside 1..65535',
  EW217: 'invalid match sourceLabels or gateways',
  EW218: 'tls or tcp route without destinations',
  EW219: 'invalid route destination (null, missing, negative or all-zero weights)',
  EW220: 'invalid destination host, subset or port',
  EW221: 'invalid exportTo',
  EW222: 'tls or tcp rule or match that earlier rules make unreachable (warning)',
};

const MESH = 'mesh';

/** VirtualService validation: Istio parity for hosts, tls and tcp, then the cross-object checks. */
export const validateVirtualService: Rule = (obj, ctx) => merge(validateVirtualServiceParity(obj, ctx.namespace), virtualServiceCross(obj, ctx));

/** What istiod's validating webhook says about a VirtualService's hosts, gateways, tls and tcp routes. */
export function validateVirtualServiceParity(obj: KubeObject, contextNamespace: string): Result {
  const namespace = obj.metadata?.namespace || contextNamespace;
  const meta = istioMetadataProblem(obj.metadata, namespace);
  if (meta) return err('EW201', `metadata.annotations[${meta[0]}]`, meta[1]);

  const spec = asObj(obj.spec);
  const hosts = asStrs(spec.hosts);
  const gateways = asStrs(spec.gateways);
  const http = asArr(spec.http);
  const tls = asArr(spec.tls);
  const tcp = asArr(spec.tcp);
  const out: Result[] = [];

  if (hosts.length === 0) {
    if (gateways.length) out.push(err('EW202', 'spec.gateways', 'delegate virtual service must have no gateways specified'));
    if (tls.length) out.push(err('EW202', 'spec.tls', 'delegate virtual service must have no tls route specified'));
    if (tcp.length) out.push(err('EW202', 'spec.tcp', 'delegate virtual service must have no tcp route specified'));
  }
  out.push(gatewayNames(gateways, 'spec.gateways'));

  const boundToGateway = gateways.length > 0 && !gateways.includes(MESH);
  const hasSni = tls.some((r) => asArr(asObj(r).match).some((m) => asArr(asObj(m).sniHosts).length > 0));
  let allHostsValid = true;
  hosts.forEach((h, i) => {
    const p = boundToGateway ? gatewayDomainProblem(hasSni, h) : wildcardDomainProblem(h);
    if (p) {
      if (!isIpAddress(h)) {
        out.push(err('EW205', `spec.hosts[${i}]`, p));
        allHostsValid = false;
      }
    } else if (!boundToGateway && h === '*') {
      out.push(err('EW206', `spec.hosts[${i}]`, 'wildcard host * is not allowed for virtual services bound to the mesh gateway'));
      allHostsValid = false;
    }
  });
  if (allHostsValid) {
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        if (hostsOverlap(hosts[i]!, hosts[j]!)) out.push(err('EW207', `spec.hosts[${j}]`, `duplicate hosts in virtual service: ${hosts[i]} & ${hosts[j]}`));
      }
    }
  }

  if (http.length === 0 && tcp.length === 0 && tls.length === 0) out.push(err('EW208', 'spec', 'http, tcp or tls must be provided in virtual service'));

  tls.forEach((r, i) => out.push(tlsRoute(r, `spec.tls[${i}]`, hosts, boundToGateway)));
  tcp.forEach((r, i) => out.push(tcpRoute(r, `spec.tcp[${i}]`)));
  out.push(checkExportTo(asStrs(spec.exportTo), namespace, 'spec.exportTo', 'EW221'));
  out.push(unreachable(tcp, 'spec.tcp'), unreachable(tls, 'spec.tls'));
  return merge(ok, ...out);
}

/**
 * Gateway references: "namespace/name", or a legacy short or dotted name. As in Istio, the first
 * entry without a "/" ends the check (so entries after "mesh" are not looked at).
 */
function gatewayNames(names: readonly string[], path: string): Result {
  const out: Result[] = [];
  for (const [i, g] of names.entries()) {
    const at = `${path}[${i}]`;
    const slash = g.indexOf('/');
    if (slash < 0) {
      if (g.includes('.')) {
        const parts = g.split('.');
        out.push(warn('EW204', at, `legacy gateway name ${q(g)}; prefer ${q(`${parts[1]}/${parts[0]}`)}`));
      }
      const p = fqdnProblem(g);
      if (p) out.push(err('EW203', at, p));
      break;
    }
    const ns = g.slice(0, slash);
    const name = g.slice(slash + 1);
    if (!ns || !name) out.push(err('EW203', at, 'config namespace and gateway name cannot be empty'));
    if (!isDns1123Label(ns, { allowUpper: true })) out.push(err('EW203', at, `invalid value for namespace: ${q(ns)}`));
    if (!isDns1123Label(name, { allowUpper: true })) out.push(err('EW203', at, `invalid value for gateway name: ${q(name)}`));
  }
  return merge(ok, ...out);
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
    if (!/[a-zA-Z]/.test(hostname)) return `domain name ${q(domain)} invalid (label ${q(hostname)} invalid). should follow ${OUTBOUND_FORMAT} format`;
    return undefined;
  }
  return wildcardDomainProblem(domain);
}

function tlsRoute(raw: unknown, at: string, hosts: readonly string[], boundToGateway: boolean): Result {
  if (!isObj(raw)) return ok;
  const out: Result[] = [];
  const matches = asArr(raw.match);
  if (matches.length === 0) out.push(err('EW209', `${at}.match`, 'TLS route must have at least one match condition'));
  matches.forEach((m, j) => out.push(tlsMatch(m, `${at}.match[${j}]`, hosts, boundToGateway)));
  const route = asArr(raw.route);
  if (route.length === 0) out.push(err('EW218', `${at}.route`, 'TLS route is required'));
  out.push(routeDestinations(route, `${at}.route`));
  return merge(ok, ...out);
}

function tcpRoute(raw: unknown, at: string): Result {
  if (!isObj(raw)) return ok;
  const out: Result[] = [];
  asArr(raw.match).forEach((m, j) => {
    const mat = `${at}.match[${j}]`;
    if (!isObj(m)) out.push(err('EW210', mat, 'tcp match may not be nil'));
    else out.push(l4Match(m, mat));
  });
  const route = asArr(raw.route);
  if (route.length === 0) out.push(err('EW218', `${at}.route`, 'TCP route is required'));
  out.push(routeDestinations(route, `${at}.route`));
  return merge(ok, ...out);
}

function tlsMatch(raw: unknown, at: string, hosts: readonly string[], boundToGateway: boolean): Result {
  if (!isObj(raw)) return err('EW210', at, 'TLS match may not be null');
  const out: Result[] = [];
  const sniHosts = asStrs(raw.sniHosts);
  if (sniHosts.length === 0) out.push(err('EW211', `${at}.sniHosts`, 'TLS match must have at least one SNI host'));
  sniHosts.forEach((s, k) => out.push(sniHost(s, `${at}.sniHosts[${k}]`, hosts, boundToGateway)));
  out.push(l4Match(raw, at));
  return merge(ok, ...out);
}

function sniHost(sni: string, at: string, hosts: readonly string[], boundToGateway: boolean): Result {
  const p = boundToGateway ? gatewayDomainProblem(true, sni) : wildcardDomainProblem(sni);
  if (p) {
    if (isIpAddress(sni)) return warn('EW212', at, `${q(sni)} is an IP address: against the SNI spec, few clients send it`);
    return err('EW213', at, p);
  }
  if (hosts.some((h) => hostSubsetOf(sni, h))) return ok;
  return err('EW214', at, `SNI host ${q(sni)} is not a compatible subset of any of the virtual service hosts: [${hosts.join(', ')}]`);
}

/** The L4 parts shared by tls and tcp matches. */
function l4Match(m: Obj, at: string): Result {
  const out: Result[] = [];
  asStrs(m.destinationSubnets).forEach((s, k) => {
    const p = ipSubnetProblem(s);
    if (p) out.push(err('EW215', `${at}.destinationSubnets[${k}]`, p));
  });
  if (m.port !== undefined && m.port !== null && m.port !== 0) {
    const p = portNumberProblem(m.port);
    if (p) out.push(err('EW216', `${at}.port`, p));
  }
  for (const l of labelProblems(asObj(m.sourceLabels))) out.push(err('EW217', `${at}.sourceLabels`, l));
  const gw = gatewayNames(asStrs(m.gateways), `${at}.gateways`);
  out.push({ errors: gw.errors.map((e) => ({ ...e, code: 'EW217' })), warnings: gw.warnings });
  return merge(ok, ...out);
}

function routeDestinations(list: readonly unknown[], at: string): Result {
  const out: Result[] = [];
  let total = 0;
  list.forEach((raw, i) => {
    const rat = `${at}[${i}]`;
    if (!isObj(raw)) {
      out.push(err('EW219', rat, 'weight may not be nil'));
      return;
    }
    if (!isObj(raw.destination)) out.push(err('EW219', `${rat}.destination`, 'destination is required'));
    else out.push(destination(raw.destination, `${rat}.destination`));
    const weight = typeof raw.weight === 'number' ? raw.weight : 0;
    if (weight < 0) out.push(err('EW219', `${rat}.weight`, `weight ${weight} < 0`));
    total += weight;
  });
  if (list.length > 1 && total === 0) out.push(err('EW219', at, 'total destination weight = 0'));
  return merge(ok, ...out);
}

function destination(d: Obj, at: string): Result {
  const out: Result[] = [];
  const host = asStr(d.host);
  if (host === '*') out.push(err('EW220', `${at}.host`, 'invalid destination host *'));
  else {
    const p = wildcardDomainProblem(host);
    if (p) out.push(err('EW220', `${at}.host`, p));
  }
  if (d.subset !== undefined && d.subset !== '') {
    const subset = asStr(d.subset);
    if (!isDns1123Label(subset, { allowUpper: true })) out.push(err('EW220', `${at}.subset`, `subset name is invalid: ${subset}`));
  }
  if (isObj(d.port)) {
    const p = portNumberProblem(d.port.number ?? 0);
    if (p) out.push(err('EW220', `${at}.port.number`, p));
  }
  return merge(ok, ...out);
}

/** Canonical JSON of a match (keys sorted), so equal matches compare equal whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/**
 * Istio's unreachable-rule analysis for tls and tcp: a rule after a match-all rule, and matches that
 * repeat an earlier rule's match exactly. Rules and matches are named "#<index>" as Istio does.
 */
function unreachable(routes: readonly unknown[], path: string): Result {
  const out: Result[] = [];
  const seen = new Map<string, number>();
  let catchAll = -1;
  routes.forEach((raw, i) => {
    if (!isObj(raw)) return;
    const at = `${path}[${i}]`;
    const matches = asArr(raw.match);
    if (matches.length === 0) {
      if (catchAll >= 0) out.push(warn('EW222', at, `virtualService rule #${i} not used (only the last rule can have no matches)`));
      catchAll = i;
      return;
    }
    if (catchAll >= 0) {
      out.push(warn('EW222', at, `virtualService rule #${i} not used (route without matches defined before)`));
      return;
    }
    let duplicates = 0;
    matches.forEach((m, j) => {
      const key = canonical(m);
      const prior = seen.get(key);
      if (prior === undefined) {
        seen.set(key, i);
        return;
      }
      duplicates++;
      out.push(warn('EW222', `${at}.match[${j}]`, `virtualService rule #${i} match #${j} is not used (duplicate/overlapping match in rule #${prior})`));
    });
    if (duplicates === matches.length) out.push(warn('EW222', at, `virtualService rule #${i} not used (all matches used by prior rules)`));
  });
  return merge(ok, ...out);
}
