/**
 * Checks no mesh makes: an Istio object read against the rest of the cluster (the snapshot's
 * indexes only). Istio accepts all of these and then silently ignores a route, keeps one of two
 * declarations, or lets one entry capture another's traffic; so all of them are warnings.
 *
 * The previous version of the object being validated is in the snapshot on UPDATE (and the object
 * itself in `check`): entries of the same kind with the same namespace/name are never conflicts.
 */
import { namespacedName, type KubeObject } from '../admission/types.ts';
import {
  isHttp,
  isPlainTcp,
  isTls,
  nameContradictsProtocol,
  parseProtocol,
  protocolFromPortName,
  type Protocol,
} from '../catalogue/protocols.ts';
import { collector, ok, type Result } from '../catalogue/result.ts';
import { boundToGatewaysOnly, sameObject, type ObjectRef, type ServiceEntryPort } from '../cluster/snapshot.ts';
import { asArr, asObj, asStr, asStrs, isObj, q } from '../json.ts';
import { overlaps, parseIpOrCidr } from '../net/cidr.ts';
import { coveringHosts, isPortNumber, shareAudience } from './fields.ts';
import type { RuleContext } from './rule.ts';

type Scope = ObjectRef & { readonly exportTo: readonly string[] };

const ref = (o: ObjectRef): string => namespacedName(o.namespace, o.name);
const shown = (protocol: string): string => protocol || 'unset';
const unique = (list: readonly string[]): string[] => [...new Set(list)].sort();

/** ServiceEntry ports of `host` (exact or covering wildcard) visible together with `scope`, minus `skip`. */
function entryPortsFor(host: string, ctx: RuleContext, scope: Scope, skip?: ObjectRef): ServiceEntryPort[] {
  const out: ServiceEntryPort[] = [];
  for (const key of coveringHosts(host)) {
    for (const p of ctx.snapshot.serviceEntriesByHost.get(key) ?? []) {
      if (skip && sameObject(p.entry, skip)) continue;
      if (shareAudience(p.entry, scope)) out.push(p);
    }
  }
  return out;
}

type Port = {
  readonly index: number;
  readonly number: number;
  readonly name: string;
  readonly protocol: string;
  readonly parsed: Protocol | undefined;
};

const isTcpOrUnset = (protocol: string): boolean => protocol === '' || protocol === 'TCP';

const NAMES_SHOWN = 3;

/**
 * "ns/a, ns/b, ns/c, …" for the first entries that pass `keep`, or "" when none does. Stops early so
 * that a port shared by many entries costs a bounded scan once enough names are found.
 */
function firstNames(list: readonly ServiceEntryPort[], keep: (p: ServiceEntryPort) => boolean): string {
  const names = new Set<string>();
  for (const p of list) {
    if (!keep(p)) continue;
    names.add(ref(p.entry));
    if (names.size > NAMES_SHOWN) return `${[...names].slice(0, NAMES_SHOWN).sort().join(', ')}, …`;
  }
  return [...names].sort().join(', ');
}

