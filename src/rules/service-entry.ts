/**
 * ServiceEntry validation with Istio parity: the checks of istiod's ValidateServiceEntry, in its
 * order, with its verdicts (error or warning) and messages close to its own, under stable codes.
 * The checks no mesh makes come after: ports the sidecar itself listens on (here), and the checks
 * against the rest of the cluster (istio-cross.ts).
 */
import type { KubeObject } from '../admission/types.ts';
import { ISTIO_AUTOALLOCATE, ISTIO_USE_WAYPOINT } from '../catalogue/keys.ts';
import { isHttp, isTcp, isTls, parseProtocol } from '../catalogue/protocols.ts';
import { finding, merge, mergeAll, ok, type Result } from '../catalogue/result.ts';
import { asArr, asObj, asStr, asStrs, describe, isObj, q, type Obj } from '../json.ts';
import {
  checkExportTo,
  fqdnProblem,
  got,
  ipSubnetProblem,
  isCidrText,
  isDns1123Label,
  isIpAddress,
  istioMetadataProblem,
  labelProblems,
  notStringProblem,
  partialWildcardProblem,
  portNumberProblem,
  wildcardDomainProblem,
} from './fields.ts';
import { serviceEntryCross } from './istio-cross.ts';
import type { Rule } from './rule.ts';
import { namesWaypoint } from '../catalogue/keys.ts';

const UNIX_PREFIX = 'unix://';

/** A port number as messages show it: plain when it is a number, typed otherwise ("string \"443\""). */
const shownNumber = (v: unknown): string => (typeof v === 'number' ? String(v) : got(v));

