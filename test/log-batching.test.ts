import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LOG_FLUSH_MS } from '../src/log.ts';

const Batching = suite('log: lines are written to stdout in batches');

const LOG = fileURLToPath(new URL('../src/log.ts', import.meta.url));

/** Runs `body` in a process with the JSON logger as `log`; resolves with its stdout lines once `done` says so or it exits. */
function run(body: string, done: (lines: string[]) => boolean = () => false): Promise<{ lines: string[]; exited: boolean }> {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(LOG)}; const log = createLogger('info'); ${body}`],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let text = '';
  const lines = () => text.split('\n').filter(Boolean);
  return new Promise((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (done(lines()) && child.exitCode === null) {
        child.kill();
        resolve({ lines: lines(), exited: false });
      }
    });
    child.on('exit', () => resolve({ lines: lines(), exited: true }));
  });
}

Batching('a single line of a quiet process comes out while the process runs, without waiting for a batch to fill', async () => {
  const { lines, exited } = await run(
    `log.info({ uid: 'one' }, 'admission review'); setTimeout(() => {}, ${LOG_FLUSH_MS * 50});`,
    (l) => l.length > 0,
  );
  assert.not.ok(exited, 'the line came out before the process ended');
  assert.is(JSON.parse(lines[0]!).uid, 'one');
});

Batching('every line written just before the process exits reaches stdout', async () => {
  const { lines, exited } = await run(`for (let i = 0; i < 500; i++) log.info({ i }, 'admission review'); process.exit(0);`);
  assert.ok(exited);
  assert.is(lines.length, 500);
  assert.equal(
    lines.map((l) => (JSON.parse(l) as { i: number }).i),
    Array.from({ length: 500 }, (_, i) => i),
  );
});

Batching('a line logged as the process fails on an uncaught error still reaches stdout', async () => {
  const { lines } = await run(`log.info({ last: true }, 'about to fail'); setImmediate(() => { throw new Error('boom'); });`);
  assert.ok(lines.some((l) => (JSON.parse(l) as { last?: boolean }).last === true));
});

Batching.run();
