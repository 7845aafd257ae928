/**
 * Informer supervision: one informer per watched resource, restarted with back-off after an error
 * (client-node stops a watch for good on any error but 410), listed again from scratch after a
 * silence, and switched or dropped when the served version of an optional resource changes. Each
 * keeps the items of its last synced run, which is what gets published.
 */
import { objectKey, type KubeObject } from '../admission/types.ts';
import { apiMessage, apiStatus, type ClusterApi, type Discovery, type Informer, type InformerHandlers } from './api.ts';
import { restartDelay, streakOver } from './backoff.ts';
import type { Lifetime } from './lifetime.ts';
import { WATCHED, chooseVersion, resourceName, type Target, type Watched } from './resources.ts';
import { compactOf } from './slim.ts';
import { iso, type InformerStatus, type Log, type Timing } from './view-types.ts';

export type Informers = {
  /** starts the informers of the resources every cluster serves, and the silence watchdog */
  readonly start: () => void;
  /** starts, switches or drops the informers of optional resources to match what the cluster serves */
  readonly follow: (discovery: Discovery) => void;
  /** whether a resource ("servicecidrs.networking.k8s.io") has an informer */
  readonly has: (name: string) => boolean;
  /** the items of the last synced run of a kind's informer, "namespace/name" → Compact (index role) or the slim object */
  readonly published: (kind: string) => ReadonlyMap<string, unknown> | undefined;
  /**
   * the first informer readiness waits for, or undefined when all have synced and are healthy or
   * failed less than timing.staleMs ago (their last synced objects are still served)
   */
  readonly waitingFor: () => string | undefined;
  /** milliseconds since the first synced informer that is now failing lost its health; 0 when none is */
  readonly staleMs: () => number;
  readonly status: () => InformerStatus[];
  /** "name=objects" per informer, for the log */
  readonly sizes: () => string[];
  readonly stop: () => Promise<void>;
};

type Run = {
  readonly informer: Informer;
  /** "namespace/name" → Compact (index role) or the slim object (cidr role) */
  readonly items: Map<string, unknown>;
  errors: number;
  /** stopped on purpose: client-node reports the aborted watch as an error, which is not one */
  stopped: boolean;
};

type Slot = {
  readonly watched: Watched;
  readonly target: Target & { readonly watched: Watched };
  readonly name: string;
  run: Run;
  /** the run whose items are in the snapshot: the last one that synced */
  published: Run | undefined;
  healthy: boolean;
  restarts: number;
  relists: number;
  lastEvent: number | undefined;
  lastSeen: number;
  error: string | undefined;
  /** failures since the streak began (backoff.ts) */
  failures: number;
  /** when the current run synced; undefined once it failed */
  upSince: number | undefined;
  /** when the informer went from healthy to failing; undefined while healthy */
  failingSince: number | undefined;
  /** the run waiting for its restart timer, if any, and when that timer fires */
  waiting: Run | undefined;
  restartAt: number;
  /**
   * a failure of this streak had no HTTP answer (refused, reset, timed out): the API server was
   * unreachable. Later failures of the streak (404 while a restarted API server loads its CRDs)
   * keep it set; a sync clears it.
   */
  unreachable: boolean;
  timer: NodeJS.Timeout | undefined;
};


/** Told of every object an index informer delivers (read-your-writes confirms pending writes with it). */
export type Delivered = (kind: string, namespace: string, name: string, resourceVersion: string | undefined) => void;