/** Cross-object checks for a ServiceEntry. */
export function serviceEntryCross(obj: KubeObject, ctx: RuleContext): Result {
  const spec = asObj(obj.spec);
  const me: Scope = {
    namespace: asStr(obj.metadata?.namespace) || ctx.namespace,
    name: asStr(obj.metadata?.name),
    exportTo: asStrs(spec.exportTo),
  };
  const hosts = asStrs(spec.hosts).filter(Boolean);
  const addresses = asStrs(spec.addresses);
  const resolution = asStr(spec.resolution) || 'NONE';
  const ports: Port[] = [];
  asArr(spec.ports).forEach((p, index) => {
    if (!isObj(p) || !isPortNumber(p.number)) return;
    const protocol = asStr(p.protocol).toUpperCase();
    ports.push({ index, number: p.number, name: asStr(p.name), protocol, parsed: parseProtocol(protocol) });
  });
  const c = collector();

  // EW403: the name is what people read, the protocol field is what Istio uses.
  for (const p of ports) {
    const named = protocolFromPortName(p.name);
    if (named && p.parsed && nameContradictsProtocol(named, p.parsed)) {
      c.add(
        'EW403',
        `spec.ports[${p.index}].name`,
        `port name ${q(p.name)} suggests ${named} but protocol is ${p.parsed}; Istio uses the protocol`,
      );
    }
  }

  // EW406: an entry for addresses inside the cluster takes over in-cluster traffic.
  addresses.forEach((a, i) => {
    const parsed = parseIpOrCidr(a);
    if (!parsed || a.trim() !== a) return;
    for (const [kind, ranges] of [
      ['pod', ctx.snapshot.cidrs.pod],
      ['service', ctx.snapshot.cidrs.service],
    ] as const) {
      const hit = ranges.find((r) => overlaps(r.cidr, parsed.cidr));
      if (hit) c.add('EW406', `spec.addresses[${i}]`, `${a} overlaps the cluster ${kind} CIDR ${hit.cidr.text} (${hit.origin})`);
    }
  });

  // EW404: same host and port, different protocols: Istio keeps one of them.
  for (const host of hosts) {
    const byNumber = new Map<number, ServiceEntryPort[]>();
    for (const other of ctx.snapshot.serviceEntriesByHost.get(host) ?? []) {
      if (sameObject(other.entry, me) || !shareAudience(other.entry, me)) continue;
      const list = byNumber.get(other.number);
      if (list) list.push(other);
      else byNumber.set(other.number, [other]);
    }
    for (const p of ports) {
      const clash = (byNumber.get(p.number) ?? []).filter((o) => o.protocol !== p.protocol);
      if (clash.length === 0) continue;
      const names = unique(clash.map((o) => `${ref(o.entry)} (${shown(o.protocol)})`)).join(', ');
      c.add('EW404', `spec.ports[${p.index}].protocol`, `${host}:${p.number} is ${shown(p.protocol)} here but ${names}; Istio keeps one`);
    }
  }

  // EW405: a NONE entry without addresses listens on 0.0.0.0:<port> as plain TCP. Other entries on
  // that port lose traffic only if they have no addresses of their own (else they get their own
  // listener) and are matched neither by SNI (HTTPS/TLS) nor by sniffing (HTTP-class): Envoy then
  // keeps one TCP filter chain and drops the other. The snapshot indexes exactly those ports.
  if (addresses.length === 0) {
    const catchAll = resolution === 'NONE';
    for (const p of ports) {
      if (!isPlainTcp(p.protocol)) continue;
      const list = ctx.snapshot.unaddressedTcpServiceEntriesByPort.get(p.number) ?? [];
      if (list.length === 0) continue;
      const peers =
        catchAll && isTcpOrUnset(p.protocol) ? firstNames(list, (o) => !sameObject(o.entry, me) && shareAudience(o.entry, me)) : '';
      if (peers) {
        c.add(
          'EW405',
          `spec.ports[${p.index}]`,
          `${shown(p.protocol)} port ${p.number} with resolution NONE and no addresses captures ${peers}`,
        );
      }
      const captors = firstNames(
        list,
        (o) => o.entry.resolution === 'NONE' && isTcpOrUnset(o.protocol) && !sameObject(o.entry, me) && shareAudience(o.entry, me),
      );
      if (captors) {
        c.add('EW405', `spec.ports[${p.index}]`, `port ${p.number} traffic is captured by ${captors} (resolution NONE, TCP, no addresses)`);
      }
    }
  }

  // EW401/EW402 from the entry's side: a new entry can silently turn existing routes for its hosts off.
  hosts.forEach((host, h) => {
    const routes = coveringHosts(host).flatMap((k) => ctx.snapshot.virtualServicesByHost.get(k) ?? []);
    if (routes.length === 0) return;
    const allPorts = [...ports.map((p) => p.parsed), ...entryPortsFor(host, ctx, me, me).map((p) => parseProtocol(p.protocol))];
    for (const r of routes) {
      if (r.type === 'tcp' || !shareAudience(r.service, me)) continue;
      const vs = ref(r.service);
      if (r.type === 'tls') {
        if (r.port === undefined) {
          if (allPorts.length && allPorts.every(isHttp))
            c.add('EW401', `spec.hosts[${h}]`, `tls routes of VirtualService ${vs} are ignored: ${host} has only HTTP ports`);
        } else {
          for (const p of ports) {
            if (p.number === r.port && isHttp(p.parsed))
              c.add('EW401', `spec.ports[${p.index}].protocol`, `tls route of VirtualService ${vs} on this ${p.parsed} port is ignored`);
          }
        }
      } else if (r.port === undefined) {
        if (allPorts.length && allPorts.every(isTls))
          c.add('EW402', `spec.hosts[${h}]`, `http routes of VirtualService ${vs} are ignored: ${host} has only HTTPS/TLS ports`);
      } else {
        for (const p of ports) {
          if (p.number === r.port && isTls(p.parsed))
            c.add('EW402', `spec.ports[${p.index}].protocol`, `http route of VirtualService ${vs} on this ${p.parsed} port is ignored`);
        }
      }
    }
  });

  return c.result();
}

