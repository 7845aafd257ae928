/**
 * Enforcement: what findings do to the answer. Rules and capture only report findings; the mode of
 * the namespace decides here whether errors deny (enforce), only warn (warn) or go to the audit log
 * (audit), as Kyverno's webhook layer enforces what its engine reports.
 */
import { allow, failed, type Decision } from '../admission/decision.ts';
import { DENIAL_CHARS_MAX, FINDING_MESSAGE_MAX, FINDINGS_SHOWN_MAX } from '../catalogue/budget.ts';
import { offlinePointer, type Pointer } from '../catalogue/docs.ts';
import type { Mode } from '../catalogue/modes.ts';
import { demote, PREEXISTING, show, type Issue, type Result } from '../catalogue/result.ts';
import { shortenLine } from './line.ts';
import { preexistingNote } from './ratchet.ts';

/**
 * The API server cuts a warning past this many characters, and drops warnings past 4096 in all.
 * Kubernetes asks for 120 where possible; a finding is cut only past 256, because what a cut loses
 * (a host, the other object's name, the fix) is what the warning exists to give.
 */
export const WARNING_LIMIT = 256;
const WARNINGS_TOTAL = 4096;

/** A pre-existing finding: the line is cut without its marker, which then goes back after the field, whole. */
function marked(i: Issue, max: number): string {
  const short = shortenLine(show({ code: i.code, path: i.path, message: i.message }), max - PREEXISTING.length);
  // after `[CODE] field: `, or after `[CODE] ` when the cut took the field's colon
  const field = short.indexOf(': ');
  const at = field >= 0 ? field + 2 : short.indexOf('] ') + 2;
  return `${short.slice(0, at)}${PREEXISTING}${short.slice(at)}`;
}

/** One warning: the finding, whole where it fits, then where its code's page is. */
function warningLine(i: Issue, pointer: Pointer): string {
  const tail = ` (${pointer(i.code)})`;
  const max = WARNING_LIMIT - tail.length;
  return `${i.preexisting ? marked(i, max) : shortenLine(show(i), max)}${tail}`;
}

export function formatWarnings(issues: readonly Issue[], pointer: Pointer = offlinePointer): string[] {
  const out: string[] = [];
  let total = 0;
  for (const i of issues) {
    const text = warningLine(i, pointer);
    if (total + text.length > WARNINGS_TOTAL) break;
    total += text.length;
    out.push(text);
  }
  return out;
}

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** One severity's findings folded and capped; the same array when there was nothing to do. */
function fold(issues: readonly Issue[]): { readonly issues: readonly Issue[]; readonly omitted: number } {
  const groups = new Map<string, { readonly issue: Issue; count: number }>();
  let changed = false;
  let omitted = 0;
  for (const i of issues) {
    const key = `${i.code}\0${i.preexisting ? PREEXISTING : ''}${i.message}`;
    const group = groups.get(key);
    if (group) {
      group.count++;
      changed = true;
    } else if (groups.size < FINDINGS_SHOWN_MAX) {
      groups.set(key, { issue: i, count: 1 });
      if (i.message.length > FINDING_MESSAGE_MAX || i.path.length > FINDING_MESSAGE_MAX) changed = true;
    } else {
      omitted++;
      changed = true;
    }
  }
  if (!changed) return { issues, omitted: 0 };
  const out = [...groups.values()].map(({ issue, count }) => ({
    code: issue.code,
    path: cut(issue.path, FINDING_MESSAGE_MAX),
    message: cut(issue.message, FINDING_MESSAGE_MAX) + (count > 1 ? ` (and at ${(count - 1).toLocaleString('en-US')} more paths)` : ''),
    ...(issue.preexisting ? { preexisting: true as const } : {}),
  }));
  return { issues: out, omitted };
}

/**
 * Findings as the answer, the log line and the metrics carry them: one finding per code and
 * message (repeated at many paths, it is shown once with a count), each cut to a readable length,
 * at most FINDINGS_SHOWN_MAX per severity. `omitted` counts the findings beyond that cap.
 */
export function condense(r: Result): { readonly findings: Result; readonly omitted: number } {
  const errors = fold(r.errors);
  const warnings = fold(r.warnings);
  const findings = errors.issues === r.errors && warnings.issues === r.warnings ? r : { errors: errors.issues, warnings: warnings.issues };
  return { findings, omitted: errors.omitted + warnings.omitted };
}

/** Lines joined and capped at DENIAL_CHARS_MAX, saying how many findings did not fit. */
function listing(issues: readonly Issue[], separator: string, omitted: number, pointer?: Pointer): string {
  let text = '';
  let shown = 0;
  for (const i of issues) {
    const line = pointer ? `${show(i)} (${pointer(i.code)})` : show(i);
    if (text.length + separator.length + line.length > DENIAL_CHARS_MAX - 64) break;
    text += (shown ? separator : '') + line;
    shown++;
  }
  const more = omitted + issues.length - shown;
  return more ? `${text}${separator}… and ${more.toLocaleString('en-US')} more findings` : text;
}

/** Folds findings into a decision under a mode; denials and warnings point to their codes' pages. */
export function enforce(raw: Result, mode: Mode, pointer: Pointer = offlinePointer): Decision {
  const { findings: r, omitted } = condense(raw);
  if (mode === 'audit') {
    const all = [...r.errors, ...r.warnings];
    return {
      ...allow(mode),
      findings: r,
      ...(all.length ? { auditAnnotations: { findings: listing(all, '; ', omitted) } } : {}),
    };
  }
  const shown = mode === 'warn' ? demote(r) : r;
  // Findings an update kept from the stored object (ratchet.ts) get one line saying what to do about them.
  const preexisting = raw.warnings.filter((i) => i.preexisting).length;
  const warnings = preexisting
    ? [...formatWarnings(shown.warnings, pointer), preexistingNote(preexisting)]
    : formatWarnings(shown.warnings, pointer);
  if (shown.errors.length === 0) return { ...allow(mode), warnings, findings: r };
  return { allowed: false, code: 403, message: listing(shown.errors, '\n', omitted, pointer), warnings, patch: [], mode, findings: r };
}

/**
 * The answer when a review cannot be finished (a failure, or no time left before the API server
 * gives up): validation fails closed, mutation fails open and leaves the pod unchanged.
 */
export function fallback(failClosed: boolean, why: string): Decision {
  return failClosed
    ? failed(`egress-warden could not validate this object: ${why}`)
    : { ...allow(), warnings: [`egress-warden left this pod unchanged: ${why}`] };
}
