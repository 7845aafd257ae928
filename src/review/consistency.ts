/**
 * Read-your-writes in the review: findings that exist only because of an object this webhook
 * admitted moments ago (cluster/overlay.ts) say so in one line of their own, since that object may
 * yet have failed to be stored. The overlay traces which pending objects the review read; only when
 * it read some and found something is the review run once more against the plain snapshot, so the
 * cost does not grow with the number of pending writes.
 */
import type { Decision } from '../admission/decision.ts';
import type { AdmissionRequest } from '../admission/types.ts';
import { show, type Issue } from '../catalogue/result.ts';
import type { Overlay, Pending } from '../cluster/overlay.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { WARNING_LIMIT } from './enforce.ts';
import { shortenLine } from './line.ts';
import { rememberingReviews, type Judged } from './remembered-reviews.ts';

type Judge = (req: AdmissionRequest, snapshot: ClusterSnapshot) => Decision;

/** Objects a note names at most; the rest are counted. */
const NAMED_MAX = 3;

const named = (p: Pending): string => `${p.kind} ${p.ref.namespace ? `${p.ref.namespace}/${p.ref.name}` : p.ref.name}`;

/** The line that says which findings rest on which pending writes. */
export function pendingNote(codes: readonly string[], read: readonly Pending[], now: number): string {
  const objects = read.slice(0, NAMED_MAX).map(named).join(', ') + (read.length > NAMED_MAX ? ` and ${read.length - NAMED_MAX} more` : '');
  const ago = Math.max(0, now - Math.min(...read.map((p) => p.at)));
  return `egress-warden: ${codes.map((c) => `[${c}]`).join(' ')} rests on ${objects}, known only from a write admitted ${ago} ms ago and not yet in the cluster view`;
}

/** Whether a pending write is an earlier version of the object under review. */
function isReviewed(p: Pending, req: AdmissionRequest): boolean {
  const name = req.name || req.object?.metadata?.name;
  if (p.kind !== req.kind.kind || p.ref.name !== name) return false;
  // a Namespace is filed without one; every other kind under the namespace the review names
  return p.ref.namespace === (p.kind === 'Namespace' ? '' : req.namespace || req.object?.metadata?.namespace || '');
}

/**
 * `judge` over the overlay's layering of each snapshot, whose findings say when they rest on pending
 * writes. Decisions that carry no such note are remembered for the layering they were made against
 * (remembered-reviews.ts): an unchanged re-apply only renews its pending write, which leaves the
 * layering as it was. `remember: false` judges every review, for measuring what judging costs.
 */
export function notingPendingWrites(
  judge: Judge,
  pending: Pick<Overlay, 'layer' | 'trace'>,
  now: () => number = Date.now,
  remember = true,
): Judge {
  const remembered = rememberingReviews();
  const noting = (req: AdmissionRequest, base: ClusterSnapshot, layered: ClusterSnapshot): Judged => {
    if (layered === base) return { decision: judge(req, base), repeatable: true };
    const { value: decision, read: all } = pending.trace(() => judge(req, layered));
    const r = decision.findings;
    const unnoted = { decision, repeatable: true };
    if (all.length === 0 || (r.errors.length === 0 && r.warnings.length === 0) || (decision.code ?? 0) >= 500) return unnoted;
    // The reviewed object's own earlier write is read whenever it is applied again, and the rules
    // skip an object's own records (sameObject): no finding rests on it, and a second review to
    // find that out was most of what re-applying an object with a warning cost.
    const read = all.filter((p) => !isReviewed(p, req));
    if (read.length === 0) return unnoted;
    const before = judge(req, base).findings;
    const known = new Set([...before.errors, ...before.warnings].map(show));
    const fresh = [...r.errors, ...r.warnings].filter((i: Issue) => !known.has(show(i)));
    if (fresh.length === 0) return unnoted;
    // the note says how long ago the write was admitted: the same review a moment later says otherwise
    const noted = (d: Decision): Judged => ({ decision: d, repeatable: false });
    const note = pendingNote([...new Set(fresh.map((i) => i.code))], read, now());
    // audit mode shows nothing; elsewhere the note goes where the findings went
    if (decision.mode === 'audit') return noted(decision);
    // long object names must not push the note past what the API server keeps of a warning
    return noted(
      decision.allowed
        ? { ...decision, warnings: [...decision.warnings, shortenLine(note, WARNING_LIMIT)] }
        : { ...decision, message: `${decision.message ?? ''}\n${note}` },
    );
  };
  return (req, base) => {
    const layered = pending.layer(base);
    return remember ? remembered(req, layered, () => noting(req, base, layered)) : noting(req, base, layered).decision;
  };
}
