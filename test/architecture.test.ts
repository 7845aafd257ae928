import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const Architecture = suite('architecture: each library in one module, pure rules and capture, layers that only point down');

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

const source = files('src').map((path) => ({ path, text: readFileSync(path, 'utf8') }));

/** Runtime (non-type) imports of a package. */
const importers = (pkg: string) =>
  source
    .filter(({ text }) => new RegExp(`^import (?!type )[^;]*from '${pkg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'`, 'm').test(text))
    .map((f) => f.path)
    .sort();

const OWNERS: Record<string, readonly string[]> = {
  fastify: ['src/app.ts'],
  '@kubernetes/client-node': [
    'src/cluster/kube-events.ts',
    'src/cluster/kube-lease.ts',
    'src/cluster/kube-reports.ts',
    'src/cluster/kube.ts',
  ],
  'ipaddr.js': ['src/net/cidr.ts'],
  'fast-json-patch': ['src/capture/pod-patch.ts'],
  selfsigned: ['src/tls.ts'],
  'prom-client': ['src/http/metrics.ts'],
  pino: ['src/log.ts'],
  'js-yaml': ['src/yaml.ts'],
};

for (const [pkg, owners] of Object.entries(OWNERS)) {
  Architecture(`only ${owners.join(', ')} import ${pkg}`, () => {
    assert.equal(importers(pkg), [...owners]);
  });
}

Architecture('catalogue, rules, capture and review do no I/O and read no environment or clock', () => {
  const impure = /from 'node:(fs|net|http|https|child_process|os)|process\.env|Date\.now\(|new Date\(|fastify|client-node/;
  const offenders = source
    .filter(({ path, text }) => /^src\/(catalogue|rules|capture|review)\//.test(path) && impure.test(text))
    .map((f) => f.path);
  assert.equal(offenders, []);
});

Architecture('nothing but the app imports the HTTP layer', () => {
  const offenders = source
    .filter(
      ({ path, text }) =>
        !path.startsWith('src/http/') &&
        path !== 'src/app.ts' &&
        path !== 'src/commands/serve.ts' &&
        path !== 'src/commands/serve-audit.ts' &&
        /from '\.\.?\/(\.\.\/)?http\//.test(text),
    )
    .map((f) => f.path);
  assert.equal(offenders, []);
});

/**
 * The floor of each folder (and of each file at the top of src/). A module imports only from its
 * own folder or from a folder on a lower floor: two folders on one floor never import each other
 * (rules and capture are siblings). Type-only imports and re-exports count too.
 */
const RANK: Readonly<Record<string, number>> = {
  'json.ts': 0,
  'yaml.ts': 0,
  'log.ts': 0,
  'follow.ts': 0,
  catalogue: 1,
  net: 2,
  admission: 3,
  'tls.ts': 3,
  'token.ts': 3,
  cluster: 4,
  rules: 5,
  capture: 5,
  review: 6,
  explain: 6,
  http: 7,
  manifests: 7,
  check: 7,
  'app.ts': 8,
  'config.ts': 8,
  audit: 8,
  commands: 9,
  'cli.ts': 10,
};

/** The folder under src/ a path belongs to ("rules"), or the file itself when it sits in src/ ("app.ts"). */
const layerOf = (path: string): string => path.replace(/^src\//, '').split('/')[0]!;

type Source = { readonly path: string; readonly text: string };

/** Every relative import, re-export and dynamic import of a module, resolved to a path under src/. */
function importsOf({ path, text }: Source): string[] {
  const specs = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)|(?:^|\n)import\s+'(\.[^']+)'/g),
  ].map((m) => m[1] ?? m[2] ?? m[3]!);
  return specs.map((s) => normalize(join(dirname(path), s)));
}

/** "from -> to" for every import that points up a floor or sideways into another folder of the same floor. */
function upwardImports(sources: readonly Source[]): string[] {
  const out: string[] = [];
  for (const src of sources) {
    const from = layerOf(src.path);
    for (const target of importsOf(src)) {
      const to = layerOf(target);
      if (to === from) continue;
      const a = RANK[from];
      const b = RANK[to];
      if (a === undefined || b === undefined || b >= a) out.push(`${src.path} -> ${target}`);
    }
  }
  return out;
}

Architecture('every folder and top-level file of src/ has a floor', () => {
  const layers = new Set(source.map((f) => layerOf(f.path)));
  assert.equal(
    [...layers].filter((l) => RANK[l] === undefined),
    [],
  );
});

Architecture('every import points down a floor, never up or sideways', () => {
  assert.equal(upwardImports(source), []);
});

Architecture('the floor check rejects an upward import, a sideways one and an unknown folder', () => {
  assert.equal(upwardImports([{ path: 'src/cluster/indexes.ts', text: "import { isPlainTcp } from '../rules/protocol.ts';\n" }]), [
    'src/cluster/indexes.ts -> src/rules/protocol.ts',
  ]);
  assert.equal(upwardImports([{ path: 'src/rules/namespace.ts', text: "import type { Origin } from '../capture/annotations.ts';\n" }]), [
    'src/rules/namespace.ts -> src/capture/annotations.ts',
  ]);
  assert.equal(
    upwardImports([
      {
        path: 'src/catalogue/kinds.ts',
        text: "export { x } from '../admission/types.ts';\nconst m = await import('../review/validate.ts');\n",
      },
    ]),
    ['src/catalogue/kinds.ts -> src/admission/types.ts', 'src/catalogue/kinds.ts -> src/review/validate.ts'],
  );
  assert.equal(upwardImports([{ path: 'src/somewhere/new.ts', text: "import { q } from '../json.ts';\n" }]), [
    'src/somewhere/new.ts -> src/json.ts',
  ]);
  assert.equal(
    upwardImports([
      {
        path: 'src/review/validate.ts',
        text: "import { judgedKind } from '../catalogue/kinds.ts';\nimport { RULES } from './rules.ts';\n",
      },
    ]),
    [],
  );
});

Architecture('rules and capture see the cluster only through the snapshot types', () => {
  const offenders = source
    .filter((f) => /^src\/(rules|capture)\//.test(f.path))
    .flatMap((f) =>
      importsOf(f)
        .filter((t) => t.startsWith('src/cluster/') && t !== 'src/cluster/snapshot.ts')
        .map((t) => `${f.path} -> ${t}`),
    );
  assert.equal(offenders, []);
});

Architecture.run();
