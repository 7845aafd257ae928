/**
 * The judged kinds: the rows of the resource table (resources.ts) that a webhook reviews. The
 * webhook registrations in the manifests, the rule lookup and its operation gate and the metric
 * kind labels are derived from them. Adding a kind is one row there plus its rule.
 */
import { RESOURCES, type Operation, type Resource, type SentWhen, type Webhook } from './resources.ts';

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

// by group, then kind: a review asks several times, and a "group/Kind" key would be a new string each time
const BY_GROUP = new Map<string, Map<string, JudgedKindRow>>();
for (const k of JUDGED_KINDS) {
  let kinds = BY_GROUP.get(k.group);
  if (!kinds) BY_GROUP.set(k.group, (kinds = new Map()));
  kinds.set(k.kind, k);
}

/** The row of a group/Kind, whatever its version; undefined for kinds this webhook does not judge. */
export const judgedKind = (g: { readonly group?: string; readonly kind?: string }): JudgedKindRow | undefined =>
  BY_GROUP.get(g.group ?? '')?.get(g.kind ?? '');

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

/** A CEL string literal of a name from the table (group, kind, resource, field): none holds a quote. */
const lit = (s: string): string => `'${s}'`;

/** CEL: `v` is a reference naming one of `naming`. Type-guarded: a field of any other shape is no reference, never an error. */
function namesOneOf(v: string, naming: SentWhen['naming']): string {
  const kinds = naming.map((t) => `(${v}.group == ${lit(t.group)} && ${v}.kind == ${lit(t.kind)})`).join(' || ');
  return `(type(${v}) == map && 'group' in ${v} && 'kind' in ${v} && (${kinds}))`;
}

/** CEL: the object has a reference, in one of the fields, naming one of the kinds. */
function referencesOneOf(when: SentWhen): string {
  const fields = when.refs.map(({ field, list }) => {
    const at = `object.spec.${field}`;
    return list
      ? `(${lit(field)} in object.spec && type(${at}) == list && ${at}.exists(r, ${namesOneOf('r', when.naming)}))`
      : `(${lit(field)} in object.spec && ${namesOneOf(at, when.naming)})`;
  });
  return `'spec' in object && type(object.spec) == map && (${fields.join(' || ')})`;
}

/**
 * The matchConditions of a webhook registration: for each rule whose rows say which objects it
 * judges (sentWhen), requests for those rows' resources are sent only when the object references
 * one of the kinds named; every other request passes the condition. A condition that fails to
 * evaluate falls to the failure policy, so each is written never to fail on a stored object's shape.
 */
export function webhookMatchConditions(webhook: Webhook): { name: string; expression: string }[] {
  const byRule = new Map<string, { when: SentWhen; rows: JudgedKindRow[] }>();
  for (const k of JUDGED_KINDS) {
    if (k.webhook !== webhook || !('sentWhen' in k)) continue;
    const entry = byRule.get(k.rule);
    if (entry && entry.when !== k.sentWhen) throw new Error(`kinds: rule ${k.rule} has rows that disagree on sentWhen`);
    if (entry) entry.rows.push(k);
    else byRule.set(k.rule, { when: k.sentWhen, rows: [k] });
  }
  return [...byRule].map(([rule, { when, rows }]) => {
    const groups = [...new Set(rows.map((r) => r.group))];
    const resources = groups
      .map((g) => {
        const plurals = rows.filter((r) => r.group === g).map((r) => lit(r.plural));
        return `(request.resource.group == ${lit(g)} && request.resource.resource in [${plurals.join(', ')}])`;
      })
      .join(' || ');
    return { name: `${rule}-references`, expression: `!(${resources}) || (${referencesOneOf(when)})` };
  });
}
