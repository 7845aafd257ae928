import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readServeConfig } from '../../src/config.ts';
import { startServer } from '../../src/commands/serve.ts';
import { collector, describeFailure, fuzz, loadSeedlings, summaryLine } from '../fuzz/campaign.ts';
import { expectationOf, judgeAnswer, type Answer } from '../fuzz/check.ts';
import { exchange } from '../fuzz/client.ts';
import { addressed, generateCase, type FuzzCase } from '../fuzz/mutate.ts';
import { parseSeed } from '../fuzz/random.ts';
import { fixture } from '../support.ts';

/** Fixed so that npm test is repeatable; FUZZ_SEED=<n> explores another stream. */
const SEED = process.env.FUZZ_SEED ? parseSeed(process.env.FUZZ_SEED) : 0x5eed;

const Generator = suite('fuzz: the case generator and the oracle');

Generator('generates the same case for the same seed and index, and another for another seed', () => {
  const seedlings = loadSeedlings();
  for (const index of [0, 1, 77, 4321]) {
    const a = generateCase(SEED, index, seedlings);
    const b = generateCase(SEED, index, seedlings);
    assert.equal(a.steps, b.steps);
    assert.ok(Buffer.from(a.body).equals(Buffer.from(b.body)), `case ${index} differs between two generations`);
  }
  const bodies = new Set(Array.from({ length: 50 }, (_, i) => Buffer.from(generateCase(SEED + 1, i, seedlings).body).toString('base64')));
  const others = Array.from({ length: 50 }, (_, i) => Buffer.from(generateCase(SEED, i, seedlings).body).toString('base64'));
  assert.ok(others.filter((b) => bodies.has(b)).length < 10, 'two seeds produced mostly the same cases');
});

Generator('generates every kind of damage within the first 3,000 cases', () => {
  const seedlings = loadSeedlings();
  const steps = Array.from({ length: 3000 }, (_, i) => generateCase(0x5eed, i, seedlings).steps.join('; ')).join('\n');
  for (const [what, pattern] of [
    ['fields removed', /removed /],
    ['wrong types', /\) to (number|string|boolean|array|object|null) /],
    ['huge strings', /a string of \d{6,} characters/],
    ['deep nesting', /\d{4,} nested/],
    ['unicode', /unicode/],
    ['numbers as strings', /numbers into strings|number-like string/],
    ['nulls', /to null/],
    ['duplicate keys', /repeated (the uid )?key/],
    ['truncated JSON', /truncated to|cut the last/],
    ['untouched recordings', /unchanged/],
    ['random reviews', /a random review/],
    ['bodies over the limit', /past the body limit/],
    ['calls without the token', /caller token: no token/],
    ['wrong tokens', /caller token: a wrong token/],
    ['tokens almost right', /caller token: (the token in upper case|half the token|the token with something after it)/],
  ] as const) {
    assert.match(steps, pattern, `no case with ${what}`);
  }
});

const review = fixture<{ review: { request: { uid: string } } }>('reviews/003-validate-create-serviceentry.review-v1.json').review;
const caseOf = (body: string, pristine = false, path = '/validate'): FuzzCase => ({
  seed: 0,
  index: 0,
  method: 'POST',
  path,
  headers: { 'content-type': 'application/json' },
  body,
  steps: [],
  pristine,
});
/** A caller token as the server would hold it, for the verdicts on paths that carry one. */
const TOKEN = 'fuzz-oracle-token-0123456789abcdefghijklmnopq';
const reply = (status: number, body: unknown): Answer => ({
  ok: true,
  status,
  contentType: 'application/json; charset=utf-8',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  ms: 1,
});
const answer = (uid: string, apiVersion = 'admission.k8s.io/v1') => ({
  apiVersion,
  kind: 'AdmissionReview',
  response: { uid, allowed: true },
});

