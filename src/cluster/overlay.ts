/**
 * Read-your-writes: the objects this webhook admitted that the published snapshot does not show yet.
 * Informers deliver a write tens to hundreds of milliseconds after the API server stored it, and
 * `kubectl apply -f` sends the next object of a file before that; without this layer the second of
 * two conflicting objects is judged against a cluster that lacks the first.
 *
 * An entry leaves when the snapshot has caught up with it (its informer delivered that object at a
 * resourceVersion newer than the one admitted, and the publisher built a snapshot after that), or
 * when it expires. The API server never tells a webhook whether the write it allowed was stored: a
 * later admission step may reject it, so an entry that the informer never confirms must not outlive
 * OVERLAY_TTL_MS.
 *
 * Only writes the API server could have sent reach this module (review/remember.ts decides), and
 * each caller (the user the API server names) holds at most OVERLAY_PER_CALLER entries, so one
 * caller's writes never push out another's. The layered indexes are kept up to date entry by entry:
 * a review costs the same with 5,000 pending writes as with one.
 */
import type { KubeObject } from '../admission/types.ts';
import { AgeOrder, type Link } from './age-order.ts';
import { compact, eachIndexEntry, INDEX_FIELDS, LIST_INDEX_OWNERS, refOf, sameRecord, type Compact, type ListIndex } from './indexes.ts';
import type { ClusterSnapshot, NamespaceInfo, ObjectRef } from './snapshot.ts';

/**
 * How long an admitted object the informers have not confirmed stays visible. Informer lag is
 * normally under a second (docs/consistency.md has the figures); past this the write most likely
 * failed after admission, and a phantom must not deny or warn about real objects for longer.
 */
export const OVERLAY_TTL_MS = 10_000;
/** Pending objects of one caller; past it that caller's oldest go first. */
export const OVERLAY_PER_CALLER = 5_000;
/** Pending objects of all callers together; past it the caller holding the most loses its oldest. */
export const OVERLAY_MAX = 20_000;
/** The caller of objects the server read from the API server itself (a pod's namespace, read through). */
export const READ_THROUGH_CALLER = '(read through)';

export type Pending = {
  /** kind, namespace and name: one entry per object */
  readonly key: string;
  readonly kind: Compact['kind'];
  readonly ref: ObjectRef;
  readonly compact: Compact;
  /** who wrote it: the username of the admission request */
  readonly caller: string;
  /** the resourceVersion the admitted request carried ("" on CREATE): the informer must go past it */
  rv: string;
  /** read from the API server rather than admitted: delivering that very resourceVersion confirms it */
  readonly stored: boolean;
  /** when it was last admitted; the same object admitted again only moves this */
  at: number;
  /** the informer delivered a newer version; gone after the next build */
  delivered: boolean;
};

export type Traced<T> = { readonly value: T; readonly read: readonly Pending[] };

export type Overlay = {
  /**
   * A write this webhook allowed, by `caller` (review/remember.ts decides which writes qualify).
   * True when later reviews see something they did not: false for an object that cannot be filed,
   * and for the same object written again unchanged by the same caller, which only stays longer.
   */
  readonly admitted: (obj: KubeObject, caller: string) => boolean;
  /** an object read from the API server (read-through) that the snapshot lacks */
  readonly stored: (obj: KubeObject) => void;
  /** an informer delivered an object of a kind (add, update or delete) */
  readonly delivered: (kind: string, namespace: string, name: string, rv: string | undefined) => void;
  /** a snapshot was built: entries the informers confirmed are in it now */
  readonly published: () => void;
  /**
   * The snapshot with the pending objects laid over it; the snapshot itself when none are. It is
   * meant for the review it was asked for: a later admission shows in it from then on.
   */
  readonly layer: (snapshot: ClusterSnapshot) => ClusterSnapshot;
  /** runs `fn` (a review over a layered snapshot) and says which pending objects it read */
  readonly trace: <T>(fn: () => T) => Traced<T>;
  readonly size: () => number;
  /** callers with pending entries */
  readonly callers: () => number;
};

const keyOf = (kind: string, namespace: string, name: string): string => `${kind}|${namespace}|${name}`;

/** resourceVersions are opaque, but etcd's are integers; anything else counts as newer. */
function confirms(rv: string | undefined, than: string, orEqual: boolean): boolean {
  if (than === '' || rv === undefined) return true;
  if (!/^\d+$/.test(rv) || !/^\d+$/.test(than)) return orEqual || rv !== than;
  return orEqual ? BigInt(rv) >= BigInt(than) : BigInt(rv) > BigInt(than);
}

