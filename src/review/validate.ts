/**
 * POST /validate: gate, look up, run, enforce. Rules are looked up by group/Kind, never by version:
 * a new CRD version must not silently skip validation (Istio's FindByGroupKind).
 */
import { offlinePointer, type Pointer } from '../catalogue/docs.ts';
import { allow, failed, type Decision } from '../admission/decision.ts';
import type { AdmissionRequest } from '../admission/types.ts';
import { judgedKind, type ValidatingRuleName } from '../catalogue/kinds.ts';
import { DEFAULT_MODE, modeOf } from '../catalogue/modes.ts';
import { errorText } from '../json.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { overBudget } from '../rules/budget.ts';
import type { Rule } from '../rules/rule.ts';
import { enforce } from './enforce.ts';
import { judgeInputs } from './judge-inputs.ts';
import { isBeingDeleted, ratchet } from './ratchet.ts';
import { RULES, type Rules } from './rules.ts';

export type JudgeOptions = {
  /** judge every UPDATE as if the object were new (no ratcheting): `serve --strict-updates` */
  readonly strictUpdates?: boolean;
  /** where denials and warnings point for their codes' pages (serve --docs-url) */
  readonly pointer?: Pointer;
};

/** The validating rule of a group/Kind, with its name; undefined for kinds that are not validated. */
export function ruleFor(
  gvk: { readonly group?: string; readonly kind?: string },
  rules: Rules = RULES,
): { readonly name: ValidatingRuleName; readonly rule: Rule } | undefined {
  const k = judgedKind(gvk);
  if (k === undefined || k.webhook === 'mutate') return undefined;
  return { name: k.rule, rule: rules[k.rule] };
}

/**
 * The validation of one request with the given rules. A throwing rule denies with code 500 and its
 * name instead of crashing the server. An UPDATE is denied only for what it introduces (see
 * ratchet.ts), unless `strictUpdates`; an object being deleted is not judged at all. The rules see
 * only the objects' judge inputs (judge-inputs.ts).
 */
export function judgeWith(rules: Rules, { strictUpdates = false, pointer = offlinePointer }: JudgeOptions = {}) {
  return (req: AdmissionRequest, snapshot: ClusterSnapshot): Decision => {
    // the kind's row is looked up once: ruleFor and judges would each look it up again
    const row = judgedKind(req.kind);
    if (row === undefined || row.webhook === 'mutate' || !(row.operations as readonly string[]).includes(req.operation)) {
      return allow(DEFAULT_MODE);
    }
    if (!req.object || typeof req.object !== 'object') return allow(DEFAULT_MODE);
    const obj = judgeInputs(req.object);
    const entry = { name: row.rule, rule: rules[row.rule] };
    const namespace = req.namespace || obj.metadata?.namespace || '';
    // A Namespace carries its own mode; everything else takes the mode of the namespace it lives in.
    const labels =
      req.kind.kind === 'Namespace' && req.kind.group === '' ? obj.metadata?.labels : snapshot.namespaces.get(namespace)?.labels;
    const mode = modeOf(labels);
    const oldObject =
      req.operation === 'UPDATE' && req.oldObject && typeof req.oldObject === 'object' ? judgeInputs(req.oldObject) : undefined;
    const ratcheting = oldObject !== undefined && !strictUpdates;
    if (ratcheting && isBeingDeleted(obj)) return allow(mode);
    try {
      // Checked before the rule, so a pathological object costs a walk of its spec and no more.
      const found =
        overBudget(obj) ?? entry.rule(obj, { snapshot, namespace, operation: req.operation, ...(oldObject ? { oldObject } : {}) });
      if (!ratcheting || found.errors.length === 0) return enforce(found, mode, pointer);
      // The stored object, judged against the same cluster: what it already broke does not block.
      const before = overBudget(oldObject) ?? entry.rule(oldObject, { snapshot, namespace, operation: 'CREATE' });
      return enforce(ratchet(before, found).result, mode, pointer);
    } catch (e) {
      return failed(`internal error in rule ${entry.name}: ${errorText(e)}`, mode);
    }
  };
}

export const judge = judgeWith(RULES);