/** "must be a string" for a field that is set to something else; unset (or null, which Go reads as "") is left to the other checks. */
const typeProblem = (what: string, v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : notStringProblem(what, v);

/** ServiceEntry validation: Istio parity, then the cross-object checks. */
export const validateServiceEntry: Rule = (obj, ctx) => {
  const parity = validateServiceEntryParity(obj, ctx.namespace);
  return merge(parity, sidecarListenerPorts(obj), serviceEntryCross(obj, ctx));
};

/**
 * The listeners every sidecar already has (Istio's defaults: meshConfig proxyListenPort and
 * proxyInboundListenPort, the Envoy status and Prometheus ports). istiod checks a service port
 * against them (conflictWithReservedListener) only when the listener would be 0.0.0.0:<port> and
 * HTTP, or bound to the wildcard: it then skips the port for every sidecar.
 */
const SIDECAR_LISTENERS: ReadonlyMap<number, string> = new Map([
  [15001, 'outbound capture'],
  [15006, 'inbound capture'],
  [15021, 'health check'],
  [15090, 'Prometheus stats'],
]);

/** An address Istio listens on as 0.0.0.0 plus a filter chain: a CIDR narrower than one address. */
const isRange = (address: string): boolean => {
  const [ip, bits] = address.split('/');
  return bits !== undefined && Number(bits) < (ip!.includes(':') ? 128 : 32);
};

/**
 * Ports of the entry on a sidecar's own listeners. An HTTP-class port is skipped by istiod, so the
 * entry does nothing on it. A TCP or unset port that istiod puts on 0.0.0.0:<port> (resolution NONE
 * without addresses or selector, or a CIDR address) is not checked: the sidecars get a second
 * listener on their own listener's address and reject the update, so new pods never become ready.
 */
export function sidecarListenerPorts(obj: KubeObject): Result {
  const spec = asObj(obj.spec);
  const exportTo = asStrs(spec.exportTo);
  if (exportTo.length === 1 && exportTo[0] === '~') return ok;
  const addresses = asStrs(spec.addresses);
  const wildcard =
    ((spec.resolution ?? 'NONE') === 'NONE' && addresses.length === 0 && !isObj(spec.workloadSelector)) || addresses.some(isRange);
  const out: Result[] = [];
  asArr(spec.ports).forEach((raw, i) => {
    const port = asObj(raw);
    const listener = typeof port.number === 'number' ? SIDECAR_LISTENERS.get(port.number) : undefined;
    if (!listener) return;
    const protocol = parseProtocol(port.protocol);
    const at = `spec.ports[${i}].number`;
    if (isHttp(protocol)) {
      out.push(finding('EW409', at, `sidecars skip ${protocol} port ${port.number}: it is their own ${listener} listener`));
    } else if (protocol !== 'UDP' && wildcard) {
      out.push(
        finding(
          'EW410',
          at,
          `0.0.0.0:${port.number} is the sidecar's ${listener} listener; every sidecar that sees this entry rejects its listeners`,
        ),
      );
    }
  });
  return mergeAll(out);
}

/** What istiod's validating webhook says about a ServiceEntry, and nothing more. */
export function validateServiceEntryParity(obj: KubeObject, contextNamespace: string): Result {
  const namespace = asStr(obj.metadata?.namespace) || contextNamespace;
  const meta = istioMetadataProblem(obj.metadata);
  if (meta) return finding('EW101', `metadata.annotations[${meta[0]}]`, meta[1]);

  const spec = asObj(obj.spec);
  const hasSelector = isObj(spec.workloadSelector);
  const selectorLabels = asObj(asObj(spec.workloadSelector).labels);

  // A bad selector stops Istio before anything else is looked at.
  const selectorErrors: Result[] = [];
  for (const [k, v] of Object.entries(selectorLabels)) {
    const at = `spec.workloadSelector.labels[${k}]`;
    if (typeof v !== 'string') {
      selectorErrors.push(finding('EW102', at, `selector label ${q(k)} must have a string value, got ${got(v)}`));
      continue;
    }
    if (k === '') selectorErrors.push(finding('EW102', at, `empty key is not supported in selector: ${q(`${k}=${v}`)}`));
    if (k.includes('*') || v.includes('*'))
      selectorErrors.push(finding('EW102', at, `wildcard is not supported in selector: ${q(`${k}=${v}`)}`));
  }
  if (selectorErrors.length) return mergeAll(selectorErrors);

  const out: Result[] = [];
  const resolution =
    spec.resolution === undefined || spec.resolution === null
      ? 'NONE'
      : typeof spec.resolution === 'string'
        ? spec.resolution
        : describe(spec.resolution);
  const hosts = asStrs(spec.hosts);
  const addresses = asStrs(spec.addresses);
  const endpointsSet = Array.isArray(spec.endpoints);
  const endpoints = asArr(spec.endpoints);
  const ports = asArr(spec.ports);

  if (hasSelector && Object.keys(selectorLabels).length === 0) {
    out.push(
      finding('EW103', 'spec.workloadSelector', 'workload selector specified without labels, will be applied to all services in namespace'),
    );
  }
  if (hasSelector && endpointsSet) {
    out.push(finding('EW104', 'spec.endpoints', 'only one of WorkloadSelector or Endpoints is allowed in Service Entry'));
  }

  if (hosts.length === 0) out.push(finding('EW105', 'spec.hosts', 'service entry must have at least one host'));
  asArr(spec.hosts).forEach((h, i) => {
    const at = `spec.hosts[${i}]`;
    if (typeof h !== 'string') {
      out.push(finding('EW106', at, `host must be a string, got ${got(h)}`));
      return;
    }
    if (h === '*') {
      out.push(finding('EW106', at, 'invalid host *'));
      return;
    }
    const p = wildcardDomainProblem(h);
    if (p) out.push(finding('EW106', at, p));
    if (resolution !== 'DYNAMIC_DNS') {
      const w = partialWildcardProblem(h);
      if (w) out.push(finding('EW107', at, w));
    }
  });

  asArr(spec.addresses).forEach((a, i) => {
    const p = typeof a === 'string' ? ipSubnetProblem(a) : `address must be a string, got ${got(a)}`;
    if (p) out.push(finding('EW108', `spec.addresses[${i}]`, p));
  });
  if (addresses.some(isCidrText) && resolution !== 'NONE' && resolution !== 'STATIC') {
    out.push(finding('EW109', 'spec.addresses', 'CIDR addresses are allowed only for NONE/STATIC resolution types'));
  }

  // Istio allocates an address itself only for an entry that resolves, has none of its own and does not opt out.
  const autoAllocation =
    resolution !== 'NONE' && asStr(obj.metadata?.labels?.[ISTIO_AUTOALLOCATE]).toLowerCase() !== 'false' && addresses.length === 0;
  const portNames = new Set<string>();
  const portNumbers = new Set<unknown>();
  ports.forEach((raw, i) => {
    const at = `spec.ports[${i}]`;
    if (!isObj(raw)) {
      out.push(finding('EW110', at, 'service entry port may not be null'));
      return;
    }
    const name = asStr(raw.name);
    const protocol = asStr(raw.protocol);
    if (portNames.has(name)) out.push(finding('EW111', `${at}.name`, `service entry port name ${q(name)} already defined`));
    portNames.add(name);
    if (portNumbers.has(raw.number))
      out.push(finding('EW112', `${at}.number`, `service entry port ${shownNumber(raw.number)} already defined`));
    portNumbers.add(raw.number);
    if (raw.targetPort !== undefined && raw.targetPort !== null && raw.targetPort !== 0) {
      const p = portNumberProblem(raw.targetPort);
      if (p) out.push(finding('EW113', `${at}.targetPort`, p));
    }
    // case-sensitive on purpose: Istio's webhook compares the raw string with "TCP"
    if (addresses.length === 0 && !autoAllocation && (protocol === '' || protocol === 'TCP')) {
      out.push(finding('EW114', at, 'addresses are required for ports serving TCP (or unset) protocol without IP autoallocation'));
    }
    const nameType = typeProblem('port name', raw.name);
    if (nameType) out.push(finding('EW115', `${at}.name`, nameType));
    else if (!isDns1123Label(name, { allowUpper: true })) out.push(finding('EW115', `${at}.name`, `invalid port name: ${name}`));
    const protocolType = typeProblem('protocol', raw.protocol);
    if (protocolType) out.push(finding('EW116', `${at}.protocol`, protocolType));
    else if (protocol !== '' && !parseProtocol(protocol)) out.push(finding('EW116', `${at}.protocol`, `unsupported protocol: ${protocol}`));
    const n = portNumberProblem(raw.number);
    if (n) out.push(finding('EW113', `${at}.number`, n));
  });

  switch (resolution) {
    case 'NONE':
      if (endpoints.length) out.push(finding('EW117', 'spec.endpoints', 'no endpoints should be provided for resolution type none'));
      if (hasSelector)
        out.push(finding('EW118', 'spec.workloadSelector', 'workloadSelector should not be set when resolution mode is NONE'));
      break;
    case 'STATIC':
      endpoints.forEach((ep, i) => out.push(staticEndpoint(ep, `spec.endpoints[${i}]`, portNames)));
      break;
    case 'DNS':
    case 'DNS_ROUND_ROBIN': {
      if (endpoints.length === 0) {
        // Istio reports the first offending host only
        for (const [i, h] of hosts.entries()) {
          const p = fqdnProblem(h);
          if (!p) continue;
          out.push(
            finding(
              'EW125',
              `spec.hosts[${i}]`,
              `hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode ${resolution}, ${p}`,
            ),
          );
          break;
        }
      }
      if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) {
        out.push(finding('EW126', 'spec.endpoints', 'there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN'));
      }
      endpoints.forEach((ep, i) => out.push(dnsEndpoint(ep, `spec.endpoints[${i}]`, portNames)));
      if (addresses.length > 0) {
        for (const [i, p] of ports.entries()) {
          if (!isObj(p)) {
            out.push(finding('EW110', `spec.ports[${i}]`, 'ports cannot be nil'));
            continue;
          }
          if (!isTcp(parseProtocol(p.protocol))) continue;
          if (hosts.length > 1)
            out.push(
              finding(
                'EW127',
                'spec.hosts',
                'service entry can not have more than one host specified simultaneously with address and tcp port',
              ),
            );
          break;
        }
      }
      break;
    }
    case 'DYNAMIC_DNS':
      out.push(dynamicDns(obj, spec, hosts, addresses, ports));
      break;
    default:
      out.push(finding('EW132', 'spec.resolution', `unsupported resolution type ${resolution}`));
  }

  // Several hosts sharing a port can only be told apart by Host header or SNI.
  if (resolution !== 'NONE' && hosts.length > 1) {
    for (const [i, p] of ports.entries()) {
      if (!isObj(p)) {
        out.push(finding('EW110', `spec.ports[${i}]`, 'ports cannot be nil'));
        continue;
      }
      const proto = parseProtocol(p.protocol);
      if (isHttp(proto) || isTls(proto)) continue;
      out.push(finding('EW133', `spec.ports[${i}].protocol`, 'multiple hosts provided with non-HTTP, non-TLS ports'));
      break;
    }
  }

  out.push(checkExportTo(asStrs(spec.exportTo), namespace, 'spec.exportTo', 'EW134', { allowNone: true }));
  return mergeAll(out);
}

