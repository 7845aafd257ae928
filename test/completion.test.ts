import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { flagsOf } from '../src/commands/completion.ts';

const Completion = suite("egress-warden completion: shell completion from each command's own flags");

const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli.ts', ...args], { encoding: 'utf8' });

Completion('reads the long flags a usage text names, once each', () => {
  assert.equal(flagsOf('usage: x [--port 8443] [--kubeconfig FILE | --no-cluster]\n  --port  the port'), [
    '--port',
    '--kubeconfig',
    '--no-cluster',
  ]);
});

Completion("a bash script that bash parses, completing commands, each command's flags and finding codes after help", () => {
  const r = cli('completion', 'bash');
  assert.is(r.status, 0);
  const file = join(tmpdir(), `ew-completion-${process.pid}.bash`);
  writeFileSync(file, r.stdout);
  const complete = (...words: string[]) =>
    spawnSync(
      'bash',
      ['-c', `source ${file}; COMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _egress_warden; echo "\${COMPREPLY[@]}"`],
      {
        encoding: 'utf8',
      },
    ).stdout.trim();
  assert.is(complete('egress-warden', 'exp'), 'explain');
  assert.ok(complete('egress-warden', 'check', '--fa').split(' ').includes('--fail-on'));
  assert.ok(complete('egress-warden', 'serve', '--docs').split(' ').includes('--docs-url'));
  assert.ok(complete('egress-warden', 'help', 'EW42').split(' ').includes('EW420'));
});

Completion('zsh and fish scripts name every command, and an unknown shell is refused', () => {
  for (const shell of ['zsh', 'fish']) {
    const out = cli('completion', shell).stdout;
    for (const command of ['serve', 'check', 'audit', 'explain', 'cidrs', 'manifests', 'certs', 'doctor'])
      assert.ok(out.includes(command), `${shell}: ${command}`);
  }
  const bad = cli('completion', 'tcsh');
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /usage: egress-warden completion bash\|zsh\|fish/);
});

Completion.run();
