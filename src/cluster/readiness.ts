/**
 * Readiness and status: the view is ready once discovery answered, every informer has synced and is
 * healthy, the CIDR sources were read and detected, and a snapshot with all of it is published. The
 * first thing still missing is the reason /readyz gives.
 */
import type { CidrSources } from './cidr-sources.ts';
import type { DiscoveryLoop } from './discovery.ts';
import type { Informers } from './informers.ts';
import type { Lifetime } from './lifetime.ts';
import type { Publisher } from './publisher.ts';
import { WATCHED, resourceName } from './resources.ts';
import { iso, type Log, type ViewStatus } from './view-types.ts';

export type Readiness = {
  /** the first input readiness waits for, or undefined when all are in */
  readonly waitingFor: () => string | undefined;
  /** whether the view has been ready once */
  readonly announced: () => boolean;
  readonly ready: () => boolean;
  /** announces readiness the first time, and wakes whoever waits for it; called after each build */
  readonly settle: () => void;
  readonly untilReady: (timeoutMs: number) => Promise<boolean>;
  readonly status: () => ViewStatus;
  /** wakes every waiter with false */
  readonly stop: () => void;
};

export type ReadinessDeps = {
  readonly server: string;
  readonly log: Log;
  readonly life: Lifetime;
  readonly discovery: Pick<DiscoveryLoop, 'current' | 'error'>;
  readonly informers: Pick<Informers, 'waitingFor' | 'status' | 'sizes' | 'has' | 'staleMs'>;
  readonly cidrs: Pick<CidrSources, 'read' | 'detected' | 'status'>;
  readonly publisher: Pick<Publisher, 'generation' | 'builtAt' | 'buildMs'>;
};

export function readiness({ server, log, life, discovery, informers, cidrs, publisher }: ReadinessDeps): Readiness {
  const waiters = new Set<(ok: boolean) => void>();
  let announced = false;

  const waitingFor = (): string | undefined => {
    if (life.ended()) return 'stopped';
    if (!discovery.current()) {
      const error = discovery.error();
      return `discovery has not succeeded${error ? `: ${error}` : ' yet'}`;
    }
    const informer = informers.waitingFor();
    if (informer) return informer;
    if (!cidrs.read()) return 'CIDR sources not read yet';
    return undefined;
  };

  /** The first thing readiness waits for, or undefined when ready. */
  const reason = (): string | undefined => waitingFor() ?? (cidrs.detected() ? undefined : 'CIDR detection pending');

  const ready = () => reason() === undefined && cidrs.detected() && publisher.generation() > 0;

  return {
    waitingFor,
    announced: () => announced,
    ready,
    settle: () => {
      if (!ready()) return;
      if (!announced) {
        announced = true;
        log.info({ informers: informers.sizes(), buildMs: Math.round(publisher.buildMs()) }, 'cluster state synced; ready');
      }
      for (const w of waiters) w(true);
      waiters.clear();
    },
    untilReady: (timeoutMs) =>
      new Promise<boolean>((resolve) => {
        if (ready()) return resolve(true);
        // a caller waiting on readiness keeps the process alive, unlike the view's own timers
        const t = setTimeout(() => {
          waiters.delete(done);
          resolve(false);
        }, timeoutMs);
        const done = (ok: boolean) => {
          clearTimeout(t);
          resolve(ok);
        };
        waiters.add(done);
      }),
    status: () => {
      const why = reason();
      return {
        ready: ready(),
        reason: why ?? (ready() ? 'ready' : 'publishing the first snapshot'),
        cluster: server,
        informers: informers.status(),
        absent: discovery.current() ? WATCHED.filter((w) => w.optional && !informers.has(resourceName(w))).map(resourceName) : [],
        cidrs: cidrs.status(),
        snapshot: { generation: publisher.generation(), builtAt: iso(publisher.builtAt()), buildMs: publisher.buildMs() },
        staleSeconds: Math.round(informers.staleMs() / 100) / 10,
      };
    },
    stop: () => {
      for (const w of waiters) w(false);
      waiters.clear();
    },
  };
}
