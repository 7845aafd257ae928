/**
 * What `egress-warden check` reports, and its plain renderings (text, JSON). The CI formats
 * (SARIF, JUnit, GitHub workflow commands) live beside this file; every format is written for every
 * exit status, so a script or a CI step always gets a report it can read.
 */
import { docsSlug, FINDINGS, type Code, type Severity } from '../catalogue/findings.ts';

export type Finding = {
  /** index of the object in Report.checked */
  readonly object: number;
  readonly file: string;
  readonly line: number;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly severity: Severity;
  readonly code: Code;
  readonly path: string;
  readonly message: string;
};

/** An object that was judged, whether or not it has findings (JUnit lists each as a test case). */
export type CheckedObject = {
  readonly file: string;
  readonly line: number;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
};

/** Why nothing could be judged: input that cannot be read, no input at all, a cluster that does not answer. */
export type Problem = { readonly file?: string; readonly line?: number; readonly message: string };

export type Summary = { readonly objects: number; readonly errors: number; readonly warnings: number; readonly skipped: number };

export type Report = {
  readonly findings: readonly Finding[];
  readonly checked: readonly CheckedObject[];
  readonly problems: readonly Problem[];
  readonly summary: Summary;
};

/** The severity that fails the check: errors only (default), or warnings too. */
export type FailOn = Severity;

export const fails = (f: { readonly severity: Severity }, failOn: FailOn): boolean => f.severity === 'error' || failOn === 'warning';

/** A report of problems only: nothing was judged. */
export const problemReport = (problems: readonly Problem[]): Report => ({
  findings: [],
  checked: [],
  problems,
  summary: { objects: 0, errors: 0, warnings: 0, skipped: 0 },
});

/** The code's section in docs/codes.md, relative to the repository root. */
export const docsLink = (code: Code): string => `docs/codes.md#${docsSlug(code)}`;

export const title = (code: Code): string => FINDINGS[code].title;

/** "shop/mirror", "mirror" for cluster-scoped objects, "<unnamed>" without a name. */
export const objectRef = (o: { readonly namespace: string; readonly name: string }): string =>
  o.namespace ? `${o.namespace}/${o.name || '<unnamed>'}` : o.name || '<unnamed>';

/** `PATH: MESSAGE`, or the message alone for a finding about the whole object; always one line. */
export const issueText = (f: Finding): string => oneLine(f.path ? `${f.path}: ${f.message}` : f.message);

const oneLine = (s: string): string => s.replace(/\s*[\r\n]+\s*/g, ' ');

/** "file:line: message", "file: message", or the message alone when no file is to blame. */
export const showProblem = (p: Problem): string =>
  p.file === undefined ? p.message : `${p.line === undefined ? p.file : `${p.file}:${p.line}`}: ${p.message}`;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * `FILE:LINE: SEVERITY KIND NAMESPACE/NAME [CODE] PATH: MESSAGE`, one line per finding, a summary
 * line, then one line per code found with its title and docs section.
 */
export function formatText(report: Report): string {
  const lines = report.problems.map(showProblem);
  for (const f of report.findings) lines.push(`${f.file}:${f.line}: ${f.severity} ${f.kind} ${objectRef(f)} [${f.code}] ${issueText(f)}`);
  const s = report.summary;
  if (report.problems.length === 0) {
    lines.push(
      `${plural(s.objects, 'object')} checked: ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${s.skipped} skipped`,
    );
  }
  const codes = [...new Set(report.findings.map((f) => f.code))].sort();
  for (const c of codes) lines.push(`  ${c} ${title(c)}: ${docsLink(c)}`);
  return `${lines.join('\n')}\n`;
}

export function formatJson(report: Report): string {
  const findings = report.findings.map((f) => ({
    file: f.file,
    line: f.line,
    kind: f.kind,
    namespace: f.namespace,
    name: f.name,
    severity: f.severity,
    code: f.code,
    path: f.path,
    message: f.message,
    docs: docsLink(f.code),
  }));
  const problems = report.problems.map((p) => ({
    ...(p.file === undefined ? {} : { file: p.file }),
    ...(p.line === undefined ? {} : { line: p.line }),
    message: p.message,
  }));
  return `${JSON.stringify({ findings, problems, summary: report.summary }, null, 2)}\n`;
}
