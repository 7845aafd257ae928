/**
 * Every API resource the product judges, watches, reads or writes: one row each (Istio's
 * metadata.yaml). The judged kinds and their webhook rules (kinds.ts), the informers, the API
 * reads of CIDR detection and the RBAC of the installation (cluster/resources.ts) are derived
 * from these rows, so a kind, its version and its permissions are written once.
 */
import { MESH_OBJECTS, OWN_OBJECTS } from './namespaces.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** The three webhook registrations: objects validated, namespaces validated, pods mutated. */
export type Webhook = 'validate' | 'namespaces' | 'mutate';

/** One permission the server needs on the resource, and why (rendered into the ClusterRole or a Role). */
export type Grant = {
  readonly verbs: readonly string[];
  /** set when the access is confined to one namespace (rendered as a Role, not a ClusterRole) */
  readonly namespace?: 'kube-system' | 'self';
  /** set when only named objects are read */
  readonly resourceNames?: readonly string[];
  readonly why: string;
};

/** The group and kind an object reference names. */
export type RefTarget = { readonly group: string; readonly kind: string };

/**
 * Which objects of a judged kind the webhook is sent: those with a reference, in one of `refs`
 * (spec fields: a list of references, or a single one), to one of the `naming` kinds. The rule
 * judges nothing else of the kind, and the registration's matchConditions spare the others the
 * round trip (and a down webhook's failure policy).
 */
export type SentWhen = {
  readonly refs: readonly { readonly field: string; readonly list: boolean }[];
  readonly naming: readonly RefTarget[];
};

export const SERVICE_ENTRY_REF: RefTarget = { group: 'networking.istio.io', kind: 'ServiceEntry' };
export const EGRESS_NETWORK_REF: RefTarget = { group: 'policy.linkerd.io', kind: 'EgressNetwork' };

/** Gateway API and Linkerd routes used for mesh egress: a parentRef to a ServiceEntry or an EgressNetwork. */
export const EGRESS_ROUTE_PARENTS: SentWhen = {
  refs: [{ field: 'parentRefs', list: true }],
  naming: [SERVICE_ENTRY_REF, EGRESS_NETWORK_REF],
};

/** AuthorizationPolicies attached to a ServiceEntry (ambient egress), by targetRefs or the older single targetRef. */
export const SERVICE_ENTRY_TARGETS: SentWhen = {
  refs: [
    { field: 'targetRefs', list: true },
    { field: 'targetRef', list: false },
  ],
  naming: [SERVICE_ENTRY_REF],
};

export type Resource = {
  /** "" for core kinds */
  readonly group: string;
  readonly kind: string;
  /** the resource, as in the URL and in RBAC */
  readonly plural: string;
  /**
   * Versions to read, first served wins; unset: the group's preferred version (CRDs move from
   * v1alpha3 to v1 on their own schedule). Judged kinds are registered for every version, so a new
   * CRD version is never left unjudged.
   */
  readonly versions?: readonly string[];
  readonly scope: 'Namespaced' | 'Cluster';
  /** judged: the operations the webhook registration sends, the registration, and the rule */
  readonly operations?: readonly Operation[];
  readonly webhook?: Webhook;
  /** the rule that judges it, named in denials of a rule that failed */
  readonly rule?: string;
  /** judged only when it references these kinds; unset: every object of the kind is sent */
  readonly sentWhen?: SentWhen;
  /**
   * Kept in an informer, with list and watch permission and why: 'index' objects become compact
   * records in the snapshot (the kinds the rules compare across objects among them), 'cidr'
   * objects feed CIDR detection, 'audit' objects are only judged where they are stored (the
   * continuous audit, `audit`): no rule reads them from other objects. Core kinds exist on every
   * cluster; others are looked up in discovery.
   */
  readonly watch?: { readonly role: 'index' | 'cidr' | 'audit'; readonly why: string };
  /** the server's permissions besides list and watch of a watched resource */
  readonly grants?: readonly Grant[];
};

