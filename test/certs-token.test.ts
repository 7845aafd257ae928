import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TOKEN_PATTERN } from '../src/catalogue/endpoints.ts';
import { runCerts } from '../src/commands/certs.ts';
import { captureIo } from '../src/commands/io.ts';
import { readTokens } from '../src/token.ts';

const Certs = suite('certs: the caller token beside the certificates');

async function certs(...argv: string[]) {
  const io = captureIo();
  const code = await runCerts(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

async function inDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ew-certs-token-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

Certs('certs writes a random caller token, readable only by its owner, and names it in what it wrote', () =>
  inDir(async (dir) => {
    const r = await certs('--dir', dir);
    assert.is(r.code, 0, r.err);
    const file = join(dir, 'token');
    assert.match(r.out, new RegExp(`^wrote .*${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.is(statSync(file).mode & 0o777, 0o600);
    const [token, ...more] = await readTokens(file);
    assert.ok(TOKEN_PATTERN.test(token!), token);
    assert.equal(more, []);
    const other = mkdtempSync(join(tmpdir(), 'ew-certs-token-'));
    try {
      assert.is((await certs('--dir', other)).code, 0);
      assert.is.not(readFileSync(join(other, 'token'), 'utf8'), readFileSync(file, 'utf8'), 'each directory gets its own token');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  }),
);

Certs('renewing the certificates keeps the token, with --force and with --keep-ca, until --new-token replaces it', () =>
  inDir(async (dir) => {
    assert.is((await certs('--dir', dir)).code, 0);
    const token = readFileSync(join(dir, 'token'), 'utf8');
    for (const flag of ['--force', '--keep-ca']) {
      const r = await certs('--dir', dir, flag);
      assert.is(r.code, 0, r.err);
      assert.is(readFileSync(join(dir, 'token'), 'utf8'), token, `${flag} replaced the token`);
      assert.match(r.out, `the token in ${join(dir, 'token')} was kept`);
    }
    const renewed = await certs('--dir', dir, '--force', '--new-token');
    assert.is(renewed.code, 0, renewed.err);
    assert.is.not(readFileSync(join(dir, 'token'), 'utf8'), token);
    assert.is(statSync(join(dir, 'token')).mode & 0o777, 0o600);
    assert.not.match(renewed.out, 'was kept');
  }),
);

Certs('a token file that holds no token is refused before anything is written, and --new-token replaces it', () =>
  inDir(async (dir) => {
    writeFileSync(join(dir, 'token'), 'not a token\n');
    const r = await certs('--dir', dir);
    assert.is(r.code, 2);
    assert.match(r.err, 'is not a caller token');
    assert.match(r.err, 'pass --new-token to replace it');
    assert.throws(() => statSync(join(dir, 'tls.crt')), /ENOENT/);
    assert.is((await certs('--dir', dir, '--new-token')).code, 0);
    assert.is((await readTokens(join(dir, 'token'))).length, 1);
  }),
);

Certs.run();
