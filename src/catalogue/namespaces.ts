/**
 * Namespaces with a fixed meaning. The three sets differ on purpose: each answers its own question.
 */

/** No mesh injects sidecars here, so pods in them are never mutated. */
export const NEVER_MESHED: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

/**
 * Never sent to the webhooks (besides the webhook's own namespace): the control plane must keep
 * working while the webhook is down.
 */
export const CONTROL_PLANE_NAMESPACES = ['kube-system', 'kube-node-lease'] as const;

/**
 * The meshes' own control planes, never sent to the webhooks either: istiod and the OSM controller
 * must start, and their configuration stay writable, while the webhook is down.
 */
export const MESH_CONTROL_PLANE_NAMESPACES = ['istio-system', 'osm-system'] as const;

/**
 * The meshes' own objects at their default names. Istio names its sidecar injector's ConfigMap and
 * its MutatingWebhookConfiguration alike; the API server calls mutating configurations in name order.
 */
export const MESH_OBJECTS = {
  istioNamespace: MESH_CONTROL_PLANE_NAMESPACES[0],
  istioMeshConfigMap: 'istio',
  istioInjector: 'istio-sidecar-injector',
  osmNamespace: MESH_CONTROL_PLANE_NAMESPACES[1],
  osmMeshConfig: 'osm-mesh-config',
} as const;

/**
 * The server's own objects: the Lease its replicas elect a leader with (in its own namespace), and
 * the reports the leader writes (one per namespace, and one cluster-scoped).
 */
export const OWN_OBJECTS = { lease: 'egress-warden', report: 'egress-warden' } as const;

/** Namespaces shared with other software: the webhook refuses to be installed into one. */
export const SHARED_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Istio's injector never injects here either (its IgnoredNamespaces, beyond NEVER_MESHED). */
export const ISTIO_IGNORED_NAMESPACE = 'local-path-storage';
