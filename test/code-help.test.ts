import { spawnSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CODES, FINDINGS } from '../src/catalogue/findings.ts';
import { codeHelp } from '../src/commands/code-help.ts';
import { captureIo } from '../src/commands/io.ts';

const Help = suite("egress-warden help EWnnn: a code's page offline");

const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli.ts', ...args], { encoding: 'utf8' });

Help('prints the severity, title, meaning and fix of every code, in any letter case', () => {
  for (const code of CODES) {
    const io = captureIo();
    assert.is(codeHelp(code.toLowerCase(), io), 0);
    const out = io.stdout();
    assert.ok(out.startsWith(`${code} (${FINDINGS[code].severity}, `), out);
    assert.ok(out.includes('Fix: '), code);
  }
});

Help('is what the pointer at the end of a denial runs, and refuses a code that does not exist', () => {
  const ok = cli('help', 'EW420');
  assert.is(ok.status, 0);
  assert.match(ok.stdout, /^EW420 \(error, tcp-server-first conflicts\): /);
  const none = cli('help', 'EW998');
  assert.is(none.status, 2);
  assert.match(none.stderr, /no finding code EW998/);
});

Help('the top-level help names --version and help EWnnn', () => {
  const r = cli('--help');
  assert.match(r.stdout, /egress-warden --version/);
  assert.match(r.stdout, /egress-warden help EWnnn/);
});

Help.run();
