/**
 * What `explain` knows of the newer egress kinds (Sidecars, waypoint Gateways, EgressNetworks,
 * ServiceEntries with their labels): the same records the rules read (rules/egress-records.ts),
 * built from the objects of the files or of what the command listed from the cluster, and the
 * stored objects themselves, which a fix that changes one carries whole.
 */
import type { KubeObject } from '../admission/types.ts';
import { asArr, asObj } from '../json.ts';
import { NOTHING_KNOWN, recordsOf, type EgressLookup } from '../rules/egress-records.ts';

export type EgressObjects = {
  readonly lookup: EgressLookup;
  /** a stored object of one of these kinds by kind, namespace and name, whole as stored */
  readonly stored: (kind: string, namespace: string, name: string) => KubeObject | undefined;
  /** routes (Gateway API's and Linkerd's) whose parentRefs name an EgressNetwork */
  readonly routes: readonly KubeObject[];
  /** the source namespace as stored (its labels and every annotation), when known */
  readonly namespace?: KubeObject;
  /** what could not be read ("EgressNetworks: the CRD is not installed") */
  readonly notes: readonly string[];
  /** Istio's root namespace, whose Sidecar without selector applies to namespaces that have none (istio-system unless moved) */
  readonly rootNamespace?: string;
};

export const NO_EGRESS_OBJECTS: EgressObjects = { lookup: NOTHING_KNOWN, stored: () => undefined, routes: [], notes: [] };

export type ExplainKind = {
  readonly kind: string;
  readonly group: string;
  readonly plural: string;
  readonly versions: readonly string[];
};

/** The routes that can attach to an EgressNetwork. */
const ROUTE_KINDS: readonly ExplainKind[] = [
  { kind: 'HTTPRoute', group: 'gateway.networking.k8s.io', plural: 'httproutes', versions: ['v1', 'v1beta1'] },
  { kind: 'GRPCRoute', group: 'gateway.networking.k8s.io', plural: 'grpcroutes', versions: ['v1', 'v1alpha2'] },
  { kind: 'TLSRoute', group: 'gateway.networking.k8s.io', plural: 'tlsroutes', versions: ['v1alpha3', 'v1alpha2'] },
  { kind: 'TCPRoute', group: 'gateway.networking.k8s.io', plural: 'tcproutes', versions: ['v1alpha2'] },
  { kind: 'HTTPRoute', group: 'policy.linkerd.io', plural: 'httproutes', versions: ['v1beta3', 'v1beta2', 'v1beta1'] },
];

const isRoute = (o: KubeObject): boolean => ROUTE_KINDS.some((k) => k.kind === o.kind && o.apiVersion?.startsWith(`${k.group}/`));

/** The kinds explain reads beyond the snapshot, by kind and group (apiVersion prefix); live, the first version served is read. */
export const EXPLAIN_KINDS: readonly ExplainKind[] = [
  { kind: 'Sidecar', group: 'networking.istio.io', plural: 'sidecars', versions: ['v1', 'v1beta1', 'v1alpha3'] },
  { kind: 'ServiceEntry', group: 'networking.istio.io', plural: 'serviceentries', versions: ['v1', 'v1beta1', 'v1alpha3'] },
  { kind: 'Gateway', group: 'gateway.networking.k8s.io', plural: 'gateways', versions: ['v1', 'v1beta1'] },
  { kind: 'EgressNetwork', group: 'policy.linkerd.io', plural: 'egressnetworks', versions: ['v1alpha1'] },
  ...ROUTE_KINDS,
];

const SERVER_FIELDS = ['uid', 'resourceVersion', 'generation', 'managedFields', 'creationTimestamp', 'selfLink'];
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * An object as `kubectl apply` takes it back: every field the user wrote (apply of a partial object
 * drops what an earlier apply set), without the fields the server writes and the status.
 */
export function appliable(o: KubeObject): KubeObject {
  const { status: _, ...rest } = o as KubeObject & { status?: unknown };
  const metadata: Record<string, unknown> = { ...asObj(o.metadata) };
  for (const f of SERVER_FIELDS) delete metadata[f];
  if (metadata.annotations) {
    const { [LAST_APPLIED]: _last, ...annotations } = asObj(metadata.annotations) as Record<string, string>;
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  return structuredClone({ ...rest, metadata } as KubeObject);
}

/** Empty answers for the kinds that were read and hold no object: known to be absent, not unknown. */
function readEmpty(lookup: EgressLookup, listed: readonly string[]): EgressLookup {
  const has = (kind: string) => listed.includes(kind);
  return {
    ...(has('Sidecar') ? { sidecars: () => [] } : {}),
    ...(has('Gateway') ? { waypoint: () => undefined } : {}),
    ...(has('EgressNetwork') ? { egressNetwork: () => undefined, egressNetworksIn: () => [] } : {}),
    ...(has('ServiceEntry') ? { serviceEntry: () => undefined } : {}),
    ...lookup,
  };
}

/**
 * The lookup and stored objects of these kinds among `objects`; `sourceNamespace` picks the Namespace
 * explained from. A kind is known when `objects` hold one of it (files), or when it is in `listed`
 * (read from a cluster, which may hold none).
 */
export function egressObjectsOf(
  objects: readonly KubeObject[],
  sourceNamespace: string,
  notes: readonly string[] = [],
  listed: readonly string[] = [],
): EgressObjects {
  const stored = new Map<string, KubeObject>();
  const key = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;
  let namespace: KubeObject | undefined;
  // objects of files may name no namespace: they land in the default one, as with `kubectl apply`
  const placed: KubeObject[] = [];
  const routes: KubeObject[] = [];
  for (const o of objects) {
    const kind = o.kind ?? '';
    if (kind === 'Namespace' && (o.apiVersion ?? '') === 'v1' && o.metadata?.name === sourceNamespace) namespace = o;
    const known = EXPLAIN_KINDS.find((k) => k.kind === kind && o.apiVersion?.startsWith(`${k.group}/`));
    if (!known) continue;
    const p = o.metadata?.namespace ? o : { ...o, metadata: { ...o.metadata, namespace: 'default' } };
    if (isRoute(p)) {
      if (asArr(asObj(p.spec).parentRefs).some((r) => asObj(r).kind === 'EgressNetwork')) routes.push(p);
      continue;
    }
    placed.push(p);
    stored.set(key(kind, p.metadata?.namespace ?? '', p.metadata?.name ?? ''), p);
  }
  return {
    lookup: readEmpty(recordsOf(placed), listed),
    stored: (kind, ns, name) => stored.get(key(kind, ns, name)),
    routes,
    ...(namespace ? { namespace } : {}),
    notes,
  };
}
