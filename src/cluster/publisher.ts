/**
 * The publisher: turns the informers' published items (plus the --state objects) into a new
 * immutable snapshot, rebuilding only the indexes of kinds that changed. A burst of events becomes
 * one rebuild after a quiet time stretched to the last build time, so rebuilds take at most half the
 * CPU; the first snapshot that has everything is published at once.
 */
import { performance } from 'node:perf_hooks';
import type { CidrSources } from './cidr-sources.ts';
import { rebuildSnapshot, snapshotFromObjects, type Compact } from './indexes.ts';
import { EGRESS_RECORD_KINDS, type EgressRecordKind } from './egress-records.ts';
import type { Informers } from './informers.ts';
import type { Lifetime } from './lifetime.ts';
import type { MeshConfig } from './mesh-config.ts';
import type { ClusterSnapshot } from './snapshot.ts';
import type { Timing } from './view-types.ts';

export type Publisher = {
  /** a kind's indexes must be rebuilt */
  readonly mark: (kind: Compact['kind']) => void;
  /** publishes soon (coalesced), or at once when `immediate` says so */
  readonly schedule: () => void;
  readonly current: () => ClusterSnapshot;
  /** the published objects of a kind: the informer's, then the --state objects it does not hold */
  readonly itemsOf: (kind: Compact['kind']) => Iterable<Compact>;
  readonly generation: () => number;
  readonly builtAt: () => number | undefined;
  readonly buildMs: () => number;
};

/** A --state object's compact record, under the object's kind, namespace and name. */
export type StateRecord = { readonly key: string; readonly compact: Compact };

export type PublisherDeps = {
  readonly timing: Timing;
  readonly life: Lifetime;
  readonly informers: Pick<Informers, 'published'> & Partial<Pick<Informers, 'known'>>;
  readonly cidrs: Pick<CidrSources, 'refresh' | 'cidrs'>;
  readonly stateRecords: readonly StateRecord[];
  /** the meshes' settings as last read */
  readonly mesh: () => MeshConfig;
  /** whether to publish without waiting (the first snapshot, once every input is in) */
  readonly immediate: () => boolean;
  /** after each build */
  readonly built: () => void;
};

export function publisher({ timing, life, informers, cidrs, stateRecords, mesh, immediate, built }: PublisherDeps): Publisher {
  const dirty = new Set<Compact['kind']>();
  const stateByKind = new Map<Compact['kind'], Map<string, Compact>>();
  for (const { key, compact: c } of stateRecords) {
    const m = stateByKind.get(c.kind) ?? new Map<string, Compact>();
    m.set(key, c);
    stateByKind.set(c.kind, m);
    dirty.add(c.kind);
  }
  let snapshot = snapshotFromObjects([], cidrs.cidrs());
  let generation = 0;
  let builtAt: number | undefined;
  let buildMs = 0;
  let timer: NodeJS.Timeout | undefined;

  function* itemsOf(kind: Compact['kind']): Iterable<Compact> {
    const state = stateByKind.get(kind);
    const live = informers.published(kind) as ReadonlyMap<string, Compact> | undefined;
    if (live) yield* live.values();
    if (state) for (const [key, c] of state) if (!live?.has(key)) yield c;
  }

  /** A kind is known from its informer (synced, or its CRD not installed), or from --state objects of it. */
  function knownKinds(): ReadonlySet<EgressRecordKind> {
    const known = new Set<EgressRecordKind>();
    for (const kind of EGRESS_RECORD_KINDS) if (informers.known?.(kind) || stateByKind.get(kind)?.size) known.add(kind);
    return known;
  }

  function publish(): void {
    life.cancel(timer);
    timer = undefined;
    if (life.ended()) return;
    const t0 = performance.now();
    cidrs.refresh();
    snapshot = { ...rebuildSnapshot(snapshot, dirty, itemsOf, cidrs.cidrs()), mesh: mesh(), knownKinds: knownKinds() };
    dirty.clear();
    buildMs = performance.now() - t0;
    builtAt = Date.now();
    generation++;
    built();
  }

  return {
    mark: (kind) => void dirty.add(kind),
    schedule: () => {
      if (life.ended() || timer) return;
      if (immediate()) {
        publish();
        return;
      }
      timer = life.later(publish, Math.min(timing.maxCoalesceMs, Math.max(timing.coalesceMs, buildMs)));
    },
    current: () => snapshot,
    itemsOf,
    generation: () => generation,
    builtAt: () => builtAt,
    buildMs: () => buildMs,
  };
}
