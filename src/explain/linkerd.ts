/**
 * Linkerd's answer for a meshed pod (Linkerd 2.17+ egress): its proxy takes every outbound
 * connection; an address outside the cluster networks is matched against the EgressNetworks that
 * apply to the pod's namespace (its own when it has any, else the global egress namespace's:
 * rules/egress-network-scope.ts, Linkerd's resolve_egress_network). The deciding one's
 * trafficPolicy lets the connection out (Allow) or refuses what no route attached to it matches (Deny).
 */
import type { KubeObject } from '../admission/types.ts';
import { LINKERD_INJECT, LINKERD_PROXY_CONTAINER } from '../catalogue/keys.ts';
import { asArr, asObj, asStr } from '../json.ts';
import { containsAddress, parseCidr, type Cidr } from '../net/cidr.ts';
import type { EgressNetworkRecord } from '../rules/egress-records.ts';
import { decidingEgressNetwork, LINKERD_GLOBAL_EGRESS_NAMESPACE } from '../rules/egress-network-scope.ts';
import { hostMatches, slug, type Destination } from './destination.ts';
import type { EgressObjects } from './egress-objects.ts';
import type { FixOption, MeshAnswer, Reason, Source } from './types.ts';

/** Linkerd's default clusterNetworks (its Helm value): addresses there are the cluster's, never egress. */
export const LINKERD_CLUSTER_NETWORKS: readonly string[] = ['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8'];

const CLUSTER: readonly Cidr[] = LINKERD_CLUSTER_NETWORKS.map((c) => parseCidr(c)!);

/** Why the pod runs Linkerd's proxy, or undefined: its proxy container, else its own annotation, else its namespace's. */
export function linkerdInjected(pod: KubeObject, namespace: KubeObject | undefined): string | undefined {
  const spec = asObj(pod.spec);
  const containers = [...asArr(spec.containers), ...asArr(spec.initContainers)].map((c) => asStr(asObj(c).name));
  if (containers.includes(LINKERD_PROXY_CONTAINER)) return `container ${LINKERD_PROXY_CONTAINER}`;
  const own = pod.metadata?.annotations?.[LINKERD_INJECT];
  if (own === 'enabled') return `pod annotation ${LINKERD_INJECT}=enabled`;
  if (own === 'disabled') return undefined;
  const ns = namespace?.metadata?.annotations?.[LINKERD_INJECT];
  return ns === 'enabled' ? `namespace ${namespace?.metadata?.name} annotation ${LINKERD_INJECT}=enabled` : undefined;
}

const networkName = (n: EgressNetworkRecord): string => `EgressNetwork ${n.namespace}/${n.name}`;

const networksShown = (n: EgressNetworkRecord): string =>
  n.networks === undefined
    ? 'every address outside the cluster networks'
    : n.networks.map((x) => `${x.cidr}${x.except.length ? ` except ${x.except.join(', ')}` : ''}`).join('; ');

/** The route kind that carries what the client speaks. */
const routeKindFor = (dest: Destination): 'HTTPRoute' | 'TLSRoute' | 'TCPRoute' =>
  dest.scheme === 'http' ? 'HTTPRoute' : dest.scheme === 'tcp' ? 'TCPRoute' : 'TLSRoute';

/**
 * A route attached to the EgressNetwork (in its namespace, or the client's) of the kind the client
 * speaks, on the port (or every port), for the host (or any host): Linkerd lets such traffic through a Deny network.
 */
function attachedRoute(routes: readonly KubeObject[], n: EgressNetworkRecord, dest: Destination, client: string): KubeObject | undefined {
  const kinds = dest.scheme === 'http' ? ['HTTPRoute', 'GRPCRoute'] : [routeKindFor(dest)];
  return routes.find((r) => {
    const own = asStr(r.metadata?.namespace);
    if (!kinds.includes(asStr(r.kind)) || (own !== n.namespace && own !== client)) return false;
    const spec = asObj(r.spec);
    const hostnames = asArr(spec.hostnames).map(asStr);
    if (hostnames.length && !hostnames.some((h) => hostMatches(h, dest.host))) return false;
    return asArr(spec.parentRefs).some((p) => {
      const ref = asObj(p);
      return (
        ref.kind === 'EgressNetwork' &&
        ref.group === 'policy.linkerd.io' &&
        ref.name === n.name &&
        (asStr(ref.namespace) || own) === n.namespace &&
        (ref.port === undefined || ref.port === dest.port)
      );
    });
  });
}

/** A route attached to the EgressNetwork that lets exactly the destination through it. */
export function egressRouteFix(n: EgressNetworkRecord, dest: Destination): KubeObject {
  const kind = routeKindFor(dest);
  const named = !/^[0-9.:]+$/.test(dest.host);
  return {
    apiVersion: kind === 'HTTPRoute' ? 'gateway.networking.k8s.io/v1' : 'gateway.networking.k8s.io/v1alpha2',
    kind,
    metadata: { name: `${slug(dest.host)}-${dest.port}`, namespace: n.namespace },
    spec: {
      parentRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: n.name, namespace: n.namespace, port: dest.port }],
      ...(named && kind !== 'TCPRoute' ? { hostnames: [dest.host] } : {}),
      // a backend of the EgressNetwork itself sends the connection on to where the client addressed it
      rules: [{ backendRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: n.name }] }],
    },
  };
}

