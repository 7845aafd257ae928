/**
 * Istio's answer for captured traffic, as its sidecar builds it: the outbound listener for the port
 * takes the protocol of the ServiceEntry port (HTTP routes by Host, HTTPS/TLS by SNI, TCP by
 * address, unset is sniffed); a destination no visible entry names goes to PassthroughCluster under
 * ALLOW_ANY and to BlackHoleCluster under REGISTRY_ONLY. VirtualServices route only among registered
 * hosts and only on ports of their protocol; they never register a host.
 */
import type { KubeObject } from '../admission/types.ts';
import { isHttp, isPlainTcp, isTls, parseProtocol } from '../catalogue/protocols.ts';
import type { ClusterSnapshot, ServiceEntryPort } from '../cluster/snapshot.ts';
import { containsAddress, parseIpOrCidr } from '../net/cidr.ts';
import { exportedTo } from '../rules/mesh-mode.ts';
import { candidateKeys, hostMatches, slug, type Destination } from './destination.ts';
import type { FixOption, MeshAnswer, Reason, Source } from './types.ts';

type PortClass = 'http' | 'tls' | 'tcp' | 'sniffed' | 'udp';

function classOf(protocol: string): PortClass {
  const p = parseProtocol(protocol);
  if (p === undefined) return 'sniffed';
  if (p === 'UDP') return 'udp';
  if (isHttp(p)) return 'http';
  if (isTls(p)) return 'tls';
  return 'tcp';
}

const entryName = (p: ServiceEntryPort): string => `ServiceEntry ${p.entry.namespace}/${p.entry.name}`;

/** The visible ServiceEntry ports on the destination port that name the host, or (for an address) list it. */
function matchingPorts(snapshot: ClusterSnapshot, dest: Destination, namespace: string): ServiceEntryPort[] {
  const found = new Set<ServiceEntryPort>();
  for (const key of candidateKeys(dest.host)) {
    for (const p of snapshot.serviceEntriesByHost.get(key) ?? []) if (p.number === dest.port) found.add(p);
  }
  if (dest.address !== undefined) {
    for (const p of snapshot.serviceEntriesByPort.get(dest.port) ?? []) {
      const listed = p.entry.addresses.map((a) => parseIpOrCidr(a)?.cidr).filter((c) => c !== undefined);
      if (containsAddress(listed, dest.address)) found.add(p);
    }
  }
  return [...found].filter((p) => exportedTo(p.entry.exportTo, p.entry.namespace, namespace));
}

/** Why a port of this class does or does not carry what the client speaks; undefined when it does. */
function clash(scheme: Destination['scheme'], cls: PortClass): string | undefined {
  if (cls === 'udp') return 'the port is UDP, which the sidecar does not proxy';
  if (scheme === 'http' && cls === 'tls') return 'the port is declared TLS/HTTPS, but plain HTTP carries no SNI to match it by';
  if ((scheme === 'https' || scheme === 'tls') && cls === 'http')
    return "the port is declared HTTP, but the client speaks TLS: Envoy's HTTP codec resets the connection";
  if (scheme === 'tcp' && cls === 'http') return 'the port is declared HTTP, but the client does not speak HTTP';
  if (scheme === 'tcp' && cls === 'tls') return 'the port is declared TLS/HTTPS, but the client sends no TLS ClientHello to match by SNI';
  return undefined;
}

const SCHEME_PROTOCOL: Readonly<Record<Destination['scheme'], string>> = { http: 'HTTP', https: 'TLS', tls: 'TLS', tcp: 'TCP' };

/** A ServiceEntry that registers exactly the destination, with the port named for its protocol. */
export function serviceEntryFix(dest: Destination, namespace: string): KubeObject {
  const protocol = SCHEME_PROTOCOL[dest.scheme];
  const byAddress = dest.address !== undefined && dest.address === dest.host;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: `${slug(dest.host)}-${dest.port}`, namespace },
    spec: {
      hosts: [byAddress ? `${slug(dest.host)}.external` : dest.host],
      ...(byAddress ? { addresses: [dest.address] } : {}),
      location: 'MESH_EXTERNAL',
      ports: [{ number: dest.port, name: `${protocol.toLowerCase()}-${dest.port}`, protocol }],
      resolution: byAddress ? 'STATIC' : 'DNS',
      ...(byAddress ? { endpoints: [{ address: dest.address }] } : {}),
    },
  };
}