/** Endpoint ports and labels: the same checks for STATIC and DNS endpoints. */
function endpointPortsAndLabels(ep: Obj, at: string, portNames: ReadonlySet<string>): Result {
  const out: Result[] = [];
  for (const [name, number] of Object.entries(asObj(ep.ports))) {
    const pat = `${at}.ports[${name}]`;
    if (!portNames.has(name)) out.push(finding('EW123', pat, `endpoint port ${shownNumber(number)} is not defined by the service entry`));
    if (!isDns1123Label(name, { allowUpper: true })) out.push(finding('EW123', pat, `invalid port name: ${name}`));
    const p = portNumberProblem(number);
    if (p) out.push(finding('EW123', pat, p));
  }
  for (const m of labelProblems(asObj(ep.labels))) out.push(finding('EW124', `${at}.labels`, m));
  return mergeAll(out);
}

function unixAddressProblem(path: string): string | undefined {
  if (path.length === 0) return 'unix address must not be empty';
  if (path.startsWith('@')) return undefined; // abstract socket
  return path.startsWith('/') && !path.endsWith('/') ? undefined : `${path} is not an absolute path to a file`;
}

/** A STATIC endpoint: an IP, or a unix socket on an entry with exactly one port. */
function staticEndpoint(raw: unknown, at: string, portNames: ReadonlySet<string>): Result {
  if (!isObj(raw)) return finding('EW119', at, 'endpoint cannot be nil');
  const addressType = typeProblem('endpoint address', raw.address);
  if (addressType) return merge(finding('EW120', `${at}.address`, addressType), endpointPortsAndLabels(raw, at, portNames));
  const address = asStr(raw.address);
  const network = asStr(raw.network);
  const out: Result[] = [];
  if (address === '') {
    if (network === '') return finding('EW120', `${at}.address`, 'address is required');
    out.push(finding('EW121', `${at}.address`, `address is unset with network ${q(network)}`));
  }
  const unix = address.startsWith(UNIX_PREFIX);
  if (unix) {
    const p = unixAddressProblem(address.slice(UNIX_PREFIX.length));
    if (p) out.push(finding('EW120', `${at}.address`, p));
    if (Object.keys(asObj(raw.ports)).length) out.push(finding('EW122', `${at}.ports`, `unix endpoint ${address} must not include ports`));
  } else if (address !== '' && !isIpAddress(address)) {
    out.push(finding('EW120', `${at}.address`, `endpoint address ${q(address)} is not a valid IP address`));
  }
  out.push(endpointPortsAndLabels(raw, at, portNames));
  if (unix && portNames.size !== 1) out.push(finding('EW122', at, 'exactly 1 service port required for unix endpoints'));
  return mergeAll(out);
}

