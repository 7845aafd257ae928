/**
 * The judged kinds: one row per kind this webhook reviews. The webhook registrations in the
 * manifests, the rule lookup and its operation gate, the metric kind labels and the informers
 * of the kinds checked across objects are all derived from these rows (Istio's metadata.yaml).
 * Adding a kind is one row here plus its rule.
 */

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** The three webhook registrations: objects validated, namespaces validated, pods mutated. */
export type Webhook = 'validate' | 'namespaces' | 'mutate';

export type JudgedKind = {
  /** "" for core kinds */
  readonly group: string;
  readonly kind: string;
  /** the resource, as in the URL and in RBAC */
  readonly plural: string;
  /**
   * Versions to read, first served wins; unset: the group's preferred version. The webhook is
   * registered for every version of a CRD, so that a new CRD version is never left unjudged.
   */
  readonly versions?: readonly string[];
  readonly scope: 'Namespaced' | 'Cluster';
  readonly operations: readonly Operation[];
  readonly webhook: Webhook;
  /** the rule that judges it, named in denials of a rule that failed */
  readonly rule: string;
  /**
   * Whether the rule compares the object with others of its kind in the cluster: such kinds are
   * watched, indexed in the snapshot, and need list and watch permissions.
   */
  readonly crossObject: false | { readonly why: string };
};

export const JUDGED_KINDS = [
  {
    group: 'networking.istio.io', kind: 'ServiceEntry', plural: 'serviceentries', scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'], webhook: 'validate', rule: 'service-entry', crossObject: { why: 'cross-object ServiceEntry checks' },
  },
  {
    group: 'networking.istio.io', kind: 'VirtualService', plural: 'virtualservices', scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'], webhook: 'validate', rule: 'virtual-service', crossObject: { why: 'cross-object VirtualService checks' },
  },
  {
    group: 'policy.openservicemesh.io', kind: 'Egress', plural: 'egresses', versions: ['v1alpha1'], scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'], webhook: 'validate', rule: 'egress', crossObject: { why: 'tcp-server-first conflicts across Egresses' },
  },
  {
    // The Egress rule reads these through the snapshot (resources.ts watches them); this rule judges one group alone.
    group: 'specs.smi-spec.io', kind: 'HTTPRouteGroup', plural: 'httproutegroups', versions: ['v1alpha4'], scope: 'Namespaced',
    operations: ['CREATE', 'UPDATE'], webhook: 'validate', rule: 'http-route-group', crossObject: false,
  },
  {
    group: '', kind: 'Namespace', plural: 'namespaces', versions: ['v1'], scope: 'Cluster',
    operations: ['CREATE', 'UPDATE'], webhook: 'namespaces', rule: 'namespace', crossObject: false,
  },
  {
    group: '', kind: 'Pod', plural: 'pods', versions: ['v1'], scope: 'Namespaced',
    operations: ['CREATE'], webhook: 'mutate', rule: 'pod-capture', crossObject: false,
  },
] as const satisfies readonly JudgedKind[];

export type JudgedKindRow = (typeof JUDGED_KINDS)[number];
/** The name of a rule, as the rows spell it; the review layer maps each to its function. */
export type RuleName = JudgedKindRow['rule'];
/** The rules that validate (the Pod's is the capture). */
export type ValidatingRuleName = Exclude<JudgedKindRow, { readonly webhook: 'mutate' }>['rule'];

/** "group/Kind", the version-agnostic key (Istio's FindByGroupKind): a new version must not skip a rule. */
export const groupKind = (g: { readonly group?: string; readonly kind?: string }): string => `${g.group ?? ''}/${g.kind ?? ''}`;

const BY_GROUP_KIND: ReadonlyMap<string, JudgedKindRow> = new Map(JUDGED_KINDS.map((k) => [groupKind(k), k]));

/** The row of a group/Kind, whatever its version; undefined for kinds this webhook does not judge. */
export const judgedKind = (g: { readonly group?: string; readonly kind?: string }): JudgedKindRow | undefined => BY_GROUP_KIND.get(groupKind(g));

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
    const same = rules.find((r) => r.apiGroups[0] === k.group && r.scope === k.scope && r.operations.join() === k.operations.join() && r.apiVersions.join() === apiVersions.join());
    if (same) same.resources.push(k.plural);
    else rules.push({ apiGroups: [k.group], apiVersions, operations: [...k.operations], resources: [k.plural], scope: k.scope });
  }
  return rules;
}
