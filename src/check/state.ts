/**
 * The cluster an offline check runs against: no live objects, and the cluster CIDRs taken from the
 * flags, else from the ServiceCIDR, Node and kube-system ConfigMap objects read, else kubeadm's
 * defaults, exactly as the webhook detects them.
 */
import { objectGroupKind, type KubeObject } from '../admission/types.ts';
import { detectCidrs, type CidrInputs, type ConfiguredCidrs } from '../cluster/detect.ts';
import { CIDR_CONFIGMAPS } from '../cluster/resources.ts';
import { emptySnapshot, type ClusterCidrs, type ClusterSnapshot } from '../cluster/snapshot.ts';

function cidrsOf(objects: readonly KubeObject[], pod?: ConfiguredCidrs, service?: ConfiguredCidrs): ClusterCidrs {
  const inputs: { -readonly [K in keyof CidrInputs]: CidrInputs[K] } = {
    ...(pod ? { podConfig: pod } : {}), ...(service ? { serviceConfig: service } : {}),
  };
  const serviceCidrs: KubeObject[] = [];
  const nodes: KubeObject[] = [];
  for (const o of objects) {
    const gk = objectGroupKind(o);
    if (gk === 'networking.k8s.io/ServiceCIDR') serviceCidrs.push(o);
    else if (gk === '/Node') nodes.push(o);
    else if (gk === '/ConfigMap' && o.metadata?.namespace === CIDR_CONFIGMAPS.namespace) {
      if (o.metadata.name === CIDR_CONFIGMAPS.kubeadm) inputs.kubeadmConfig = o;
      if (o.metadata.name === CIDR_CONFIGMAPS.kubeProxy) inputs.kubeProxy = o;
    }
  }
  if (serviceCidrs.length) inputs.serviceCidrs = serviceCidrs;
  if (nodes.length) inputs.nodes = nodes;
  return detectCidrs(inputs).cidrs;
}

/** `objects`: everything read (--state and the inputs), searched for CIDR sources only. */
export const offlineSnapshot = (objects: readonly KubeObject[], pod?: ConfiguredCidrs, service?: ConfiguredCidrs): ClusterSnapshot =>
  emptySnapshot(cidrsOf(objects, pod, service));
