/**
 * GitHub Actions workflow commands: each finding becomes an annotation on its file and line in the
 * pull request (`::error file=…,line=…,title=…::message`), then the summary and what was skipped
 * are printed as text, in the words of the text format.
 */
import { docsLink, issueText, objectRef, skippedLines, summaryLine, title, type Report } from './report.ts';

/** Escaping of the runner's command parser (actions/toolkit, command.ts). */
const data = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const property = (s: string): string => data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export function formatGithub(report: Report): string {
  const lines: string[] = [];
  for (const p of report.problems) {
    const at = p.file === undefined ? '' : `file=${property(p.file)},${p.line === undefined ? '' : `line=${p.line},`}`;
    lines.push(`::error ${at}title=egress-warden::${data(p.message)}`);
  }
  for (const f of report.findings) {
    const heading = `[${f.code}] ${title(f.code)}`;
    const body =
      f.object === undefined ? `${issueText(f)} (${docsLink(f.code)})` : `${f.kind} ${objectRef(f)} ${issueText(f)} (${docsLink(f.code)})`;
    lines.push(`::${f.severity} file=${property(f.file)},line=${f.line},title=${property(heading)}::${data(body)}`);
  }
  if (report.problems.length === 0) lines.push(`egress-warden: ${summaryLine(report.summary)}`, ...skippedLines(report.skipped));
  return `${lines.join('\n')}\n`;
}
