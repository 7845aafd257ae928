/**
 * Ratcheting, as Kubernetes does for CRD validation and Kyverno with allowExistingViolations: an
 * UPDATE is denied only for what it brings in. Objects that already break a rule exist in every
 * cluster (created before the webhook, while it failed open, in a namespace then in warn mode, or
 * broken later by another object); denying their unrelated edits blocks controllers, GitOps tools
 * and, worst of all, the removal of a finalizer during deletion, which leaves the object and its
 * namespace Terminating for ever.
 */
import type { KubeObject } from '../admission/types.ts';
import type { Issue, Result } from '../catalogue/result.ts';

/**
 * What an UPDATE does, as far as judging goes: moving the object towards deletion (its
 * deletionTimestamp is set: only finalizers can still change) is never judged.
 */
export const isBeingDeleted = (object: KubeObject): boolean => {
  const ts = (object.metadata as { deletionTimestamp?: unknown } | undefined)?.deletionTimestamp;
  return typeof ts === 'string' && ts !== '';
};

/**
 * A finding's identity across the two versions: its code, its message (which names the offending
 * value) and its path without list indexes, so that a port moved within its list, or a new one
 * inserted before it, does not make an old finding look new.
 */
const identity = (i: Issue): string => `${i.code}\u0000${i.path.replace(/\[\d+\]/g, '[]')}\u0000${i.message}`;

export type Ratcheted = {
  /** errors the update introduces, or makes more frequent: these still deny */
  readonly result: Result;
  /** errors the stored object already had, now among result.warnings marked `preexisting` */
  readonly preexisting: number;
};

/**
 * Splits the errors of the updated object into those the stored object already had (they become
 * warnings saying so) and those the update brings in. Counted per identity: a second copy of an
 * old finding is new.
 */
export function ratchet(before: Result, after: Result): Ratcheted {
  if (after.errors.length === 0) return { result: after, preexisting: 0 };
  const had = new Map<string, number>();
  for (const e of before.errors) {
    const k = identity(e);
    had.set(k, (had.get(k) ?? 0) + 1);
  }
  const errors: Issue[] = [];
  const kept: Issue[] = [];
  for (const e of after.errors) {
    const k = identity(e);
    const n = had.get(k) ?? 0;
    if (n > 0) {
      had.set(k, n - 1);
      kept.push({ ...e, preexisting: true });
    } else {
      errors.push(e);
    }
  }
  return { result: { errors, warnings: [...kept, ...after.warnings] }, preexisting: kept.length };
}

/** The one extra warning line that tells the user what to do about pre-existing findings. */
export const preexistingNote = (n: number): string =>
  `egress-warden: ${n} pre-existing finding${n === 1 ? '' : 's'} did not block this update; fix ${n === 1 ? 'it' : 'them'} (see docs/codes.md)`;
