/**
 * `explain`: will this pod reach this destination, and if not, why. Pure over the cluster snapshot
 * (with the meshes' settings) and the pod: first whether the sidecar captures the traffic at all,
 * then the injecting mesh's own answer, whose fix is offered only once the webhook's rules admit it
 * (admit.ts). What is not modelled (Sidecar resources, egress gateways, AuthorizationPolicy,
 * DestinationRules) is said in docs/explain.md, not guessed at here.
 */
import type { KubeObject } from '../admission/types.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { asObj, asStr } from '../json.ts';
import { chooseFix } from './admit.ts';
import { ambientOf, captureOf } from './capture.ts';
import type { Destination } from './destination.ts';
import { explainIstio } from './istio.ts';
import { explainOsm } from './osm.ts';
import type { Admission, Explanation, Reason, Source } from './types.ts';

export type { Destination } from './destination.ts';
export { parseDestination } from './destination.ts';
export type { Admission, Explanation, Reason, Source, Verdict } from './types.ts';

/** A pod that does not exist yet: what a new pod of that ServiceAccount in that namespace would be. */
export function prospectivePod(namespace: string, serviceAccount: string): Source {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name: '' },
    spec: { serviceAccountName: serviceAccount, containers: [{ name: 'app' }] },
  };
  return { pod, namespace, serviceAccount, exists: false };
}

/** An existing pod; its ServiceAccount is the one the API server filled in ("default" when none). */
export function existingPod(pod: KubeObject, serviceAccount?: string): Source {
  const namespace = asStr(pod.metadata?.namespace) || 'default';
  const sa = serviceAccount || asStr(asObj(pod.spec).serviceAccountName) || asStr(asObj(pod.spec).serviceAccount) || 'default';
  return { pod, namespace, serviceAccount: sa, exists: true };
}

/** `admission` is the webhook's engine: no fix is offered that it would deny. */
export function explain(source: Source, dest: Destination, snapshot: ClusterSnapshot, admission: Admission): Explanation {
  const base = {
    from: {
      namespace: source.namespace,
      pod: source.exists ? asStr(source.pod.metadata?.name) : null,
      serviceAccount: source.serviceAccount,
    },
    to: { scheme: dest.scheme, host: dest.host, port: dest.port, address: dest.address ?? null },
  };
  const ambient = ambientOf(source, snapshot);
  if (ambient) return { ...base, ...ambient, fix: [] };
  const capture = captureOf(source, dest, snapshot);
  if (!capture.captured) {
    const reasons: Reason[] = [...capture.reasons];
    if (snapshot.mesh.istio?.outboundPolicy.value === 'REGISTRY_ONLY' && capture.mesh === 'istio') {
      reasons.push({
        step: 'mesh',
        says: `the mesh is REGISTRY_ONLY [${snapshot.mesh.istio.outboundPolicy.from}], but this traffic never reaches the sidecar: the lockdown does not apply to it`,
      });
    }
    if (capture.mesh === 'osm' && snapshot.mesh.osm && !snapshot.mesh.osm.enableEgress.value) {
      reasons.push({
        step: 'mesh',
        says: 'OSM egress is closed (enableEgress false), but this traffic never reaches the sidecar: no Egress policy applies to it',
      });
    }
    return { ...base, verdict: 'bypassed', mesh: capture.mesh, reasons, fix: [] };
  }
  const answer = capture.mesh === 'istio' ? explainIstio(source, dest, snapshot) : explainOsm(source, dest, snapshot);
  const chosen = chooseFix(answer.fix, snapshot, admission);
  return {
    ...base,
    verdict: answer.verdict,
    mesh: capture.mesh,
    reasons: [...capture.reasons, ...answer.reasons, ...chosen.reasons],
    fix: chosen.fix,
  };
}
