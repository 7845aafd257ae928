/**
 * Gateway API routes used for mesh egress (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute): only those
 * whose parentRefs name an Istio ServiceEntry or a Linkerd EgressNetwork are judged; routes for
 * ingress Gateways and Services belong to other controllers and are left alone.
 *
 * Istio: istiod turns such a route into VirtualService routes of the entry's hosts
 * (route_collections.go) and resolves backends in `buildDestination` (conversion.go); what it
 * refuses it reports only in the route's status. Linkerd: its policy-controller admission refuses a
 * route to an EgressNetwork without a port, and TLS/TCP routes with other than one rule.
 */
import type { KubeObject } from '../admission/types.ts';
import { parseProtocol, routeClass, type RouteClass } from '../catalogue/protocols.ts';
import { EGRESS_NETWORK_REF, EGRESS_ROUTE_PARENTS, SERVICE_ENTRY_REF } from '../catalogue/resources.ts';
import { finding, mergeAll, ok, type Result } from '../catalogue/result.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { asArr, asObj, asStr, isObj, type Obj } from '../json.ts';
import type { EgressLookup, ServiceEntryRecord } from './egress-records.ts';
import { visibleFrom } from './fields.ts';

export const ISTIO_GROUP = SERVICE_ENTRY_REF.group;
export const LINKERD_GROUP = EGRESS_NETWORK_REF.group;

type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute';

type Parent = {
  readonly kind: 'ServiceEntry' | 'EgressNetwork';
  readonly namespace: string;
  readonly name: string;
  readonly port: number | undefined;
  readonly at: string;
};

/** The parentRefs that make a route a mesh egress route; empty for every other route. */
export function egressParents(obj: KubeObject, contextNamespace: string): Parent[] {
  const namespace = asStr(obj.metadata?.namespace) || contextNamespace;
  const out: Parent[] = [];
  asArr(asObj(obj.spec).parentRefs).forEach((raw, i) => {
    if (!isObj(raw)) return;
    // the kinds the resource table says routes are sent to the webhook for
    const target = EGRESS_ROUTE_PARENTS.naming.find((t) => raw.group === t.group && raw.kind === t.kind);
    if (!target) return;
    out.push({
      kind: target.kind as Parent['kind'],
      namespace: asStr(raw.namespace) || namespace,
      name: asStr(raw.name),
      port: typeof raw.port === 'number' ? raw.port : undefined,
      at: `spec.parentRefs[${i}]`,
    });
  });
  return out;
}

/** The route kind istiod converts it to, and the ports that carry it. */
const ROUTE_CLASS: Readonly<Record<RouteKind, 'http' | 'tls' | 'tcp'>> = {
  HTTPRoute: 'http',
  GRPCRoute: 'http',
  TLSRoute: 'tls',
  TCPRoute: 'tcp',
};

/** Whether a sidecar applies routes of `route` class on a port of `port` class (a sniffed port takes them all). */
function carries(port: RouteClass, route: 'http' | 'tls' | 'tcp'): boolean {
  if (port === 'sniffed') return true;
  if (route === 'tcp') return port === 'tcp' || port === 'tls';
  return port === route;
}

const isServiceRef = (b: Obj): boolean =>
  (b.group === undefined || b.group === '' || b.group === 'core') && (b.kind === undefined || b.kind === 'Service');
const weightOf = (b: Obj): number => (typeof b.weight === 'number' ? b.weight : 1);

/** backendRefs: istiod's buildDestination refusals and unknown hosts, Linkerd's Service port. */
function checkBackends(
  rules: readonly Obj[],
  kind: RouteKind,
  namespace: string,
  snapshot: ClusterSnapshot,
  toEgressNetwork: boolean,
): Result {
  const out: Result[] = [];
  rules.forEach((rule, r) =>
    asArr(rule.backendRefs).forEach((raw, b) => {
      const ref = asObj(raw);
      const at = `spec.rules[${r}].backendRefs[${b}]`;
      const name = asStr(ref.name);
      if (ref.group === ISTIO_GROUP && ref.kind === 'Hostname') {
        if (ref.namespace !== undefined) out.push(finding('EW641', `${at}.namespace`, 'namespace may not be set with Hostname type'));
        else if (
          name &&
          !(snapshot.serviceEntriesByHost.get(name) ?? []).some((p) => visibleFrom(p.entry.exportTo, p.entry.namespace, namespace))
        ) {
          out.push(
            finding('EW643', `${at}.name`, `no ServiceEntry visible here declares ${name}: backend not found, the rule answers 500`),
          );
        }
        return;
      }
      if (!isServiceRef(ref)) return;
      if (name.includes('.')) {
        out.push(finding('EW642', `${at}.name`, 'service name invalid; the name of the Service must be used, not the hostname'));
      }
      if (toEgressNetwork && (kind === 'HTTPRoute' || kind === 'GRPCRoute') && (ref.port === undefined || ref.port === 0)) {
        out.push(finding('EW647', `${at}.port`, 'cannot reference a Service without a port'));
      }
    }),
  );
  return mergeAll(out);
}

