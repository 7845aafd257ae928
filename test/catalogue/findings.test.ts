import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CODES, FINDINGS, docsSlug, severityOf } from '../../src/catalogue/findings.ts';
import { finding } from '../../src/catalogue/result.ts';

const Findings = suite('catalogue/findings');

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

Findings('every code the sources name is in the catalogue, and every catalogue code is named by a source', () => {
  const named = new Set(
    files('src')
      .filter((f) => !f.startsWith('src/catalogue/'))
      .flatMap((f) => readFileSync(f, 'utf8').match(/'EW\d{3}'/g) ?? [])
      .map((c) => c.slice(1, -1)),
  );
  assert.equal([...named].sort(), [...CODES].sort());
});

Findings('gives every code a severity, a one-line title, a meaning and a fix', () => {
  for (const code of CODES) {
    const f = FINDINGS[code];
    assert.match(code, /^EW[0-6]\d\d$/);
    assert.ok(f.severity === 'error' || f.severity === 'warning', code);
    for (const text of [f.title, f.meaning, f.fix]) assert.ok(text.length > 0 && !text.includes('\n'), code);
    assert.match(docsSlug(code), /^ew\d{3}$/);
  }
});

Findings('files a finding as an error or a warning by the severity of its code', () => {
  assert.equal(finding('EW105', 'spec.hosts', 'no hosts'), {
    errors: [{ code: 'EW105', path: 'spec.hosts', message: 'no hosts' }],
    warnings: [],
  });
  assert.equal(finding('EW103', 'spec.workloadSelector', 'm'), {
    errors: [],
    warnings: [{ code: 'EW103', path: 'spec.workloadSelector', message: 'm' }],
  });
  assert.is(severityOf('EW599'), 'warning');
});

Findings.run();
