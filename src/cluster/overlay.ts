/**
 * Read-your-writes: the objects this webhook admitted that the published snapshot does not show yet.
 * Informers deliver a write tens to hundreds of milliseconds after the API server stored it, and
 * `kubectl apply -f` sends the next object of a file before that; without this layer the second of
 * two conflicting objects is judged against a cluster that lacks the first.
 *
 * An entry leaves when the snapshot has caught up with it (its informer delivered that object at a
 * resourceVersion newer than the one admitted, or its deletion, and the publisher built a snapshot
 * after that), or when it expires. The API server never tells a webhook whether the write it allowed
 * was stored: a later admission step may reject it, so an entry that the informer never confirms
 * must not outlive OVERLAY_TTL_MS. Layering costs nothing while the overlay is empty; otherwise it
 * wraps only the indexes of the kinds pending, once per change, never per review.
 */
import type { KubeObject } from '../admission/types.ts';
import { compact, eachIndexEntry, INDEX_FIELDS, LIST_INDEX_OWNERS, refOf, type Compact, type ListIndex } from './indexes.ts';
import type { ClusterSnapshot, NamespaceInfo, ObjectRef } from './snapshot.ts';

/**
 * How long an admitted object the informers have not confirmed stays visible. Informer lag is
 * normally under a second (docs/consistency.md has the figures); past this the write most likely
 * failed after admission, and a phantom must not deny or warn about real objects for longer.
 */
export const OVERLAY_TTL_MS = 10_000;
/** At most this many pending objects; the oldest go first (a bulk import must not grow memory without bound). */
export const OVERLAY_MAX = 5_000;

export type Pending = {
  readonly kind: Compact['kind'];
  readonly ref: ObjectRef;
  /** undefined: deleted */
  readonly compact: Compact | undefined;
  /** the resourceVersion the admitted request carried ("" on CREATE): the informer must go past it */
  readonly rv: string;
  /** read from the API server rather than admitted: delivering that very resourceVersion confirms it */
  readonly stored: boolean;
  readonly at: number;
  /** the informer delivered a newer version or the deletion; gone after the next build */
  delivered: boolean;
};

export type Overlay = {
  /** a write this webhook allowed (not a dry run); `deleted` for DELETE */
  readonly admitted: (obj: KubeObject, deleted?: boolean) => void;
  /** an object read from the API server (read-through) that the snapshot lacks */
  readonly stored: (obj: KubeObject) => void;
  /** an informer delivered an object of a kind (add, update or delete) */
  readonly delivered: (kind: string, namespace: string, name: string, rv: string | undefined) => void;
  /** a snapshot was built: entries the informers confirmed are in it now */
  readonly published: () => void;
  /** the snapshot with the pending objects laid over it; the snapshot itself when none are */
  readonly layer: (snapshot: ClusterSnapshot) => ClusterSnapshot;
  readonly size: () => number;
};

/** What a layered snapshot was made of, for saying which finding came from a pending object. */
export type Layering = { readonly base: ClusterSnapshot; readonly pending: readonly Pending[] };

const layerings = new WeakMap<ClusterSnapshot, Layering>();

/** The base and pending objects of a snapshot made by an overlay; undefined for a plain snapshot. */
export const layeringOf = (snapshot: ClusterSnapshot): Layering | undefined => layerings.get(snapshot);

const keyOf = (kind: string, namespace: string, name: string): string => `${kind}|${namespace}|${name}`;

/** resourceVersions are opaque, but etcd's are integers; anything else counts as newer. */
function confirms(rv: string | undefined, than: string, orEqual: boolean): boolean {
  if (than === '' || rv === undefined) return true;
  if (!/^\d+$/.test(rv) || !/^\d+$/.test(than)) return orEqual || rv !== than;
  return orEqual ? BigInt(rv) >= BigInt(than) : BigInt(rv) > BigInt(than);
}

