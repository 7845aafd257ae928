import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import { emptySnapshot } from '../src/cluster/snapshot.ts';
import { UNAUTHENTICATED } from '../src/http/caller.ts';
import { createMetrics } from '../src/http/metrics.ts';
import type { ReviewLogPolicy } from '../src/log.ts';
import { admitPod } from '../src/review/mutate.ts';
import { RULES } from '../src/review/rules.ts';
import { judgeWith } from '../src/review/validate.ts';
import { fixture } from './support.ts';

const Log = suite('review log: which reviews write a line, and the summary');

type Line = { level: number; msg: string; [key: string]: unknown };

const valid = () => fixture<any>('reviews/003-validate-create-serviceentry.review-v1.json').review;
const denied = () => {
  const review = valid();
  review.request.uid = 'denied-uid';
  // not a DNS label: denied as Istio's own webhook would
  review.request.object.spec.ports[0].name = 'HTTP_80!';
  return review;
};
const pod = () => fixture<any>('reviews/012-mutate-create-pod.review-v1.json').review;

/** Sends one allowed, one denied and one pod review through an app logging at `level` under `policy`. */
async function run(policy: ReviewLogPolicy, level: string): Promise<{ lines: Line[]; patched: boolean }> {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const app = buildApp({
    tls: null,
    logger: pino({ level }, sink),
    metrics: createMetrics(() => ({ ready: true, informers: [] }), false),
    auth: UNAUTHENTICATED,
    cluster: { current: () => emptySnapshot(), ready: () => true, status: () => ({}) },
    validate: judgeWith(RULES),
    mutate: admitPod,
    reviewLog: { policy },
  });
  let patched = false;
  try {
    assert.is((await app.inject({ method: 'POST', url: '/validate', payload: valid() })).json().response.allowed, true);
    assert.is((await app.inject({ method: 'POST', url: '/validate', payload: denied() })).json().response.allowed, false);
    patched = (await app.inject({ method: 'POST', url: '/mutate', payload: pod() })).json().response.patch !== undefined;
  } finally {
    await app.close();
  }
  return { lines, patched };
}

const reviewLines = (lines: Line[]) => lines.filter((l) => l.msg === 'admission review');
const summaryOf = (lines: Line[]) => lines.find((l) => l.msg.startsWith('admission reviews since'));

Log('logs denials and patched pods at info and leaves allowed-unchanged reviews to debug by default', async () => {
  const { lines, patched } = await run('changes', 'info');
  const reviews = reviewLines(lines);
  assert.ok(reviews.every((l) => l.level === 30));
  assert.equal(
    reviews.map((l) => l.uid).filter((u) => u !== pod().request.uid),
    ['denied-uid'],
  );
  assert.is(
    reviews.some((l) => l.uid === pod().request.uid),
    patched,
  );
  const denial = reviews.find((l) => l.uid === 'denied-uid')!;
  assert.is(denial.verdict, 'denied');
  assert.ok(Array.isArray(denial.findings) && denial.findings.length > 0, 'the denial names its findings');
  const debug = reviewLines((await run('changes', 'debug')).lines);
  assert.ok(
    debug.some((l) => l.uid === valid().request.uid && l.level === 20),
    'the allowed review is written at debug',
  );
});

Log('writes a summary with counts per verdict when the server closes, so traffic shows at info', async () => {
  const { lines, patched } = await run('changes', 'info');
  const summary = summaryOf(lines);
  assert.ok(summary, 'a summary line was written');
  assert.is(summary!.level, 30);
  assert.is(summary!.reviews, 3);
  assert.is(summary!.allowed, 2);
  assert.is(summary!.denied, 1);
  assert.is(summary!.patched, patched ? 1 : 0);
});

Log('logs every review at info with all, and only the summary with none', async () => {
  assert.is(reviewLines((await run('all', 'info')).lines).length, 3);
  const none = await run('none', 'debug');
  assert.is(reviewLines(none.lines).length, 0);
  assert.is(summaryOf(none.lines)!.reviews, 3);
});

Log('writes nothing, not even the summary, when the log level is above info', async () => {
  assert.equal((await run('all', 'warn')).lines, []);
});

Log.run();
