/**
 * A capture mode that lets external traffic leave without the sidecar, in an Istio mesh whose
 * outbound policy is REGISTRY_ONLY: the lockdown no longer applies to that traffic. A warning,
 * since it may be intended; silent when the mesh settings were not read or Istio is absent.
 */
import { CAPTURE } from '../catalogue/keys.ts';
import { finding, ok, type Result } from '../catalogue/result.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { annotationPath, type CaptureMode } from './annotations.ts';

export function lockdownBypass(mode: CaptureMode, from: string, snapshot: ClusterSnapshot): Result {
  const policy = snapshot.mesh.istio?.outboundPolicy;
  if (mode !== 'cluster' || policy?.value !== 'REGISTRY_ONLY') return ok;
  return finding(
    'EW520',
    annotationPath(CAPTURE),
    `capture mode cluster (${from}) sends external traffic around the sidecar: the mesh's REGISTRY_ONLY policy (${policy.from}) does not apply to it`,
  );
}
