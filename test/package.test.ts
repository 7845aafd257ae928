import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

type Pkg = { bin: Record<string, string>; files: string[]; engines: { node: string }; scripts: Record<string, string> };
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Pkg;

const Package = suite('package: what npm installs and runs');

Package('the installed command is the compiled CLI, and the package ships only the compiled code', () => {
  assert.equal(pkg.bin, { 'egress-warden': './dist/cli.js' });
  assert.equal(pkg.files, ['dist/']);
  const build = JSON.parse(readFileSync('src/tsconfig.build.json', 'utf8')) as { compilerOptions: { outDir: string; rootDir: string } };
  assert.equal([build.compilerOptions.rootDir, build.compilerOptions.outDir], ['.', '../dist']);
  assert.match(pkg.scripts.prepack!, /npm run build/);
  assert.is(pkg.engines.node, '>=24');
});

Package('npm start execs the server, so that npm signals the server itself and never leaves it orphaned', () => {
  assert.match(pkg.scripts.start!, /^exec node src\/cli\.ts serve$/);
});

Package('private keys are kept out of git wherever certs writes them', () => {
  const ignored = readFileSync('.gitignore', 'utf8').split('\n');
  for (const pattern of ['*.key', 'dist/']) assert.ok(ignored.includes(pattern), `.gitignore lacks ${pattern}`);
});

Package("egress-warden help CMD prints that command's help, and an unknown one is refused with status 2", () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli.ts', ...args], { encoding: 'utf8' });
  const help = cli('help', 'check');
  assert.is(help.status, 0, help.stderr);
  assert.match(help.stdout, /^usage: egress-warden check/);
  assert.equal(cli('help', 'doctor').stdout, cli('doctor', '--help').stdout);
  const unknown = cli('help', 'nope; rm -rf /');
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "nope; rm -rf \/"/);
});

Package.run();
