/**
 * One informer's supervisor: starts its runs, restarts a failed one after its back-off (client-node
 * stops a watch for good on any error but 410), lists again from scratch on demand, and keeps the
 * items of the last run that synced, which is what gets published. informers.ts holds the set.
 */
import { objectKey, type KubeObject } from '../admission/types.ts';
import { apiMessage, apiStatus, type ClusterApi, type Informer, type InformerHandlers } from './api.ts';
import type { Backoff } from './backoff.ts';
import type { Lifetime } from './lifetime.ts';
import { resourceName, type Target, type Watched } from './resources.ts';
import { compactOf, judgedOf } from './slim.ts';
import { iso, type InformerStatus, type Log, type Timing } from './view-types.ts';

/** Told of every object an index informer delivers (read-your-writes confirms pending writes with it). */
export type Delivered = (kind: string, namespace: string, name: string, resourceVersion: string | undefined) => void;

/** What a supervisor needs from the world, and whom it tells. */
export type SupervisorDeps = {
  readonly api: ClusterApi;
  readonly timing: Pick<Timing, 'staleMs' | 'restartMinMs'>;
  readonly log: Log;
  readonly life: Lifetime;
  /** the published items changed, or the informer was dropped */
  readonly changed: (watched: Watched) => void;
  readonly delivered?: Delivered | undefined;
  /** a new run's items replaced the published ones (the first sync, a relist): objects may have gone without a delete */
  readonly replaced?: ((kind: string) => void) | undefined;
  /** this informer failed and waits out its back-off (the set starts asking whether the API server is back) */
  readonly waiting: () => void;
  /** this informer synced again after failing: the API server is back */
  readonly recovered: (supervisor: InformerSupervisor) => void;
};

/** One list+watch of the informer: its items, and whether it was stopped on purpose. */
class Run {
  readonly items = new Map<string, unknown>();
  /** of an audited kind: "namespace/name" → what the rules read of the object */
  readonly stored: Map<string, KubeObject> | undefined;
  readonly informer: Informer;
  errors = 0;
  /** stopped on purpose: client-node reports the aborted watch as an error, which is not one */
  stopped = false;

  constructor(api: ClusterApi, target: Target & { readonly watched: Watched }, on: (run: Run) => InformerHandlers) {
    this.stored = target.watched.audited ? new Map() : undefined;
    this.informer = api.informer(target, on(this));
  }

  halt(): Promise<void> {
    this.stopped = true;
    return this.informer.stop().catch(() => {});
  }
}

export class InformerSupervisor {
  readonly name: string;
  readonly target: Target & { readonly watched: Watched };
  private run: Run;
  /** the run whose items are in the snapshot: the last one that synced */
  private publishedRun: Run | undefined;
  private healthy = false;
  private restarts = 0;
  private relists = 0;
  private lastEvent: number | undefined;
  private lastSeen: number;
  private error: string | undefined;
  /** when the informer went from healthy to failing; undefined while healthy */
  private failingSince: number | undefined;
  /** the run waiting for its restart timer, if any, and when that timer fires */
  private waitingRun: Run | undefined;
  private restartAt = 0;
  /**
   * a failure of this streak had no HTTP answer (refused, reset, timed out): the API server was
   * unreachable. Later failures of the streak (404 while a restarted API server loads its CRDs)
   * keep it set; a sync clears it.
   */
  private unreachable = false;
  private timer: NodeJS.Timeout | undefined;
  readonly watched: Watched;
  private readonly backoff: Backoff;
  private readonly deps: SupervisorDeps;

  constructor(watched: Watched, version: string, backoff: Backoff, deps: SupervisorDeps) {
    this.watched = watched;
    this.backoff = backoff;
    this.deps = deps;
    this.name = resourceName(watched);
    this.target = { group: watched.group, version, resource: watched.resource, kind: watched.kind, watched };
    this.lastSeen = deps.life.now();
    this.run = this.newRun();
  }

  get version(): string {
    return this.target.version;
  }

  /** the items of the last synced run, "namespace/name" → Compact (index role) or the slim object (cidr role) */
  get published(): ReadonlyMap<string, unknown> | undefined {
    return this.publishedRun?.items;
  }

  /** of an audited kind, what the rules read of each object of the last synced run */
  get stored(): ReadonlyMap<string, KubeObject> | undefined {
    return this.publishedRun?.stored;
  }

  start(): void {
    void this.startRun(this.run);
  }

  stop(): Promise<void> {
    this.deps.life.cancel(this.timer);
    return this.run.halt();
  }

  /** Lists again from scratch; the old items stay published until the new list has synced. */
  relist(why: string): void {
    this.deps.life.cancel(this.timer);
    this.waitingRun = undefined;
    void this.run.halt();
    this.relists++;
    this.deps.log.warn({ informer: this.name, version: this.version, silentMs: this.deps.life.now() - this.lastSeen }, why);
    this.run = this.newRun();
    this.start();
  }

  /** Healthy, yet neither events nor reconnects for longer than `silenceMs`. */
  silentFor(silenceMs: number): boolean {
    return this.healthy && this.deps.life.now() - this.lastSeen > silenceMs;
  }

