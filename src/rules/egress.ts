/**
 * OSM Egress (policy.openservicemesh.io). OSM's own webhook checks only spec.matches; the rest is
 * accepted and then either silently does nothing (an upper-case protocol, an https host with a
 * partial wildcard), silently widens (an unparsable ipAddresses entry opens the port to every IP) or
 * breaks the client's whole outbound listener (tcp-server-first conflicts, in tcp-server-first.ts).
 */
import { namespacedName, type KubeObject } from '../admission/types.ts';
import { collector, finding, merge, mergeAll, ok, type Result } from '../catalogue/result.ts';
import { asArr, asObj, asStr, describe, isObj, type Obj } from '../json.ts';
import { parseCidrDetailed } from '../net/cidr.ts';
import { checkHost, isDns1123Label, isIpAddress, notStringProblem, partialWildcardProblem, portNumberProblem } from './fields.ts';
import type { Rule } from './rule.ts';
import { EGRESS_PROTOCOLS } from '../catalogue/protocols.ts';
import { egressConflicts } from './tcp-server-first.ts';

const SMI_GROUP = 'specs.smi-spec.io/v1alpha4';
const POLICY_GROUP = 'policy.openservicemesh.io/v1alpha1';

/** Port numbers listed in one message; an Egress may have thousands. */
const PORTS_NAMED = 10;

// Kubernetes object names (ServiceAccounts): a lower-case DNS-1123 subdomain.
const isSubdomain = (s: string): boolean => s.length <= 253 && s.split('.').every((l) => isDns1123Label(l));

/** OSM's egressValidator (pkg/validator/validators.go), same order and words, lower-cased first letter. */
function checkMatches(spec: Obj, namespace: string, ports: readonly Obj[], routeGroups: ReadonlyMap<string, number>): Result {
  const matches = asArr(spec.matches);
  const nonHttp = [
    ...new Set(
      ports
        .filter((p) => typeof p.protocol === 'string' && EGRESS_PROTOCOLS.includes(p.protocol) && p.protocol !== 'http')
        .map((p) => (typeof p.number === 'number' ? String(p.number) : describe(p.number))),
    ),
  ];
  const named = nonHttp.length > PORTS_NAMED ? `${nonHttp.slice(0, PORTS_NAMED).join(', ')}, …` : nonHttp.join(', ');
  let upstream = 0;
  return mergeAll(
    matches.map((m, i): Result => {
      const at = `spec.matches[${i}]`;
      if (!isObj(m) || typeof m.apiGroup !== 'string' || typeof m.kind !== 'string' || typeof m.name !== 'string') {
        return finding('EW305', at, 'a match needs apiGroup, kind and name');
      }
      if (m.apiGroup === SMI_GROUP) {
        if (m.kind !== 'HTTPRouteGroup') {
          return finding('EW302', `${at}.kind`, `expected 'matches.kind' for match '${m.name}' to be 'HTTPRouteGroup', got: ${m.kind}`);
        }
        const matchCount = routeGroups.get(namespacedName(namespace, m.name));
        return merge(
          nonHttp.length
            ? finding(
                'EW343',
                at,
                `HTTPRouteGroup ${m.name} applies to http ports only; ignored on ${nonHttp.length > 1 ? 'ports' : 'port'} ${named}`,
              )
            : ok,
          matchCount === undefined
            ? finding('EW344', `${at}.name`, `HTTPRouteGroup ${namespace}/${m.name} not found; this match allows nothing`)
            : // a group reference replaces OSM's match-everything route, and an empty group adds none back
              matchCount === 0
              ? finding('EW346', `${at}.name`, `HTTPRouteGroup ${m.name} has no matches: the http ports answer 404`)
              : ok,
        );
      }
      if (m.apiGroup === POLICY_GROUP) {
        if (m.kind !== 'UpstreamTrafficSetting') {
          return finding(
            'EW303',
            `${at}.kind`,
            `expected 'matches.kind' for match '${m.name}' to be 'UpstreamTrafficSetting', got: ${m.kind}`,
          );
        }
        upstream++;
        return upstream > 1 ? finding('EW304', at, 'cannot have more than 1 UpstreamTrafficSetting match') : ok;
      }
      return finding(
        'EW301',
        `${at}.apiGroup`,
        `expected 'matches.apiGroup' to be one of [${SMI_GROUP} ${POLICY_GROUP}], got: ${m.apiGroup}`,
      );
    }),
  );
}

