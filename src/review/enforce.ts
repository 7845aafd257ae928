/**
 * Enforcement: what findings do to the answer. Rules and capture only report findings; the mode of
 * the namespace decides here whether errors deny (enforce), only warn (warn) or go to the audit log
 * (audit), as Kyverno's webhook layer enforces what its engine reports.
 */
import { allow, type Decision } from '../admission/decision.ts';
import type { Mode } from '../catalogue/modes.ts';
import { demote, ok, show, type Issue, type Result } from '../catalogue/result.ts';
import { shortenLine } from './line.ts';
import { PREEXISTING } from './ratchet.ts';

/** Kubernetes asks for warnings of at most 120 characters and drops those past 4096 in total. */
const WARNING_MAX = 120;
const WARNINGS_TOTAL = 4096;

/** A pre-existing finding: the line is cut without its marker, which then goes back after the field, whole. */
function marked(i: Issue): string {
  const short = shortenLine(show({ ...i, message: i.message.slice(PREEXISTING.length) }), WARNING_MAX - PREEXISTING.length);
  // after `[CODE] field: `, or after `[CODE] ` when the cut took the field's colon
  const field = short.indexOf(': ');
  const at = field >= 0 ? field + 2 : short.indexOf('] ') + 2;
  return `${short.slice(0, at)}${PREEXISTING}${short.slice(at)}`;
}

export function formatWarnings(issues: readonly Issue[]): string[] {
  const out: string[] = [];
  let total = 0;
  for (const i of issues) {
    const text = i.message.startsWith(PREEXISTING) ? marked(i) : shortenLine(show(i), WARNING_MAX);
    if (total + text.length > WARNINGS_TOTAL) break;
    total += text.length;
    out.push(text);
  }
  return out;
}

/** Folds findings into a decision under a mode. */
export function enforce(r: Result, mode: Mode): Decision {
  if (mode === 'audit') {
    const all = [...r.errors, ...r.warnings];
    return {
      ...allow(mode), findings: r,
      ...(all.length ? { auditAnnotations: { findings: all.map(show).join('; ') } } : {}),
    };
  }
  const shown = mode === 'warn' ? demote(r) : r;
  const warnings = formatWarnings(shown.warnings);
  if (shown.errors.length === 0) return { ...allow(mode), warnings, findings: r };
  return { allowed: false, code: 403, message: shown.errors.map(show).join('\n'), warnings, patch: [], mode, findings: r };
}

/**
 * The answer when a review cannot be finished (a failure, or no time left before the API server
 * gives up): validation fails closed, mutation fails open and leaves the pod unchanged.
 */
export function fallback(failClosed: boolean, why: string): Decision {
  return failClosed
    ? { allowed: false, code: 500, message: `egress-warden could not validate this object: ${why}`, warnings: [], patch: [], findings: ok }
    : { ...allow(), warnings: [`egress-warden left this pod unchanged: ${why}`] };
}
