/**
 * The informers of a view: one supervisor per watched resource (supervisor.ts), listed again from
 * scratch after a silence, switched or dropped when the served version of an optional resource
 * changes, and restarted together when the API server comes back after an outage.
 */
import type { KubeObject } from '../admission/types.ts';
import type { ClusterApi, Discovery } from './api.ts';
import { backoff, type Backoff } from './backoff.ts';
import type { Lifetime } from './lifetime.ts';
import { WATCHED, chooseVersion, resourceName, type Watched } from './resources.ts';
import { InformerSupervisor, type Delivered, type SupervisorDeps } from './supervisor.ts';
import type { InformerStatus, Log, Timing } from './view-types.ts';

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
   * whether the cluster's objects of a kind are all known: its informer synced (with objects or
   * none), or discovery answered and the cluster does not serve the resource (its CRD is not
   * installed, so no object of it exists)
   */
  readonly known: (kind: string) => boolean;
  /** of an audited kind, what the rules read of each object of the last synced run, "namespace/name" → object */
  readonly stored: (kind: string) => ReadonlyMap<string, KubeObject> | undefined;
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

/**
 * While any informer waits out a back-off, the API server is asked every probeMs whether it is back
 * (discovery, the cheapest call every API server answers); when it answers, or when one informer
 * syncs again after failing, the others waiting for it restart at once instead of up to restartMaxMs later.
 */
function outageProbe(api: ClusterApi, life: Lifetime, probeMs: number, supervisors: () => Iterable<InformerSupervisor>) {
  let probing = false;
  const wake = (except?: InformerSupervisor) => {
    for (const s of supervisors()) if (s !== except) s.restartSoon();
  };
  const probeSoon = (): void => {
    if (probing) return;
    probing = true;
    life.later(async () => {
      probing = false;
      if (![...supervisors()].some((s) => s.outageVictim())) return;
      if (
        await api.discover().then(
          () => true,
          () => false,
        )
      )
        wake();
      probeSoon();
    }, probeMs);
  };
  return { probeSoon, wake };
}

export type InformerOptions = {
  readonly api: ClusterApi;
  readonly timing: Timing;
  readonly log: Log;
  readonly life: Lifetime;
  /** a published run's items changed, or an informer was dropped */
  readonly changed: (watched: Watched) => void;
  readonly delivered?: Delivered | undefined;
  /** a new run's items replaced a kind's published ones */
  readonly replaced?: ((kind: string) => void) | undefined;
  /** a fresh failure streak per informer; jittered restartDelay by default */
  readonly backoff?: () => Backoff;
};

/** One supervisor per watched resource, the outage probe, and the silence watchdog. */
export function superviseInformers({
  api,
  timing,
  log,
  life,
  changed,
  delivered,
  replaced,
  backoff: newBackoff = () => backoff(timing),
}: InformerOptions): Informers {
  const supervisors = new Map<string, InformerSupervisor>();
  const probe = outageProbe(api, life, timing.probeMs, () => supervisors.values());
  // An audited-only kind changes no index; it is told as an index kind so that a snapshot is
  // published after it (the publisher rebuilds nothing for it), which is when the audit judges.
  const told = (w: Watched) => changed(w.role === 'audit' ? { ...w, role: 'index' } : w);
  const deps: SupervisorDeps = {
    api,
    timing,
    log,
    life,
    changed: told,
    delivered,
    replaced,
    waiting: probe.probeSoon,
    recovered: probe.wake,
  };

  const add = (watched: Watched, version: string) => {
    const supervisor = new InformerSupervisor(watched, version, newBackoff(), deps);
    supervisors.set(supervisor.name, supervisor);
    supervisor.start();
  };

  const drop = (supervisor: InformerSupervisor, why: string) => {
    supervisors.delete(supervisor.name);
    void supervisor.stop();
    log.info({ informer: supervisor.name, version: supervisor.version }, why);
    told(supervisor.watched);
  };

  const watchdogEvery = Math.max(1, Math.floor(timing.silenceMs / 4));
  const watchdog = () => {
    for (const s of supervisors.values()) if (s.silentFor(timing.silenceMs)) s.relist('informer silent too long; listing again');
    life.later(watchdog, watchdogEvery);
  };

  const ofKind = (kind: string) => [...supervisors.values()].find((s) => s.watched.kind === kind);
  /** optional resources the last discovery answer did not list; undefined before the first answer */
  let unserved: Set<string> | undefined;

  return {
    start: () => {
      for (const w of WATCHED) if (!w.optional) add(w, w.versions?.[0] ?? 'v1');
      life.later(watchdog, watchdogEvery);
    },
    follow: (discovery) => {
      const before = unserved;
      unserved = new Set();
      for (const w of WATCHED) {
        if (!w.optional) continue;
        const version = chooseVersion(w, discovery);
        if (!version) unserved.add(resourceName(w));
        // a kind learned to be absent (or present again) is known (or not) from the next snapshot
        const learned = !version !== (before?.has(resourceName(w)) ?? false);
        const current = supervisors.get(resourceName(w));
        if (current && current.version === version) continue;
        if (current)
          drop(current, version ? `served version changed to ${version}; switching` : 'resource no longer served; dropping its objects');
        else if (learned && w.role === 'index') changed(w);
        if (version) add(w, version);
      }
    },
    has: (name) => supervisors.has(name),
    published: (kind) => ofKind(kind)?.published,
    known: (kind) => {
      const s = ofKind(kind);
      if (s) return s.published !== undefined;
      const w = WATCHED.find((x) => x.kind === kind);
      return w !== undefined && unserved?.has(resourceName(w)) === true;
    },
    stored: (kind) => ofKind(kind)?.stored,
    waitingFor: () => {
      for (const s of supervisors.values()) {
        const why = s.holdsReadiness();
        if (why) return why;
      }
      return undefined;
    },
    staleMs: () => {
      const now = life.now();
      let oldest = now;
      for (const s of supervisors.values()) oldest = Math.min(oldest, s.staleSince() ?? now);
      return now - oldest;
    },
    status: () => [...supervisors.values()].map((s) => s.status()),
    sizes: () => [...supervisors.values()].map((s) => `${s.name}=${s.published?.size ?? 0}`),
    stop: async () => {
      await Promise.all([...supervisors.values()].map((s) => s.stop()));
    },
  };
}
