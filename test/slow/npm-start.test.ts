/**
 * `npm start` as a developer runs it, and stops it: SIGTERM to npm must stop the server too.
 * A shell between npm and node would die on the signal and leave the server running, orphaned.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const Start = suite('npm start: signals');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

Start('SIGTERM to the npm start process drains and stops the server: nothing of the process group is left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-npm-start-'));
  const npm = spawn('npm', ['start', '--', '--no-cluster', '--port', '0', '--host', '127.0.0.1', '--certs', join(dir, 'certs')], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_loglevel: 'silent' },
  });
  let output = '';
  npm.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  npm.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const group = npm.pid!;
  try {
    const deadline = Date.now() + 60_000;
    while (!output.includes('egress-warden is serving')) {
      if (Date.now() > deadline || npm.exitCode !== null) throw new Error(`the server did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const exited = new Promise<void>((r) => npm.once('exit', () => r()));
    process.kill(group, 'SIGTERM');
    await exited;
    const deadlineGone = Date.now() + 10_000;
    while (alive(-group) && Date.now() < deadlineGone) await new Promise((r) => setTimeout(r, 100));
    assert.not.ok(alive(-group), `a process of npm start's group outlived it:\n${output}`);
    assert.match(output, /shutting down: finishing in-flight reviews/);
  } finally {
    if (alive(-group)) process.kill(-group, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

Start.run();
