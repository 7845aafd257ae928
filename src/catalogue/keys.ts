/**
 * The label and annotation keys this webhook reads or writes: its own (egress-warden.io/*) and the
 * meshes' (Istio, OSM). Each key is spelled here once; code that reads one imports it by name.
 */

export const OWN_PREFIX = 'egress-warden.io/';

/** Namespace label: the enforcement mode (see modes.ts). */
export const MODE_LABEL = 'egress-warden.io/mode';
/** Namespace label: the webhooks never see this namespace. */
export const IGNORE_LABEL = 'egress-warden.io/ignore';

/** Pod or namespace annotation: all, cluster or off. */
export const CAPTURE = 'egress-warden.io/outbound-capture';
/** Pod or namespace annotation: ranges that are never captured. */
export const BYPASS = 'egress-warden.io/bypass-ip-ranges';
/** Pod or namespace annotation: ranges captured besides the cluster CIDRs (cluster mode). */
export const CAPTURE_RANGES = 'egress-warden.io/capture-ip-ranges';
/** Pod annotation written by the mutation: what was applied and why. */
export const APPLIED = 'egress-warden.io/applied';

/** On a report that holds only part of its results: how many it leaves out (its summary still counts them). */
export const OMITTED_RESULTS = 'egress-warden.io/omitted-results';

/** The label on every object the server writes (reports), so it lists its own and nobody else's. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'egress-warden';
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

/** Set by the API server on every namespace (immutable, equal to the name). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** The kubelet marks the API copy of a static pod with this annotation. */
export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

export type Mesh = 'istio' | 'osm';
export type Side = 'include' | 'exclude';

/** The pod annotations each mesh reads its outbound capture ranges from. */
export const MESH_KEYS: Readonly<Record<Mesh, Readonly<Record<Side, string>>>> = Object.freeze({
  istio: { include: 'traffic.sidecar.istio.io/includeOutboundIPRanges', exclude: 'traffic.sidecar.istio.io/excludeOutboundIPRanges' },
  osm: { include: 'openservicemesh.io/outbound-ip-range-inclusion-list', exclude: 'openservicemesh.io/outbound-ip-range-exclusion-list' },
});

/** Istio: pod label (or deprecated annotation) that opts a pod in or out of injection. */
export const ISTIO_INJECT = 'sidecar.istio.io/inject';
/** Istio: written by the injector on the pods it injected (JSON, listing the containers it added). */
export const ISTIO_STATUS = 'sidecar.istio.io/status';
/** Istio: pod annotation choosing how the sidecar intercepts traffic (REDIRECT, TPROXY, NONE). */
export const ISTIO_INTERCEPTION_MODE = 'sidecar.istio.io/interceptionMode';
/** Istio: pod annotation naming the injection templates (sidecar, gateway, grpc-agent, ...). */
export const ISTIO_TEMPLATES = 'inject.istio.io/templates';
/** Istio: namespace or pod label putting pods in ambient mode (ambient) or keeping one out (none). */
export const ISTIO_DATAPLANE_MODE = 'istio.io/dataplane-mode';
/** Istio: revision label on a namespace or pod. */
export const ISTIO_REV = 'istio.io/rev';
/** Istio: namespace label that turns injection on (enabled) or off. */
export const ISTIO_INJECTION = 'istio-injection';
/** Istio: ServiceEntry label that turns IP auto-allocation off ("false"). */
export const ISTIO_AUTOALLOCATE = 'networking.istio.io/enable-autoallocate-ip';
/** Linkerd: pod or namespace annotation asking its injector for a proxy ("enabled"; "disabled" on a pod opts out). */
export const LINKERD_INJECT = 'linkerd.io/inject';
/** Linkerd: the proxy container its injector adds: an injected pod carries it. */
export const LINKERD_PROXY_CONTAINER = 'linkerd-proxy';
/** Istio: label naming the waypoint of a ServiceEntry, a pod or a namespace ("none" for none). */
export const ISTIO_USE_WAYPOINT = 'istio.io/use-waypoint';
/**
 * Whether an `istio.io/use-waypoint` value names a waypoint: istiod's usesWaypoint
 * (pkg/config/validation) and waypointConfigured (gateway conversion) read an empty value and "none"
 * in any case as no waypoint. Its ambient binding (GetUseWaypoint) opts out on "none" exactly and
 * otherwise looks for a Gateway of that name; "" or "None" names none that can exist (Gateway names
 * are lower-case DNS names), so traffic uses no waypoint there too. The one reading for every rule.
 */
export const namesWaypoint = (value: unknown): value is string =>
  typeof value === 'string' && value !== '' && value.toLowerCase() !== 'none';
/** Istio: annotations istiod refuses on any configuration object. */
export const ISTIO_REJECTED_ANNOTATIONS: readonly string[] = [
  'istio.io/dry-run',
  'internal.istio.io/webhook-always-reject',
  'internal.istio.io/parent-namespace',
  'internal.istio.io/parents',
];

/** OSM: namespace label of the namespaces a mesh monitors. */
export const OSM_MONITORED_BY = 'openservicemesh.io/monitored-by';
/** OSM: namespace label that makes OSM ignore a namespace. */
export const OSM_IGNORE = 'openservicemesh.io/ignore';
/** OSM: namespace label of the control plane's own namespace. */
export const OSM_CONTROL_PLANE = 'control-plane';
/** OSM: pod or namespace annotation, enabled/disabled. */
export const OSM_SIDECAR_INJECTION = 'openservicemesh.io/sidecar-injection';

/** The mesh capture annotations a mesh reads from pods only (set on a namespace they do nothing). */
export const POD_ONLY_MESH_KEYS: readonly RegExp[] = [
  /^traffic\.sidecar\.istio\.io\//,
  /^openservicemesh\.io\/(?:outbound-ip-range-|outbound-port-exclusion-list$|inbound-port-exclusion-list$)/,
];
