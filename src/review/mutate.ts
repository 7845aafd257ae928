/**
 * POST /mutate: the capture plan of a Pod, under the namespace's enforcement mode exactly as on
 * the validating side. A denial carries no patch, and a failure in capture never blocks a pod.
 */
import { allow, type Decision } from '../admission/decision.ts';
import type { AdmissionRequest } from '../admission/types.ts';
import { planPod } from '../capture/plan-pod.ts';
import { judgedKind } from '../catalogue/kinds.ts';
import { modeOf } from '../catalogue/modes.ts';
import { finding } from '../catalogue/result.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { describe } from '../json.ts';
import { enforce, formatWarnings } from './enforce.ts';

/**
 * The mutation for one admission request. Only the operations the catalogue lists for a mutated
 * kind are mutated (Pod CREATE: init containers are immutable after creation, so a patch on UPDATE
 * could only make the API server refuse the update), and never a subresource.
 */
export function admitPod(req: AdmissionRequest, snapshot: ClusterSnapshot): Decision {
  const namespace = req.namespace || req.object?.metadata?.namespace || '';
  const ns = snapshot.namespaces.get(namespace);
  const mode = modeOf(ns?.labels);
  const pod = req.object;
  const kind = judgedKind(req.kind);
  if (kind?.webhook !== 'mutate' || req.kind.group !== kind.group || !(kind.operations as readonly string[]).includes(req.operation) || req.subResource || !pod || typeof pod !== 'object') {
    return allow(mode);
  }
  try {
    const plan = planPod(pod, namespace, ns, snapshot);
    const decision = enforce(plan.findings, mode);
    if (!decision.allowed || !plan.build) return decision;
    const { patch, applied } = plan.build();
    return { ...decision, patch, ...(applied !== undefined ? { applied } : {}) };
  } catch (e) {
    // Every input problem is a finding; what lands here is a bug, named for the bug report.
    const failure = e instanceof Error ? `${e.name}: ${e.message}` : `thrown ${describe(e)}`;
    const findings = finding('EW599', 'metadata', `internal error, pod admitted unchanged: ${failure}`);
    return { ...allow(mode), warnings: formatWarnings(findings.warnings), findings };
  }
}