/** Cross-object checks for a VirtualService: its tls and http routes against the ServiceEntries of its hosts. */
export function virtualServiceCross(obj: KubeObject, ctx: RuleContext): Result {
  const spec = asObj(obj.spec);
  const me: Scope = {
    namespace: asStr(obj.metadata?.namespace) || ctx.namespace,
    name: asStr(obj.metadata?.name),
    exportTo: asStrs(spec.exportTo),
  };
  const hosts = asStrs(spec.hosts).filter(Boolean);
  const vsGateways = asStrs(spec.gateways);
  const c = collector();
  if (hosts.length === 0) return ok;
  const portsByHost = new Map(hosts.map((h) => [h, entryPortsFor(h, ctx, me)] as const));

  for (const type of ['tls', 'http'] as const) {
    asArr(spec[type]).forEach((route, i) => {
      const matches = asArr(asObj(route).match);
      // a route without matches is one match on any port
      const list = matches.length ? matches.map(asObj) : [{}];
      list.forEach((m, j) => {
        // only sidecar (mesh) traffic uses ServiceEntry ports; gateway-bound matches use the gateway's servers
        if (boundToGatewaysOnly(asStrs(m.gateways).length ? asStrs(m.gateways) : vsGateways)) return;
        const port = isPortNumber(m.port) ? m.port : undefined;
        const at = matches.length ? `spec.${type}[${i}].match[${j}]` : `spec.${type}[${i}]`;
        for (const host of hosts) {
          const entryPorts = portsByHost.get(host) ?? [];
          if (entryPorts.length === 0) continue;
          const wrong = type === 'tls' ? isHttp : isTls;
          const code = type === 'tls' ? 'EW401' : 'EW402';
          if (port === undefined) {
            if (entryPorts.every((p) => wrong(parseProtocol(p.protocol)))) {
              const owners = unique(entryPorts.map((p) => ref(p.entry))).join(', ');
              c.add(
                code,
                at,
                `ServiceEntry ${owners} gives ${host} only ${type === 'tls' ? 'HTTP' : 'HTTPS/TLS'} ports; ${type} route ignored`,
              );
            }
            continue;
          }
          for (const p of entryPorts) {
            const proto = parseProtocol(p.protocol);
            if (p.number === port && wrong(proto)) {
              c.add(code, `${at}.port`, `ServiceEntry ${ref(p.entry)} declares ${host}:${port} ${proto}; ${type} route ignored`);
            }
          }
        }
      });
    });
  }
  return c.result();
}
