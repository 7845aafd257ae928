/** What `egress-warden check` reports, and its two renderings. */
import { show, type Severity } from '../catalogue/result.ts';

export type Finding = {
  readonly file: string;
  readonly line: number;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly severity: Severity;
  readonly code: string;
  readonly path: string;
  readonly message: string;
};

export type Summary = { readonly objects: number; readonly errors: number; readonly warnings: number; readonly skipped: number };

export type Report = { readonly findings: Finding[]; readonly summary: Summary };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `FILE:LINE KIND NAMESPACE/NAME [CODE] PATH: MESSAGE`, one line per finding, then a summary line. */
export function formatText(report: Report): string {
  const lines = report.findings.map((f) => {
    const ref = f.namespace ? `${f.namespace}/${f.name || '<unnamed>'}` : f.name || '<unnamed>';
    const issue = f.path ? show(f) : `[${f.code}] ${f.message}`;
    return `${f.file}:${f.line} ${f.kind} ${ref} ${issue}`;
  });
  const s = report.summary;
  lines.push(`${plural(s.objects, 'object')} checked: ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${s.skipped} skipped`);
  return `${lines.join('\n')}\n`;
}

export function formatJson(report: Report): string {
  const findings = report.findings.map((f) => ({
    file: f.file, line: f.line, kind: f.kind, namespace: f.namespace, name: f.name,
    severity: f.severity, code: f.code, path: f.path, message: f.message,
  }));
  return `${JSON.stringify({ findings, summary: report.summary }, null, 2)}\n`;
}