/** One pending object's records at a key of a list index. */
type One = { readonly entry: Pending; readonly records: unknown[] };
/**
 * What a key of a list index holds: most keys (a host, a name) are one pending object's, and a Map
 * per key would hold several hundred bytes for every pending write; a key several objects share (a
 * port) holds their records by object. NOBODY marks a key whose objects have all left.
 */
type Held = One | Map<Pending, unknown[]>;
/** A key whose pending objects all left, kept until the next sweep; every write checks for it first. */
const NOBODY = new Map<Pending, unknown[]>();

const isOne = (h: Held): h is One => !(h instanceof Map);

/** A key's pending objects, each with its records there, in the order they were filed. */
function* heldEntries(h: Held): Generator<readonly [Pending, readonly unknown[]]> {
  if (isOne(h)) yield [h.entry, h.records];
  else yield* h;
}

const heldSize = (h: Held): number => (isOne(h) ? 1 : h.size);

/** The live layers every layered snapshot reads: changed entry by entry, never rebuilt. */
type Layers = {
  readonly namespaces: Map<string, { readonly info: NamespaceInfo; readonly entry: Pending }>;
  readonly httpRouteGroups: Map<string, { readonly matches: number; readonly entry: Pending }>;
  /** per index and key, each pending object's records there, in the order they were filed */
  readonly lists: Map<ListIndex, Map<unknown, Held>>;
  /** pending entries per kind: which indexes need wrapping */
  readonly kinds: Map<Compact['kind'], number>;
};

/** Where a pending entry is held besides `entries`: both age orders, and its records in the list layers. */
type Placed = {
  readonly age: Link<Pending>;
  readonly mine: Link<Pending>;
  /** the list index and key of each place its records are filed at, in pairs: index, key, index, key… */
  readonly filed: readonly unknown[];
};

/** Emptied keys of the list layers are dropped after this many entries left, or more than are pending. */
const SWEEP_EVERY = 1_024;

