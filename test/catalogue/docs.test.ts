import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { renderCodesDoc } from '../../src/catalogue/docs.ts';
import { CODES, FINDINGS, docsSlug } from '../../src/catalogue/findings.ts';

const Docs = suite('catalogue/docs: the generated code reference');

Docs('docs/codes.md is what the generator writes (run npm run docs after changing a code)', () => {
  assert.fixture(readFileSync('docs/codes.md', 'utf8'), renderCodesDoc());
});

Docs('has one section per code, under its stable anchor, with its severity, title and fix', () => {
  const doc = renderCodesDoc();
  for (const code of CODES) {
    const f = FINDINGS[code];
    // GitHub anchors a heading by its lowercased text: "### EW115" is #ew115, the docs slug.
    assert.is(code.toLowerCase(), docsSlug(code));
    assert.ok(doc.includes(`### ${code}\n\n**${f.severity}**: ${f.title}\n`), code);
    assert.ok(doc.includes(`**Fix.** ${f.fix}`), code);
  }
  assert.is(doc.match(/^### EW\d{3}$/gm)?.length, CODES.length);
});

Docs.run();
