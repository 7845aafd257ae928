/**
 * The server's view of the resource table (catalogue/resources.ts): what it keeps in informers and
 * the permissions it needs, from which the ClusterRole/Roles in manifests/ are rendered, so
 * permissions and code cannot drift apart.
 */
import { RESOURCES, type Resource, type SentWhen } from '../catalogue/resources.ts';

export type Access = {
  readonly group: string;
  readonly resource: string;
  readonly verbs: readonly string[];
  /** set when the access is confined to one namespace (rendered as a Role, not a ClusterRole) */
  readonly namespace?: 'kube-system' | 'self';
  /** set when only named objects are read */
  readonly resourceNames?: readonly string[];
  readonly why: string;
};

const ROWS: readonly Resource[] = RESOURCES;

// Informers only LIST and WATCH; nothing GETs a single object except the ConfigMaps, the MeshConfig
// and the namespace of a pod that arrived before its Namespace reached the informer.
export const ACCESS: readonly Access[] = ROWS.flatMap((r) => [
  ...(r.watch ? [{ group: r.group, resource: r.plural, verbs: ['list', 'watch'], why: r.watch.why }] : []),
  ...(r.grants ?? []).map((g) => ({ group: r.group, resource: r.plural, ...g })),
]);

/** A resource kept in an informer. */
export type Watched = {
  readonly group: string;
  /** plural, as in the URL */
  readonly resource: string;
  readonly kind: string;
  /**
   * Versions to use, first served wins. Unset: the group's preferred version if it serves the
   * resource, else the first version that does (CRDs move from v1alpha3 to v1 on their own schedule).
   */
  readonly versions?: readonly string[];
  /** core kinds exist on every cluster; optional ones are looked up in discovery every minute */
  readonly optional: boolean;
  /** 'cidr' objects feed CIDR detection; 'index' objects become compact records in the snapshot; 'audit' objects are only judged */
  readonly role: 'index' | 'cidr' | 'audit';
  /** judged by a validating webhook: the stored objects are audited too, so the view keeps what the rules read of them */
  readonly audited: boolean;
  /** of an audited kind judged only when it references these kinds: the others need no copy */
  readonly sentWhen?: SentWhen;
};

export const WATCHED: readonly Watched[] = ROWS.flatMap((r) =>
  r.watch
    ? [
        {
          group: r.group,
          resource: r.plural,
          kind: r.kind,
          ...(r.versions ? { versions: r.versions } : {}),
          optional: r.group !== '',
          role: r.watch.role,
          audited: r.webhook === 'validate' || r.webhook === 'namespaces',
          ...(r.sentWhen ? { sentWhen: r.sentWhen } : {}),
        },
      ]
    : [],
);

/** The watched kinds a validating webhook judges: what the continuous audit and `audit` judge in the cluster. */
export const AUDITED: readonly Watched[] = WATCHED.filter((w) => w.audited);

/** A resource at one version: what a list or an informer is opened on. */
export type Target = { readonly group: string; readonly version: string; readonly resource: string; readonly kind: string };

/** "servicecidrs.networking.k8s.io", "nodes": kubectl's name for a resource. */
export const resourceName = (r: { readonly group: string; readonly resource: string }): string =>
  r.group ? `${r.resource}.${r.group}` : r.resource;

export const apiVersionOf = (t: { readonly group: string; readonly version: string }): string =>
  t.group ? `${t.group}/${t.version}` : t.version;

/** The collection URL path, e.g. "/api/v1/nodes", "/apis/networking.istio.io/v1/serviceentries". */
export const collectionPath = (t: Target): string =>
  t.group ? `/apis/${t.group}/${t.version}/${t.resource}` : `/api/${t.version}/${t.resource}`;

/** A resource of a fixed version, read as the table writes it. */
function fixedTarget(kind: string): Target {
  const r = ROWS.find((row) => row.kind === kind);
  if (!r?.versions?.[0]) throw new Error(`resources: ${kind} has no row with a version`);
  return { group: r.group, version: r.versions[0], resource: r.plural, kind: r.kind };
}

/** Read by `audit` and `explain` with the user's own credentials; the server never reads pods. */
export const PODS: Target = fixedTarget('Pod');

/** Listed for CIDR verification (pod IPs of the pods behind Services), never watched. */
export const ENDPOINT_SLICES: Target = fixedTarget('EndpointSlice');

/** The meshes' settings, watched by name. */
export const CONFIG_MAPS: Target = fixedTarget('ConfigMap');

/** Written by the leader of the replicas (leader election, reports, Events). */
export const LEASES: Target = fixedTarget('Lease');
export const POLICY_REPORTS: Target = fixedTarget('PolicyReport');
export const CLUSTER_POLICY_REPORTS: Target = fixedTarget('ClusterPolicyReport');
export const OPEN_REPORTS: Target = fixedTarget('Report');
export const OPEN_CLUSTER_REPORTS: Target = fixedTarget('ClusterReport');
export const EVENTS: Target = fixedTarget('Event');

export { CIDR_CONFIGMAPS } from '../catalogue/resources.ts';

/**
 * The version to open a watched resource on, given discovery (resource name → served versions,
 * preferred first), or undefined when the resource is not served.
 */
export function chooseVersion(w: Watched, served: ReadonlyMap<string, readonly string[]>): string | undefined {
  const versions = served.get(resourceName(w)) ?? [];
  if (w.versions) return w.versions.find((v) => versions.includes(v));
  return versions[0];
}