export function overlay(now: () => number = Date.now, ttlMs = OVERLAY_TTL_MS, perCaller = OVERLAY_PER_CALLER, max = OVERLAY_MAX): Overlay {
  // An object admitted again replaces its entry in place: V8's Map takes time in proportion to its
  // size when one key is deleted and set again and again, so age order is kept apart from it.
  const entries = new Map<string, Pending>();
  const ages = new AgeOrder<Pending>();
  const callers = new Map<string, AgeOrder<Pending>>();
  const placed = new Map<Pending, Placed>();
  const layers: Layers = { namespaces: new Map(), httpRouteGroups: new Map(), lists: new Map(), kinds: new Map() };
  let version = 0;
  let left = 0;
  let cached: { base: ClusterSnapshot; version: number; layered: ClusterSnapshot } | undefined;
  let sink: Set<Pending> | undefined;
  const touched = (p: Pending) => sink?.add(p);

  /** Drops the keys no pending object files at any more. */
  const sweep = () => {
    left = 0;
    for (const byKey of layers.lists.values()) for (const [k, here] of byKey) if (heldSize(here) === 0) byKey.delete(k);
  };

  /** Takes `e` out of every layer; `replaced`: its key is about to be filed again, in place. */
  const unfile = (e: Pending, replaced = false) => {
    const where = placed.get(e);
    if (!where) return;
    placed.delete(e);
    if (!replaced) entries.delete(e.key);
    ages.remove(where.age);
    const mine = callers.get(e.caller);
    if (mine) {
      mine.remove(where.mine);
      if (mine.size === 0) callers.delete(e.caller);
    }
    const n = (layers.kinds.get(e.kind) ?? 1) - 1;
    if (n === 0) layers.kinds.delete(e.kind);
    else layers.kinds.set(e.kind, n);
    if (!replaced && e.compact.kind === 'Namespace') layers.namespaces.delete(e.ref.name);
    else if (!replaced && e.compact.kind === 'HTTPRouteGroup') layers.httpRouteGroups.delete(e.compact.ref);
    // an emptied key stays (the next version of the object most likely files there again) until the next sweep
    const { filed } = where;
    for (let i = 0; i < filed.length; i += 2) {
      const byKey = layers.lists.get(filed[i] as ListIndex);
      const here = byKey?.get(filed[i + 1]);
      if (here === undefined || here === NOBODY) continue;
      if (!isOne(here)) here.delete(e);
      else if (here.entry === e) byKey!.set(filed[i + 1], NOBODY);
    }
    if (++left > SWEEP_EVERY && left > entries.size) sweep();
    version++;
  };

  const file = (e: Pending) => {
    entries.set(e.key, e);
    let mine = callers.get(e.caller);
    if (!mine) callers.set(e.caller, (mine = new AgeOrder<Pending>()));
    const links = { age: ages.push(e), mine: mine.push(e) };
    layers.kinds.set(e.kind, (layers.kinds.get(e.kind) ?? 0) + 1);
    const c = e.compact;
    const filed: unknown[] = [];
    if (c.kind === 'Namespace') layers.namespaces.set(e.ref.name, { info: c.namespace, entry: e });
    else if (c.kind === 'HTTPRouteGroup') layers.httpRouteGroups.set(c.ref, { matches: c.matches, entry: e });
    else
      eachIndexEntry(c, (index, k, record) => {
        let byKey = layers.lists.get(index);
        if (!byKey) layers.lists.set(index, (byKey = new Map<unknown, Held>()));
        const here = byKey.get(k);
        if (here === undefined || here === NOBODY) byKey.set(k, { entry: e, records: [record] });
        else if (isOne(here)) {
          if (here.entry === e) {
            here.records.push(record);
            return;
          }
          byKey.set(
            k,
            new Map([
              [here.entry, here.records],
              [e, [record]],
            ]),
          );
        } else {
          const held = here.get(e);
          if (held) {
            held.push(record);
            return;
          }
          here.set(e, [record]);
        }
        filed.push(index, k);
      });
    // copied: the list grew by push, which leaves room for 16 more
    placed.set(e, { ...links, filed: filed.slice() });
    version++;
  };

  const renew = (e: Pending, rv: string) => {
    const where = placed.get(e);
    const mine = callers.get(e.caller);
    if (!where || !mine) return;
    ages.renew(where.age);
    mine.renew(where.mine);
    e.at = now();
    e.rv = rv;
    e.delivered = false;
  };

  const expire = () => {
    const cutoff = now() - ttlMs;
    for (let e = ages.oldest; e !== undefined && e.at <= cutoff; e = ages.oldest) unfile(e);
  };

  /** Room for one more entry of `caller`: its own oldest first, else the largest holder's. */
  const makeRoom = (caller: string) => {
    const mine = callers.get(caller);
    if (mine && mine.size >= perCaller && mine.oldest) unfile(mine.oldest);
    if (entries.size < max) return;
    let largest: AgeOrder<Pending> | undefined;
    for (const c of callers.values()) if (!largest || c.size > largest.size) largest = c;
    if (largest?.oldest) unfile(largest.oldest);
  };

  const add = (obj: KubeObject, caller: string, stored: boolean): boolean => {
    // a review may carry anything the decoder let through; only a well-formed object can be filed
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || typeof obj.metadata?.name !== 'string') return false;
    const c = compact(obj);
    if (!c) return false;
    const ref = c.kind === 'Namespace' ? { namespace: '', name: c.namespace.name } : refOf(obj);
    const key = keyOf(c.kind, ref.namespace, ref.name);
    expire();
    let previous = entries.get(key);
    if (previous?.caller !== caller) {
      makeRoom(caller);
      previous = entries.get(key);
    }
    const rv = typeof obj.metadata?.resourceVersion === 'string' ? obj.metadata.resourceVersion : '';
    if (previous?.caller === caller && previous.stored === stored && sameRecord(previous.compact, c)) {
      // The same object again (a re-apply, a sync that changed nothing): reviews would see what they
      // see now, so the last layering still holds; only the entry's age and resourceVersion move.
      renew(previous, rv);
      return false;
    }
    if (previous) unfile(previous, true);
    file({ key, kind: c.kind, ref, compact: c, caller, rv, stored, at: now(), delivered: false });
    return true;
  };

  return {
    admitted: (obj, caller) => add(obj, caller, false),
    stored: (obj) => {
      add(obj, READ_THROUGH_CALLER, true);
    },
    delivered: (kind, namespace, name, rv) => {
      const e = entries.get(keyOf(kind, namespace, name));
      if (e && !e.delivered && confirms(rv, e.rv, e.stored)) e.delivered = true;
    },
    published: () => {
      for (const e of entries.values()) if (e.delivered) unfile(e);
    },
    layer: (base) => {
      expire();
      if (entries.size === 0) return base;
      if (cached && cached.base === base && cached.version === version) return cached.layered;
      const pendingOf = (kind: Compact['kind'], o: ObjectRef) => entries.get(keyOf(kind, o.namespace, o.name));
      const layered = layerSnapshot(base, layers, pendingOf, touched);
      cached = { base, version, layered };
      return layered;
    },
    trace: (fn) => {
      const outer = sink;
      const read = new Set<Pending>();
      sink = read;
      try {
        return { value: fn(), read: [...read] };
      } finally {
        sink = outer;
      }
    },
    size: () => {
      // a scrape between reviews must not count writes that have expired since
      expire();
      return entries.size;
    },
    callers: () => callers.size,
  };
}