const verdicts: [string, FuzzCase, Answer, RegExp | undefined, string?][] = [
  ['accepts an answer that echoes the uid', caseOf(JSON.stringify(review)), reply(200, answer(review.request.uid)), undefined],
  ['rejects an answer with another uid', caseOf(JSON.stringify(review)), reply(200, answer('other')), /wrong uid/],
  [
    'holds a duplicated uid to the last copy, as JSON.parse reads it',
    caseOf(JSON.stringify(review).replace('"uid":', '"uid":"first","uid":')),
    reply(200, answer('first')),
    /wrong uid/,
  ],
  [
    'reads a raw lone surrogate in the uid as the U+FFFD it was sent as',
    caseOf('{"apiVersion":"admission.k8s.io/v1","request":{"uid":"a\ud800b"}}'),
    reply(200, answer('a\ufffdb')),
    undefined,
  ],
  [
    'rejects an answer in another version',
    caseOf(JSON.stringify(review)),
    reply(200, answer(review.request.uid, 'admission.k8s.io/v1beta1')),
    /answered in/,
  ],
  ['rejects a 500', caseOf('{}'), reply(500, { message: 'boom' }), /status 500/],
  ['rejects a 400 without a message', caseOf('{'), reply(400, { statusCode: 400 }), /without a message/],
  ['accepts a 400 with a message', caseOf('{'), reply(400, { statusCode: 400, message: 'bad' }), undefined],
  ['rejects a 200 to a body that is not JSON', caseOf('{"kind":'), reply(200, answer('x')), /not JSON/],
  ['rejects a 400 to an untouched recording', caseOf(JSON.stringify(review), true), reply(400, { message: 'no' }), /untouched/],
  [
    'rejects a denial without a status',
    caseOf(JSON.stringify(review)),
    reply(200, { ...answer(review.request.uid), response: { uid: review.request.uid, allowed: false } }),
    /denial/,
  ],
  ['rejects a dropped connection', caseOf('{}'), { ok: false, error: 'ECONNRESET socket hang up', ms: 1 }, /no answer/],
  [
    'accepts a review at the path with the caller token',
    caseOf(JSON.stringify(review), true, `/validate/${TOKEN}?timeout=5s`),
    reply(200, answer(review.request.uid)),
    undefined,
    TOKEN,
  ],
  [
    'rejects a review of a caller without the token',
    caseOf(JSON.stringify(review), false, '/validate'),
    reply(200, answer(review.request.uid)),
    /not 401/,
    TOKEN,
  ],
  [
    'accepts a 401 with a message to a caller without the token',
    caseOf(JSON.stringify(review), false, '/mutate/'),
    reply(401, { message: 'needs the token' }),
    undefined,
    TOKEN,
  ],
  [
    'accepts a 403 with a message to a wrong token',
    caseOf('{', false, '/validate/not-the-token-at-all-0123456789'),
    reply(403, { message: 'not accepted' }),
    undefined,
    TOKEN,
  ],
  [
    'rejects a 400 to a wrong token: the body was read before the caller was refused',
    caseOf('{', false, `/validate/${TOKEN}x`),
    reply(400, { message: 'bad json' }),
    /wrong token, not 403/,
    TOKEN,
  ],
  [
    'rejects a 403 to the right token',
    caseOf('{', false, `/mutate/${TOKEN}?timeout=1s`),
    reply(403, { message: 'no' }),
    /right caller token/,
    TOKEN,
  ],
  [
    'rejects a 200 to a path that is not an admission endpoint',
    caseOf(JSON.stringify(review), false, `/validate${TOKEN}`),
    reply(200, answer(review.request.uid)),
    /without the caller token/,
    TOKEN,
  ],
  [
    'reads a path the way the client sends it, with .. resolved',
    caseOf('{}', false, `/validate/${TOKEN}/../x`),
    reply(400, { message: 'bad' }),
    /wrong token/,
    TOKEN,
  ],
];

for (const [what, c, a, expected, token] of verdicts) {
  Generator(`the oracle ${what}`, () => {
    const why = judgeAnswer(c, a, expectationOf(c, token));
    if (expected === undefined) assert.is(why, undefined);
    else assert.match(why ?? '', expected);
  });
}

Generator.run();

// ---

const Fuzz = suite('fuzz: the real HTTPS server under damaged reviews');

