/**
 * How long a failed informer waits before it starts again. The wait doubles with each failure of a
 * streak up to a cap, so a recovered API server is seen within the cap, and is jittered down by up to
 * half, so informers that failed together (the API server went away) do not all come back at once.
 */
import type { Timing } from './view-types.ts';

type Bounds = Pick<Timing, 'restartMinMs' | 'restartMaxMs'>;

/** The wait before the restart after failure number `failures` of a streak (1 for the first). */
export function restartDelay(failures: number, timing: Bounds, random: () => number = Math.random): number {
  const ceiling = Math.min(timing.restartMaxMs, timing.restartMinMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Whether a failure starts a new streak: the informer's run had synced and stayed up at least as
 * long as the longest wait. A run that fails sooner (a watch refused right after its list succeeded)
 * continues the streak, so it cannot turn into a restart loop at the shortest wait.
 */
export const streakOver = (upSince: number | undefined, now: number, timing: Pick<Timing, 'restartMaxMs'>): boolean =>
  upSince !== undefined && now - upSince >= timing.restartMaxMs;

/** One informer's failure streak: the wait after each failure, and the shortest wait for a wake-up. */
export type Backoff = {
  /** a failure at `now`: the wait before the next start */
  readonly failed: (now: number) => number;
  /** the run synced at `now` */
  readonly synced: (now: number) => void;
  /** the first wait of a streak, for a restart that need not wait out the streak (the API server answers again) */
  readonly shortest: () => number;
};

export function backoff(timing: Bounds, random: () => number = Math.random): Backoff {
  let failures = 0;
  let upSince: number | undefined;
  return {
    failed: (now) => {
      if (streakOver(upSince, now, timing)) failures = 0;
      upSince = undefined;
      failures++;
      return restartDelay(failures, timing, random);
    },
    synced: (now) => {
      upSince = now;
    },
    shortest: () => restartDelay(1, timing, random),
  };
}
