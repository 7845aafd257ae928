/**
 * How long a failed informer waits before it starts again. The wait doubles with each failure of a
 * streak up to a cap, so a recovered API server is seen within the cap, and is jittered down by up to
 * half, so informers that failed together (the API server went away) do not all come back at once.
 */
import type { Timing } from './view-types.ts';

/** The wait before the restart after failure number `failures` of a streak (1 for the first). */
export function restartDelay(failures: number, timing: Pick<Timing, 'restartMinMs' | 'restartMaxMs'>, random: () => number = Math.random): number {
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
