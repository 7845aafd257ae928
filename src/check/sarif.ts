/**
 * SARIF 2.1.0 (OASIS), as GitHub code scanning and other SARIF viewers read it: one run whose
 * driver lists every finding code as a rule (id, title, help with the meaning, the fix and the
 * code's section in docs/codes.md), one result per finding at its file and line (a file that was
 * not read too, so code scanning shows it on the file), each skipped document or object as a
 * note, the summary's counts as the run's properties, and what stopped the check as tool
 * execution notifications of a run that did not succeed.
 */
import { urlPointer } from '../catalogue/docs.ts';
import { CODES, FINDINGS, type Code } from '../catalogue/findings.ts';
import { docsLink, issueText, objectRef, skippedWhy, type Problem, type Report, type Skipped } from './report.ts';

export const SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** The root the relative paths of a run are against: the directory check ran in (the checkout in CI). */
const ROOT = '%SRCROOT%';

/** A file name as an artifact location: relative paths stay relative to the checkout, every segment percent-encoded. */
function artifact(file: string): { uri: string; uriBaseId?: string } {
  const path = file.replace(/\\/g, '/');
  const encoded = path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
  if (path.startsWith('/')) return { uri: `file://${encoded}` };
  return { uri: encoded.replace(/^(\.\/)+/, ''), uriBaseId: ROOT };
}

const RULE_INDEX: ReadonlyMap<Code, number> = new Map(CODES.map((c, i) => [c, i]));

function rule(code: Code, docsUrl: string | undefined) {
  const f = FINDINGS[code];
  const docs = docsLink(code);
  return {
    // an absolute page for viewers that link it; without a docs site, the help text says where the page is
    ...(docsUrl ? { helpUri: urlPointer(docsUrl)(code) } : {}),
    id: code,
    name: code,
    shortDescription: { text: f.title },
    fullDescription: { text: f.meaning },
    help: {
      text: `${f.meaning}\nFix: ${f.fix}\nReference: ${docs} in the egress-warden repository`,
      markdown: `${f.meaning}\n\n**Fix.** ${f.fix}\n\nReference: [${code}](${docs}) in the egress-warden repository`,
    },
    defaultConfiguration: { level: f.severity },
    properties: { docs },
  };
}

const located = (file: string | undefined, line: number | undefined) =>
  file === undefined
    ? {}
    : {
        locations: [
          { physicalLocation: { artifactLocation: artifact(file), ...(line === undefined ? {} : { region: { startLine: line } }) } },
        ],
      };

const notification = (p: Problem) => ({ level: 'error', message: { text: p.message }, ...located(p.file, p.line) });

const skippedNote = (s: Skipped) => ({ level: 'note', message: { text: `skipped: ${skippedWhy(s)}` }, ...located(s.file, s.line) });

export function formatSarif(report: Report, version: string, docsUrl?: string): string {
  const results = report.findings.map((f) => ({
    ruleId: f.code,
    ruleIndex: RULE_INDEX.get(f.code)!,
    level: f.severity,
    message: { text: f.object === undefined ? issueText(f) : `${f.kind} ${objectRef(f)} ${issueText(f)}` },
    locations: [
      {
        physicalLocation: { artifactLocation: artifact(f.file), region: { startLine: f.line } },
        ...(f.object === undefined
          ? {}
          : { logicalLocations: [{ name: f.name || '<unnamed>', fullyQualifiedName: `${f.kind}/${objectRef(f)}`, kind: 'resource' }] }),
      },
    ],
  }));
  const notifications = [...report.problems.map(notification), ...report.skipped.map(skippedNote)];
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'egress-warden', version, semanticVersion: version, rules: CODES.map((c) => rule(c, docsUrl)) } },
        originalUriBaseIds: { [ROOT]: { description: { text: 'the directory egress-warden check ran in' } } },
        invocations: [
          {
            executionSuccessful: report.problems.length === 0,
            ...(notifications.length ? { toolExecutionNotifications: notifications } : {}),
          },
        ],
        results,
        properties: { summary: report.summary },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
