/**
 * What `check` does with input it cannot judge: a file that does not parse, a symbolic link that
 * loops or leads nowhere, a file or a set over the size limits. Each is reported where it is, and
 * everything else is still judged.
 *
 * Symbolic links are made in a temporary folder, never kept among the fixtures: a loop there would
 * trap every tool that walks test/.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UNREAD } from '../src/check/report.ts';
import { runCheck } from '../src/commands/check.ts';
import { captureIo } from '../src/commands/io.ts';
import { readInputs, type ReadLimits } from '../src/cluster/manifest-files.ts';

const DIR = 'test/fixtures/check';

type Finding = { file: string; line: number; kind: string; name: string; severity: string; code: string; message: string };
type JsonReport = { findings: Finding[]; summary: { objects: number; errors: number; warnings: number; skipped: number } };

async function check(args: readonly string[], stdin = '') {
  const io = captureIo(stdin);
  const code = await runCheck(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

async function checkJson(args: readonly string[], stdin = '') {
  const r = await check([...args, '--output', 'json'], stdin);
  return { code: r.code, report: JSON.parse(r.out) as JsonReport, err: r.err };
}

const about = (report: JsonReport, file: string) => report.findings.filter((f) => f.file === file);

/** A fresh folder for one test, removed afterwards. */
async function inTemp(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ew-check-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const Unreadable = suite('check: a file that cannot be read does not hide the others');

Unreadable('an unclosed "[" is reported at the line it is opened on, not as "deficient indentation" a line later', async () => {
  const file = `${DIR}/unclosed/service-entry.yaml`;
  const { code, report } = await checkJson([`${DIR}/unclosed`, `${DIR}/bad`]);
  assert.is(code, 1);
  assert.equal(
    about(report, file).map((f) => [f.line, f.severity, f.code, f.message]),
    [[7, 'error', UNREAD, 'unclosed flow sequence: "[" on line 7 has no matching "]" before line 8']],
  );
  // the other files are judged as if the broken one were not there
  assert.equal(
    report.findings
      .filter((f) => f.file !== file)
      .map((f) => f.code)
      .sort(),
    ['EW111', 'EW211', 'EW322'],
  );
  assert.equal(report.summary, { objects: 3, errors: 4, warnings: 0, skipped: 0 });
});

Unreadable('a file that cannot be read stays an error with --mode warn, so the check still fails', async () => {
  const { code, report } = await checkJson([`${DIR}/bad`, `${DIR}/syntax-error.yaml`, '--mode', 'warn']);
  assert.is(code, 1);
  assert.equal(
    report.findings.filter((f) => f.severity === 'error').map((f) => f.file),
    [`${DIR}/syntax-error.yaml`],
  );
  assert.ok(report.findings.some((f) => f.code === 'EW111' && f.severity === 'warning'));
});

Unreadable('with a report format on stdout, the files that were not read are named on stderr too', async () => {
  const r = await check([`${DIR}/good`, `${DIR}/syntax-error.yaml`, '-o', 'sarif']);
  assert.is(r.code, 1);
  assert.is(r.err, `check: ${DIR}/syntax-error.yaml:8: bad indentation of a mapping entry\n`);
});

Unreadable('a document that is not a Kubernetes object is still skipped, not an error', async () => {
  const { code, report } = await checkJson(['-'], 'replicas: 3\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n');
  assert.is(code, 0);
  assert.equal(report.summary, { objects: 1, errors: 0, warnings: 0, skipped: 1 });
});

Unreadable.run();

// ---

const Links = suite('check: symbolic links');

Links('a symbolic link loop is a warning naming the link, and the walk ends', async () => {
  await inTemp(async (dir) => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    copyFileSync(`${DIR}/good/egress.yaml`, join(tree, 'sub', 'egress.yaml'));
    symlinkSync('..', join(tree, 'sub', 'loop'));
    symlinkSync('self', join(tree, 'self'));
    const { code, report } = await checkJson([tree]);
    assert.is(code, 0, JSON.stringify(report));
    assert.equal(
      report.findings.map((f) => [f.file, f.severity, f.code, f.message]),
      [
        [join(tree, 'self'), 'warning', UNREAD, 'symbolic link loop: following the link never reaches a file or folder'],
        [join(tree, 'sub', 'loop'), 'warning', UNREAD, `symbolic link loop: leads back to ${tree}, which holds it: not followed`],
      ],
    );
    assert.equal(report.summary, { objects: 1, errors: 0, warnings: 2, skipped: 0 });
    const strict = await check([tree, '--fail-on', 'warning']);
    assert.is(strict.code, 1);
    assert.match(strict.out, `${join(tree, 'sub', 'loop')}:1: warning [${UNREAD}] symbolic link loop: `);
  });
});

