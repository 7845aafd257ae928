/**
 * OSM's answer for captured traffic, as its outbound listener is built: with enableEgress every
 * destination passes through; otherwise only Egress policies for the pod's ServiceAccount open the
 * way, and only when enableEgressPolicy is on. http matches by Host on the port (no hosts, no
 * routes), https by SNI, tcp and tcp-server-first by destination IP range (none: every IP). A
 * tcp-server-first match on a port turns off the TLS and HTTP inspectors there, so no https or http
 * match on that port can match. Protocols are compared case-sensitively.
 */
import { TCP_SERVER_FIRST } from '../catalogue/protocols.ts';
import type { KubeObject } from '../admission/types.ts';
import { OSM_MESHCONFIG_GROUP, type MeshConfig } from '../cluster/mesh-config.ts';
import { egressKey, type ClusterSnapshot, type EgressPort } from '../cluster/snapshot.ts';
import { containsAddress, parseIpOrCidr } from '../net/cidr.ts';
import { isObj } from '../json.ts';
import { hostMatches, slug, type Destination } from './destination.ts';
import type { FixOption, MeshAnswer, Reason, Source } from './types.ts';

const egressName = (p: EgressPort): string => `Egress ${p.egress.namespace}/${p.egress.name}`;

const SCHEME_PROTOCOL: Readonly<Record<Destination['scheme'], string>> = { http: 'http', https: 'https', tls: 'https', tcp: 'tcp' };

/** An Egress that lets the ServiceAccount reach exactly the destination with `protocol` (by default what the client speaks). */
export function egressFix(dest: Destination, source: Source, protocol: string = SCHEME_PROTOCOL[dest.scheme]): KubeObject {
  const byIp = protocol === 'tcp' || protocol === TCP_SERVER_FIRST;
  return {
    apiVersion: 'policy.openservicemesh.io/v1alpha1',
    kind: 'Egress',
    metadata: {
      name: `${source.serviceAccount}-${slug(dest.host)}-${dest.port}`.slice(0, 63).replace(/-+$/, ''),
      namespace: source.namespace,
    },
    spec: {
      sources: [{ kind: 'ServiceAccount', name: source.serviceAccount, namespace: source.namespace }],
      ...(byIp ? (dest.address !== undefined ? { ipAddresses: [`${dest.address}/32`] } : {}) : { hosts: [dest.host] }),
      ports: [{ number: dest.port, protocol }],
    },
  };
}

/**
 * The Egress options, best first: one for what the client speaks, then a tcp-server-first one,
 * which is what the webhook admits beside a tcp-server-first match already on the port (an http or
 * https match there never applies: EW420, EW421). `before` goes first in each (a MeshConfig change).
 */
function egressOptions(dest: Destination, source: Source, before: readonly KubeObject[] = [], mesh?: MeshConfig): FixOption[] {
  const sa = `${source.namespace}/${source.serviceAccount}`;
  const protocol = SCHEME_PROTOCOL[dest.scheme];
  const on = `${sa} to ${dest.host}:${dest.port}`;
  const withMesh = mesh ? { mesh } : {};
  const options: FixOption[] = [
    {
      objects: [...before, egressFix(dest, source)],
      what: `${protocol === 'http' ? 'an' : 'a'} ${protocol} Egress for ${on}`,
      ...withMesh,
    },
  ];
  if (protocol !== TCP_SERVER_FIRST) {
    const gives = [
      'it matches by destination IP, not by host name',
      ...(dest.scheme === 'http' ? ['HTTPRouteGroup matches do not apply to it'] : []),
      dest.address === undefined
        ? `without --address it opens port ${dest.port} to every IP for ${sa}; give --address to narrow it`
        : `it opens ${dest.address}/32 only`,
    ];
    options.push({
      objects: [...before, egressFix(dest, source, TCP_SERVER_FIRST)],
      what: `a tcp-server-first Egress for ${on}`,
      note: gives.join('; '),
      ...withMesh,
    });
  }
  return options;
}

const inRanges = (ipAddresses: readonly string[], address: string): boolean =>
  containsAddress(
    ipAddresses.map((a) => parseIpOrCidr(a)?.cidr).filter((c) => c !== undefined),
    address,
  );

