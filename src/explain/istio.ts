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
import { MESH_OBJECTS } from '../catalogue/namespaces.ts';
import { asArr, asObj } from '../json.ts';
import type { SidecarRecord } from '../rules/egress-records.ts';
import { exportedTo } from '../rules/mesh-mode.ts';
import { decidingSidecar, outboundPolicyFor, sidecarImport } from '../rules/sidecar-scope.ts';
import { candidateKeys, hostMatches, slug, type Destination } from './destination.ts';
import { appliable, NO_EGRESS_OBJECTS, type EgressObjects } from './egress-objects.ts';
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
export function matchingPorts(snapshot: ClusterSnapshot, dest: Destination, namespace: string): ServiceEntryPort[] {
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

const sidecarName = (s: SidecarRecord): string => `Sidecar ${s.namespace}/${s.name}`;

/** The stored Sidecar, whole, with `host` added to the listener that serves the port (a new catch-all when none does). */
function sidecarWithHost(stored: KubeObject, listener: number | undefined, host: string): KubeObject {
  const next = appliable(stored);
  const spec = asObj(next.spec) as Record<string, unknown>;
  const egress = asArr(spec.egress).map((l) => ({ ...asObj(l) }) as Record<string, unknown>);
  if (listener === undefined) egress.push({ hosts: [host] });
  else egress[listener] = { ...egress[listener], hosts: [...asArr(egress[listener]?.hosts), host] };
  return { ...next, spec: { ...spec, egress } };
}

/** Namespaces whose hosts a Sidecar's listener imports whole (`ns/*`, `./*`); `*` for every namespace. */
function importedNamespaces(sidecar: SidecarRecord, port: number): string[] {
  const own = sidecar.egress.findIndex((l) => l.port === port);
  const index = own >= 0 ? own : sidecar.egress.findIndex((l) => l.port === undefined);
  const hosts = index >= 0 ? sidecar.egress[index]!.hosts : [];
  return hosts.filter((h) => h.endsWith('/*') && !h.startsWith('~')).map((h) => (h.startsWith('./') ? sidecar.namespace : h.slice(0, -2)));
}

/** Why the Sidecar decides for this pod, as the message says it. */
function howChosen(s: SidecarRecord, podNamespace: string): string {
  if (s.selector)
    return `its workloadSelector ${Object.entries(s.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')} selects the pod`;
  return s.namespace === podNamespace
    ? "the namespace's Sidecar without workloadSelector"
    : "the mesh root namespace's Sidecar: the namespace has none";
}

/**
 * The fixes when the Sidecar hides the destination: the stored Sidecar with the host added (the
 * entry's namespace and host), or a ServiceEntry in a namespace the Sidecar already imports.
 */
function sidecarFixes(
  sidecar: SidecarRecord,
  egress: EgressObjects,
  dest: Destination,
  entry: { readonly namespace: string; readonly host: string; readonly create?: KubeObject },
  podNamespace: string,
): FixOption[] {
  const imp = sidecarImport(sidecar, entry.namespace, entry.host, dest.port);
  const out: FixOption[] = [];
  const stored = egress.stored('Sidecar', sidecar.namespace, sidecar.name);
  if (stored) {
    out.push({
      objects: [...(entry.create ? [entry.create] : []), sidecarWithHost(stored, imp.listener, imp.fix)],
      what: `${entry.create ? `a ServiceEntry for ${dest.host}:${dest.port} and ` : ''}${sidecarName(sidecar)} importing ${imp.fix}`,
      note: `the Sidecar is printed whole, as stored, with ${imp.fix} added: apply it as it is`,
    });
  }
  const elsewhere =
    importedNamespaces(sidecar, dest.port).find((n) => n !== '*' && n !== entry.namespace) ??
    (importedNamespaces(sidecar, dest.port).includes('*') ? podNamespace : undefined);
  if (elsewhere !== undefined) {
    out.push({
      objects: [serviceEntryFix(dest, elsewhere)],
      what: `a ServiceEntry for ${dest.host}:${dest.port} in ${elsewhere}, which ${sidecarName(sidecar)} imports`,
    });
  }
  return out;
}

export function explainIstio(
  source: Source,
  dest: Destination,
  snapshot: ClusterSnapshot,
  egress: EgressObjects = NO_EGRESS_OBJECTS,
): MeshAnswer {
  const reasons: Reason[] = [];
  const config = snapshot.mesh.istio;
  const meshPolicy = config?.outboundPolicy ?? {
    value: 'ALLOW_ANY' as const,
    from: snapshot.mesh.read ? 'default (no Istio mesh ConfigMap found)' : 'default (mesh settings not read)',
  };
  const ns = source.namespace;
  // istiod's getSidecarScope: the pod's own, else the namespace's, else the mesh root namespace's
  const sidecars = egress.lookup.sidecars;
  const root = egress.rootNamespace ?? MESH_OBJECTS.istioNamespace;
  const podLabels = asObj(source.pod.metadata?.labels) as Readonly<Record<string, string>>;
  const sidecar = sidecars ? decidingSidecar(podLabels, sidecars(ns), ns === root ? [] : sidecars(root)) : undefined;
  const policy = outboundPolicyFor(sidecar, meshPolicy) ?? meshPolicy;
  if (sidecar) {
    reasons.push({
      step: 'mesh',
      says: `${sidecarName(sidecar)} decides this pod's egress (${howChosen(sidecar, ns)})${policy !== meshPolicy ? `; its outboundTrafficPolicy overrides the mesh's ${meshPolicy.value}` : ''}`,
      objects: [sidecarName(sidecar)],
    });
  } else if (sidecars) {
    reasons.push({ step: 'mesh', says: 'no Sidecar applies to this pod: it sees every ServiceEntry exported to its namespace' });
  }
  reasons.push({ step: 'mesh', says: `outbound traffic policy ${policy.value} [${policy.from}]` });
  const created = serviceEntryFix(dest, ns);
  const fix: FixOption[] = [{ objects: [created], what: `a ServiceEntry for ${dest.host}:${dest.port} ${SCHEME_PROTOCOL[dest.scheme]}` }];
  if (sidecar && !sidecarImport(sidecar, ns, dest.host, dest.port).imported) {
    // the entry would be invisible to the pod: it must land where the Sidecar looks, or the Sidecar must look there
    fix.splice(0, 1, ...sidecarFixes(sidecar, egress, dest, { namespace: ns, host: dest.host, create: created }, ns).reverse());
  }

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
  const invisible: { namespace: string; host: string }[] = [];
  for (const p of ports) {
    const cls = classOf(p.protocol);
    const why = clash(dest.scheme, cls);
    const what = `registers ${p.entry.hosts.filter((h) => hostMatches(h, dest.host)).join(', ') || p.entry.addresses.join(', ')} port ${p.number} ${p.protocol || '(protocol unset: sniffed)'}`;
    const host = p.entry.hosts.find((h) => hostMatches(h, dest.host));
    const hidden = sidecar && host !== undefined && !sidecarImport(sidecar, p.entry.namespace, host, dest.port).imported;
    if (why) reasons.push({ step: 'conflict', says: `${what}; ${why}`, objects: [entryName(p)] });
    else if (hidden) {
      const imp = sidecarImport(sidecar, p.entry.namespace, host, dest.port);
      reasons.push({
        step: 'conflict',
        says: `${what}, but ${sidecarName(sidecar)} does not import it (${imp.listener === undefined ? `no egress listener serves port ${dest.port}` : `spec.egress[${imp.listener}].hosts has no ${imp.fix}`}): the pod does not see the entry`,
        objects: [entryName(p), sidecarName(sidecar)],
      });
      invisible.push({ namespace: p.entry.namespace, host });
    } else {
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
  if (sidecar && invisible.length) {
    const first = invisible[0]!;
    if (policy.value === 'ALLOW_ANY') {
      reasons.push({
        step: 'match',
        says: `ALLOW_ANY sends ${dest.host}:${dest.port} to PassthroughCluster: it gets out, without the entry's settings`,
      });
      return { verdict: 'allowed', reasons, fix: [] };
    }
    reasons.push({
      step: 'match',
      says: `no ServiceEntry the pod sees names ${dest.host}:${dest.port}; REGISTRY_ONLY sends it to BlackHoleCluster`,
    });
    return { verdict: 'blocked', reasons, fix: sidecarFixes(sidecar, egress, dest, first, ns) };
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
