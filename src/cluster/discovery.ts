/**
 * Discovery, asked now and then: which optional resources the cluster serves, in which versions.
 * Until it first succeeds it is asked again at the shortest restart wait; after that, every
 * rediscoverMs, keeping the last answer through failures.
 */
import { apiMessage, type ClusterApi, type Discovery } from './api.ts';
import type { Lifetime } from './lifetime.ts';
import type { Log, Timing } from './view-types.ts';

export type DiscoveryLoop = {
  readonly start: () => void;
  /** the last answer, undefined before the first */
  readonly current: () => Discovery | undefined;
  /** why the last attempt failed, undefined after a success */
  readonly error: () => string | undefined;
};

export function discoveryLoop(
  api: ClusterApi,
  timing: Timing,
  log: Log,
  life: Lifetime,
  on: {
    readonly found: (discovery: Discovery) => void;
    readonly failed: () => void;
  },
): DiscoveryLoop {
  let discovery: Discovery | undefined;
  let error: string | undefined;

  async function rediscover(): Promise<void> {
    if (life.ended()) return;
    let found: Discovery;
    try {
      found = await api.discover();
    } catch (e) {
      if (life.ended()) return;
      error = apiMessage(e).split('\n')[0];
      log.warn({ err: error }, 'discovery failed; optional resources are looked up again later');
      life.later(() => void rediscover(), discovery ? timing.rediscoverMs : timing.restartMinMs);
      on.failed();
      return;
    }
    discovery = found;
    error = undefined;
    if (life.ended()) return;
    on.found(found);
    life.later(() => void rediscover(), timing.rediscoverMs);
  }

  return { start: () => void rediscover(), current: () => discovery, error: () => error };
}
