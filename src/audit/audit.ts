/**
 * The audit of what a cluster already stores: every stored object judged by the admission rules
 * against all the others (the snapshot holds the whole cluster, so order plays no part, and a
 * cross-object finding is reported on both objects of a pair), and the pods whose capture went
 * stale. Pure: the command reads the cluster and renders the report.
 */
import type { KubeObject } from '../admission/types.ts';
import { checkItems } from '../check/items.ts';
import type { Finding } from '../check/report.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { stalePods, type StalePod } from './stale.ts';

export type AuditSummary = {
  readonly objects: number;
  readonly errors: number;
  readonly warnings: number;
  readonly pods: number;
  readonly stalePods: number;
};

export type AuditReport = {
  readonly findings: readonly Finding[];
  readonly stale: readonly StalePod[];
  readonly summary: AuditSummary;
};

/** `objects`: the stored objects of judged kinds (and Namespaces); `pods`: every stored pod. */
export function audit(objects: readonly KubeObject[], pods: readonly KubeObject[], snapshot: ClusterSnapshot): AuditReport {
  const items = objects.map((object) => ({ object, file: '', line: 0, lineOf: () => 0 }));
  const checked = checkItems(items, snapshot, { namespace: 'default', mode: 'enforce' });
  const stale = stalePods(pods, snapshot);
  return {
    findings: checked.findings,
    stale,
    summary: {
      objects: checked.summary.objects,
      errors: checked.summary.errors,
      warnings: checked.summary.warnings,
      pods: pods.length,
      stalePods: stale.length,
    },
  };
}

/** Keeps what concerns one namespace (cluster-scoped objects: the Namespace itself). */
export function inNamespace(report: AuditReport, namespace: string): AuditReport {
  const findings = report.findings.filter((f) => f.namespace === namespace || (f.kind === 'Namespace' && f.name === namespace));
  const stale = report.stale.filter((p) => p.namespace === namespace);
  return {
    findings,
    stale,
    summary: {
      ...report.summary,
      errors: findings.filter((f) => f.severity === 'error').length,
      warnings: findings.filter((f) => f.severity === 'warning').length,
      stalePods: stale.length,
    },
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const shown = (v: string | null) => v ?? '(none)';

export function formatAuditText(r: AuditReport): string {
  const lines = r.findings.map((f) => {
    const ref = f.namespace ? `${f.namespace}/${f.name}` : f.name;
    return `${f.severity === 'error' ? 'error  ' : 'warning'} ${f.kind} ${ref} [${f.code}] ${f.path ? `${f.path}: ` : ''}${f.message}`;
  });
  if (r.stale.length) {
    lines.push('', 'pods to restart: their capture ranges differ from what egress-warden would write now');
    for (const p of r.stale) {
      lines.push(`  ${p.namespace}/${p.name}: ${p.why}`);
      for (const c of p.changes) lines.push(`    ${c.where}: ${shown(c.was)} -> ${shown(c.now)}`);
    }
  }
  const s = r.summary;
  lines.push(
    `${plural(s.objects, 'object')} audited: ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}; ` +
      `${plural(s.pods, 'pod')} checked, ${s.stalePods} to restart`,
  );
  return `${lines.join('\n')}\n`;
}

export function formatAuditJson(r: AuditReport): string {
  const findings = r.findings.map((f) => ({
    kind: f.kind,
    namespace: f.namespace,
    name: f.name,
    severity: f.severity,
    code: f.code,
    path: f.path,
    message: f.message,
  }));
  return `${JSON.stringify({ findings, stalePods: r.stale, summary: r.summary }, null, 2)}\n`;
}