export function overlay(now: () => number = Date.now, ttlMs = OVERLAY_TTL_MS, max = OVERLAY_MAX): Overlay {
  // insertion order is age order: an object admitted again moves to the end
  const entries = new Map<string, Pending>();
  let version = 0;
  let cached: { base: ClusterSnapshot; version: number; layered: ClusterSnapshot } | undefined;

  const expire = () => {
    const cutoff = now() - ttlMs;
    for (const [key, e] of entries) {
      if (e.at > cutoff && entries.size <= max) break;
      entries.delete(key);
      version++;
    }
  };

  const add = (obj: KubeObject, deleted: boolean, stored: boolean) => {
    // a review may carry anything the decoder let through; only a well-formed object can be filed
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || typeof obj.metadata?.name !== 'string') return;
    const c = compact(obj);
    if (!c) return;
    const ref = c.kind === 'Namespace' ? { namespace: '', name: c.namespace.name } : refOf(obj);
    const key = keyOf(c.kind, ref.namespace, ref.name);
    entries.delete(key);
    const rv = typeof obj.metadata?.resourceVersion === 'string' ? obj.metadata.resourceVersion : '';
    entries.set(key, { kind: c.kind, ref, compact: deleted ? undefined : c, rv, stored, at: now(), delivered: false });
    version++;
    expire();
  };

  return {
    admitted: (obj, deleted = false) => add(obj, deleted, false),
    stored: (obj) => add(obj, false, true),
    delivered: (kind, namespace, name, rv) => {
      const e = entries.get(keyOf(kind, namespace, name));
      if (e && !e.delivered && confirms(rv, e.rv, e.stored)) e.delivered = true;
    },
    published: () => {
      for (const [key, e] of entries) {
        if (!e.delivered) continue;
        entries.delete(key);
        version++;
      }
    },
    layer: (base) => {
      expire();
      if (entries.size === 0) return base;
      if (cached && cached.base === base && cached.version === version) return cached.layered;
      const pending = [...entries.values()];
      const layered = layerSnapshot(base, pending);
      layerings.set(layered, { base, pending });
      cached = { base, version, layered };
      return layered;
    },
    size: () => entries.size,
  };
}

