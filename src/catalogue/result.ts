/**
 * Findings and their algebra. A rule returns a Result; results merge without branching, so a
 * validator reads as a flat list of checks (the shape of Istio's Validation{Err, Warning}).
 */
import { severityOf, type Code } from './findings.ts';

/** One finding: stable code (see findings.ts), kube field path, lowercase message without a trailing period. */
export type Issue = {
  readonly code: Code;
  readonly path: string;
  readonly message: string;
  /** the stored object already had it: an UPDATE that keeps it is not denied for it (review/ratchet.ts) */
  readonly preexisting?: true;
};

/** Says in every line that shows it that a finding was already there; the word goes after the field, kept whole when a line is cut. */
export const PREEXISTING = 'pre-existing: ';

export type Result = { readonly errors: readonly Issue[]; readonly warnings: readonly Issue[] };

export const ok: Result = Object.freeze({ errors: [], warnings: [] });

/** One finding, filed as an error or a warning by its code's severity. */
export const finding = (code: Code, path: string, message: string): Result =>
  severityOf(code) === 'error' ? { errors: [{ code, path, message }], warnings: [] } : { errors: [], warnings: [{ code, path, message }] };

export const merge = (...parts: readonly Result[]): Result => mergeAll(parts);

/** merge() over a list of any length (spreading a long list into arguments overflows the stack). */
export function mergeAll(parts: readonly Result[]): Result {
  if (parts.length === 1) return parts[0]!;
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  for (const p of parts) {
    for (const e of p.errors) errors.push(e);
    for (const w of p.warnings) warnings.push(w);
  }
  return errors.length || warnings.length ? { errors, warnings } : ok;
}

/**
 * Collects findings once per (code, path, message): the cluster indexes can lead to the same finding
 * along several paths (an object that lists a client twice, a host under two wildcards). Past
 * `limit` findings, more are only counted, not compared, so the work and the answer stay bounded
 * for objects with thousands of conflicting entries; callers that set a limit must not repeat a
 * finding, and say how many more there were with `result(summary)`.
 */
export function collector(limit = Number.POSITIVE_INFINITY) {
  const seen = new Set<string>();
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  let over = 0;
  let overCode: Code | undefined;
  const skip = (n: number, code: Code) => {
    if (n <= 0) return;
    over += n;
    // the summary carries the code of the first error left out, so a denial still names one
    if (overCode === undefined || (severityOf(code) === 'error' && severityOf(overCode) === 'warning')) overCode = code;
  };
  return {
    /** One finding; an undefined message (a check that passed) adds nothing. */
    add(code: Code, path: string, message: string | undefined): void {
      if (message === undefined) return;
      if (errors.length + warnings.length >= limit) {
        skip(1, code);
        return;
      }
      const key = `${code}\u0000${path}\u0000${message}`;
      if (seen.has(key)) return;
      seen.add(key);
      (severityOf(code) === 'error' ? errors : warnings).push({ code, path, message });
    },
    /** Every finding of a result, as add() takes them. */
    push(r: Result): void {
      for (const i of r.errors) this.add(i.code, i.path, i.message);
      for (const i of r.warnings) this.add(i.code, i.path, i.message);
    },
    /** Counts `n` findings past the limit without building them. */
    skip,
    /** Whether the limit is reached: further findings are only counted. */
    full: (): boolean => errors.length + warnings.length >= limit,
    /** The findings, plus one at `path` saying how many more there were, when some were left out. */
    result(summary?: (more: number) => readonly [path: string, message: string]): Result {
      if (over > 0 && overCode !== undefined && summary) {
        const [path, message] = summary(over);
        return merge({ errors, warnings }, finding(overCode, path, message));
      }
      return errors.length || warnings.length ? { errors, warnings } : ok;
    },
  };
}

/** Every error becomes a warning: the `warn` enforcement mode. */
export const demote = (r: Result): Result => (r.errors.length ? { errors: [], warnings: [...r.errors, ...r.warnings] } : r);

/** `[CODE] path: message`, the one line format used in denials, warnings, logs and the CLI. */
export type { Severity } from './findings.ts';

export const show = (i: { readonly code: string; readonly path: string; readonly message: string; readonly preexisting?: true }): string =>
  `[${i.code}] ${i.path}: ${i.preexisting ? PREEXISTING : ''}${i.message}`;