/** `changed`: a published run's items changed, or an informer was dropped. */
export function superviseInformers(api: ClusterApi, timing: Timing, log: Log, life: Lifetime, changed: (watched: Watched) => void, delivered?: Delivered): Informers {
  const slots = new Map<string, Slot>();

  const live = (slot: Slot, run: Run) => !life.ended() && !run.stopped && slot.run === run;

  // only a published run's deliveries reach the next snapshot
  const tell = (slot: Slot, o: KubeObject, rv: unknown) => {
    if (delivered && slot.watched.role === 'index' && slot.published === slot.run) {
      delivered(slot.watched.kind, o.metadata?.namespace ?? '', o.metadata?.name ?? '', typeof rv === 'string' ? rv : undefined);
    }
  };

  const put = (slot: Slot, run: Run, o: KubeObject) => {
    if (!live(slot, run)) return;
    slot.lastEvent = slot.lastSeen = Date.now();
    const value = slot.watched.role === 'index' ? compactOf(o) : o;
    if (value === undefined) run.items.delete(objectKey(o));
    else run.items.set(objectKey(o), value);
    tell(slot, o, o.metadata?.resourceVersion);
    if (slot.published === run) changed(slot.watched);
  };

  const remove = (slot: Slot, run: Run, o: KubeObject) => {
    if (!live(slot, run)) return;
    slot.lastEvent = slot.lastSeen = Date.now();
    tell(slot, o, undefined);
    if (run.items.delete(objectKey(o)) && slot.published === run) changed(slot.watched);
  };

  const failed = (slot: Slot, run: Run, e: unknown) => {
    if (!live(slot, run)) return;
    run.errors++;
    const now = Date.now();
    if (slot.healthy || slot.failingSince === undefined) slot.failingSince = now;
    slot.healthy = false;
    slot.error = apiMessage(e).split('\n')[0];
    if (apiStatus(e) === undefined) slot.unreachable = true;
    if (streakOver(slot.upSince, now, timing)) slot.failures = 0;
    slot.upSince = undefined;
    slot.failures++;
    const wait = restartDelay(slot.failures, timing);
    log.warn({ informer: slot.name, version: slot.target.version, err: slot.error, restartInMs: wait }, 'informer stopped; restarting');
    restartIn(slot, run, wait);
    probeSoon();
  };

  /**
   * While any informer waits out a back-off, the API server is asked every probeMs whether it is
   * back (discovery, the cheapest call every API server answers); when it answers, the waiting
   * informers restart at once instead of up to restartMaxMs later.
   */
  let probing = false;
  const probeSoon = () => {
    if (probing) return;
    probing = true;
    life.later(async () => {
      probing = false;
      const waiting = [...slots.values()].filter(outageVictim);
      if (!waiting.length) return;
      const back = await api.discover().then(() => true, () => false);
      if (back) for (const slot of waiting) if (outageVictim(slot)) restartIn(slot, slot.waiting, restartDelay(1, timing));
      probeSoon();
    }, timing.probeMs);
  };

  const restartIn = (slot: Slot, run: Run, wait: number) => {
    life.cancel(slot.timer);
    slot.waiting = run;
    slot.restartAt = Date.now() + wait;
    slot.timer = life.later(() => {
      slot.waiting = undefined;
      slot.restarts++;
      void startRun(slot, run);
    }, wait);
  };

  /**
   * An informer waiting out a back-off that began when the API server could not be reached, for at
   * most staleMs. One only ever refused with a status (403) keeps its back-off, so a lasting refusal
   * is not retried every probeMs.
   */
  const outageVictim = (slot: Slot): slot is Slot & { waiting: Run } =>
    !slot.healthy && slot.unreachable && slot.waiting !== undefined && live(slot, slot.waiting) && Date.now() - (slot.failingSince ?? 0) < timing.staleMs
    // a restart already due within the shortest wait is left to happen
    && slot.restartAt - Date.now() > timing.restartMinMs;

  /**
   * One informer synced again after failing: the API server is back, so the others still waiting
   * out a long back-off restart now (at the shortest wait, jittered) instead of up to restartMaxMs later.
   */
  const wakeOthers = (synced: Slot) => {
    for (const slot of slots.values()) {
      if (slot === synced || !outageVictim(slot)) continue;
      restartIn(slot, slot.waiting, restartDelay(1, timing));
    }
  };

  const newRun = (slot: Slot): Run => {
    const run: Run = { informer: undefined as unknown as Informer, items: new Map(), errors: 0, stopped: false };
    const on: InformerHandlers = {
      add: (o) => put(slot, run, o),
      update: (o) => put(slot, run, o),
      delete: (o) => remove(slot, run, o),
      error: (e) => failed(slot, run, e),
      connect: () => { if (live(slot, run)) slot.lastSeen = Date.now(); },
    };
    (run as { informer: Informer }).informer = api.informer(slot.target, on);
    return run;
  };

  const halt = (run: Run): Promise<void> => {
    run.stopped = true;
    return run.informer.stop().catch(() => {});
  };

  async function startRun(slot: Slot, run: Run): Promise<void> {
    if (!live(slot, run)) return;
    const before = run.errors;
    slot.lastSeen = Date.now();
    try {
      await run.informer.start();
    } catch (e) {
      failed(slot, run, e);
      return;
    }
    if (!live(slot, run) || run.errors !== before) return;
    const recovered = slot.failingSince !== undefined;
    slot.healthy = true;
    slot.error = undefined;
    slot.upSince = Date.now();
    slot.failingSince = undefined;
    slot.unreachable = false;
    if (recovered) wakeOthers(slot);
    if (slot.published !== run) {
      slot.published = run;
      log.info({ informer: slot.name, version: slot.target.version, objects: run.items.size }, 'informer synced');
    }
    changed(slot.watched);
  }

  const add = (watched: Watched, version: string) => {
    const target = { group: watched.group, version, resource: watched.resource, kind: watched.kind, watched };
    const slot: Slot = {
      watched, target, name: resourceName(watched), run: undefined as unknown as Run, published: undefined,
      healthy: false, restarts: 0, relists: 0, lastEvent: undefined, lastSeen: Date.now(), error: undefined,
      failures: 0, upSince: undefined, failingSince: undefined, waiting: undefined, restartAt: 0, unreachable: false, timer: undefined,
    };
    slot.run = newRun(slot);
    slots.set(slot.name, slot);
    void startRun(slot, slot.run);
  };

  const drop = (slot: Slot, why: string) => {
    slots.delete(slot.name);
    life.cancel(slot.timer);
    void halt(slot.run);
    log.info({ informer: slot.name, version: slot.target.version }, why);
    changed(slot.watched);
  };

  /** Lists again from scratch; the old items stay published until the new list has synced. */
  const relist = (slot: Slot, why: string) => {
    life.cancel(slot.timer);
    slot.waiting = undefined;
    void halt(slot.run);
    slot.relists++;
    log.warn({ informer: slot.name, version: slot.target.version, silentMs: Date.now() - slot.lastSeen }, why);
    slot.run = newRun(slot);
    void startRun(slot, slot.run);
  };

  const watchdog = () => {
    const now = Date.now();
    for (const slot of slots.values()) {
      if (slot.healthy && now - slot.lastSeen > timing.silenceMs) relist(slot, 'informer silent too long; listing again');
    }
    life.later(watchdog, Math.max(1, Math.floor(timing.silenceMs / 4)));
  };

  const slotOf = (kind: string) => [...slots.values()].find((s) => s.watched.kind === kind);

  return {
    start: () => {
      for (const w of WATCHED) if (!w.optional) add(w, w.versions?.[0] ?? 'v1');
      life.later(watchdog, Math.max(1, Math.floor(timing.silenceMs / 4)));
    },
    follow: (discovery) => {
      for (const w of WATCHED) {
        if (!w.optional) continue;
        const version = chooseVersion(w, discovery);
        const slot = slots.get(resourceName(w));
        if (slot && slot.target.version === version) continue;
        if (slot) drop(slot, version ? `served version changed to ${version}; switching` : 'resource no longer served; dropping its objects');
        if (version) add(w, version);
      }
    },
    has: (name) => slots.has(name),
    published: (kind) => slotOf(kind)?.published?.items,
    waitingFor: () => {
      const now = Date.now();
      for (const s of slots.values()) {
        if (!s.published) return `informer ${s.name} (${s.target.version}) has not synced${s.error ? `: ${s.error}` : ''}`;
        if (!s.healthy && now - (s.failingSince ?? now) >= timing.staleMs) {
          return `informer ${s.name} (${s.target.version}) failed ${Math.round((now - s.failingSince!) / 1000)} s ago, longer than the ${Math.round(timing.staleMs / 1000)} s its last objects are served: ${s.error ?? 'unknown error'}; restarting`;
        }
      }
      return undefined;
    },
    staleMs: () => {
      const now = Date.now();
      let oldest = now;
      for (const s of slots.values()) if (s.published && !s.healthy && s.failingSince !== undefined) oldest = Math.min(oldest, s.failingSince);
      return now - oldest;
    },
    status: () => [...slots.values()].map((s) => ({
      name: s.name, version: s.target.version, synced: s.published !== undefined, healthy: s.healthy,
      restarts: s.restarts, relists: s.relists, lastEvent: iso(s.lastEvent),
      objects: (s.published ?? s.run).items.size, ...(s.error ? { error: s.error } : {}),
    })),
    sizes: () => [...slots.values()].map((s) => `${s.name}=${s.published?.items.size ?? 0}`),
    stop: async () => {
      await Promise.all([...slots.values()].map((s) => halt(s.run)));
    },
  };
}