/** Rules that forward nothing (Istio: weight sum 0 and no redirect), and routes without rules. */
function nothingToRoute(rules: readonly Obj[], kind: RouteKind, parents: readonly Parent[]): Result {
  if (rules.length === 0) {
    const to = parents.some((p) => p.kind === 'EgressNetwork') ? "the EgressNetwork's trafficPolicy decides" : 'it routes nothing';
    return finding('EW649', 'spec.rules', `no rules: ${to}; add rules with backendRefs`);
  }
  if (!parents.some((p) => p.kind === 'ServiceEntry')) return ok;
  const http = ROUTE_CLASS[kind] === 'http';
  return mergeAll(
    rules.map((rule, r) => {
      const weight = asArr(rule.backendRefs).reduce<number>((sum, b) => sum + weightOf(asObj(b)), 0);
      const redirect = asArr(rule.filters).some((f) => asObj(f).type === 'RequestRedirect');
      if (weight > 0 || (http && redirect)) return ok;
      return finding(
        'EW649',
        `spec.rules[${r}].backendRefs`,
        http ? 'no backendRefs with weight: this rule answers HTTP 500' : 'no backendRefs with weight: this rule refuses every connection',
      );
    }),
  );
}

/** The ServiceEntry a parentRef names: its port and the protocol of what the route sends there. */
function checkServiceEntryParent(parent: Parent, entry: ServiceEntryRecord, kind: RouteKind): Result {
  const route = ROUTE_CLASS[kind];
  if (parent.port !== undefined) {
    const port = entry.ports.find((p) => p.number === parent.port);
    if (!port) {
      const declared = entry.ports.map((p) => p.number).join(', ') || 'none';
      return finding(
        'EW650',
        `${parent.at}.port`,
        `ServiceEntry ${entry.namespace}/${entry.name} has no port ${parent.port} (declared: ${declared})`,
      );
    }
    const cls = routeClass(parseProtocol(port.protocol));
    return carries(cls, route)
      ? ok
      : finding(
          'EW651',
          `${parent.at}.port`,
          `${kind} is ignored on port ${port.number} of ${entry.namespace}/${entry.name}: it is ${port.protocol}`,
        );
  }
  if (!entry.ports.length || entry.ports.some((p) => carries(routeClass(parseProtocol(p.protocol)), route))) return ok;
  const protocols = [...new Set(entry.ports.map((p) => p.protocol))].join(', ');
  return finding('EW651', parent.at, `${kind} is ignored on every port of ${entry.namespace}/${entry.name}: they are ${protocols}`);
}

/**
 * A mesh egress route. `lookup` finds ServiceEntries and EgressNetworks by name; a member that is
 * absent is not known, and the existence, port and protocol checks against it are skipped.
 */
export function validateEgressRoute(obj: KubeObject, snapshot: ClusterSnapshot, contextNamespace: string, lookup: EgressLookup): Result {
  const parents = egressParents(obj, contextNamespace);
  if (!parents.length) return ok;
  const kind = asStr(obj.kind) as RouteKind;
  if (!Object.hasOwn(ROUTE_CLASS, kind)) return ok;
  const namespace = asStr(obj.metadata?.namespace) || contextNamespace;
  const rules = asArr(asObj(obj.spec).rules).map(asObj);
  const toEgressNetwork = parents.some((p) => p.kind === 'EgressNetwork');
  const out: Result[] = [];
  for (const p of parents) {
    if (p.kind === 'EgressNetwork') {
      if (p.port === undefined) out.push(finding('EW646', p.at, 'cannot target an EgressNetwork without specifying a port'));
      if (lookup.egressNetwork && !lookup.egressNetwork(p.namespace, p.name)) {
        out.push(finding('EW645', `${p.at}.name`, `EgressNetwork ${p.namespace}/${p.name} not found: this route attaches to nothing`));
      }
      continue;
    }
    if (!lookup.serviceEntry) continue;
    const entry = lookup.serviceEntry(p.namespace, p.name);
    if (!entry)
      out.push(finding('EW644', `${p.at}.name`, `parent service entry ${p.namespace}/${p.name} not found: this route applies to nothing`));
    else out.push(checkServiceEntryParent(p, entry, kind));
  }
  if (toEgressNetwork && (kind === 'TLSRoute' || kind === 'TCPRoute') && rules.length !== 1) {
    out.push(finding('EW648', 'spec.rules', `${kind === 'TLSRoute' ? 'TlsRoute' : 'TcpRoute'} supports a single rule only`));
  } else {
    out.push(nothingToRoute(rules, kind, parents));
  }
  out.push(checkBackends(rules, kind, namespace, snapshot, toEgressNetwork));
  return mergeAll(out);
}
