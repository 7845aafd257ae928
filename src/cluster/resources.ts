/**
 * Every API resource this webhook reads or writes. The informers and CIDR detection take their
 * targets from here, and the ClusterRole/Roles in manifests/ are checked against it, so permissions
 * and code cannot drift apart. The judged kinds checked across objects come from the catalogue.
 */
import { JUDGED_KINDS } from '../catalogue/kinds.ts';

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

// Informers only LIST and WATCH; nothing here GETs a single object except the two ConfigMaps and
// the namespace of a pod that arrived before its Namespace reached the informer.
const watch = ['list', 'watch'] as const;

/** Judged kinds whose rules compare objects across the cluster: watched and indexed. */
const CROSS_OBJECT = JUDGED_KINDS.filter((k) => k.crossObject !== false);

export const ACCESS: readonly Access[] = [
  { group: '', resource: 'namespaces', verbs: watch, why: 'enforcement mode labels and capture annotations' },
  { group: '', resource: 'namespaces', verbs: ['get'], why: 'the namespace of a pod created before the informer delivered it (read-through)' },
  { group: '', resource: 'nodes', verbs: watch, why: 'spec.podCIDRs, the last CIDR source' },
  { group: '', resource: 'services', verbs: watch, why: 'port protocols for tcp-server-first conflicts; cluster IPs for CIDR verification' },
  { group: '', resource: 'pods', verbs: ['list'], why: 'pod IPs for CIDR verification (paginated list, no informer)' },
  { group: '', resource: 'services', verbs: ['create'], namespace: 'self', why: 'dry-run Service create whose error names the service range' },
  { group: '', resource: 'configmaps', verbs: ['get'], namespace: 'kube-system', resourceNames: ['kubeadm-config', 'kube-proxy'], why: 'kubeadm and kube-proxy CIDR settings' },
  { group: 'networking.k8s.io', resource: 'servicecidrs', verbs: watch, why: 'service CIDRs (Kubernetes 1.33+, v1beta1 on 1.31-1.32)' },
  // The mesh's namespace is configurable, so these are granted by name in every namespace, not by a Role in one.
  { group: '', resource: 'configmaps', verbs: ['get'], resourceNames: ['istio', 'istio-sidecar-injector'], why: "Istio's mesh config (outbound traffic policy) and its injector's default capture ranges" },
  { group: 'config.openservicemesh.io', resource: 'meshconfigs', verbs: ['get'], resourceNames: ['osm-mesh-config'], why: "OSM's MeshConfig (egress and egress policy switches)" },
  ...CROSS_OBJECT.map((k) => ({ group: k.group, resource: k.plural, verbs: watch, why: k.crossObject.why })),
  { group: 'specs.smi-spec.io', resource: 'httproutegroups', verbs: watch, why: 'Egress matches that name an HTTPRouteGroup' },
];

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
  /** 'cidr' objects feed CIDR detection; 'index' objects become compact records in the snapshot */
  readonly role: 'index' | 'cidr';
};

export const WATCHED: readonly Watched[] = [
  { group: '', resource: 'namespaces', kind: 'Namespace', versions: ['v1'], optional: false, role: 'index' },
  { group: '', resource: 'services', kind: 'Service', versions: ['v1'], optional: false, role: 'index' },
  { group: '', resource: 'nodes', kind: 'Node', versions: ['v1'], optional: false, role: 'cidr' },
  { group: 'networking.k8s.io', resource: 'servicecidrs', kind: 'ServiceCIDR', versions: ['v1', 'v1beta1'], optional: true, role: 'cidr' },
  ...CROSS_OBJECT.map((k): Watched => ({
    group: k.group, resource: k.plural, kind: k.kind, ...('versions' in k ? { versions: k.versions } : {}), optional: (k.group as string) !== '', role: 'index',
  })),
  { group: 'specs.smi-spec.io', resource: 'httproutegroups', kind: 'HTTPRouteGroup', optional: true, role: 'index' },
];

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

/** Pods are listed for CIDR verification, never watched. */
export const PODS: Target = { group: '', version: 'v1', resource: 'pods', kind: 'Pod' };

/** Where kubeadm and kube-proxy keep their network settings. */
export const CIDR_CONFIGMAPS = { namespace: 'kube-system', kubeadm: 'kubeadm-config', kubeProxy: 'kube-proxy' } as const;

/**
 * The version to open a watched resource on, given discovery (resource name → served versions,
 * preferred first), or undefined when the resource is not served.
 */
export function chooseVersion(w: Watched, served: ReadonlyMap<string, readonly string[]>): string | undefined {
  const versions = served.get(resourceName(w)) ?? [];
  if (w.versions) return w.versions.find((v) => versions.includes(v));
  return versions[0];
}