/** Whether one Egress port lets the destination through, and why (or why not). */
function judge(p: EgressPort, dest: Destination): { readonly ok: boolean; readonly says: string } {
  const ranges = p.egress.ipAddresses;
  const byRange = (): { ok: boolean; says: string } => {
    if (ranges.length === 0) return { ok: true, says: `${p.protocol} on port ${p.number} for every IP` };
    if (dest.address === undefined)
      return {
        ok: false,
        says: `${p.protocol} on port ${p.number} only for ${ranges.join(', ')}; ${dest.host}'s address is unknown (give --address)`,
      };
    const inside = inRanges(ranges, dest.address);
    return {
      ok: inside,
      says: `${p.protocol} on port ${p.number} for ${ranges.join(', ')}: ${dest.address} is ${inside ? 'inside' : 'outside'}`,
    };
  };
  switch (p.protocol) {
    case 'tcp':
    case TCP_SERVER_FIRST:
      return byRange();
    case 'http': {
      if (dest.scheme !== 'http') return { ok: false, says: `http on port ${p.number}, but the client speaks ${dest.scheme}` };
      if (p.egress.hosts.length === 0)
        return { ok: false, says: `http on port ${p.number} without hosts: no routes, every request gets 404` };
      if (!p.egress.hosts.some((h) => hostMatches(h, dest.host)))
        return { ok: false, says: `http on port ${p.number} for ${p.egress.hosts.join(', ')}, not ${dest.host}` };
      if (ranges.length && dest.address !== undefined && !inRanges(ranges, dest.address))
        return { ok: false, says: `http for ${dest.host}, but ${dest.address} is outside ${ranges.join(', ')}` };
      return {
        ok: true,
        says: `http on port ${p.number} for ${dest.host} (its HTTPRouteGroup matches, if any, further limit paths and methods)`,
      };
    }
    case 'https': {
      if (dest.scheme !== 'https' && dest.scheme !== 'tls')
        return { ok: false, says: `https on port ${p.number}, matched by SNI, but the client speaks ${dest.scheme}` };
      if (p.egress.hosts.length && !p.egress.hosts.some((h) => hostMatches(h, dest.host)))
        return { ok: false, says: `https on port ${p.number} for SNI ${p.egress.hosts.join(', ')}, not ${dest.host}` };
      if (ranges.length) return byRange();
      return { ok: true, says: `https on port ${p.number}${p.egress.hosts.length ? ` for SNI ${dest.host}` : ' for any SNI'}` };
    }
    default:
      return {
        ok: false,
        says: `protocol "${p.protocol}" builds no filter chain (OSM compares http, https, tcp and tcp-server-first case-sensitively)`,
      };
  }
}

export function explainOsm(source: Source, dest: Destination, snapshot: ClusterSnapshot): MeshAnswer {
  const reasons: Reason[] = [];
  const o = snapshot.mesh.osm;
  const sa = `${source.namespace}/${source.serviceAccount}`;
  if (!o) {
    reasons.push({
      step: 'mesh',
      says: snapshot.mesh.read
        ? 'no OSM MeshConfig found: its egress switches are unknown, so the Egress policies are judged as if enableEgress were false and enableEgressPolicy true'
        : 'mesh settings not read: judged as if enableEgress were false and enableEgressPolicy true',
    });
  } else {
    reasons.push({
      step: 'mesh',
      says: `enableEgress ${o.enableEgress.value} [${o.enableEgress.from}]; enableEgressPolicy ${o.enableEgressPolicy.value} [${o.enableEgressPolicy.from}]`,
    });
    if (o.enableEgress.value) {
      reasons.push({
        step: 'match',
        says: 'egress passthrough is on mesh-wide: every external destination is let through, Egress policies or not',
      });
      return { verdict: 'allowed', reasons, fix: [] };
    }
  }
  if (o && !o.enableEgressPolicy.value) {
    reasons.push({
      step: 'match',
      says: 'enableEgress is false and Egress policies are off (enableEgressPolicy false): nothing opens the way out',
    });
    // The stored object whole with the one switch turned: applied, a partial object would unset the rest.
    const flags = o.stored.spec.featureFlags;
    const patch: KubeObject = {
      apiVersion: o.stored.apiVersion || `${OSM_MESHCONFIG_GROUP}/v1alpha2`,
      kind: 'MeshConfig',
      metadata: { ...o.object },
      spec: { ...o.stored.spec, featureFlags: { ...(isObj(flags) ? flags : {}), enableEgressPolicy: true } },
    };
    // The webhook watches the MeshConfig: the Egress beside the change is judged as it will be once policy is on.
    const after: MeshConfig = {
      ...snapshot.mesh,
      osm: { ...o, enableEgressPolicy: { value: true, from: 'the proposed MeshConfig change' } },
    };
    return { verdict: 'blocked', reasons, fix: egressOptions(dest, source, [patch], after) };
  }

  const ports = snapshot.egressesBySourcePort.get(egressKey(sa, dest.port)) ?? [];
  if (ports.length === 0) {
    reasons.push({
      step: 'match',
      says: `no Egress lists ServiceAccount ${sa} with port ${dest.port}: the connection is refused (curl exits 7)`,
    });
    return { verdict: 'blocked', reasons, fix: egressOptions(dest, source) };
  }
  const serverFirst = ports.filter((p) => p.protocol === TCP_SERVER_FIRST);
  const allowing: EgressPort[] = [];
  for (const p of ports) {
    const j = judge(p, dest);
    reasons.push({
      step: j.ok ? 'match' : 'note',
      says: `${j.ok ? 'lets it through' : 'does not match'}: ${j.says}`,
      objects: [egressName(p)],
    });
    if (j.ok) allowing.push(p);
  }
  // tcp-server-first turns the inspectors off on the port: http and https chains there never match.
  const inspected = allowing.filter((p) => p.protocol === 'http' || p.protocol === 'https');
  if (serverFirst.length && inspected.length && inspected.length === allowing.length) {
    const kinds = inspected.map((p) => p.protocol).join('/');
    reasons.push({
      step: 'conflict',
      says: `port ${dest.port} also has a tcp-server-first match, which turns off the TLS and HTTP inspectors there: the ${kinds} match never sees a host or SNI; move one of them to another port, or make the ${kinds} match tcp-server-first too`,
      objects: [...new Set([...serverFirst, ...inspected].map(egressName))],
    });
    return { verdict: 'blocked', reasons, fix: [] };
  }
  if (allowing.length) return { verdict: 'allowed', reasons, fix: [] };
  reasons.push({ step: 'match', says: `no Egress for ${sa} on port ${dest.port} covers ${dest.scheme}://${dest.host}` });
  return { verdict: 'blocked', reasons, fix: egressOptions(dest, source) };
}