  /**
   * Waiting out a back-off that began when the API server could not be reached, for at most
   * staleMs. One only ever refused with a status (403) keeps its back-off, so a lasting refusal is
   * not retried every probeMs.
   */
  outageVictim(): boolean {
    const now = this.deps.life.now();
    return (
      !this.healthy &&
      this.unreachable &&
      this.waitingRun !== undefined &&
      this.live(this.waitingRun) &&
      now - (this.failingSince ?? 0) < this.deps.timing.staleMs &&
      // a restart already due within the shortest wait is left to happen
      this.restartAt - now > this.deps.timing.restartMinMs
    );
  }

  /** The API server answers again: restart after the shortest wait (jittered), not the streak's. */
  restartSoon(): void {
    if (this.waitingRun && this.outageVictim()) this.restartIn(this.waitingRun, this.backoff.shortest());
  }

  /** why readiness waits for this informer, or undefined */
  holdsReadiness(): string | undefined {
    const now = this.deps.life.now();
    const staleMs = this.deps.timing.staleMs;
    if (!this.publishedRun) return `informer ${this.name} (${this.version}) has not synced${this.error ? `: ${this.error}` : ''}`;
    if (this.healthy || this.failingSince === undefined || now - this.failingSince < staleMs) return undefined;
    return `informer ${this.name} (${this.version}) failed ${Math.round((now - this.failingSince) / 1000)} s ago, longer than the ${Math.round(staleMs / 1000)} s its last objects are served: ${this.error ?? 'unknown error'}; restarting`;
  }

  /** when this synced informer started failing, or undefined */
  staleSince(): number | undefined {
    return this.publishedRun && !this.healthy ? this.failingSince : undefined;
  }

  status(): InformerStatus {
    return {
      name: this.name,
      version: this.version,
      synced: this.publishedRun !== undefined,
      healthy: this.healthy,
      restarts: this.restarts,
      relists: this.relists,
      lastEvent: iso(this.lastEvent),
      objects: (this.publishedRun ?? this.run).items.size,
      ...(this.error ? { error: this.error } : {}),
    };
  }

  private newRun(): Run {
    return new Run(this.deps.api, this.target, (run) => ({
      add: (o) => this.put(run, o),
      update: (o) => this.put(run, o),
      delete: (o) => this.remove(run, o),
      error: (e) => this.failed(run, e),
      connect: () => {
        if (this.live(run)) this.lastSeen = this.deps.life.now();
      },
    }));
  }

  private live(run: Run): boolean {
    return !this.deps.life.ended() && !run.stopped && this.run === run;
  }

  private put(run: Run, o: KubeObject): void {
    if (!this.live(run)) return;
    this.lastEvent = this.lastSeen = this.deps.life.now();
    const key = objectKey(o);
    const value = this.watched.role === 'index' ? compactOf(o) : o;
    if (value === undefined) run.items.delete(key);
    else run.items.set(key, value);
    run.stored?.set(key, judgedOf(o));
    this.tell(o, o.metadata?.resourceVersion);
    if (this.publishedRun === run) this.deps.changed(this.watched);
  }

  private remove(run: Run, o: KubeObject): void {
    if (!this.live(run)) return;
    this.lastEvent = this.lastSeen = this.deps.life.now();
    this.tell(o, undefined);
    run.stored?.delete(objectKey(o));
    if (run.items.delete(objectKey(o)) && this.publishedRun === run) this.deps.changed(this.watched);
  }

  // only a published run's deliveries reach the next snapshot
  private tell(o: KubeObject, rv: unknown): void {
    if (this.deps.delivered && this.watched.role !== 'cidr' && this.publishedRun === this.run) {
      this.deps.delivered(this.watched.kind, o.metadata?.namespace ?? '', o.metadata?.name ?? '', typeof rv === 'string' ? rv : undefined);
    }
  }

  private failed(run: Run, e: unknown): void {
    if (!this.live(run)) return;
    run.errors++;
    const now = this.deps.life.now();
    if (this.healthy || this.failingSince === undefined) this.failingSince = now;
    this.healthy = false;
    this.error = apiMessage(e).split('\n')[0];
    if (apiStatus(e) === undefined) this.unreachable = true;
    const wait = this.backoff.failed(now);
    this.deps.log.warn({ informer: this.name, version: this.version, err: this.error, restartInMs: wait }, 'informer stopped; restarting');
    this.restartIn(run, wait);
    this.deps.waiting();
  }

  private restartIn(run: Run, wait: number): void {
    const life = this.deps.life;
    life.cancel(this.timer);
    this.waitingRun = run;
    this.restartAt = life.now() + wait;
    this.timer = life.later(() => {
      this.waitingRun = undefined;
      this.restarts++;
      void this.startRun(run);
    }, wait);
  }

  private async startRun(run: Run): Promise<void> {
    if (!this.live(run)) return;
    const before = run.errors;
    this.lastSeen = this.deps.life.now();
    try {
      await run.informer.start();
    } catch (e) {
      this.failed(run, e);
      return;
    }
    if (!this.live(run) || run.errors !== before) return;
    this.synced(run);
  }

  private synced(run: Run): void {
    const now = this.deps.life.now();
    const recovered = this.failingSince !== undefined;
    this.healthy = true;
    this.error = undefined;
    this.backoff.synced(now);
    this.failingSince = undefined;
    this.unreachable = false;
    if (recovered) this.deps.recovered(this);
    if (this.publishedRun !== run) {
      this.publishedRun = run;
      this.deps.log.info({ informer: this.name, version: this.version, objects: run.items.size }, 'informer synced');
      this.deps.replaced?.(this.watched.kind);
    }
    this.deps.changed(this.watched);
  }
}