export function explainIstio(source: Source, dest: Destination, snapshot: ClusterSnapshot): MeshAnswer {
  const reasons: Reason[] = [];
  const config = snapshot.mesh.istio;
  const policy = config?.outboundPolicy ?? {
    value: 'ALLOW_ANY' as const,
    from: snapshot.mesh.read ? 'default (no Istio mesh ConfigMap found)' : 'default (mesh settings not read)',
  };
  reasons.push({ step: 'mesh', says: `outbound traffic policy ${policy.value} [${policy.from}]` });
  const ns = source.namespace;
  const fix: FixOption[] = [
    { objects: [serviceEntryFix(dest, ns)], what: `a ServiceEntry for ${dest.host}:${dest.port} ${SCHEME_PROTOCOL[dest.scheme]}` },
  ];

  // VirtualServices: shown for what they do on this port, never a registration.
  for (const key of candidateKeys(dest.host)) {
    for (const r of snapshot.virtualServicesByHost.get(key) ?? []) {
      if (!exportedTo(r.service.exportTo, r.service.namespace, ns)) continue;
      if (r.port !== undefined && r.port !== dest.port) continue;
      reasons.push({
        step: 'route',
        says: `a ${r.type} route for ${key}${r.port ? ` on port ${r.port}` : ''}: used only on ${r.type === 'http' ? 'HTTP or sniffed' : r.type === 'tls' ? 'TLS/HTTPS' : 'TCP'} ports of a registered host`,
        objects: [`VirtualService ${r.service.namespace}/${r.service.name}`],
      });
    }
  }

  const ports = matchingPorts(snapshot, dest, ns);
  const working: ServiceEntryPort[] = [];
  for (const p of ports) {
    const cls = classOf(p.protocol);
    const why = clash(dest.scheme, cls);
    const what = `registers ${p.entry.hosts.filter((h) => hostMatches(h, dest.host)).join(', ') || p.entry.addresses.join(', ')} port ${p.number} ${p.protocol || '(protocol unset: sniffed)'}`;
    if (why) reasons.push({ step: 'conflict', says: `${what}; ${why}`, objects: [entryName(p)] });
    else {
      reasons.push({ step: 'match', says: `${what}, resolution ${p.entry.resolution}`, objects: [entryName(p)] });
      if (cls === 'sniffed' && dest.scheme === 'tcp')
        reasons.push({
          step: 'note',
          says: 'the protocol is sniffed: a server-first protocol (the server speaks first) stalls until the sniffing times out; set protocol TCP',
          objects: [entryName(p)],
        });
      if (
        p.entry.resolution === 'NONE' &&
        dest.address === undefined &&
        p.entry.addresses.length === 0 &&
        cls !== 'http' &&
        cls !== 'sniffed' &&
        cls !== 'tls'
      ) {
        reasons.push({
          step: 'note',
          says: 'resolution NONE without addresses: the connection goes to the address the client resolved, on a listener shared by every such entry on the port',
          objects: [entryName(p)],
        });
      }
      working.push(p);
    }
  }

  // Plain-TCP entries without addresses share 0.0.0.0:<port>: one of them takes every TCP connection on it.
  const shared = (snapshot.unaddressedTcpServiceEntriesByPort.get(dest.port) ?? []).filter((p) =>
    exportedTo(p.entry.exportTo, p.entry.namespace, ns),
  );
  const others = shared.filter((p) => !working.includes(p));
  const ourTcp = working.filter((p) => isPlainTcp(p.protocol));
  if (others.length && (ourTcp.length || (!working.length && dest.scheme !== 'http'))) {
    reasons.push({
      step: 'conflict',
      says: `plain TCP entries without addresses share 0.0.0.0:${dest.port}: Envoy keeps one filter chain, so the connection goes to whichever entry won, not necessarily ${dest.host}; give the entries addresses`,
      objects: [...new Set([...ourTcp, ...others].map(entryName))],
    });
    return { verdict: 'blocked', reasons, fix: [] };
  }

  if (working.length) {
    reasons.push({ step: 'match', says: `${dest.host}:${dest.port} is registered: the sidecar routes it to the entry's cluster` });
    return { verdict: 'allowed', reasons, fix: [] };
  }
  if (ports.length) {
    reasons.push({
      step: 'conflict',
      says: `every ServiceEntry for ${dest.host}:${dest.port} declares a protocol the client does not speak; ${policy.value === 'REGISTRY_ONLY' ? 'under REGISTRY_ONLY the connection fails' : 'the connection fails on the mismatched listener'}`,
    });
    // A second entry for the host and port would not help: Istio keeps the older one (EW404).
    reasons.push({
      step: 'fix',
      says: `declare port ${dest.port} ${SCHEME_PROTOCOL[dest.scheme]} in the ServiceEntry that registers ${dest.host} (a second entry for the host and port is ignored while the first exists), or have the client speak the port's protocol`,
      objects: [...new Set(ports.map(entryName))],
    });
    return { verdict: 'blocked', reasons, fix: [] };
  }
  if (policy.value === 'ALLOW_ANY') {
    reasons.push({
      step: 'match',
      says: `no ServiceEntry visible in ${ns} names ${dest.host}:${dest.port}; ALLOW_ANY sends it to PassthroughCluster`,
    });
    return { verdict: 'allowed', reasons, fix: [] };
  }
  const symptom = dest.scheme === 'http' ? 'envoy answers 502' : 'the connection is reset';
  reasons.push({
    step: 'match',
    says: `no ServiceEntry visible in ${ns} names ${dest.host}:${dest.port}; REGISTRY_ONLY sends it to BlackHoleCluster (${symptom})`,
  });
  return { verdict: 'blocked', reasons, fix };
}