/** A read-only map that answers from `over` first, then from `base` unless a key is hidden. */
class Layered<K, V> implements ReadonlyMap<K, V> {
  readonly #base: ReadonlyMap<K, V>;
  readonly #over: ReadonlyMap<K, V>;
  readonly #hidden: ReadonlySet<K>;
  constructor(base: ReadonlyMap<K, V>, over: ReadonlyMap<K, V>, hidden: ReadonlySet<K>) {
    this.#base = base;
    this.#over = over;
    this.#hidden = hidden;
  }
  get(key: K): V | undefined {
    if (this.#over.has(key)) return this.#over.get(key);
    return this.#hidden.has(key) ? undefined : this.#base.get(key);
  }
  has(key: K): boolean {
    return this.get(key) !== undefined;
  }
  get size(): number {
    let n = 0;
    for (const _ of this.keys()) n++;
    return n;
  }
  *keys(): MapIterator<K> {
    for (const k of this.#over.keys()) if (this.get(k) !== undefined) yield k;
    for (const k of this.#base.keys()) if (!this.#over.has(k) && !this.#hidden.has(k)) yield k;
  }
  *values(): MapIterator<V> {
    for (const k of this.keys()) yield this.get(k)!;
  }
  *entries(): MapIterator<[K, V]> {
    for (const k of this.keys()) yield [k, this.get(k)!];
  }
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

/**
 * A list index whose lists leave out the records of pending objects (their stored versions) and add
 * the pending records. A key's list is worked out when first asked for and kept: a key nobody reads
 * costs nothing, and a key read by every review is filtered once per layering.
 */
class LayeredLists<K, V> implements ReadonlyMap<K, readonly V[]> {
  readonly #base: ReadonlyMap<K, readonly V[]>;
  readonly #added: ReadonlyMap<K, readonly V[]>;
  readonly #mine: (record: V) => boolean;
  readonly #merged = new Map<K, readonly V[]>();
  constructor(base: ReadonlyMap<K, readonly V[]>, added: ReadonlyMap<K, readonly V[]>, owner: (record: V) => ObjectRef, pending: ReadonlySet<string>) {
    this.#base = base;
    this.#added = added;
    this.#mine = (r) => {
      const o = owner(r);
      return pending.has(`${o.namespace}/${o.name}`);
    };
  }
  get(key: K): readonly V[] | undefined {
    let list = this.#merged.get(key);
    if (!list) {
      const from = this.#base.get(key) ?? [];
      const kept = from.some(this.#mine) ? from.filter((r) => !this.#mine(r)) : from;
      const extra = this.#added.get(key) ?? [];
      list = extra.length ? [...kept, ...extra] : kept;
      this.#merged.set(key, list);
    }
    return list.length ? list : undefined;
  }
  has(key: K): boolean {
    return this.get(key) !== undefined;
  }
  get size(): number {
    let n = 0;
    for (const _ of this.keys()) n++;
    return n;
  }
  *keys(): MapIterator<K> {
    for (const k of this.#added.keys()) if (this.get(k)) yield k;
    for (const k of this.#base.keys()) if (!this.#added.has(k) && this.get(k)) yield k;
  }
  *values(): MapIterator<readonly V[]> {
    for (const k of this.keys()) yield this.get(k)!;
  }
  *entries(): MapIterator<[K, readonly V[]]> {
    for (const k of this.keys()) yield [k, this.get(k)!];
  }
  [Symbol.iterator](): MapIterator<[K, readonly V[]]> {
    return this.entries();
  }
  forEach(fn: (value: readonly V[], key: K, map: ReadonlyMap<K, readonly V[]>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}


/** The snapshot as it would be with the pending objects stored: only the indexes of their kinds are wrapped. */
export function layerSnapshot(base: ClusterSnapshot, pending: readonly Pending[]): ClusterSnapshot {
  const out: Record<string, unknown> = { ...base };
  const kinds = new Set(pending.map((p) => p.kind));
  if (kinds.has('Namespace')) {
    const over = new Map<string, NamespaceInfo>();
    const hidden = new Set<string>();
    for (const p of pending) {
      if (p.kind !== 'Namespace') continue;
      if (p.compact?.kind === 'Namespace') over.set(p.ref.name, p.compact.namespace);
      else hidden.add(p.ref.name);
    }
    out.namespaces = new Layered(base.namespaces, over, hidden);
  }
  if (kinds.has('HTTPRouteGroup')) {
    const over = new Map<string, number>();
    const hidden = new Set<string>();
    for (const p of pending) {
      if (p.kind !== 'HTTPRouteGroup') continue;
      const ref = `${p.ref.namespace}/${p.ref.name}`;
      if (p.compact?.kind === 'HTTPRouteGroup') over.set(ref, p.compact.matches);
      else hidden.add(ref);
    }
    out.httpRouteGroups = new Layered(base.httpRouteGroups, over, hidden);
  }
  const added = new Map<ListIndex, Map<unknown, unknown[]>>();
  const owners = new Map<Compact['kind'], Set<string>>();
  for (const p of pending) {
    if (p.kind === 'Namespace' || p.kind === 'HTTPRouteGroup') continue;
    const set = owners.get(p.kind) ?? new Set<string>();
    set.add(`${p.ref.namespace}/${p.ref.name}`);
    owners.set(p.kind, set);
    if (!p.compact) continue;
    eachIndexEntry(p.compact, (index, key, record) => {
      const m = added.get(index) ?? new Map<unknown, unknown[]>();
      added.set(index, m);
      const list = m.get(key);
      if (list) list.push(record);
      else m.set(key, [record]);
    });
  }
  for (const [kind, set] of owners) {
    for (const field of INDEX_FIELDS[kind] as readonly ListIndex[]) {
      const { owner } = LIST_INDEX_OWNERS[field];
      out[field] = new LayeredLists(base[field] as ReadonlyMap<unknown, readonly unknown[]>, added.get(field) ?? new Map(), owner, set);
    }
  }
  return out as ClusterSnapshot;
}
