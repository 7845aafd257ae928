/**
 * What `egress-warden check` reports, and its plain renderings (text, JSON). The CI formats
 * (SARIF, JUnit, GitHub workflow commands) live beside this file; every format is written for every
 * exit status, so a script or a CI step always gets a report it can read.
 */
import { docsSlug, FINDINGS, type Code, type Severity } from '../catalogue/findings.ts';
import type { InputError } from '../cluster/manifest-files.ts';

export type Finding = {
  /** index of the object in Report.checked; none for a file that was not read, which is about no object */
  readonly object?: number;
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

/**
 * What was read but not judged: a document that is not a Kubernetes object (no kind), or an
 * object of a kind the webhook does not judge (ConfigMap, Service…).
 */
export type Skipped = {
  readonly file: string;
  readonly line: number;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
};

/** Why nothing could be judged: no input at all, a --state that cannot be read, a cluster that does not answer. */
export type Problem = { readonly file?: string; readonly line?: number; readonly message: string };

/** Every format prints these counts, taken from the report's lists so that no two formats can disagree. */
export type Summary = { readonly objects: number; readonly errors: number; readonly warnings: number; readonly skipped: number };

export type Report = {
  readonly findings: readonly Finding[];
  readonly checked: readonly CheckedObject[];
  readonly skipped: readonly Skipped[];
  readonly problems: readonly Problem[];
  readonly summary: Summary;
};

export const summarize = (findings: readonly Finding[], checked: readonly CheckedObject[], skipped: readonly Skipped[]): Summary => ({
  objects: checked.length,
  errors: findings.filter((f) => f.severity === 'error').length,
  warnings: findings.filter((f) => f.severity === 'warning').length,
  skipped: skipped.length,
});

/** The code of a file (or link) that was not read: nothing in it was judged. */
export const UNREAD: Code = 'EW002';

/**
 * A file that could not be read or parsed, as a finding at its file and line, so that the other
 * files are still judged and the report says which one was not. Never demoted by --mode warn: a
 * file nobody could read must not pass the gate.
 */
export const unreadFinding = (e: InputError, severity: Severity): Finding => ({
  file: e.file,
  line: e.line ?? 1,
  kind: '',
  namespace: '',
  name: '',
  severity,
  code: UNREAD,
  path: '',
  message: e.message,
});

/** The severity that fails the check: errors only (default), or warnings too. */
export type FailOn = Severity;

export const fails = (f: { readonly severity: Severity }, failOn: FailOn): boolean => f.severity === 'error' || failOn === 'warning';

/** A report of problems only: nothing was judged. */
export const problemReport = (problems: readonly Problem[]): Report => ({
  findings: [],
  checked: [],
  skipped: [],
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

const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

/** `3 objects checked: 1 error, 2 warnings, 1 skipped`: the same words in every format. */
export const summaryLine = (s: Summary): string =>
  `${plural(s.objects, 'object')} checked: ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${s.skipped} skipped`;

/** Locations listed per group of skipped items; a large tree of ConfigMaps should not bury the findings. */
const SKIPPED_SHOWN = 5;

/** What was skipped, one line per kind (documents that are not objects last), each naming where. */
export function skippedLines(skipped: readonly Skipped[]): string[] {
  const groups = new Map<string, Skipped[]>();
  for (const s of [...skipped.filter((x) => x.kind !== undefined), ...skipped.filter((x) => x.kind === undefined)]) {
    const key = s.kind ?? '';
    const list = groups.get(key);
    if (list) list.push(s);
    else groups.set(key, [s]);
  }
  return [...groups].map(([kind, list]) => {
    const what = kind
      ? `${plural(list.length, `${kind} object`)} (a kind egress-warden does not check)`
      : plural(list.length, 'document that is not a Kubernetes object', 'documents that are not Kubernetes objects');
    const where = list.slice(0, SKIPPED_SHOWN).map((x) => `${x.file}:${x.line}`);
    if (list.length > SKIPPED_SHOWN) where.push(`and ${list.length - SKIPPED_SHOWN} more`);
    return `  skipped ${what}: ${where.join(', ')}`;
  });
}

/** Why an item was skipped, in a few words. */
export const skippedWhy = (s: Skipped): string =>
  s.kind === undefined ? 'not a Kubernetes object (apiVersion and kind are required)' : `${s.kind}: a kind egress-warden does not check`;

/** A finding as one line of text; a file that was not read has no object to name. */
export const findingLine = (f: Finding): string =>
  f.object === undefined
    ? `${f.file}:${f.line}: ${f.severity} [${f.code}] ${oneLine(f.message)}`
    : `${f.file}:${f.line}: ${f.severity} ${f.kind} ${objectRef(f)} [${f.code}] ${issueText(f)}`;

/**
 * `FILE:LINE: SEVERITY KIND NAMESPACE/NAME [CODE] PATH: MESSAGE`, one line per finding, a summary
 * line, what was skipped, then one line per code found with its title and docs section.
 */
export function formatText(report: Report): string {
  const lines = report.problems.map(showProblem);
  for (const f of report.findings) lines.push(findingLine(f));
  if (report.problems.length === 0) lines.push(summaryLine(report.summary), ...skippedLines(report.skipped));
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
  const skipped = report.skipped.map((s) => ({
    file: s.file,
    line: s.line,
    kind: s.kind ?? null,
    namespace: s.namespace ?? null,
    name: s.name ?? null,
  }));
  const problems = report.problems.map((p) => ({
    ...(p.file === undefined ? {} : { file: p.file }),
    ...(p.line === undefined ? {} : { line: p.line }),
    message: p.message,
  }));
  return `${JSON.stringify({ findings, skipped, problems, summary: report.summary }, null, 2)}\n`;
}