Fuzz(
  'answers 3,000 damaged reviews with a 4xx and a message or a well-formed review with the right uid, and keeps memory flat',
  async () => {
    // Bounded by the number of cases; the time limit is only a safety net, so a loaded machine runs slower, not fewer.
    const s = await fuzz({ seed: SEED, cases: 3000, seconds: 240 });
    const report = [
      summaryLine(s),
      ...s.failures.slice(0, 5).map((f) => describeFailure(SEED, f)),
      `replay the run: FUZZ_SEED=${SEED} npm test, or node --expose-gc test/fuzz/run.ts --seed ${SEED} --cases 3000`,
    ].join('\n');
    if (s.failures.length || !s.memory.ok || !s.alive) process.stderr.write(`${report}\n`);
    assert.is(s.ran, 3000, `only ${s.ran} cases ran in the time allowed\n${report}`);
    assert.is(s.failures.length, 0, report);
    assert.ok(s.memory.ok, `memory grew\n${report}`);
    assert.ok(s.alive, `the server stopped answering\n${report}`);
    assert.not.ok(s.metrics.showsToken, `the caller token shows on the metrics page\n${report}`);
    assert.ok(s.metrics.routes <= 2, `${s.metrics.routes} route labels on the metrics page: a path became a label\n${report}`);
    // the wrong-token cases are part of the run, not skipped on the way
    assert.ok((s.statuses['401'] ?? 0) > 0 && (s.statuses['403'] ?? 0) > 0, `no call was refused for its token\n${report}`);
  },
);

/** Bodies the fuzzer once broke the server with, replayed on every run (the regression corpus). */
const CRASHERS: [string, () => string][] = [
  ['a kind nested 10,000 arrays deep', () => `{"kind":${'['.repeat(10_000)}${']'.repeat(10_000)}}`],
  [
    'an apiVersion nested 10,000 objects deep',
    () => `{"kind":"AdmissionReview","apiVersion":${'{"a":'.repeat(10_000)}null${'}'.repeat(10_000)}}`,
  ],
];

Fuzz('answers the bodies that once broke it with a 4xx and a message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-crashers-'));
  const server = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
    env: {},
    logLevel: false,
  });
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const token = server.paths.validate.slice('/validate/'.length);
  try {
    for (const [what, body] of CRASHERS) {
      for (const path of ['/validate/{token}', '/mutate/{token}']) {
        const c = addressed({ ...caseOf(body()), path }, token);
        const why = judgeAnswer(c, await exchange(server.url, c, { ca, agent: false }), expectationOf(c, token));
        assert.is(why, undefined, `${what} on ${path}: ${why}`);
      }
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

Fuzz('keeps memory and the metrics page bounded when every review names a kind never seen before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-kinds-'));
  const server = await startServer(readServeConfig(['--port', '0', '--host', '127.0.0.1', '--certs', dir, '--no-cluster'], {}), {
    env: {},
    logLevel: false,
  });
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const gc = collector();
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  try {
    const post = (kind: string) => {
      const r = structuredClone(review) as { request: { uid: string; kind: { kind: string } } };
      r.request.kind.kind = kind;
      return exchange(
        server.url,
        { method: 'POST', path: server.paths.validate, headers: { 'content-type': 'application/json' }, body: JSON.stringify(r) },
        { ca, agent },
      );
    };
    for (let i = 0; i < 50; i++) await post('ServiceEntry');
    const before = heap();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 2000) {
          const a = await post(`Kind${next++}-${'x'.repeat(1000)}`);
          assert.ok(a.ok && a.status === 200, JSON.stringify(a).slice(0, 200));
        }
      }),
    );
    const grew = heap() - before;
    const page = await exchange(server.url, { method: 'GET', path: '/metrics', headers: {} }, { ca, agent, timeoutMs: 30_000 });
    assert.ok(page.ok);
    const bytes = page.ok ? Buffer.byteLength(page.body) : 0;
    assert.ok(bytes < 1024 * 1024, `the metrics page grew to ${(bytes / 1048576).toFixed(1)} MiB after 2,000 reviews of distinct kinds`);
    assert.ok(grew < 4 * 1024 * 1024, `the heap grew by ${(grew / 1048576).toFixed(1)} MiB after 2,000 reviews of distinct kinds`);
  } finally {
    agent.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

Fuzz.run();