function checkSources(spec: Obj): Result {
  if (!Array.isArray(spec.sources)) return finding('EW310', 'spec.sources', 'spec.sources is required: a list of source ServiceAccounts');
  const sources: readonly unknown[] = spec.sources;
  // The CRD sets no minItems: OSM selects Egress policies by source ServiceAccount, so this one is never selected.
  if (sources.length === 0)
    return finding(
      'EW314',
      'spec.sources',
      'sources is empty: this Egress applies to no client (OSM selects Egress policies by source ServiceAccount)',
    );
  return mergeAll(
    sources.map((s, i): Result => {
      const at = `spec.sources[${i}]`;
      if (!isObj(s)) return finding('EW311', at, 'a source must be an object with kind, name and namespace');
      const name = s.name;
      const ns = s.namespace;
      return merge(
        s.kind === 'ServiceAccount' ? ok : finding('EW311', `${at}.kind`, `source kind must be ServiceAccount, got ${describe(s.kind)}`),
        typeof name === 'string' && isSubdomain(name)
          ? ok
          : finding(
              'EW312',
              `${at}.name`,
              name === undefined || name === ''
                ? 'source name (the ServiceAccount) is required'
                : `source name ${describe(name, 253)} is not a valid ServiceAccount name`,
            ),
        typeof ns === 'string' && isDns1123Label(ns)
          ? ok
          : finding(
              'EW313',
              `${at}.namespace`,
              ns === undefined || ns === ''
                ? 'source namespace is required'
                : `source namespace ${describe(ns)} is not a valid namespace name`,
            ),
      );
    }),
  );
}

function checkProtocol(p: unknown, at: string): Result {
  if (typeof p === 'string' && EGRESS_PROTOCOLS.includes(p)) return ok;
  if (p === undefined || p === '') return finding('EW323', at, `protocol is required: one of ${EGRESS_PROTOCOLS.join(', ')}`);
  const lower = typeof p === 'string' ? p.toLowerCase() : '';
  if (EGRESS_PROTOCOLS.includes(lower)) {
    return finding(
      'EW322',
      at,
      `protocol ${describe(p)} must be written "${lower}": OSM compares it case-sensitively and silently ignores this port`,
    );
  }
  return finding('EW323', at, `unsupported protocol ${describe(p)}: OSM Egress ignores it; use one of ${EGRESS_PROTOCOLS.join(', ')}`);
}

function checkPorts(raw: unknown): Result {
  if (!Array.isArray(raw)) return finding('EW320', 'spec.ports', 'spec.ports is required: a list of port numbers and protocols');
  const ports: readonly unknown[] = raw;
  // The CRD sets no minItems: OSM builds its filter chains, clusters and routes per port, so none are built.
  if (ports.length === 0)
    return finding('EW324', 'spec.ports', 'ports is empty: this Egress opens nothing (OSM builds its egress filter chains per port)');
  return mergeAll(
    ports.map((p, i): Result => {
      const at = `spec.ports[${i}]`;
      const port = asObj(p);
      const problem = portNumberProblem(port.number);
      return merge(problem ? finding('EW321', `${at}.number`, problem) : ok, checkProtocol(port.protocol, `${at}.protocol`));
    }),
  );
}

/**
 * OSM builds the routes of an http port once per listing (GetEgressHTTPRouteConfigsPerPort appends
 * per port entry, and lower-cases the protocol there, unlike the listener), so a number listed twice
 * gives each host two virtual hosts with the same domains, and Envoy rejects the route configuration.
 * Other repeats are harmless: identical traffic matches and clusters are deduplicated.
 */
