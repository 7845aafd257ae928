/**
 * What `explain` knows of the newer egress kinds (Sidecars, waypoint Gateways, EgressNetworks,
 * ServiceEntries with their labels): the same records the rules read (rules/egress-records.ts),
 * built from the objects of the files or of what the command listed from the cluster, and the
 * stored objects themselves, which a fix that changes one carries whole.
 */
import type { KubeObject } from '../admission/types.ts';
import { asObj } from '../json.ts';
import { NOTHING_KNOWN, recordsOf, type EgressLookup } from '../rules/egress-records.ts';

export type EgressObjects = {
  readonly lookup: EgressLookup;
  /** a stored object of one of these kinds by kind, namespace and name, whole as stored */
  readonly stored: (kind: string, namespace: string, name: string) => KubeObject | undefined;
  /** the source namespace as stored (its labels and every annotation), when known */
  readonly namespace?: KubeObject;
  /** what could not be read ("EgressNetworks: the CRD is not installed") */
  readonly notes: readonly string[];
};

export const NO_EGRESS_OBJECTS: EgressObjects = { lookup: NOTHING_KNOWN, stored: () => undefined, notes: [] };

/** The kinds explain reads beyond the snapshot, by kind and group (apiVersion prefix). */
export const EXPLAIN_KINDS: readonly { readonly kind: string; readonly group: string; readonly plural: string }[] = [
  { kind: 'Sidecar', group: 'networking.istio.io', plural: 'sidecars' },
  { kind: 'ServiceEntry', group: 'networking.istio.io', plural: 'serviceentries' },
  { kind: 'Gateway', group: 'gateway.networking.k8s.io', plural: 'gateways' },
  { kind: 'EgressNetwork', group: 'policy.linkerd.io', plural: 'egressnetworks' },
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

/** The lookup and stored objects of these kinds among `objects`; `sourceNamespace` picks the Namespace explained from. */
export function egressObjectsOf(objects: readonly KubeObject[], sourceNamespace: string, notes: readonly string[] = []): EgressObjects {
  const stored = new Map<string, KubeObject>();
  const key = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;
  let namespace: KubeObject | undefined;
  // objects of files may name no namespace: they land in the default one, as with `kubectl apply`
  const placed: KubeObject[] = [];
  for (const o of objects) {
    const kind = o.kind ?? '';
    if (kind === 'Namespace' && (o.apiVersion ?? '') === 'v1' && o.metadata?.name === sourceNamespace) namespace = o;
    const known = EXPLAIN_KINDS.find((k) => k.kind === kind && o.apiVersion?.startsWith(`${k.group}/`));
    if (!known) continue;
    const p = o.metadata?.namespace ? o : { ...o, metadata: { ...o.metadata, namespace: 'default' } };
    placed.push(p);
    stored.set(key(kind, p.metadata?.namespace ?? '', p.metadata?.name ?? ''), p);
  }
  return {
    lookup: recordsOf(placed),
    stored: (kind, ns, name) => stored.get(key(kind, ns, name)),
    ...(namespace ? { namespace } : {}),
    notes,
  };
}
