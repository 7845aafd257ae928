/**
 * Which Sidecar decides a pod's egress, and the outbound traffic policy that follows: istiod's
 * getSidecarScope (pilot/pkg/model/push_context.go). Sidecars with a selector matching the pod come
 * first, then the namespace's one without selector, each group oldest first (sortConfigByCreationTime);
 * then the selector-less Sidecar of the mesh root namespace; then nothing. The chosen Sidecar's
 * outboundTrafficPolicy wins over the mesh config's; without one, the mesh config's applies.
 *
 * For `explain` and the REGISTRY_ONLY finding of VirtualServices (EW407, mesh-mode.ts).
 */
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import type { SidecarRecord } from './egress-records.ts';
import { hostsOverlap } from './fields.ts';

/** The mesh's outbound traffic policy and where it was read, as the snapshot carries it. */
export type OutboundPolicy = NonNullable<ClusterSnapshot['mesh']['istio']>['outboundPolicy'];

/** A Sidecar's creation time orders it; ties by name, then namespace, as istiod breaks them. */
function byAge(a: SidecarRecord, b: SidecarRecord): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0;
}

const matches = (selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * The Sidecar istiod applies to a pod with `podLabels` in a namespace holding `sidecars`; `root` are
 * the Sidecars of the mesh root namespace (istio-system unless configured). Undefined: none applies.
 */
export function decidingSidecar(
  podLabels: Readonly<Record<string, string>>,
  sidecars: readonly SidecarRecord[],
  root: readonly SidecarRecord[] = [],
): SidecarRecord | undefined {
  const sorted = [...sidecars].sort(byAge);
  return (
    sorted.find((s) => s.selector !== undefined && matches(s.selector, podLabels)) ??
    sorted.find((s) => s.selector === undefined) ??
    [...root].sort(byAge).find((s) => s.selector === undefined)
  );
}

/** The outbound traffic policy a pod lives under, and what decided it. */
export function outboundPolicyFor(sidecar: SidecarRecord | undefined, mesh: OutboundPolicy | undefined): OutboundPolicy | undefined {
  // istiod reads an unset mode in a set outboundTrafficPolicy as the enum's zero value, REGISTRY_ONLY
  if (sidecar?.outboundPolicy === 'REGISTRY_ONLY' || sidecar?.outboundPolicy === 'ALLOW_ANY') {
    return { value: sidecar.outboundPolicy, from: `Sidecar ${sidecar.namespace}/${sidecar.name} spec.outboundTrafficPolicy.mode` };
  }
  return mesh;
}

/** What a Sidecar imports for one destination: the listener that serves the port, and whether it imports the entry's host. */
export type SidecarImport = {
  /** index in spec.egress; undefined: no listener serves the port (neither its own nor a catch-all) */
  readonly listener: number | undefined;
  readonly imported: boolean;
  /** the host to add to that listener when it is not imported: `<entry namespace>/<host>` */
  readonly fix: string;
};

/** Whether one `namespace/dnsName` entry of a Sidecar in `own` imports `host` declared in `namespace`. */
function importsHost(entry: string, own: string, namespace: string, host: string): boolean {
  const slash = entry.indexOf('/');
  if (slash < 0) return false;
  const ns = entry.slice(0, slash);
  const name = entry.slice(slash + 1);
  if (ns.startsWith('~')) return false;
  if (ns !== '*' && (ns === '.' ? own : ns) !== namespace) return false;
  return name === '*' || hostsOverlap(name, host);
}

/**
 * The Sidecar's import of `host` on `port`, declared by a ServiceEntry (or VirtualService) in
 * `namespace` (SidecarScope: the listener of the port, else the catch-all, selects services by
 * config namespace and host).
 */
export function sidecarImport(sidecar: SidecarRecord, namespace: string, host: string, port: number): SidecarImport {
  const fix = `${namespace}/${host}`;
  // a Sidecar without egress listeners gets istiod's default one, */* (initSidecarScopeInternalIndexes)
  if (sidecar.egress.length === 0) return { listener: undefined, imported: true, fix };
  const own = sidecar.egress.findIndex((l) => l.port === port);
  const index = own >= 0 ? own : sidecar.egress.findIndex((l) => l.port === undefined);
  if (index < 0) return { listener: undefined, imported: false, fix };
  const imported = sidecar.egress[index]!.hosts.some((h) => importsHost(h, sidecar.namespace, namespace, host));
  return { listener: index, imported, fix };
}
