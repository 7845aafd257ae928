/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection package: every
 * replica serves admission, and only the one holding the Lease writes reports and Events.
 *
 * A replica tries every retry period to acquire the Lease or, once it holds it, to renew it. A Lease
 * held by another replica may be taken only when its record has not changed for its duration as this
 * replica observed it, so no two clocks are ever compared (renewTime is written for people, never
 * read). A leader that cannot renew within the renew deadline, which is shorter than the duration,
 * stops leading before anyone else may start. resourceVersion makes every write conditional: of two
 * replicas writing at once, one gets 409 and has lost that round.
 */
import { randomUUID } from 'node:crypto';
import { apiMessage, apiStatus } from './api.ts';
import type { Lifetime } from './lifetime.ts';
import type { Log } from './view-types.ts';

export type LeaseRecord = {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions: number;
  readonly resourceVersion?: string;
};

export type LeaseApi = {
  /** the Lease, or undefined when it does not exist (404) */
  readonly get: (namespace: string, name: string) => Promise<LeaseRecord | undefined>;
  /** creates it; rejects with an error whose `status` is 409 when it exists already */
  readonly create: (namespace: string, name: string, record: LeaseRecord) => Promise<LeaseRecord>;
  /** replaces it at record.resourceVersion; rejects with status 409 when someone else wrote in between */
  readonly update: (namespace: string, name: string, record: LeaseRecord) => Promise<LeaseRecord>;
};

export type ElectionOptions = {
  api: LeaseApi;
  namespace: string;
  name: string;
  /** unique per process (processIdentity): a restarted replica must not pass for the one before it */
  identity: string;
  life: Lifetime;
  log: Log;
  /** how long a Lease whose record stopped changing stays another replica's; written as whole seconds, rounded up */
  durationMs?: number;
  /** how long a leader keeps leading without a successful renewal; shorter than durationMs */
  renewDeadlineMs?: number;
  /** the wait between two tries; shorter than renewDeadlineMs */
  retryMs?: number;
  /** called on every change of leadership, and only then; false comes before the Lease is released */
  onChange: (leading: boolean) => void;
};

export type Election = {
  readonly identity: string;
  readonly leading: () => boolean;
  /** the holder last observed, undefined when there is none or the Lease does not exist */
  readonly leader: () => string | undefined;
  readonly transitions: () => number;
  readonly start: () => void;
  /** stops trying; if leading, releases the Lease at once so another replica takes over within retryMs */
  readonly stop: () => Promise<void>;
};

/** Distinct failure messages are logged at most once in this long, so an API server outage does not flood the log. */
const QUIET_MS = 60_000;

/** RFC 3339 with microseconds, the form of a Lease's MicroTime fields. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '000Z');

/** `${hostname}_${random suffix}`: two processes on one host, or one pod restarted, never share an identity. */
export function processIdentity(hostname: string, random: () => string = randomUUID): string {
  return `${hostname}_${random()}`;
}

const TIMEOUT = Symbol('timeout');