/** A read-only map that answers from `over` first, then from `base`. */
class Layered<K, V, O> implements ReadonlyMap<K, V> {
  readonly #base: ReadonlyMap<K, V>;
  readonly #over: ReadonlyMap<K, O>;
  readonly #value: (o: O) => V;
  readonly #seen: (o: O) => void;
  constructor(base: ReadonlyMap<K, V>, over: ReadonlyMap<K, O>, value: (o: O) => V, seen: (o: O) => void = () => {}) {
    this.#base = base;
    this.#over = over;
    this.#value = value;
    this.#seen = seen;
  }
  get(key: K): V | undefined {
    const o = this.#over.get(key);
    if (o === undefined) return this.#base.get(key);
    this.#seen(o);
    return this.#value(o);
  }
  has(key: K): boolean {
    return this.#over.has(key) || this.#base.has(key);
  }
  get size(): number {
    let n = this.#base.size;
    for (const k of this.#over.keys()) if (!this.#base.has(k)) n++;
    return n;
  }
  *keys(): MapIterator<K> {
    yield* this.#over.keys();
    for (const k of this.#base.keys()) if (!this.#over.has(k)) yield k;
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

type Merged<V> = { readonly list: readonly V[]; readonly from: readonly Pending[] };

/**
 * A list index whose lists leave out the records of pending objects (their stored versions) and add
 * the pending records. A key's list is worked out when first asked for and kept: a key nobody reads
 * costs nothing, and a key read by every review is merged once per layering.
 */
class LayeredLists<K, V> implements ReadonlyMap<K, readonly V[]> {
  readonly #base: ReadonlyMap<K, readonly V[]>;
  readonly #added: ReadonlyMap<K, Held>;
  readonly #mine: (record: V) => boolean;
  readonly #seen: (p: Pending) => void;
  readonly #merged = new Map<K, Merged<V>>();
  constructor(base: ReadonlyMap<K, readonly V[]>, added: ReadonlyMap<K, Held>, mine: (record: V) => boolean, seen: (p: Pending) => void) {
    this.#base = base;
    this.#added = added;
    this.#mine = mine;
    this.#seen = seen;
  }
  get(key: K): readonly V[] | undefined {
    let m = this.#merged.get(key);
    if (!m) {
      const from = this.#base.get(key) ?? [];
      const kept = from.some(this.#mine) ? from.filter((r) => !this.#mine(r)) : from;
      const extra = this.#added.get(key);
      if (extra !== undefined && heldSize(extra) > 0) {
        const list = [...kept];
        const pending: Pending[] = [];
        for (const [p, records] of heldEntries(extra)) {
          pending.push(p);
          for (const r of records) list.push(r as V);
        }
        m = { list, from: pending };
      } else m = { list: kept, from: [] };
      this.#merged.set(key, m);
    }
    for (const p of m.from) this.#seen(p);
    return m.list.length ? m.list : undefined;
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

const NO_RECORDS: ReadonlyMap<unknown, Held> = new Map();

/**
 * The snapshot as it would be with the pending objects stored. Only the indexes of the kinds
 * pending are wrapped, over the live layers: the cost is the number of index fields, not of entries.
 */
function layerSnapshot(
  base: ClusterSnapshot,
  layers: Layers,
  pendingOf: (kind: Compact['kind'], o: ObjectRef) => Pending | undefined,
  seen: (p: Pending) => void,
): ClusterSnapshot {
  const out: Record<string, unknown> = { ...base };
  if (layers.namespaces.size)
    out.namespaces = new Layered(
      base.namespaces,
      layers.namespaces,
      (o) => o.info,
      (o) => seen(o.entry),
    );
  if (layers.httpRouteGroups.size)
    out.httpRouteGroups = new Layered(
      base.httpRouteGroups,
      layers.httpRouteGroups,
      (o) => o.matches,
      (o) => seen(o.entry),
    );
  for (const kind of layers.kinds.keys()) {
    if (kind === 'Namespace' || kind === 'HTTPRouteGroup') continue;
    for (const field of INDEX_FIELDS[kind] as readonly ListIndex[]) {
      const { owner } = LIST_INDEX_OWNERS[field];
      const mine = (record: unknown) => pendingOf(kind, owner(record)) !== undefined;
      out[field] = new LayeredLists(
        base[field] as ReadonlyMap<unknown, readonly unknown[]>,
        layers.lists.get(field) ?? NO_RECORDS,
        mine,
        seen,
      );
    }
  }
  return out as ClusterSnapshot;
}

/** `base` with one namespace as read from the API server, for the review that had to read it. */
export function withNamespace(base: ClusterSnapshot, info: NamespaceInfo): ClusterSnapshot {
  return { ...base, namespaces: new Layered(base.namespaces, new Map([[info.name, info]]), (i) => i) };
}
