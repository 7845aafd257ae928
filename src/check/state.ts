/**
 * The cluster an offline check runs against: no live objects, the cluster CIDRs the operator
 * configured, else from the ServiceCIDR, Node and kube-system ConfigMap objects read, else kubeadm's
 * defaults, exactly as the webhook detects them; and the meshes' settings among the objects read,
 * as `serve --state` and `explain` read them, so that the findings that depend on REGISTRY_ONLY or
 * on OSM's MeshConfig (EW407, EW348, EW349) are the same offline as at admission.
 */
import { objectGroupKind, type KubeObject } from '../admission/types.ts';
import type { ConfiguredPair } from '../cluster/cidr-settings.ts';
import { detectCidrs, type CidrInputs } from '../cluster/detect.ts';
import { meshConfigFrom, type MeshLocations } from '../cluster/mesh-config.ts';
import { CIDR_CONFIGMAPS } from '../cluster/resources.ts';
import { emptySnapshot, type ClusterCidrs, type ClusterSnapshot } from '../cluster/snapshot.ts';

function cidrsOf(objects: readonly KubeObject[], configured: ConfiguredPair): ClusterCidrs {
  const inputs: { -readonly [K in keyof CidrInputs]: CidrInputs[K] } = { ...configured };
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

/**
 * `objects`: everything read (--state and the inputs), searched for CIDR sources and the meshes'
 * settings only; `mesh`: where the meshes keep their settings (meshLocations of the environment).
 */
export const offlineSnapshot = (objects: readonly KubeObject[], configured: ConfiguredPair, mesh: MeshLocations): ClusterSnapshot => ({
  ...emptySnapshot(cidrsOf(objects, configured)),
  mesh: meshConfigFrom(objects, mesh),
});