export function elect(opts: ElectionOptions): Election {
  const { api, namespace, name, identity, life, log } = opts;
  const durationMs = opts.durationMs ?? 15_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryMs = opts.retryMs ?? 2_000;
  // with a deadline at or past the duration, a cut-off leader could still lead when another takes over
  if (!(retryMs > 0 && renewDeadlineMs > retryMs && durationMs > renewDeadlineMs)) {
    throw new Error(`leader election: need 0 < retryMs < renewDeadlineMs < durationMs, got ${retryMs}, ${renewDeadlineMs}, ${durationMs}`);
  }
  const seconds = Math.ceil(durationMs / 1000);
  const lease = `${namespace}/${name}`;

  let started = false;
  let stopped = false;
  let leading = false;
  let observed: LeaseRecord | undefined;
  let observedKey = '';
  /** local time the observed record last changed */
  let observedAt = 0;
  /** local time the last successful acquire or renew was sent: the server wrote it no earlier */
  let renewedAt = 0;
  /** bumped to disown a try that outlived its deadline, or all tries on stop */
  let generation = 0;
  let next: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let releasing: Promise<void> | undefined;
  const logged = new Map<string, number>();

  const failed = (what: string, e: unknown) => {
    const err = apiMessage(e);
    const key = `${what}: ${err}`;
    const now = life.now();
    const last = logged.get(key);
    if (last !== undefined && now - last < QUIET_MS) return;
    for (const [k, at] of logged) if (now - at >= QUIET_MS) logged.delete(k);
    logged.set(key, now);
    log.warn({ lease, identity, err }, `leader election: cannot ${what} the Lease`);
  };

  const notify = (value: boolean) => {
    try {
      opts.onChange(value);
    } catch (e) {
      log.error({ lease, identity, err: apiMessage(e) }, 'leader election: the leadership change handler threw');
    }
  };

  const observe = (record: LeaseRecord | undefined) => {
    const key = record
      ? JSON.stringify([record.holderIdentity, record.leaseDurationSeconds, record.acquireTime, record.renewTime, record.leaseTransitions])
      : '';
    if (key !== observedKey) {
      if ((record?.holderIdentity || undefined) !== (observed?.holderIdentity || undefined) && record?.holderIdentity !== identity) {
        log.info({ lease, identity, leader: record?.holderIdentity || null }, 'leader election: the leader changed');
      }
      observedKey = key;
      observedAt = life.now();
    }
    observed = record;
  };

  /** Whether the observed holder may be replaced: its record has not changed for its duration, as seen here. */
  const expired = (record: LeaseRecord) =>
    life.now() >= observedAt + (record.leaseDurationSeconds > 0 ? record.leaseDurationSeconds * 1000 : durationMs);

  const claim = (current: LeaseRecord, now: number): LeaseRecord => {
    const mine = current.holderIdentity === identity;
    return {
      holderIdentity: identity,
      leaseDurationSeconds: seconds,
      acquireTime: mine && current.acquireTime ? current.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: mine ? current.leaseTransitions : current.leaseTransitions + 1,
      resourceVersion: current.resourceVersion,
    };
  };

  const release = async (from: LeaseRecord): Promise<void> => {
    let current: LeaseRecord | undefined = from;
    // a renewal that was in flight may have moved the resourceVersion on: one fresh read settles it
    for (let i = 0; i < 2 && current?.holderIdentity === identity; i++) {
      const now = microTime(life.now());
      try {
        await api.update(namespace, name, {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: current.leaseTransitions,
          resourceVersion: current.resourceVersion,
        });
        log.info({ lease, identity }, 'leader election: released the Lease');
        return;
      } catch (e) {
        if (apiStatus(e) !== 409) break;
      }
      try {
        current = await api.get(namespace, name);
      } catch {
        break;
      }
    }
    if (current?.holderIdentity === identity) {
      log.warn({ lease, identity }, 'leader election: could not release the Lease; another replica takes over once it expires');
    }
  };

  /** Resolves with `p`'s value, or TIMEOUT after `ms` (never, once the lifetime has ended). */
  const bounded = <T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> =>
    new Promise((resolve) => {
      const t = life.later(() => resolve(TIMEOUT), ms);
      p.then(
        (v) => {
          life.cancel(t);
          resolve(v);
        },
        () => {
          life.cancel(t);
          resolve(TIMEOUT);
        },
      );
    });

  /** One round of client-go's tryAcquireOrRenew: whether this replica holds the Lease after it. */
  const attempt = async (id: number, start: number): Promise<boolean> => {
    const live = () => id === generation && !life.ended();
    const wrote = (record: LeaseRecord): boolean => {
      if (live()) {
        observe(record);
        return true;
      }
      // disowned by stop() while the write was in flight: give back what it won
      if (stopped && record.holderIdentity === identity) void release(record);
      return false;
    };
    // a leader renews its observed record straight away, and reads only when that fails
    if (leading && observed?.holderIdentity === identity) {
      try {
        return wrote(await api.update(namespace, name, claim(observed, start)));
      } catch (e) {
        if (!live()) return false;
        if (apiStatus(e) !== 409) failed('renew', e);
      }
    }
    let current: LeaseRecord | undefined;
    try {
      current = await api.get(namespace, name);
    } catch (e) {
      if (live()) failed('read', e);
      return false;
    }
    if (!live()) return false;
    observe(current);
    if (!current) {
      const now = microTime(start);
      try {
        return wrote(
          await api.create(namespace, name, {
            holderIdentity: identity,
            leaseDurationSeconds: seconds,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          }),
        );
      } catch (e) {
        if (live() && apiStatus(e) !== 409) failed('create', e);
        return false;
      }
    }
    if (current.holderIdentity && current.holderIdentity !== identity && !expired(current)) return false;
    try {
      return wrote(await api.update(namespace, name, claim(current, start)));
    } catch (e) {
      if (live() && apiStatus(e) !== 409) failed(leading ? 'renew' : 'acquire', e);
      return false;
    }
  };

  const stepDown = (why: string) => {
    leading = false;
    life.cancel(watchdog);
    watchdog = undefined;
    log.warn({ lease, identity, leader: observed?.holderIdentity || null }, `leader election: stopped leading: ${why}`);
    notify(false);
  };

  const arm = () => {
    life.cancel(watchdog);
    watchdog = life.later(
      () => {
        watchdog = undefined;
        if (leading && life.now() - renewedAt >= renewDeadlineMs) stepDown(`no renewal for ${renewDeadlineMs} ms`);
      },
      renewedAt + renewDeadlineMs - life.now(),
    );
  };

  const cycle = async () => {
    next = undefined;
    if (stopped || life.ended()) return;
    const id = ++generation;
    const start = life.now();
    try {
      const won = await bounded(attempt(id, start), renewDeadlineMs);
      if (won === TIMEOUT) {
        generation++;
        failed(leading ? 'renew' : 'acquire', new Error(`no answer within ${renewDeadlineMs} ms`));
      }
      if (stopped || life.ended()) return;
      if (won === true && life.now() - start < renewDeadlineMs) {
        renewedAt = start;
        if (!leading) {
          leading = true;
          log.info({ lease, identity, transitions: observed?.leaseTransitions ?? 0 }, 'leader election: leading');
          notify(true);
        }
        arm();
      } else if (leading && observed && observed.holderIdentity !== identity) {
        stepDown(`${observed.holderIdentity || 'nobody'} holds the Lease`);
      }
    } catch (e) {
      log.error({ lease, identity, err: apiMessage(e) }, 'leader election: a round failed');
    }
    if (!stopped && !life.ended()) next = life.later(() => void cycle(), untilNextTry());
  };

  /**
   * A follower tries again when the holder's record would expire, if that comes before the next
   * retry: a crashed leader is then replaced one lease duration after its last renewal was seen here,
   * not up to a retry period later.
   */
  const untilNextTry = (): number => {
    if (leading || !observed?.holderIdentity) return retryMs;
    const duration = observed.leaseDurationSeconds > 0 ? observed.leaseDurationSeconds * 1000 : durationMs;
    return Math.min(retryMs, Math.max(1, observedAt + duration - life.now()));
  };

  return {
    identity,
    leading: () => leading,
    leader: () => observed?.holderIdentity || undefined,
    transitions: () => observed?.leaseTransitions ?? 0,
    start: () => {
      if (started || stopped) return;
      started = true;
      void cycle();
    },
    stop: async () => {
      if (!stopped) {
        stopped = true;
        generation++;
        life.cancel(next);
        life.cancel(watchdog);
        next = watchdog = undefined;
        if (leading) {
          leading = false;
          log.info({ lease, identity }, 'leader election: stopped leading: shutting down');
          notify(false);
        }
        const held = observed?.holderIdentity === identity ? observed : undefined;
        if (held) releasing = bounded(release(held), renewDeadlineMs).then(() => undefined);
      }
      await releasing;
    },
  };
}
