/**
 * Validating decisions remembered per snapshot, for objects reviewed again unchanged: a controller
 * or GitOps tool that re-applies what it already applied, a dry run before the apply, the API
 * server's retry after a timeout, `kubectl create` of an object that exists (admission runs before
 * the store refuses it). The rules read only the request's kind, operation, namespace and name and
 * the objects' judge inputs (judge-inputs.ts), so equal inputs against the same snapshot get the same
 * decision.
 *
 * A review is keyed only from the second time its object (kind, namespace, name, operation) is seen
 * in a snapshot: building the key costs about what a small object's review does, and most writes
 * are seen once.
 */
import type { Decision } from '../admission/decision.ts';
import type { AdmissionRequest } from '../admission/types.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { judgeInputs } from './judge-inputs.ts';

/** Objects remembered per snapshot; past it the memo starts again. */
export const REMEMBERED_REVIEWS = 256;
/** Judge inputs longer than this (in JSON) are judged each time: the memory stays bounded. */
export const REMEMBERED_REVIEW_CHARS = 8_192;

/** What a review decided, and whether the same inputs would get it again in the same snapshot. */
export type Judged = { readonly decision: Decision; readonly repeatable: boolean };

/** One object seen in a snapshot: from its second review on, the key of the inputs last judged, and their decision. */
type Seen = { key: string; decision: Decision | undefined };

const inputsOf = (o: AdmissionRequest['object']) => (o && typeof o === 'object' ? judgeInputs(o) : null);

/** Everything judging reads of a request, as one string; undefined when it is too long to keep. */
function keyOf(req: AdmissionRequest): string | undefined {
  try {
    const old = req.operation === 'UPDATE' ? inputsOf(req.oldObject) : null;
    const key = JSON.stringify([
      req.kind.group,
      req.kind.kind,
      req.operation,
      req.namespace ?? '',
      req.name ?? '',
      inputsOf(req.object),
      old,
    ]);
    return key.length > REMEMBERED_REVIEW_CHARS ? undefined : key;
  } catch {
    // an object nested past what JSON.stringify can walk is judged as it comes
    return undefined;
  }
}

/**
 * `review` with its repeatable decisions remembered for the snapshot they were made against.
 * Decisions are immutable and shared; the remembered ones go with their snapshot.
 */
export function rememberingReviews() {
  // One snapshot's memo at a time: reviews follow the snapshot, and one gone stays gone (a new
  // layering is a new object). A property on each snapshot cost a microsecond on every new layering.
  let held: { readonly snapshot: ClusterSnapshot; readonly memo: Map<string, Seen> } | undefined;
  return (req: AdmissionRequest, snapshot: ClusterSnapshot, review: () => Judged): Decision => {
    if (held?.snapshot !== snapshot) held = { snapshot, memo: new Map() };
    const memo = held.memo;
    const object = `${req.operation}\u0000${req.kind.group}\u0000${req.kind.kind}\u0000${req.namespace ?? ''}\u0000${req.name ?? ''}`;
    const seen = memo.get(object);
    if (!seen) {
      if (memo.size >= REMEMBERED_REVIEWS) memo.clear();
      memo.set(object, { key: '', decision: undefined });
      return review().decision;
    }
    const key = keyOf(req);
    if (key !== undefined && seen.decision && seen.key === key) return seen.decision;
    const { decision, repeatable } = review();
    seen.key = key ?? '';
    seen.decision = key !== undefined && repeatable ? decision : undefined;
    return decision;
  };
}
