/**
 * JUnit XML as GitLab (artifacts:reports:junit) and Jenkins (junit step) read it: one test suite,
 * one test case per object judged (classname: the file, name: kind and object), a failure per
 * object with findings at the failing severity, the other findings as the case's output. Input that
 * cannot be read is one case with an error, so the report is never empty when the check fails.
 */
import { docsLink, fails, issueText, objectRef, showProblem, type FailOn, type Finding, type Report } from './report.ts';

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

export function formatJunit(report: Report, failOn: FailOn): string {
  const byObject = new Map<number, Finding[]>();
  for (const f of report.findings) {
    const list = byObject.get(f.object);
    if (list) list.push(f);
    else byObject.set(f.object, [f]);
  }
  const cases: string[] = [];
  let failures = 0;
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
    cases.push(parts.length ? `    <testcase ${attrs}>\n${parts.join('\n')}\n    </testcase>` : `    <testcase ${attrs}/>`);
  });
  for (const p of report.problems) {
    const where =
      p.file === undefined ? 'classname="egress-warden" name="cluster"' : `classname="${xml(p.file)}" name="input" file="${xml(p.file)}"`;
    cases.push(
      `    <testcase ${where}>\n      <error type="input" message="${xml(p.message)}">${xml(showProblem(p))}</error>\n    </testcase>`,
    );
  }
  const errors = report.problems.length;
  const tests = report.checked.length + errors;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="egress-warden check" tests="${tests}" failures="${failures}" errors="${errors}">`,
    `  <testsuite name="egress-warden check" tests="${tests}" failures="${failures}" errors="${errors}" skipped="0">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
