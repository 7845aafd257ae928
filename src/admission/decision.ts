/**
 * What a review decided about one admission request: the one value the review layer returns and
 * the codec puts on the wire. Logs and metrics read the mode and findings from it too.
 */
import type { Operation as PatchOperation } from 'fast-json-patch';
import type { Mode } from '../catalogue/modes.ts';
import { ok, type Result } from '../catalogue/result.ts';

export type Decision = {
  readonly allowed: boolean;
  /** HTTP-style code of a denial: 403 for policy, 500 when the review itself failed */
  readonly code?: number;
  readonly message?: string;
  readonly warnings: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
  /** JSON Patch operations for the object; sent only when non-empty */
  readonly patch: readonly PatchOperation[];
  /** the enforcement mode applied, once the review knew the namespace */
  readonly mode?: Mode;
  /** every finding, before the mode changed what it does */
  readonly findings: Result;
  /** the egress-warden.io/applied value the patch writes, when there is a patch */
  readonly applied?: string;
};

/**
 * The review itself failed (a rule threw, no time was left): code 500, so logs and metrics count it
 * as an error and not as a policy denial.
 */
export const failed = (message: string, mode?: Mode): Decision => ({
  allowed: false,
  code: 500,
  message,
  warnings: [],
  patch: [],
  findings: ok,
  ...(mode ? { mode } : {}),
});

/** Allowed, with nothing to say and nothing to change. */
export const allow = (mode?: Mode): Decision => ({ allowed: true, warnings: [], patch: [], findings: ok, ...(mode ? { mode } : {}) });
