/**
 * istio.io's ServiceEntry and VirtualService reference examples (test/fixtures/istio-examples, taken
 * from the proto comments in istio/api) are admitted: each scenario file is judged by `check`, the
 * webhook's own engine with the scenario's objects judged against each other. A reference example
 * that the webhook denied would deny what the Istio documentation tells people to apply.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCheck } from '../../src/commands/check.ts';
import { captureIo } from '../../src/commands/io.ts';

const Examples = suite('rules/istio-examples');

const DIR = 'test/fixtures/istio-examples';

type Report = {
  findings: Array<{ severity: string; code: string; path: string; message: string; name: string }>;
  summary: { objects: number; errors: number; warnings: number; skipped: number };
};

/**
 * Warnings an example may carry because they name a real problem in it, by file and code. None
 * today: an entry here says why the webhook is right to remark on istio.io's own example.
 */
const EXPECTED_WARNINGS: Readonly<Record<string, readonly string[]>> = {};

async function checked(file: string): Promise<{ code: number; report: Report }> {
  const io = captureIo('');
  const code = await runCheck([join(DIR, file), '--output', 'json'], io);
  return { code, report: JSON.parse(io.stdout()) as Report };
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

Examples('the reference pages give 31 scenarios, 9 for ServiceEntry and 22 for VirtualService', () => {
  assert.is(files.filter((f) => f.startsWith('service-entry-')).length, 9);
  assert.is(files.filter((f) => f.startsWith('virtual-service-')).length, 22);
});

for (const file of files) {
  Examples(`admits istio.io's example ${file} with no error`, async () => {
    const { code, report } = await checked(file);
    const shown = JSON.stringify(report.findings, null, 1);
    assert.ok(report.summary.objects > 0, `nothing judged in ${file}`);
    assert.is(report.summary.skipped, 0, `an object of ${file} was skipped`);
    assert.is(report.summary.errors, 0, shown);
    assert.is(code, 0, shown);
    const warnings = report.findings.filter((f) => f.severity === 'warning').map((f) => f.code);
    assert.equal(warnings, EXPECTED_WARNINGS[file] ?? [], shown);
  });
}

Examples.run();
