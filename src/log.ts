/**
 * The process logger: JSON lines on stdout (pino, the logger Fastify is built on). Created before
 * the server so the cluster view can log while it starts.
 *
 * Lines are written asynchronously: a synchronous write per line held the event loop for every
 * review. What is still buffered goes out on `flushLog`, and pino writes it synchronously when the
 * process exits, also after an uncaught error, so the last lines before a shutdown or a crash stay.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Which reviews write a line (`serve --log-reviews`). all: every review at info. changes: denials,
 * warnings, findings, patched pods and errors at info, allowed-unchanged reviews at debug. none: no
 * line per review. Each writes a summary of the reviews at info every minute there was traffic.
 */
export const REVIEW_LOG_POLICIES = ['changes', 'all', 'none'] as const;
export type ReviewLogPolicy = (typeof REVIEW_LOG_POLICIES)[number];
export const DEFAULT_REVIEW_LOG_POLICY: ReviewLogPolicy = 'changes';

export const createLogger = (level: string | false): Logger => {
  const options = { level: level === false ? 'silent' : level, base: { service: 'egress-warden' } };
  return level === false || level === 'silent' ? pino(options) : pino(options, pino.destination({ dest: 1, sync: false }));
};

/** Resolves once every line written so far has reached stdout. */
export const flushLog = (logger: Logger): Promise<void> => new Promise((resolve) => logger.flush(() => resolve()));
