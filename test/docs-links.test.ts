import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const DOCS = suite('docs');

/** The per-code reference is generated from the code catalogue; until it exists, links into it wait. */
const GENERATED = normalize('docs/codes.md');

const MARKDOWN = [
  'README.md',
  'manifests/README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];

/** Markdown lines outside fenced code blocks, with inline code spans emptied (their text is not markup). */
function prose(markdown: string): string[] {
  let fenced = false;
  const out: string[] = [];
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) out.push(line);
  }
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingSlugs(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const slugs = new Set<string>();
  for (const line of prose(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

/** Link targets that point inside the repository: `](path)`, `](path#anchor)`, `](#anchor)`. */
function relativeLinks(markdown: string): string[] {
  const links: string[] = [];
  for (const line of prose(markdown)) {
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push(target);
    }
  }
  return links;
}

/** What is wrong with each relative link of `file`, as `file: target: problem`. */
function brokenLinks(file: string): string[] {
  const problems: string[] = [];
  for (const target of relativeLinks(readFileSync(file, 'utf8'))) {
    const [path = '', anchor] = target.split('#', 2);
    const resolved = path === '' ? file : normalize(join(dirname(file), decodeURI(path)));
    if (resolved === GENERATED && !existsSync(GENERATED)) continue;
    if (!existsSync(resolved)) {
      problems.push(`${file}: ${target}: no such file`);
      continue;
    }
    if (anchor === undefined) continue;
    if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) {
      problems.push(`${file}: ${target}: an anchor into something that is not a Markdown file`);
    } else if (!headingSlugs(readFileSync(resolved, 'utf8')).has(anchor)) {
      problems.push(`${file}: ${target}: no heading gives #${anchor}`);
    }
  }
  return problems;
}

DOCS('every relative link in README and docs resolves to a file and heading', () => {
  const problems = MARKDOWN.flatMap(brokenLinks);
  assert.equal(problems, [], problems.join('\n'));
});

DOCS('heading anchors follow GitHub: code, punctuation and repeats', () => {
  const slugs = headingSlugs(
    '# Running without a cluster, and `--state`\n## 2a. Install (recommended)\n## Codes\n### Codes\n```\n# not a heading\n```\n',
  );
  assert.equal([...slugs], ['running-without-a-cluster-and---state', '2a-install-recommended', 'codes', 'codes-1']);
});

DOCS('links inside code are not links, and absolute URLs are not checked', () => {
  const links = relativeLinks('see [a](docs/a.md#x) and [b](https://example.com) and `[c](c.md)`\n```\n[d](d.md)\n```\n[e](#top)');
  assert.equal(links, ['docs/a.md#x', '#top']);
});

DOCS('the README stays short enough to read first (under 350 lines)', () => {
  const lines = readFileSync('README.md', 'utf8').split('\n').length;
  assert.ok(lines < 350, `README.md has ${lines} lines`);
});

DOCS.run();
