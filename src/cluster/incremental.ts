/**
 * A snapshot that grows one object at a time, for `check`: each manifest is validated against the
 * state plus the manifests before it, then added. Rebuilding a snapshot per object would be
 * quadratic; here an add costs only the records the object contributes.
 *
 * The maps behind `snapshot` change on `add`. Rules only read a snapshot during a call, so handing
 * the same view to every call is correct; the base snapshot itself is never modified.
 */
import type { KubeObject } from '../admission/types.ts';
import { compact, eachIndexEntry, emptyListIndexes, isEgressRecordKind, LIST_INDEX_OWNERS, refOf, type ListIndex } from './indexes.ts';
import type { ClusterSnapshot, EgressRecordKind, NamespaceInfo, ObjectRef } from './snapshot.ts';

export type IncrementalSnapshot = {
  /** The live view: reflects every `add` so far. */
  readonly snapshot: ClusterSnapshot;
  /** Adds an object, replacing the object of the same kind, namespace and name if there is one (as apply does). */
  readonly add: (obj: KubeObject) => void;
};

/** Where one record sits, so a replaced object's records can be taken out again. */
type Slot = { readonly map: Map<unknown, unknown[]>; readonly key: unknown; readonly record: unknown };

const identity = (kind: string, ref: ObjectRef): string => `${kind}|${ref.namespace}|${ref.name}`;

export function incrementalSnapshot(base: ClusterSnapshot): IncrementalSnapshot {
  const namespaces = new Map<string, NamespaceInfo>(base.namespaces);
  const routeGroups = new Map<string, number>(base.httpRouteGroups);
  // an object added makes its kind known, as files do (snapshotFromCompact)
  const known = new Set<EgressRecordKind>(base.knownKinds);
  const lists = emptyListIndexes();
  for (const index of Object.keys(lists) as ListIndex[]) lists[index] = new Map(base[index] as ReadonlyMap<unknown, unknown[]>);

  // Lists still shared with the base are copied before their first change (copy on write).
  const owned = new Set<unknown[]>();
  const slots = new Map<string, Slot[]>();

  const file = (kind: string, ref: ObjectRef, map: Map<unknown, unknown[]>, key: unknown, record: unknown) => {
    const id = identity(kind, ref);
    const s = slots.get(id);
    if (s) s.push({ map, key, record });
    else slots.set(id, [{ map, key, record }]);
  };

  const place = (kind: string, ref: ObjectRef, map: Map<unknown, unknown[]>, key: unknown, record: unknown) => {
    let list = map.get(key);
    if (!list) {
      list = [];
      owned.add(list);
      map.set(key, list);
    } else if (!owned.has(list)) {
      list = [...list];
      owned.add(list);
      map.set(key, list);
    }
    list.push(record);
    file(kind, ref, map, key, record);
  };

  // The base's records are filed by owner too, so that re-declaring a cluster object replaces it.
  for (const index of Object.keys(lists) as ListIndex[]) {
    const { kind, owner } = LIST_INDEX_OWNERS[index];
    for (const [key, list] of lists[index]) for (const record of list) file(kind, owner(record), lists[index], key, record);
  }

  const remove = (kind: string, ref: ObjectRef) => {
    const id = identity(kind, ref);
    const mine = slots.get(id);
    if (!mine) return;
    const gone = new Map<Map<unknown, unknown[]>, Map<unknown, Set<unknown>>>();
    for (const { map, key, record } of mine) {
      let byKey = gone.get(map);
      if (!byKey) gone.set(map, (byKey = new Map()));
      const set = byKey.get(key);
      if (set) set.add(record);
      else byKey.set(key, new Set([record]));
    }
    for (const [map, byKey] of gone) {
      for (const [key, records] of byKey) {
        const rest = (map.get(key) ?? []).filter((r) => !records.has(r));
        if (rest.length) {
          owned.add(rest);
          map.set(key, rest);
        } else map.delete(key);
      }
    }
    slots.delete(id);
  };

  const add = (obj: KubeObject) => {
    const c = compact(obj);
    if (!c) return;
    if (c.kind === 'Namespace') namespaces.set(c.namespace.name, c.namespace);
    else if (c.kind === 'HTTPRouteGroup') routeGroups.set(c.ref, c.matches);
    else {
      const ref = refOf(obj);
      if (isEgressRecordKind(c.kind)) known.add(c.kind);
      remove(c.kind, ref);
      eachIndexEntry(c, (index, key, record) => place(c.kind, ref, lists[index], key, record));
    }
  };

  const snapshot: ClusterSnapshot = {
    cidrs: base.cidrs,
    namespaces,
    httpRouteGroups: routeGroups,
    ...(lists as unknown as Pick<ClusterSnapshot, ListIndex>),
    mesh: base.mesh,
    knownKinds: known,
  };
  return { snapshot, add };
}