function checkRepeatedHttpPorts(ports: readonly unknown[], hosts: readonly unknown[]): Result {
  if (!hosts.some((h) => typeof h === 'string')) return ok;
  // Envoy asks for rds-egress.<port> only when a listener chain uses it, which takes an exact "http".
  const listened = new Set(
    ports
      .map(asObj)
      .filter((p) => p.protocol === 'http')
      .map((p) => p.number),
  );
  const first = new Map<number, number>();
  const reported = new Set<number>();
  const found = collector(PORTS_NAMED);
  ports.forEach((raw, i) => {
    const p = asObj(raw);
    if (typeof p.number !== 'number' || typeof p.protocol !== 'string' || p.protocol.toLowerCase() !== 'http' || !listened.has(p.number))
      return;
    const earlier = first.get(p.number);
    if (earlier === undefined) first.set(p.number, i);
    else if (!reported.has(p.number)) {
      // once per number: a port listed thousands of times is one broken route configuration
      reported.add(p.number);
      found.add(
        'EW325',
        `spec.ports[${i}]`,
        `http port ${p.number} is listed again (first at spec.ports[${earlier}]): OSM builds its routes twice, and Envoy rejects route configuration rds-egress.${p.number} for duplicate domains, so the client keeps stale routes`,
      );
    }
  });
  return found.result((more) => ['spec.ports', `${more} more http ${more === 1 ? 'port' : 'ports'} listed twice`]);
}

function checkIpAddress(entry: unknown, at: string): Result {
  const notString = notStringProblem('an ipAddresses entry', entry);
  if (notString) return finding('EW331', at, `${notString}: OSM drops it, and a port left without valid entries is open to every IP`);
  const s = entry as string;
  const parsed = s === s.trim() ? parseCidrDetailed(s) : undefined;
  if (parsed?.cidr.family === 6 || (!parsed && s.includes(':') && isIpAddress(s.split('/')[0]!))) {
    return finding('EW330', at, `${describe(s)} is IPv6; OSM egress matches IPv4 destinations only`);
  }
  if (!parsed) {
    const hint = isIpAddress(s) ? `, write ${s}/32` : '';
    return finding(
      'EW331',
      at,
      `${describe(s)} is not an IPv4 CIDR (a.b.c.d/n)${hint}: OSM drops it, and a port left without valid entries is open to every IP`,
    );
  }
  return parsed.hostBitsSet ? finding('EW332', at, `${s} has host bits set; it means ${parsed.cidr.text}`) : ok;
}

function checkHosts(spec: Obj, protocols: ReadonlySet<string>): Result {
  const hosts = asArr(spec.hosts);
  const https = protocols.has('https');
  const http = protocols.has('http');
  const hostChecks = hosts.map((h, i): Result => {
    const at = `spec.hosts[${i}]`;
    // an http Host header may carry an IP; SNI never does
    if (http && !https && typeof h === 'string' && isIpAddress(h)) return ok;
    const partial = https && typeof h === 'string' ? partialWildcardProblem(h) : undefined;
    return partial
      ? finding('EW341', at, `${partial} on an https port: Envoy rejects the listener (no partial wildcards in server_names)`)
      : checkHost(h, at, { code: 'EW340' });
  });
  return merge(
    mergeAll(hostChecks),
    http && hosts.length === 0
      ? finding('EW342', 'spec.hosts', 'an http port needs hosts: without them OSM builds no routes and the port answers 404')
      : ok,
    hosts.length > 0 && protocols.size > 0 && !http && !https
      ? finding('EW345', 'spec.hosts', 'hosts are ignored for tcp and tcp-server-first ports; use ipAddresses to narrow them')
      : ok,
  );
}

export const validateEgress: Rule = (o: KubeObject, ctx) => {
  const spec = asObj(o.spec);
  const namespace = asStr(o.metadata?.namespace) || ctx.namespace;
  const ports = asArr(spec.ports);
  const protocols = new Set(
    ports
      .map(asObj)
      .map((p) => p.protocol)
      .filter((p): p is string => typeof p === 'string' && EGRESS_PROTOCOLS.includes(p)),
  );
  return merge(
    checkMatches(spec, namespace, ports.map(asObj), ctx.snapshot.httpRouteGroups),
    checkSources(spec),
    checkPorts(spec.ports),
    checkRepeatedHttpPorts(ports, asArr(spec.hosts)),
    mergeAll(asArr(spec.ipAddresses).map((a, i) => checkIpAddress(a, `spec.ipAddresses[${i}]`))),
    checkHosts(spec, protocols),
    egressConflicts(o, ctx.snapshot, namespace),
  );
};