Links('a link to a folder above the one checked is a loop too: it is not followed out of the folder', async () => {
  await inTemp(async (dir) => {
    copyFileSync(`${DIR}/good/egress.yaml`, join(dir, 'outside.yaml'));
    const tree = join(dir, 'tree');
    mkdirSync(tree);
    symlinkSync('..', join(tree, 'up'));
    const r = await check([tree]);
    // nothing else in the folder: no input, and the loop is named
    assert.is(r.code, 2);
    assert.is(
      r.err,
      `check: ${join(tree, 'up')}: symbolic link loop: leads back to ${realpathSync(dir)}, which holds it: not followed\n` +
        `check: ${tree}: no input: no .yaml, .yml or .json file found\n`,
    );
  });
});

Links('folders reached through symbolic links are read, each once, and a link to a manifest is read as one', async () => {
  await inTemp(async (dir) => {
    const shared = join(dir, 'shared');
    const tree = join(dir, 'tree');
    mkdirSync(shared);
    mkdirSync(tree);
    copyFileSync(`${DIR}/good/egress.yaml`, join(shared, 'egress.yaml'));
    copyFileSync(`${DIR}/bad/service-entry.yaml`, join(dir, 'entry.yaml'));
    symlinkSync('../shared', join(tree, 'a'));
    symlinkSync('../shared', join(tree, 'b'));
    symlinkSync('../entry.yaml', join(tree, 'entry.yaml'));
    const { report } = await checkJson([tree]);
    assert.equal(report.summary, { objects: 2, errors: 1, warnings: 0, skipped: 0 });
    assert.equal(
      report.findings.map((f) => [f.file, f.code]),
      [[join(tree, 'entry.yaml'), 'EW111']],
    );
  });
});

Links('a broken symbolic link named like a manifest is an error naming the link and its target', async () => {
  await inTemp(async (dir) => {
    copyFileSync(`${DIR}/good/egress.yaml`, join(dir, 'egress.yaml'));
    symlinkSync('moved-away.yaml', join(dir, 'gone.yaml'));
    const { code, report } = await checkJson([dir]);
    assert.is(code, 1);
    assert.equal(
      report.findings.map((f) => [f.file, f.severity, f.message]),
      [[join(dir, 'gone.yaml'), 'error', 'broken symbolic link to moved-away.yaml: no such file or directory']],
    );
    assert.is(report.summary.objects, 1);
  });
});

Links.run();

// ---

const Limits = suite('check: size limits');

const MIB = 2 ** 20;

Limits('a file over 10 MiB is an error naming the file and the limit, is not read, and the other files are still judged', async () => {
  await inTemp(async (dir) => {
    const big = join(dir, 'rendered.yaml');
    writeFileSync(big, '');
    truncateSync(big, 12 * MIB + MIB / 2); // sparse: its size is all that is looked at
    const { code, report } = await checkJson([big, `${DIR}/good`]);
    assert.is(code, 1);
    assert.equal(
      about(report, big).map((f) => [f.line, f.severity, f.code, f.message]),
      [[1, 'error', UNREAD, 'not read: 12.5 MiB, over the limit of 10 MiB per file']],
    );
    assert.is(report.summary.objects, 3);
  });
});