/** An Allow EgressNetwork for the one address, beside the Deny one: the most specific network decides. */
export function allowNetworkFix(n: EgressNetworkRecord, address: string): KubeObject {
  const bits = address.includes(':') ? 128 : 32;
  return {
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'EgressNetwork',
    metadata: { name: `allow-${slug(address)}`, namespace: n.namespace },
    spec: { trafficPolicy: 'Allow', networks: [{ cidr: `${address}/${bits}` }] },
  };
}

export function explainLinkerd(source: Source, dest: Destination, egress: EgressObjects, why: string): MeshAnswer {
  const reasons: Reason[] = [
    {
      step: 'sidecar',
      says: `Linkerd proxy [${why}]: it takes every outbound connection, and EgressNetworks decide those leaving the cluster`,
    },
  ];
  const ns = source.namespace;
  const inNamespace = egress.lookup.egressNetworksIn;
  if (!inNamespace) {
    reasons.push({
      step: 'match',
      says: `no EgressNetwork was found${egress.notes.some((n) => n.includes('EgressNetwork')) ? ' (see the note)' : ''}: the proxy lets connections outside the cluster out as they are`,
    });
    return { verdict: 'allowed', reasons, fix: [] };
  }
  const own = inNamespace(ns);
  const pool = [...own, ...(own.length ? [] : inNamespace(LINKERD_GLOBAL_EGRESS_NAMESPACE))];
  reasons.push({
    step: 'mesh',
    says: own.length
      ? `${ns} has EgressNetworks of its own: only they apply to its pods, the global ones in ${LINKERD_GLOBAL_EGRESS_NAMESPACE} do not`
      : `${ns} has no EgressNetwork: those of the global egress namespace ${LINKERD_GLOBAL_EGRESS_NAMESPACE} apply (${pool.length})`,
    ...(pool.length ? { objects: pool.map(networkName) } : {}),
  });
  if (dest.address === undefined) {
    const denying = pool.filter((n) => n.trafficPolicy === 'Deny');
    reasons.push({
      step: 'note',
      says: `Linkerd matches EgressNetworks by the address connected to: give --address to say which one decides${denying.length ? `; ${denying.map(networkName).join(', ')} refuse what no route matches` : ''}`,
    });
    const everything = denying.find((n) => n.networks === undefined || n.networks.some((x) => parseCidr(x.cidr)?.bits === 0));
    if (!everything) return { verdict: 'allowed', reasons, fix: [] };
    const through = attachedRoute(egress.routes, everything, dest, ns);
    if (through) {
      reasons.push({
        step: 'match',
        says: `${through.kind} ${through.metadata?.namespace}/${through.metadata?.name} attached to ${networkName(everything)} matches ${dest.host}:${dest.port}: the connection goes out through it`,
      });
      return { verdict: 'allowed', reasons, fix: [] };
    }
    reasons.push({
      step: 'match',
      says: `${networkName(everything)} (Deny) holds ${networksShown(everything)}: ${dest.host} is refused unless a route attached to it matches`,
    });
    return {
      verdict: 'blocked',
      reasons,
      fix: [
        {
          objects: [egressRouteFix(everything, dest)],
          what: `a ${dest.scheme === 'http' ? 'HTTPRoute' : dest.scheme === 'tcp' ? 'TCPRoute' : 'TLSRoute'} for ${dest.host}:${dest.port} attached to ${networkName(everything)}`,
        },
      ],
    };
  }
  if (containsAddress(CLUSTER, dest.address)) {
    reasons.push({
      step: 'match',
      says: `${dest.address} is in Linkerd's default clusterNetworks (${LINKERD_CLUSTER_NETWORKS.join(', ')}): not egress, no EgressNetwork applies`,
    });
    return { verdict: 'allowed', reasons, fix: [] };
  }
  const deciding = decidingEgressNetwork(dest.address, ns, pool, { clusterNetworks: CLUSTER });
  if (!deciding) {
    reasons.push({ step: 'match', says: `no EgressNetwork that applies holds ${dest.address}: the proxy lets it out as it is` });
    return { verdict: 'allowed', reasons, fix: [] };
  }
  const name = networkName(deciding);
  if (deciding.trafficPolicy !== 'Deny') {
    reasons.push({
      step: 'match',
      says: `${name} (${deciding.trafficPolicy || 'no trafficPolicy'}) holds ${dest.address} (${networksShown(deciding)}): the connection goes out, through the routes attached to it if one matches`,
      objects: [name],
    });
    return { verdict: 'allowed', reasons, fix: [] };
  }
  const route = attachedRoute(egress.routes, deciding, dest, ns);
  if (route) {
    const routeName = `${route.kind} ${route.metadata?.namespace}/${route.metadata?.name}`;
    reasons.push({
      step: 'match',
      says: `${name} (Deny) holds ${dest.address}, and ${routeName} attached to it matches ${dest.host}:${dest.port}: the connection goes out through the route`,
      objects: [name, routeName],
    });
    return { verdict: 'allowed', reasons, fix: [] };
  }
  reasons.push({
    step: 'match',
    says: `${name} (Deny) holds ${dest.address} (${networksShown(deciding)}): the proxy refuses the connection unless a route attached to it matches`,
    objects: [name],
  });
  const kind = routeKindFor(dest);
  const fix: FixOption[] = [
    { objects: [egressRouteFix(deciding, dest)], what: `a ${kind} for ${dest.host}:${dest.port} attached to ${name}` },
    {
      objects: [allowNetworkFix(deciding, dest.address)],
      what: `an Allow EgressNetwork for ${dest.address} beside ${name}`,
      note: 'the most specific network holding the address decides, so this one wins for it; every port and host at that address is let out',
    },
  ];
  return { verdict: 'blocked', reasons, fix };
}
