/**
 * Read-your-writes in the review: a finding that exists only because of an object this webhook
 * admitted moments ago (cluster/overlay.ts) says so, since that object may yet have failed to be
 * stored. Costs nothing unless the snapshot is layered and the review found something; then the
 * review runs once more against the plain snapshot to tell which findings the overlay made.
 */
import type { Decision } from '../admission/decision.ts';
import type { AdmissionRequest } from '../admission/types.ts';
import { show, type Issue, type Result } from '../catalogue/result.ts';
import { layeringOf, type Pending } from '../cluster/overlay.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { enforce } from './enforce.ts';

type Judge = (req: AdmissionRequest, snapshot: ClusterSnapshot) => Decision;

const named = (p: Pending): string => (p.ref.namespace ? `${p.ref.namespace}/${p.ref.name}` : p.ref.name);

function note(i: Issue, pending: readonly Pending[], now: number): Issue {
  const mentioned = pending.filter((p) => i.message.includes(named(p)) || new RegExp(`\\b${p.ref.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(i.message));
  const which = mentioned.length ? mentioned : pending;
  const objects = which.slice(0, 3).map((p) => `${p.kind} ${named(p)}`).join(', ') + (which.length > 3 ? ', …' : '');
  const ago = Math.max(0, now - Math.min(...which.map((p) => p.at)));
  return { ...i, message: `${i.message} (${objects} known only from a write admitted ${ago} ms ago, not yet in the cluster view)` };
}

/** `judge` whose findings name the pending objects they rest on. */
export function notingPendingWrites(judge: Judge, now: () => number = Date.now): Judge {
  return (req, snapshot) => {
    const decision = judge(req, snapshot);
    const layering = layeringOf(snapshot);
    const r = decision.findings;
    if (!layering || (r.errors.length === 0 && r.warnings.length === 0) || (decision.code ?? 0) >= 500 || !decision.mode) return decision;
    const before = judge(req, layering.base).findings;
    const known = new Set([...before.errors, ...before.warnings].map(show));
    const fresh = (list: readonly Issue[]) => list.some((i) => !known.has(show(i)));
    if (!fresh(r.errors) && !fresh(r.warnings)) return decision;
    const t = now();
    const mark = (list: readonly Issue[]) => list.map((i) => (known.has(show(i)) ? i : note(i, layering.pending, t)));
    const noted: Result = { errors: mark(r.errors), warnings: mark(r.warnings) };
    return enforce(noted, decision.mode);
  };
}
