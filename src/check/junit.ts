/**
 * JUnit XML as GitLab (artifacts:reports:junit) and Jenkins (junit step) read it: one test suite,
 * one test case per object judged (classname: the file, name: kind and object), a failure per
 * object with findings at the failing severity, the other findings as the case's output. A file
 * that was not read is a case with an error, and each skipped document or object a skipped case,
 * so the suite's counts match the other formats; the summary's own counts are the suite's
 * properties.
 */
import {
  docsLink,
  fails,
  issueText,
  objectRef,
  showProblem,
  skippedWhy,
  summaryLine,
  type FailOn,
  type Finding,
  type Report,
  type Skipped,
} from './report.ts';

const xml = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // characters XML 1.0 cannot hold at all
    // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD');

const line = (f: Finding): string => `${f.file}:${f.line}: ${f.severity} [${f.code}] ${issueText(f)} (${docsLink(f.code)})`;

const testcase = (attrs: string, parts: readonly string[]): string =>
  parts.length ? `    <testcase ${attrs}>\n${parts.join('\n')}\n    </testcase>` : `    <testcase ${attrs}/>`;

const skippedName = (s: Skipped): string =>
  s.kind === undefined ? `document at line ${s.line}` : `${s.kind} ${objectRef({ namespace: s.namespace ?? '', name: s.name ?? '' })}`;

export function formatJunit(report: Report, failOn: FailOn): string {
  const byObject = new Map<number, Finding[]>();
  const unread: Finding[] = [];
  for (const f of report.findings) {
    if (f.object === undefined) {
      unread.push(f);
      continue;
    }
    const list = byObject.get(f.object);
    if (list) list.push(f);
    else byObject.set(f.object, [f]);
  }
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  for (const f of unread) {
    const attrs = `classname="${xml(f.file)}" name="input" file="${xml(f.file)}" line="${f.line}"`;
    if (f.severity === 'error') {
      errors++;
      cases.push(testcase(attrs, [`      <error type="${f.code}" message="${xml(f.message)}">${xml(line(f))}</error>`]));
    } else if (fails(f, failOn)) {
      failures++;
      cases.push(testcase(attrs, [`      <failure type="${f.code}" message="${xml(f.message)}">${xml(line(f))}</failure>`]));
    } else {
      cases.push(testcase(attrs, [`      <system-out>${xml(line(f))}</system-out>`]));
    }
  }
  report.checked.forEach((o, n) => {
    const found = byObject.get(n) ?? [];
    const failing = found.filter((f) => fails(f, failOn));
    const rest = found.filter((f) => !fails(f, failOn));
    const attrs = `classname="${xml(o.file)}" name="${xml(`${o.kind} ${objectRef(o)}`)}" file="${xml(o.file)}" line="${o.line}"`;
    const parts: string[] = [];
    if (failing.length) {
      failures++;
      const first = failing[0]!;
      const summary = `[${first.code}] ${issueText(first)}${failing.length > 1 ? ` (and ${failing.length - 1} more)` : ''}`;
      parts.push(`      <failure type="${first.code}" message="${xml(summary)}">${xml(failing.map(line).join('\n'))}</failure>`);
    }
    if (rest.length) parts.push(`      <system-out>${xml(rest.map(line).join('\n'))}</system-out>`);
    cases.push(testcase(attrs, parts));
  });
  for (const s of report.skipped) {
    const attrs = `classname="${xml(s.file)}" name="${xml(skippedName(s))}" file="${xml(s.file)}" line="${s.line}"`;
    cases.push(testcase(attrs, [`      <skipped message="${xml(skippedWhy(s))}"/>`]));
  }
  for (const p of report.problems) {
    errors++;
    const where =
      p.file === undefined ? 'classname="egress-warden" name="cluster"' : `classname="${xml(p.file)}" name="input" file="${xml(p.file)}"`;
    cases.push(testcase(where, [`      <error type="input" message="${xml(p.message)}">${xml(showProblem(p))}</error>`]));
  }
  const tests = cases.length;
  const skipped = report.skipped.length;
  const s = report.summary;
  const properties = (['objects', 'errors', 'warnings', 'skipped'] as const).map(
    (k) => `      <property name="egress-warden.${k}" value="${s[k]}"/>`,
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="egress-warden check" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}">`,
    `  <testsuite name="egress-warden check" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}">`,
    '    <properties>',
    ...properties,
    '    </properties>',
    ...cases,
    ...(report.problems.length === 0 ? [`    <system-out>${xml(summaryLine(s))}</system-out>`] : []),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