/** The report formats the elected replica can write (serve --reports): wgpolicyk8s.io PolicyReports, openreports.io Reports. */
export const REPORT_FORMATS = ['policyreport', 'openreports'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Where kubeadm and kube-proxy keep their network settings. */
export const CIDR_CONFIGMAPS = { namespace: 'kube-system', kubeadm: 'kubeadm-config', kubeProxy: 'kube-proxy' } as const;

export const RESOURCES = [
  {
    group: '',
    kind: 'Namespace',
    plural: 'namespaces',
    versions: ['v1'],
    scope: 'Cluster',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'namespaces',
    rule: 'namespace',
    watch: { role: 'index', why: 'enforcement mode labels and capture annotations' },
    grants: [{ verbs: ['get'], why: 'the namespace of a pod created before the informer delivered it (read-through)' }],
  },
  {
    group: '',
    kind: 'Service',
    plural: 'services',
    versions: ['v1'],
    scope: 'Namespaced',
    watch: { role: 'index', why: 'port protocols for tcp-server-first conflicts; cluster IPs for CIDR verification' },
    grants: [{ verbs: ['create'], namespace: 'self', why: 'dry-run Service create whose error names the service range' }],
  },
  {
    group: '',
    kind: 'Node',
    plural: 'nodes',
    versions: ['v1'],
    scope: 'Cluster',
    watch: {
      role: 'cidr',
      why: 'spec.podCIDRs, the last CIDR source; InternalIP/ExternalIP addresses to tell host-network pods apart in CIDR verification',
    },
  },
  {
    group: 'networking.k8s.io',
    kind: 'ServiceCIDR',
    plural: 'servicecidrs',
    versions: ['v1', 'v1beta1'],
    scope: 'Cluster',
    watch: { role: 'cidr', why: 'service CIDRs (Kubernetes 1.33+, v1beta1 on 1.31-1.32)' },
  },
  {
    group: 'networking.istio.io',
    kind: 'ServiceEntry',
    plural: 'serviceentries',
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'service-entry',
    watch: { role: 'index', why: 'cross-object ServiceEntry checks' },
  },
  {
    group: 'networking.istio.io',
    kind: 'VirtualService',
    plural: 'virtualservices',
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'virtual-service',
    watch: { role: 'index', why: 'cross-object VirtualService checks' },
  },
  {
    group: 'policy.openservicemesh.io',
    kind: 'Egress',
    plural: 'egresses',
    versions: ['v1alpha1'],
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'egress',
    watch: { role: 'index', why: 'tcp-server-first conflicts across Egresses' },
  },
  {
    // The Egress rule reads their match counts through the snapshot; this rule judges one group alone.
    group: 'specs.smi-spec.io',
    kind: 'HTTPRouteGroup',
    plural: 'httproutegroups',
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'http-route-group',
    watch: { role: 'index', why: 'Egress matches that name an HTTPRouteGroup' },
  },
  // The newer egress kinds. Sidecars, EgressNetworks and waypoint Gateways are watched: the rules
  // compare an object with the others of its kind (cluster/egress-records.ts), and a CRD that is
  // not installed leaves its kind known and empty (docs/cluster-state.md).
  {
    group: 'networking.istio.io',
    kind: 'Sidecar',
    plural: 'sidecars',
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'sidecar',
    watch: { role: 'index', why: 'the Sidecars of a namespace judged together; egress hosts against ServiceEntries' },
  },
  {
    // Not judged: read as the waypoints that ServiceEntries name with istio.io/use-waypoint.
    group: 'gateway.networking.k8s.io',
    kind: 'Gateway',
    plural: 'gateways',
    scope: 'Namespaced',
    watch: { role: 'index', why: 'waypoints that ambient ServiceEntries name (istio.io/use-waypoint)' },
  },
  {
    // Only those attached to ServiceEntries by targetRefs are judged.
    group: 'security.istio.io',
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'authorization-policy',
    sentWhen: SERVICE_ENTRY_TARGETS,
    watch: { role: 'audit', why: 'stored policies on ServiceEntries judged by the continuous audit' },
  },
  {
    // Gateway API routes: only those whose parentRefs name a ServiceEntry or an EgressNetwork are judged.
    group: 'gateway.networking.k8s.io',
    kind: 'HTTPRoute',
    plural: 'httproutes',
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'egress-route',
    sentWhen: EGRESS_ROUTE_PARENTS,
    watch: { role: 'audit', why: 'stored mesh egress routes judged by the continuous audit' },
  },
  {
    group: 'gateway.networking.k8s.io',
    kind: 'GRPCRoute',
    plural: 'grpcroutes',
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'egress-route',
    sentWhen: EGRESS_ROUTE_PARENTS,
    watch: { role: 'audit', why: 'stored mesh egress routes judged by the continuous audit' },
  },
  {
    group: 'gateway.networking.k8s.io',
    kind: 'TLSRoute',
    plural: 'tlsroutes',
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'egress-route',
    sentWhen: EGRESS_ROUTE_PARENTS,
    watch: { role: 'audit', why: 'stored mesh egress routes judged by the continuous audit' },
  },
  {
    group: 'gateway.networking.k8s.io',
    kind: 'TCPRoute',
    plural: 'tcproutes',
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'egress-route',
    sentWhen: EGRESS_ROUTE_PARENTS,
    watch: { role: 'audit', why: 'stored mesh egress routes judged by the continuous audit' },
  },
  {
    group: 'policy.linkerd.io',
    kind: 'EgressNetwork',
    plural: 'egressnetworks',
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'egress-network',
    watch: { role: 'index', why: 'the parents of mesh egress routes; namespaced EgressNetworks against the global ones' },
  },
  {
    // Linkerd's own HTTPRoute, which its admission holds to the same EgressNetwork parent rules. Not
    // watched: the informers and the audit tell kinds apart by name, and Gateway API's HTTPRoute has it.
    group: 'policy.linkerd.io',
    kind: 'HTTPRoute',
    plural: 'httproutes',
    scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'],
    webhook: 'validate',
    rule: 'egress-route',
    sentWhen: EGRESS_ROUTE_PARENTS,
  },
  {
    // Judged, never read by the server: `audit` and `explain` read pods with the user's own credentials.
    group: '',
    kind: 'Pod',
    plural: 'pods',
    versions: ['v1'],
    scope: 'Namespaced',
    operations: ['CREATE'],
    webhook: 'mutate',
    rule: 'pod-capture',
  },
  {
    // Not pods: a cluster-wide read of pods hands over every pod's spec and environment (Secrets in
    // env vars included) to check only their IPs. EndpointSlices carry the IPs of the pods behind Services.
    group: 'discovery.k8s.io',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    versions: ['v1'],
    scope: 'Namespaced',
    grants: [{ verbs: ['list'], why: 'pod IPs of the pods behind Services, for CIDR verification (paginated list, no informer)' }],
  },
  {
    group: '',
    kind: 'ConfigMap',
    plural: 'configmaps',
    versions: ['v1'],
    scope: 'Namespaced',
    grants: [
      {
        verbs: ['get'],
        namespace: CIDR_CONFIGMAPS.namespace,
        resourceNames: [CIDR_CONFIGMAPS.kubeadm, CIDR_CONFIGMAPS.kubeProxy],
        why: 'kubeadm and kube-proxy CIDR settings',
      },
      // The mesh's namespace is configurable, so these are granted by name in every namespace, not by a Role in one.
      {
        verbs: ['get', 'list', 'watch'],
        resourceNames: [MESH_OBJECTS.istioMeshConfigMap, MESH_OBJECTS.istioInjector],
        why: "Istio's mesh config (outbound traffic policy) and its injector's default capture ranges, watched by name",
      },
    ],
  },
  {
    group: 'config.openservicemesh.io',
    kind: 'MeshConfig',
    plural: 'meshconfigs',
    scope: 'Namespaced',
    grants: [
      {
        verbs: ['get', 'list', 'watch'],
        resourceNames: [MESH_OBJECTS.osmMeshConfig],
        why: "OSM's MeshConfig (egress and egress policy switches), watched by name",
      },
    ],
  },
  {
    group: 'coordination.k8s.io',
    kind: 'Lease',
    plural: 'leases',
    versions: ['v1'],
    scope: 'Namespaced',
    grants: [
      {
        verbs: ['get', 'update'],
        namespace: 'self',
        resourceNames: [OWN_OBJECTS.lease],
        why: 'leader election: one replica writes reports and Events',
      },
      // RBAC cannot confine create to a name: the name is not known before the object exists.
      { verbs: ['create'], namespace: 'self', why: 'leader election: the first replica creates the Lease' },
    ],
  },
  {
    group: 'wgpolicyk8s.io',
    kind: 'PolicyReport',
    plural: 'policyreports',
    versions: ['v1alpha2'],
    scope: 'Namespaced',
    grants: [{ verbs: ['get', 'list', 'create', 'update', 'delete'], why: 'continuous audit results, one report per namespace' }],
  },
  {
    group: 'wgpolicyk8s.io',
    kind: 'ClusterPolicyReport',
    plural: 'clusterpolicyreports',
    versions: ['v1alpha2'],
    scope: 'Cluster',
    grants: [{ verbs: ['get', 'list', 'create', 'update', 'delete'], why: 'continuous audit results of cluster-scoped objects' }],
  },
  {
    group: 'openreports.io',
    kind: 'Report',
    plural: 'reports',
    versions: ['v1alpha1'],
    scope: 'Namespaced',
    grants: [
      { verbs: ['get', 'list', 'create', 'update', 'delete'], why: 'continuous audit results as OpenReports (--reports openreports)' },
    ],
  },
  {
    group: 'openreports.io',
    kind: 'ClusterReport',
    plural: 'clusterreports',
    versions: ['v1alpha1'],
    scope: 'Cluster',
    grants: [
      { verbs: ['get', 'list', 'create', 'update', 'delete'], why: 'continuous audit results of cluster-scoped objects as OpenReports' },
    ],
  },
  {
    group: 'events.k8s.io',
    kind: 'Event',
    plural: 'events',
    versions: ['v1'],
    scope: 'Namespaced',
    grants: [{ verbs: ['create'], why: 'a warning Event on an object that conflicts with one admitted by another replica' }],
  },
] as const satisfies readonly Resource[];
