/**
 * Every API resource this webhook reads or writes. The informers and CIDR detection take their
 * targets from here, and the ClusterRole/Roles in manifests/ are checked against it, so permissions
 * and code cannot drift apart.
 */

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

const watch = ['get', 'list', 'watch'] as const;

export const ACCESS: readonly Access[] = [
  { group: '', resource: 'namespaces', verbs: watch, why: 'enforcement mode labels and capture annotations' },
  { group: '', resource: 'nodes', verbs: watch, why: 'spec.podCIDRs, the last CIDR source' },
  { group: '', resource: 'services', verbs: watch, why: 'port protocols for tcp-server-first conflicts; cluster IPs for CIDR verification' },
  { group: '', resource: 'pods', verbs: ['list'], why: 'pod IPs for CIDR verification (paginated list, no informer)' },
  { group: '', resource: 'services', verbs: ['create'], namespace: 'self', why: 'dry-run Service create whose error names the service range' },
  { group: '', resource: 'configmaps', verbs: ['get'], namespace: 'kube-system', resourceNames: ['kubeadm-config', 'kube-proxy'], why: 'kubeadm and kube-proxy CIDR settings' },
  { group: 'networking.k8s.io', resource: 'servicecidrs', verbs: watch, why: 'service CIDRs (Kubernetes 1.33+, v1beta1 on 1.31-1.32)' },
  { group: 'networking.istio.io', resource: 'serviceentries', verbs: watch, why: 'cross-object ServiceEntry checks' },
  { group: 'networking.istio.io', resource: 'virtualservices', verbs: watch, why: 'cross-object VirtualService checks' },
  { group: 'policy.openservicemesh.io', resource: 'egresses', verbs: watch, why: 'tcp-server-first conflicts across Egresses' },
  { group: 'specs.smi-spec.io', resource: 'httproutegroups', verbs: watch, why: 'Egress matches that name an HTTPRouteGroup' },
];
