/**
 * Validating decisions remembered per snapshot, for objects reviewed again unchanged: a controller
 * or GitOps tool that re-applies what it already applied, a dry run before the apply, the API
 * server's retry after a timeout, `kubectl create` of an object that exists (admission runs before
 * the store refuses it). The rules read only the request's kind, operation, namespace and name and
 * the objects' judge inputs (judge-inputs.ts), so equal inputs against the same snapshot get the same
 * decision.
 *
 * Each object (kind, namespace, name, operation) holds the inputs it was last judged with, compared
 * value by value with the next review's. They are kept only from the second time the object is seen
 * in a snapshot: sizing them takes a JSON.stringify, and most writes are seen once.
 */
import type { Decision } from '../admission/decision.ts';
import type { AdmissionRequest, KubeObject } from '../admission/types.ts';
import { currentSnapshotMemo, type ClusterSnapshot } from '../cluster/snapshot.ts';
import { fitsJson, sameJson } from '../json.ts';
import { judgeInputs } from './judge-inputs.ts';

/** Objects remembered per snapshot; past it the memo starts again. */
export const REMEMBERED_REVIEWS = 256;
/** Judge inputs longer than this (in JSON) are judged each time: the memory stays bounded. */
export const REMEMBERED_REVIEW_CHARS = 8_192;

/** What a review decided, and whether the same inputs would get it again in the same snapshot. */
export type Judged = { readonly decision: Decision; readonly repeatable: boolean };

/** One object seen in a snapshot: from its second review on, the inputs last judged, and their decision. */
type Seen = { inputs: Inputs | undefined; decision: Decision | undefined };

/** What judging reads of a request besides the kind, operation, namespace and name: the objects' judge inputs. */
type Inputs = readonly [object: KubeObject | null, oldObject: KubeObject | null];

const inputsOf = (o: AdmissionRequest['object']) => (o && typeof o === 'object' ? judgeInputs(o) : null);

/**
 * `review` with its repeatable decisions remembered for the snapshot they were made against.
 * Decisions are immutable and shared; the remembered ones go with their snapshot.
 */
export function rememberingReviews() {
  const memoOf = currentSnapshotMemo<Seen>();
  return (req: AdmissionRequest, snapshot: ClusterSnapshot, review: () => Judged): Decision => {
    const memo = memoOf(snapshot);
    const object = `${req.operation}\u0000${req.kind.group}\u0000${req.kind.kind}\u0000${req.namespace ?? ''}\u0000${req.name ?? ''}`;
    const seen = memo.get(object);
    if (!seen) {
      if (memo.size >= REMEMBERED_REVIEWS) memo.clear();
      memo.set(object, { inputs: undefined, decision: undefined });
      return review().decision;
    }
    const inputs: Inputs = [inputsOf(req.object), req.operation === 'UPDATE' ? inputsOf(req.oldObject) : null];
    if (seen.decision && sameJson(seen.inputs, inputs)) return seen.decision;
    const { decision, repeatable } = review();
    const kept = repeatable && fitsJson(inputs, REMEMBERED_REVIEW_CHARS);
    seen.inputs = kept ? inputs : undefined;
    seen.decision = kept ? decision : undefined;
    return decision;
  };
}
