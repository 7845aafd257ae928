/**
 * Which reviews get a log line, at which level, and the periodic summary that keeps traffic visible
 * at info when most reviews write nothing. Writing a line per review cost more than the rules did;
 * metrics count every review anyway, so the log keeps what an operator reads it for.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ReviewLogPolicy } from '../log.ts';
import type { ReviewLabel } from './metrics.ts';

/** How often the summary line is written, when there was traffic since the last one. */
export const SUMMARY_EVERY_MS = 60_000;

export type ReviewLogOptions = { readonly policy: ReviewLogPolicy; readonly summaryMs: number };

export type ReviewLog = {
  /**
   * The level this review's line goes out at; undefined when the policy or the log level drops it.
   * notable: the review patched the object or found something (an audit-mode finding allows quietly).
   */
  readonly level: (verdict: ReviewLabel, notable: boolean) => 'info' | 'debug' | undefined;
  /** shed requests are not reviews: the gate logs each one at warn (app.ts) */
  readonly count: (verdict: Counted, patched: boolean) => void;
  /** writes the summary of what was counted since the last one, and stops the timer */
  readonly stop: () => void;
};

const LEVEL_VALUES: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

type Counted = Exclude<ReviewLabel, 'shed'>;
type Counts = Record<Counted, number> & { patched: number };
const zero = (): Counts => ({ allowed: 0, warned: 0, denied: 0, error: 0, invalid: 0, patched: 0 });

export function reviewLog(log: FastifyBaseLogger, { policy, summaryMs }: ReviewLogOptions): ReviewLog {
  // The level is fixed for the life of the process: decide once what is written.
  const threshold = LEVEL_VALUES[log.level] ?? Number.POSITIVE_INFINITY;
  const info = threshold <= LEVEL_VALUES.info! && policy !== 'none';
  const debug = threshold <= LEVEL_VALUES.debug! && policy === 'changes';
  const all = policy === 'all';
  const summaries = threshold <= LEVEL_VALUES.info!;

  let counts = zero();
  let total = 0;
  let since = Date.now();
  const summary = () => {
    const now = Date.now();
    if (total > 0)
      log.info({ seconds: Math.round((now - since) / 1e3), reviews: total, ...counts }, 'admission reviews since the last summary');
    counts = zero();
    total = 0;
    since = now;
  };
  const timer = summaries ? setInterval(summary, summaryMs) : undefined;
  timer?.unref();

  return {
    level: (verdict, notable) => {
      if (all || notable || verdict !== 'allowed') return info ? 'info' : undefined;
      return debug ? 'debug' : undefined;
    },
    count: (verdict, patched) => {
      counts[verdict]++;
      if (patched) counts.patched++;
      total++;
    },
    stop: () => {
      if (timer === undefined) return;
      clearInterval(timer);
      summary();
    },
  };
}
