import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { backoff, restartDelay, streakOver } from '../../src/cluster/backoff.ts';
import { DEFAULT_TIMING } from '../../src/cluster/view.ts';

const Backoff = suite('cluster/backoff');

const waits = (random: () => number) => Array.from({ length: 8 }, (_, i) => restartDelay(i + 1, DEFAULT_TIMING, random));

Backoff('doubles from 1 s and stops at 30 s, so a recovered API server is seen within half a minute', () => {
  assert.equal(
    waits(() => 0.999_999),
    [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000],
  );
});

Backoff('jitters each wait down by up to half, so informers that failed together come back apart', () => {
  assert.equal(
    waits(() => 0),
    [500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000],
  );
  const seen = new Set(Array.from({ length: 50 }, () => restartDelay(3, DEFAULT_TIMING)));
  assert.ok(
    [...seen].every((ms) => ms >= 2_000 && ms <= 4_000),
    [...seen].join(),
  );
  assert.ok(seen.size > 1, 'waits differ');
});

Backoff('stays capped however long the streak', () => {
  assert.is(
    restartDelay(5_000, DEFAULT_TIMING, () => 0.999_999),
    30_000,
  );
});

Backoff('ends a streak only after a run stayed synced as long as the longest wait', () => {
  assert.is(streakOver(undefined, 100_000, DEFAULT_TIMING), false, 'never synced: the API server is still away');
  assert.is(streakOver(90_000, 100_000, DEFAULT_TIMING), false, 'failed 10 s after syncing: the same trouble');
  assert.is(streakOver(60_000, 100_000, DEFAULT_TIMING), true);
});

Backoff('a streak waits longer after each failure until a run stays up, then starts again at the shortest wait', () => {
  const streak = backoff(DEFAULT_TIMING, () => 0.999_999);
  assert.equal([streak.failed(0), streak.failed(1_000), streak.failed(3_000)], [1_000, 2_000, 4_000]);
  streak.synced(10_000);
  assert.is(streak.failed(20_000), 8_000, 'failed 10 s after syncing: the same streak');
  streak.synced(30_000);
  assert.is(streak.failed(60_000), 1_000, 'up for 30 s: a new streak');
  assert.is(streak.shortest(), 1_000);
});

Backoff.run();