Limits('stdin over 10 MiB is refused in the same words, as more than the limit, since reading stops there', async () => {
  const r = await check(['-'], `# ${'x'.repeat(10 * MIB)}\n`);
  assert.is(r.code, 1);
  assert.match(r.out, '<stdin>:1: error [EW000] not read: more than 10 MiB, over the limit of 10 MiB per file\n'.replace('EW000', UNREAD));
});

/** Resolves when the pipe takes more, or is closed by the reader. */
function writable(pipe: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      pipe.off('drain', done).off('close', done);
      resolve();
    };
    pipe.on('drain', done).on('close', done);
  });
}

Limits('a command piping 64 MiB into check - is cut off just past 10 MiB, not read to the end', async () => {
  const child = spawn(process.execPath, ['src/cli.ts', 'check', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  let written = 0;
  const chunk = Buffer.alloc(MIB, 'x');
  chunk.write('# ');
  child.stdin.on('error', () => {}); // EPIPE once check stops reading: what the writer should see
  const status = new Promise<number | null>((resolve) => child.on('close', resolve));
  for (let i = 0; i < 64 && child.stdin.writable; i++) {
    if (!child.stdin.write(chunk)) await writable(child.stdin);
    written += MIB;
  }
  child.stdin.end();
  assert.is(await status, 1);
  assert.match(out, `not read: more than 10 MiB, over the limit of 10 MiB per file`);
  assert.ok(written < 64 * MIB, `all ${written / MIB} MiB were taken in`);
});

const limits = (l: Partial<ReadLimits>): ReadLimits => ({ fileBytes: 1000, totalBytes: 1000, documents: 1000, ...l });

const namespaces = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${prefix}-${i}\n`).join('---\n');

Limits('past the limit in all, the file that passes it is an error and the files after it are not read', async () => {
  await inTemp(async (dir) => {
    const files = ['a', 'b', 'c', 'd'].map((name) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, namespaces(1, name));
      return file;
    });
    const each = Buffer.byteLength(namespaces(1, 'a'));
    const r = await readInputs(files, captureIo(), 'lenient', limits({ totalBytes: 2 * each + 10 }));
    assert.equal(
      r.items.map((i) => i.object.metadata?.name),
      ['a-0', 'b-0'],
    );
    assert.equal(r.errors, [
      {
        file: files[2],
        message: `not read: ${each} bytes here and ${2 * each} bytes before this file, over the limit of ${2 * each + 10} bytes in all; the file after it was not read either`,
      },
    ]);
  });
});

Limits('past the documents limit in all, reading stops, counting each item of a List as one', async () => {
  await inTemp(async (dir) => {
    const docs = join(dir, 'docs.yaml');
    const list = join(dir, 'list.yaml');
    writeFileSync(docs, namespaces(3, 'doc'));
    writeFileSync(list, `apiVersion: v1\nkind: List\nitems:\n${'- {apiVersion: v1, kind: Namespace, metadata: {name: x}}\n'.repeat(3)}`);
    const r = await readInputs([docs, list], captureIo(), 'lenient', limits({ documents: 5 }));
    assert.is(r.items.length, 3);
    assert.equal(r.errors, [
      {
        file: list,
        message: 'not read: at least 3 documents here and 3 before this file, over the limit of 5 documents and List items in all',
      },
    ]);
  });
});

Limits('a file of more documents than the limit is refused before it is parsed', async () => {
  const r = await readInputs(['-'], captureIo('x: [\n---\n'.repeat(10)), 'lenient', limits({ documents: 5 }));
  // unparsed: its unclosed brackets are never reported
  assert.equal(r.errors, [
    { file: '<stdin>', message: 'not read: 10 documents here and 0 before this file, over the limit of 5 documents and List items in all' },
  ]);
});

Limits('without limits (serve --state, explain), a large file is read whole', async () => {
  const r = await readInputs(['-'], captureIo(namespaces(50, 'ns')), 'lenient');
  assert.is(r.items.length, 50);
  assert.equal(r.errors, []);
});

Limits.run();
