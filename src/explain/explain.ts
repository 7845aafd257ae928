/**
 * `explain`: will this pod reach this destination, and if not, why. Pure over the cluster snapshot
 * (with the meshes' settings) and the pod: first whether the sidecar captures the traffic at all,
 * then the injecting mesh's own answer, whose fix is offered only once the webhook's rules admit it
 * (admit.ts). Istio Sidecars scope what a sidecar pod sees, ambient pods are read for the
 * waypoints of the destination's ServiceEntries, Linkerd pods for the EgressNetwork that decides.
 * What is not modelled (egress gateways, AuthorizationPolicy rules, DestinationRules) is said in
 * docs/explain.md, not guessed at here.
 */
import type { KubeObject } from '../admission/types.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { asObj, asStr } from '../json.ts';
import { chooseFix } from './admit.ts';
import { ambientEgress } from './ambient.ts';
import { ambientOf, captureOf } from './capture.ts';
import type { Destination } from './destination.ts';
import { NO_EGRESS_OBJECTS, type EgressObjects } from './egress-objects.ts';
import { explainIstio } from './istio.ts';
import { explainLinkerd, linkerdInjected } from './linkerd.ts';
import { explainOsm } from './osm.ts';
import type { Admission, Explanation, Reason, Source } from './types.ts';

export type { Destination } from './destination.ts';
export { parseDestination } from './destination.ts';
export { egressObjectsOf, EXPLAIN_KINDS, NO_EGRESS_OBJECTS, type EgressObjects } from './egress-objects.ts';
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

/**
 * `admission` is the webhook's engine: no fix is offered that it would deny. `egress` holds what
 * was read of the newer egress kinds (Sidecars, waypoints, EgressNetworks) and the source namespace.
 */
export function explain(
  source: Source,
  dest: Destination,
  snapshot: ClusterSnapshot,
  admission: Admission,
  egress: EgressObjects = NO_EGRESS_OBJECTS,
): Explanation {
  const base = {
    from: {
      namespace: source.namespace,
      pod: source.exists ? asStr(source.pod.metadata?.name) : null,
      serviceAccount: source.serviceAccount,
    },
    to: { scheme: dest.scheme, host: dest.host, port: dest.port, address: dest.address ?? null },
  };
  const notes: Reason[] = egress.notes.map((says) => ({ step: 'note', says }));
  const linkerd = linkerdInjected(source.pod, egress.namespace);
  if (linkerd) {
    const answer = explainLinkerd(source, dest, egress, linkerd);
    const chosen = chooseFix(answer.fix, snapshot, admission);
    return {
      ...base,
      verdict: answer.verdict,
      mesh: 'linkerd',
      reasons: [...notes, ...answer.reasons, ...chosen.reasons],
      fix: chosen.fix,
    };
  }
  const ambient = ambientOf(source, snapshot);
  if (ambient) {
    const more = ambientEgress(source, dest, snapshot, egress);
    const chosen = chooseFix(more.fix, snapshot, admission);
    return { ...base, ...ambient, reasons: [...notes, ...ambient.reasons, ...more.reasons, ...chosen.reasons], fix: chosen.fix };
  }
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
  const answer = capture.mesh === 'istio' ? explainIstio(source, dest, snapshot, egress) : explainOsm(source, dest, snapshot);
  const chosen = chooseFix(answer.fix, snapshot, admission);
  return {
    ...base,
    verdict: answer.verdict,
    mesh: capture.mesh,
    reasons: [...notes, ...capture.reasons, ...answer.reasons, ...chosen.reasons],
    fix: chosen.fix,
  };
}
