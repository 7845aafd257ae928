/**
 * The judged kinds: the rows of the resource table (resources.ts) that a webhook reviews. The
 * webhook registrations in the manifests, the rule lookup and its operation gate and the metric
 * kind labels are derived from them. Adding a kind is one row there plus its rule.
 */
import { RESOURCES, type Operation, type Resource, type Webhook } from './resources.ts';

export type { Operation, Webhook };

/** A resource row with its webhook, operations and rule. */
export type JudgedKind = Resource & { readonly operations: readonly Operation[]; readonly webhook: Webhook; readonly rule: string };

type Row = (typeof RESOURCES)[number];

const judged = (r: Row): r is Extract<Row, { readonly rule: string }> => 'rule' in r;

export const JUDGED_KINDS = RESOURCES.filter(judged);

export type JudgedKindRow = (typeof JUDGED_KINDS)[number];
/** The name of a rule, as the rows spell it; the review layer maps each to its function. */
export type RuleName = JudgedKindRow['rule'];
/** The rules that validate (the Pod's is the capture). */
export type ValidatingRuleName = Exclude<JudgedKindRow, { readonly webhook: 'mutate' }>['rule'];

/** "group/Kind", the version-agnostic key (Istio's FindByGroupKind): a new version must not skip a rule. */
export const groupKind = (g: { readonly group?: string; readonly kind?: string }): string => `${g.group ?? ''}/${g.kind ?? ''}`;

const BY_GROUP_KIND: ReadonlyMap<string, JudgedKindRow> = new Map(JUDGED_KINDS.map((k) => [groupKind(k), k]));

/** The row of a group/Kind, whatever its version; undefined for kinds this webhook does not judge. */
export const judgedKind = (g: { readonly group?: string; readonly kind?: string }): JudgedKindRow | undefined =>
  BY_GROUP_KIND.get(groupKind(g));

/** Whether this operation on this group/Kind is judged (the webhook registrations send no others). */
export function judges(g: { readonly group?: string; readonly kind?: string }, operation: string): boolean {
  const k = judgedKind(g);
  return k !== undefined && (k.operations as readonly string[]).includes(operation);
}

/** The webhook registration rules of one webhook: one rule per group, operations and scope, resources merged in row order. */
export function webhookRules(webhook: Webhook) {
  const rules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[]; scope: string }[] = [];
  for (const k of JUDGED_KINDS.filter((r) => r.webhook === webhook)) {
    const apiVersions: string[] = k.group === '' ? [...(k.versions ?? ['v1'])] : ['*'];
    const same = rules.find(
      (r) =>
        r.apiGroups[0] === k.group &&
        r.scope === k.scope &&
        r.operations.join() === k.operations.join() &&
        r.apiVersions.join() === apiVersions.join(),
    );
    if (same) same.resources.push(k.plural);
    else rules.push({ apiGroups: [k.group], apiVersions, operations: [...k.operations], resources: [k.plural], scope: k.scope });
  }
  return rules;
}
