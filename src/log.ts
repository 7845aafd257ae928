/**
 * The process logger: JSON lines on stdout (pino, the logger Fastify is built on). Created before
 * the server so the cluster view can log while it starts.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const createLogger = (level: string | false): Logger =>
  pino({ level: level === false ? 'silent' : level, base: { service: 'egress-warden' } });
