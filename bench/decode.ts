/**
 * The hot path's decode and encode, each way this stack offers, on the bench's own reviews: what
 * `src/app.ts` parses with (plain JSON.parse of the body as a string) against Fastify's default
 * parser (secure-json-parse) and against parsing from the body's bytes; and the answer serialized
 * with the response schema (fast-json-stringify, as Fastify does) against JSON.stringify.
 *
 *   npx node bench/decode.ts [--ms 600]
 */
import fastJsonStringify from 'fast-json-stringify';
import { parseArgs } from 'node:util';
import secureJson from 'secure-json-parse';
import { decodeReview, encodeReview } from '../src/admission/codec.ts';
import { reviewOut } from '../src/http/schemas.ts';
import { RULES } from '../src/review/rules.ts';
import { judgeWith } from '../src/review/validate.ts';
import { admitPod } from '../src/review/mutate.ts';
import { snapshotFromObjects } from '../src/cluster/indexes.ts';
import { BENCH_CIDRS } from './generate.ts';
import { benchNamespace, scenarios } from './reviews.ts';
import { fmt, table } from './stats.ts';

const { values } = parseArgs({ options: { ms: { type: 'string', default: '600' } } });
const ms = Number(values.ms);

/** µs per call of `fn`, the median of three runs of `ms` each. */
function micros(fn: () => unknown): number {
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    let n = 0;
    let sink = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      for (let i = 0; i < 100; i++) sink += fn() ? 1 : 0;
      n += 100;
    }
    if (sink < 0) throw new Error('unreachable');
    runs.push(((performance.now() - t0) * 1000) / n);
  }
  return runs.sort((a, b) => a - b)[1]!;
}

const snapshot = snapshotFromObjects([benchNamespace()], BENCH_CIDRS);
const judge = judgeWith(RULES);
// the schema is declared `as const` for Fastify's route types; fast-json-stringify's own types want it mutable
const serialize = fastJsonStringify(reviewOut as unknown as Parameters<typeof fastJsonStringify>[0]);
const rows: string[][] = [];
for (const s of scenarios()) {
  const bytes = s.body;
  const text = bytes.toString('utf8');
  const decoded = decodeReview(JSON.parse(text));
  if (!decoded.ok) throw new Error(`${s.name}: ${decoded.problem}`);
  const req = decoded.request;
  const decision = s.path.startsWith('/mutate') ? admitPod(req, snapshot) : judge(req, snapshot);
  const answer = encodeReview(decoded.apiVersion, req.uid, decision);
  if (serialize(answer) !== JSON.stringify(answer)) throw new Error(`${s.name}: the two serializations differ`);
  rows.push([
    s.name,
    fmt.int(bytes.length),
    fmt.ms(micros(() => JSON.parse(text))),
    fmt.ms(micros(() => secureJson.parse(text))),
    fmt.ms(micros(() => JSON.parse(bytes.toString('utf8')))),
    fmt.ms(micros(() => serialize(answer))),
    fmt.ms(micros(() => JSON.stringify(answer))),
  ]);
}
process.stdout.write(
  `${table(
    [
      'review',
      'body bytes',
      'JSON.parse µs (egress-warden)',
      'secure-json-parse µs (Fastify default)',
      'JSON.parse from bytes µs',
      'answer, schema µs (egress-warden)',
      'answer, JSON.stringify µs',
    ],
    rows,
    new Set([1, 2, 3, 4, 5, 6]),
  )}\n`,
);
