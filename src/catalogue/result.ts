/**
 * Findings and their algebra. A rule returns a Result; results merge without branching, so a
 * validator reads as a flat list of checks (the shape of Istio's Validation{Err, Warning}).
 */
import { severityOf, type Code } from './findings.ts';

/** One finding: stable code (see findings.ts), kube field path, lowercase message without a trailing period. */
export type Issue = { readonly code: Code; readonly path: string; readonly message: string };

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

/** Every error becomes a warning: the `warn` enforcement mode. */
export const demote = (r: Result): Result => (r.errors.length ? { errors: [], warnings: [...r.errors, ...r.warnings] } : r);

/** `[CODE] path: message`, the one line format used in denials, warnings, logs and the CLI. */
export type { Severity } from './findings.ts';

export const show = (i: { readonly code: string; readonly path: string; readonly message: string }): string => `[${i.code}] ${i.path}: ${i.message}`;
