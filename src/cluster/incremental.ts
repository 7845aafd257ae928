/**
 * A snapshot that grows one object at a time, for `check`: each manifest is validated against the
 * state plus the manifests before it, then added. Rebuilding a snapshot per object would be
 * quadratic; here an add costs only the records the object contributes.
 *
 * The maps behind `snapshot` change on `add`. Rules only read a snapshot during a call, so handing
 * the same view to every call is correct; the base snapshot itself is never modified.
 */
import type { KubeObject } from '../admission/types.ts';
import { compact, isUnaddressedTcp, refOf } from './indexes.ts';
import {
  type ClusterSnapshot, type EgressPort, type NamespaceInfo, type ObjectRef, type ServiceEntryPort, type ServicePort,
  type VirtualServiceRoute, egressKey,
} from './snapshot.ts';

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
  const seByHost = new Map<string, ServiceEntryPort[]>(base.serviceEntriesByHost as Map<string, ServiceEntryPort[]>);
  const seByPort = new Map<number, ServiceEntryPort[]>(base.serviceEntriesByPort as Map<number, ServiceEntryPort[]>);
  const seUnaddressedTcp = new Map<number, ServiceEntryPort[]>(base.unaddressedTcpServiceEntriesByPort as Map<number, ServiceEntryPort[]>);
  const vsByHost = new Map<string, VirtualServiceRoute[]>(base.virtualServicesByHost as Map<string, VirtualServiceRoute[]>);
  const egresses = new Map<string, EgressPort[]>(base.egressesBySourcePort as Map<string, EgressPort[]>);
  const services = new Map<number, ServicePort[]>(base.servicesByPort as Map<number, ServicePort[]>);
  const routeGroups = new Set<string>(base.httpRouteGroups);

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
  const any = <K, V>(m: Map<K, V[]>) => m as unknown as Map<unknown, unknown[]>;
  for (const [k, list] of seByHost) for (const p of list) file('ServiceEntry', p.entry, any(seByHost), k, p);
  for (const [k, list] of seByPort) for (const p of list) file('ServiceEntry', p.entry, any(seByPort), k, p);
  for (const [k, list] of seUnaddressedTcp) for (const p of list) file('ServiceEntry', p.entry, any(seUnaddressedTcp), k, p);
  for (const [k, list] of vsByHost) for (const r of list) file('VirtualService', r.service, any(vsByHost), k, r);
  for (const [k, list] of egresses) for (const p of list) file('Egress', p.egress, any(egresses), k, p);
  for (const [k, list] of services) for (const p of list) file('Service', p.service, any(services), k, p);

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
    const ref = refOf(obj);
    switch (c.kind) {
      case 'Namespace':
        namespaces.set(c.namespace.name, c.namespace);
        return;
      case 'HTTPRouteGroup':
        routeGroups.add(c.ref);
        return;
      case 'ServiceEntry':
        remove(c.kind, ref);
        for (const p of c.ports) {
          place(c.kind, ref, any(seByPort), p.number, p);
          if (isUnaddressedTcp(p)) place(c.kind, ref, any(seUnaddressedTcp), p.number, p);
          for (const h of p.entry.hosts) place(c.kind, ref, any(seByHost), h, p);
        }
        return;
      case 'VirtualService':
        remove(c.kind, ref);
        for (const r of c.routes) for (const h of r.service.hosts) place(c.kind, ref, any(vsByHost), h, r);
        return;
      case 'Egress':
        remove(c.kind, ref);
        for (const p of c.ports) place(c.kind, ref, any(egresses), egressKey(p.source, p.number), p);
        return;
      case 'Service':
        remove(c.kind, ref);
        for (const p of c.ports) place(c.kind, ref, any(services), p.port, p);
        return;
    }
  };

  const snapshot: ClusterSnapshot = {
    cidrs: base.cidrs, namespaces, serviceEntriesByHost: seByHost, serviceEntriesByPort: seByPort,
    unaddressedTcpServiceEntriesByPort: seUnaddressedTcp, virtualServicesByHost: vsByHost, egressesBySourcePort: egresses, servicesByPort: services, httpRouteGroups: routeGroups,
  };
  return { snapshot, add };
}
