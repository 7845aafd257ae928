/**
 * The process logger: JSON lines on stdout (pino, the logger Fastify is built on). Created before
 * the server so the cluster view can log while it starts.
 *
 * Lines are written asynchronously and in batches: a synchronous write per line held the event loop
 * for every review. What is still buffered goes out on `flushLog`, and pino writes it synchronously
 * when the process exits, also after an uncaught error, so the last lines before a shutdown or a
 * crash stay.
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

/** `serve --log-format`: JSON lines for log collectors (the default), or text for a terminal. */
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OWN = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

/** One JSON log line as a person reads it: time, level, message, then the fields as key=value. */
export function textLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const level = LEVELS[o.level as number] ?? String(o.level ?? '');
  const fields = Object.entries(o)
    .filter(([k]) => !OWN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"]/.test(v) ? v : JSON.stringify(v)}`);
  return `${[time, level.padEnd(5), String(o.msg ?? ''), ...fields].filter(Boolean).join(' ')}\n`;
}

export const createLogger = (level: string | false, format: LogFormat = 'json'): Logger => {
  const options = { level: level === false ? 'silent' : level, base: { service: 'egress-warden' } };
  if (level === false || level === 'silent') return pino(options);
  if (format === 'text') {
    // a terminal, not a collector: each line is written as it comes, readable
    const out = pino.destination({ dest: 1, sync: true });
    return pino(options, { write: (line: string) => out.write(textLine(line)) });
  }
  return pino(options, pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS }));
};

/**
 * Lines are written to stdout in batches of this many bytes or more: a write per line cost a
 * patched pod's review (which always has its line) a fifth of its time.
 */
export const LOG_BATCH_BYTES = 4096;
/** A batch that has not filled is written after at most this long: a quiet webhook's lines still come out at once. */
export const LOG_FLUSH_MS = 100;

/** Resolves once every line written so far has reached stdout. */
export const flushLog = (logger: Logger): Promise<void> => new Promise((resolve) => logger.flush(() => resolve()));

type LineLevel = 'info' | 'debug';

/** What of a pino logger a line written past it needs; absent from a logger that is not pino's. */
type PinoParts = {
  readonly [pino.symbols.streamSym]?: { readonly write: (line: string) => unknown };
  readonly [pino.symbols.chindingsSym]?: string;
  readonly [pino.symbols.timeSym]?: () => string;
  readonly levels?: { readonly values: Readonly<Record<string, number>> };
};

/**
 * Writes `logger[level](fields, msg)` for a line of plain fields (strings, numbers, booleans,
 * lists of strings), in the bytes pino would write: level, time, the logger's bindings, the
 * fields, msg. pino walks the fields one by one to serialize them, which cost more per review than
 * what most of the review does; one JSON.stringify of the whole object gives the same text.
 * Lines with an error, or loggers that are not pino's, go through the logger.
 */
export function plainLineWriter(logger: object): (level: LineLevel, fields: Readonly<Record<string, unknown>>, msg: string) => void {
  const parts = logger as PinoParts;
  const stream = parts[pino.symbols.streamSym];
  const bindings = parts[pino.symbols.chindingsSym];
  const time = parts[pino.symbols.timeSym];
  const values = parts.levels?.values;
  const viaLogger = (level: LineLevel, fields: Readonly<Record<string, unknown>>, msg: string) =>
    (logger as Record<LineLevel, (o: object, m: string) => void>)[level](fields, msg);
  if (!stream || typeof bindings !== 'string' || typeof time !== 'function' || !values) return viaLogger;
  const heads: Record<LineLevel, string> = { info: `{"level":${values.info}`, debug: `{"level":${values.debug}` };
  return (level, fields, msg) => {
    const body = JSON.stringify(fields);
    const between = body.length > 2 ? `,${body.slice(1, -1)}` : '';
    stream.write(`${heads[level]}${time()}${bindings}${between},"msg":${JSON.stringify(msg)}}\n`);
  };
}
