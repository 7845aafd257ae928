/**
 * The rule table and the engine. Rules are looked up by group/Kind, never by version: a new CRD
 * version must not silently skip validation (Istio's FindByGroupKind).
 */
import { groupKind, type AdmissionRequest, type KubeObject, type Operation } from '../admission/types.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { demote, ok, show, type Issue, type Result } from '../catalogue/result.ts';

export type RuleContext = {
  readonly snapshot: ClusterSnapshot;
  readonly namespace: string;
  readonly operation: Operation;
  /** the stored version on UPDATE, as the API server sent it (fresher than the snapshot) */
  readonly oldObject?: KubeObject;
};

export type Rule = (obj: KubeObject, ctx: RuleContext) => Result;

export const MODES = ['enforce', 'warn', 'audit'] as const;
export type Mode = (typeof MODES)[number];

export const MODE_LABEL = 'egress-warden.io/mode';

const rules = new Map<string, { readonly name: string; readonly rule: Rule }>();

/** Registers a rule for a group/Kind (core kinds have an empty group). */
export function register(group: string, kind: string, name: string, rule: Rule): void {
  rules.set(groupKind({ group, kind }), { name, rule });
}

export const ruleFor = (gvk: { readonly group?: string; readonly kind?: string }) => rules.get(groupKind(gvk));

export type Verdict = {
  readonly allowed: boolean;
  /** HTTP-style code for a denial: 403 for policy, 500 for a rule that failed */
  readonly code?: number;
  readonly message?: string;
  readonly warnings: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
  readonly mode: Mode;
  readonly findings: Result;
};

export const allow: Verdict = Object.freeze({ allowed: true, warnings: [], mode: 'enforce' as Mode, findings: ok });

/** Kubernetes asks for warnings of at most 120 characters and drops those past 4096 in total. */
const WARNING_MAX = 120;
const WARNINGS_TOTAL = 4096;

export function formatWarnings(issues: readonly Issue[]): string[] {
  const out: string[] = [];
  let total = 0;
  for (const i of issues) {
    const line = show(i);
    const text = line.length > WARNING_MAX ? `${line.slice(0, WARNING_MAX - 1)}…` : line;
    if (total + text.length > WARNINGS_TOTAL) break;
    total += text.length;
    out.push(text);
  }
  return out;
}

/** The enforcement mode of a namespace (label egress-warden.io/mode); unknown values enforce. */
export function modeOf(labels: Readonly<Record<string, string>> | undefined): Mode {
  const m = labels?.[MODE_LABEL];
  return (MODES as readonly string[]).includes(m ?? '') ? (m as Mode) : 'enforce';
}

/** Folds a rule's result into a verdict under a mode. */
export function verdictOf(r: Result, mode: Mode): Verdict {
  if (mode === 'audit') {
    const all = [...r.errors, ...r.warnings];
    return {
      allowed: true, warnings: [], mode, findings: r,
      ...(all.length ? { auditAnnotations: { findings: all.map(show).join('; ') } } : {}),
    };
  }
  const shown = mode === 'warn' ? demote(r) : r;
  const warnings = formatWarnings(shown.warnings);
  if (shown.errors.length === 0) return { allowed: true, warnings, mode, findings: r };
  return { allowed: false, code: 403, message: shown.errors.map(show).join('\n'), warnings, mode, findings: r };
}

/** Gate, look up, run, fold. A throwing rule denies with code 500 and its name instead of crashing the server. */
export function judge(req: AdmissionRequest, snapshot: ClusterSnapshot): Verdict {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return allow;
  const entry = ruleFor(req.kind);
  const obj = req.object;
  if (!entry || !obj || typeof obj !== 'object') return allow;
  const namespace = req.namespace || obj.metadata?.namespace || '';
  // A Namespace carries its own mode; everything else takes the mode of the namespace it lives in.
  const labels = req.kind.kind === 'Namespace' && req.kind.group === '' ? obj.metadata?.labels : snapshot.namespaces.get(namespace)?.labels;
  const mode = modeOf(labels);
  let result: Result;
  try {
    const oldObject = req.operation === 'UPDATE' && req.oldObject && typeof req.oldObject === 'object' ? req.oldObject : undefined;
    result = entry.rule(obj, { snapshot, namespace, operation: req.operation, ...(oldObject ? { oldObject } : {}) });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { allowed: false, code: 500, message: `internal error in rule ${entry.name}: ${why}`, warnings: [], mode, findings: ok };
  }
  return verdictOf(result, mode);
}
