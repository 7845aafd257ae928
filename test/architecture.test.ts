import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const Architecture = suite('architecture: each library in one module, pure rules and mutation');

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

const source = files('src').map((path) => ({ path, text: readFileSync(path, 'utf8') }));

/** Runtime (non-type) imports of a package. */
const importers = (pkg: string) =>
  source.filter(({ text }) => new RegExp(`^import (?!type )[^;]*from '${pkg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'`, 'm').test(text)).map((f) => f.path).sort();

const OWNERS: Record<string, readonly string[]> = {
  'fastify': ['src/app.ts'],
  '@kubernetes/client-node': ['src/cluster/kube.ts'],
  'ipaddr.js': ['src/net/cidr.ts'],
  'fast-json-patch': ['src/capture/pod-patch.ts'],
  'selfsigned': ['src/tls.ts'],
  'prom-client': ['src/http/metrics.ts'],
  'pino': ['src/log.ts'],
  'js-yaml': ['src/yaml.ts'],
};

for (const [pkg, owners] of Object.entries(OWNERS)) {
  Architecture(`only ${owners.join(', ')} import ${pkg}`, () => {
    assert.equal(importers(pkg), [...owners]);
  });
}

Architecture('catalogue, rules, capture and review do no I/O and read no environment or clock', () => {
  const impure = /from 'node:(fs|net|http|https|child_process|os)|process\.env|Date\.now\(|new Date\(|fastify|client-node/;
  const offenders = source.filter(({ path, text }) => /^src\/(catalogue|rules|capture|review)\//.test(path) && impure.test(text)).map((f) => f.path);
  assert.equal(offenders, []);
});

Architecture('nothing but the app imports the HTTP layer', () => {
  const offenders = source.filter(({ path, text }) => !path.startsWith('src/http/') && path !== 'src/app.ts' && path !== 'src/commands/serve.ts' && /from '\.\.?\/(\.\.\/)?http\//.test(text)).map((f) => f.path);
  assert.equal(offenders, []);
});

Architecture.run();