/** A DNS endpoint: an IP or a name to resolve. */
function dnsEndpoint(raw: unknown, at: string, portNames: ReadonlySet<string>): Result {
  if (!isObj(raw)) return finding('EW119', at, 'endpoint cannot be nil');
  const address = asStr(raw.address);
  const out: Result[] = [];
  const addressType = typeProblem('endpoint address', raw.address);
  if (addressType) out.push(finding('EW120', `${at}.address`, addressType));
  else if (!isIpAddress(address) && fqdnProblem(address)) {
    out.push(finding('EW120', `${at}.address`, `endpoint address ${q(address)} is not a valid FQDN or an IP address`));
  }
  out.push(endpointPortsAndLabels(raw, at, portNames));
  return mergeAll(out);
}

const DYNAMIC_DNS_PROTOCOLS = new Set(['HTTP', 'TLS', 'GRPC', 'HTTP2']);

/** DYNAMIC_DNS: wildcard hosts resolved per request, so no addresses, no endpoints, L7 or SNI ports. */
function dynamicDns(obj: KubeObject, spec: Obj, hosts: readonly string[], addresses: readonly string[], ports: readonly unknown[]): Result {
  const out: Result[] = [];
  if (hosts.length === 0)
    out.push(finding('EW128', 'spec.hosts', 'at least one wildcard host must be provided for resolution type DYNAMIC_DNS'));
  hosts.forEach((h, i) => {
    if (!h.startsWith('*')) out.push(finding('EW128', `spec.hosts[${i}]`, 'host must be wildcarded for resolution mode DYNAMIC_DNS'));
  });
  if (addresses.length) {
    out.push(
      finding(
        'EW129',
        'spec.addresses',
        'addresses cannot be set for resolution type DYNAMIC_DNS. HTTP route domains will only be generated from the hosts field values',
      ),
    );
  }
  if (asArr(spec.endpoints).length) {
    out.push(
      finding(
        'EW129',
        'spec.endpoints',
        'endpoints cannot be set for resolution type DYNAMIC_DNS. Destination IP address determined from hosts field values',
      ),
    );
  }
  ports.forEach((p, i) => {
    if (!isObj(p)) {
      out.push(finding('EW130', `spec.ports[${i}]`, 'port cannot be nil'));
      return;
    }
    const proto = parseProtocol(p.protocol);
    if (!proto || !DYNAMIC_DNS_PROTOCOLS.has(proto)) {
      out.push(
        finding(
          'EW130',
          `spec.ports[${i}].protocol`,
          'only HTTP, TLS, GRPC, and HTTP2 protocols are supported for resolution type DYNAMIC_DNS',
        ),
      );
    }
  });
  // usesWaypoint reads the entry's own label only: a namespace label is EW621 (waypoint.ts)
  if (spec.location === 'MESH_INTERNAL' && namesWaypoint(obj.metadata?.labels?.[ISTIO_USE_WAYPOINT])) {
    out.push(
      finding('EW131', 'spec.location', 'location MESH_INTERNAL with resolution type DYNAMIC_DNS is not supported when using waypoints'),
    );
  }
  return mergeAll(out);
}
