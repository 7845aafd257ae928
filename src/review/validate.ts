/**
 * POST /validate: gate, look up, run, enforce. Rules are looked up by group/Kind, never by version:
 * a new CRD version must not silently skip validation (Istio's FindByGroupKind).
 */
import { allow, type Decision } from '../admission/decision.ts';
import type { AdmissionRequest } from '../admission/types.ts';
import { judgedKind, judges, type ValidatingRuleName } from '../catalogue/kinds.ts';
import { DEFAULT_MODE, modeOf } from '../catalogue/modes.ts';
import { ok } from '../catalogue/result.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { overBudget } from '../rules/budget.ts';
import type { Rule } from '../rules/rule.ts';
import { enforce } from './enforce.ts';
import { RULES, type Rules } from './rules.ts';

/** The validating rule of a group/Kind, with its name; undefined for kinds that are not validated. */
export function ruleFor(gvk: { readonly group?: string; readonly kind?: string }, rules: Rules = RULES): { readonly name: ValidatingRuleName; readonly rule: Rule } | undefined {
  const k = judgedKind(gvk);
  if (k === undefined || k.webhook === 'mutate') return undefined;
  return { name: k.rule, rule: rules[k.rule] };
}

/** The validation of one request with the given rules. A throwing rule denies with code 500 and its name instead of crashing the server. */
export function judgeWith(rules: Rules) {
  return (req: AdmissionRequest, snapshot: ClusterSnapshot): Decision => {
    const entry = ruleFor(req.kind, rules);
    const obj = req.object;
    if (!entry || !judges(req.kind, req.operation) || !obj || typeof obj !== 'object') return allow(DEFAULT_MODE);
    const namespace = req.namespace || obj.metadata?.namespace || '';
    // A Namespace carries its own mode; everything else takes the mode of the namespace it lives in.
    const labels = req.kind.kind === 'Namespace' && req.kind.group === '' ? obj.metadata?.labels : snapshot.namespaces.get(namespace)?.labels;
    const mode = modeOf(labels);
    try {
      // Checked before the rule, so a pathological object costs a walk of its spec and no more.
      const tooLarge = overBudget(obj);
      if (tooLarge) return enforce(tooLarge, mode);
      const oldObject = req.operation === 'UPDATE' && req.oldObject && typeof req.oldObject === 'object' ? req.oldObject : undefined;
      return enforce(entry.rule(obj, { snapshot, namespace, operation: req.operation, ...(oldObject ? { oldObject } : {}) }), mode);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return { allowed: false, code: 500, message: `internal error in rule ${entry.name}: ${why}`, warnings: [], patch: [], mode, findings: ok };
    }
  };
}

export const judge = judgeWith(RULES);
