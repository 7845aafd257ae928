/**
 * The continuous audit: what the webhook would say of every stored object, kept current as the
 * cluster changes. A changed object is judged again with the objects it relates to (related.ts),
 * against the first snapshot that holds the change; everything is judged again on a timer and when
 * the mesh settings or the cluster ranges change. Judging yields to the event loop every few
 * milliseconds, so admission keeps its latency during a full pass. Same engine as `audit` and admission
 * (storedFindings), so a stored object's findings are what admission would say about it.
 */
import { namespacedName, type KubeObject } from '../admission/types.ts';
import type { Issue } from '../catalogue/result.ts';
import { storedFindings } from '../check/items.ts';
import type { Lifetime } from '../cluster/lifetime.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import type { Log } from '../cluster/view-types.ts';
import { errorText } from '../json.ts';
import { keysOfChange, namespacesUsingWaypoint, READ_ONLY_KINDS, RelatedIndex, relatedKeys } from './related.ts';
import type { ReportedFinding, ResourceRef } from './reports.ts';

/** "Kind|namespace/name" */
export type StoredId = string;

export type StoredVerdict = {
  readonly ref: ResourceRef;
  readonly findings: readonly ReportedFinding[];
};

export type AuditSource = {
  readonly current: () => ClusterSnapshot;
  /** of an audited kind, what the rules read of each stored object */
  readonly stored: (kind: string) => ReadonlyMap<string, KubeObject> | undefined;
  /** the audited kinds */
  readonly kinds: readonly string[];
};

export type Pass = {
  readonly full: boolean;
  readonly objects: number;
  readonly ms: number;
  /** namespaces whose findings changed ('' for cluster-scoped objects) */
  readonly namespaces: ReadonlySet<string>;
  /** objects that changed themselves and now have errors they did not have: each the later write of a pair, or written while no webhook judged it */
  readonly newErrors: readonly StoredVerdict[];
};

export type AuditOptions = {
  readonly source: AuditSource;
  readonly life: Lifetime;
  readonly log: Log;
  /** every this often, every stored object is judged again */
  readonly fullPassMs: number;
  /** milliseconds of judging between two yields to the event loop: what a pass adds to an admission's wait */
  readonly sliceMs?: number;
  readonly passed: (pass: Pass) => void;
};

export type Auditor = {
  /** an object of an audited kind was added, changed or deleted */
  readonly changed: (kind: string, namespace: string, name: string) => void;
  /** a kind was listed again: its objects are judged again, and those gone are dropped */
  readonly replaced: (kind: string) => void;
  /** a new snapshot is out: judge what changed */
  readonly published: () => void;
  /** starts with a full pass */
  readonly start: () => void;
  /** stops and forgets every verdict */
  readonly stop: () => void;
  readonly verdicts: () => ReadonlyMap<StoredId, StoredVerdict>;
  /** the verdicts of one namespace ('' for cluster-scoped objects) */
  readonly inNamespace: (namespace: string) => Iterable<StoredVerdict>;
  readonly lastPass: () => Pass | undefined;
};

const idOf = (kind: string, key: string): StoredId => `${kind}|${key}`;
const splitId = (id: StoredId): { kind: string; key: string } => {
  const bar = id.indexOf('|');
  return { kind: id.slice(0, bar), key: id.slice(bar + 1) };
};

const refOf = (o: KubeObject): ResourceRef => ({
  apiVersion: o.apiVersion ?? '',
  kind: o.kind ?? '',
  namespace: o.kind === 'Namespace' ? '' : (o.metadata?.namespace ?? ''),
  name: o.metadata?.name ?? '',
  ...(typeof o.metadata?.uid === 'string' ? { uid: o.metadata.uid } : {}),
});

const sameIdentity = (ref: ResourceRef, o: KubeObject): boolean =>
  ref.namespace === (o.kind === 'Namespace' ? '' : (o.metadata?.namespace ?? '')) &&
  ref.uid === (typeof o.metadata?.uid === 'string' ? o.metadata.uid : undefined);

/** Whether findings filed before say what `issues` says, errors first, in order. */
function sameIssues(
  findings: readonly ReportedFinding[],
  issues: { readonly errors: readonly Issue[]; readonly warnings: readonly Issue[] },
): boolean {
  if (findings.length !== issues.errors.length + issues.warnings.length) return false;
  const same = (f: ReportedFinding | undefined, i: Issue, severity: string) =>
    f !== undefined && f.severity === severity && f.code === i.code && f.path === i.path && f.message === i.message;
  for (let i = 0; i < issues.errors.length; i++) if (!same(findings[i], issues.errors[i]!, 'error')) return false;
  const e = issues.errors.length;
  for (let i = 0; i < issues.warnings.length; i++) if (!same(findings[e + i], issues.warnings[i]!, 'warning')) return false;
  return true;
}

const sameFinding = (a: ReportedFinding, b: Omit<ReportedFinding, 'since'>) =>
  a.code === b.code && a.path === b.path && a.message === b.message && a.severity === b.severity;

/** The mesh settings and cluster ranges as text (ranges hold bigints, which JSON leaves to a replacer). */
const basisOf = (s: ClusterSnapshot): string =>
  JSON.stringify([s.mesh, s.cidrs], (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));

/** After a pass that failed, the wait before the next try: a failure must not become a busy loop. */
export const RETRY_AFTER_FAILURE_MS = 5_000;

const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

export function continuousAudit({ source, life, log, fullPassMs, sliceMs = 1, passed }: AuditOptions): Auditor {
  const verdicts = new Map<StoredId, StoredVerdict>();
  const byNamespace = new Map<string, Set<StoredId>>();
  let related = new RelatedIndex<StoredId>();
  /** the object each id's related keys were read from */
  const indexed = new Map<StoredId, KubeObject>();
  const dirty = new Set<StoredId>();
  /** keys offered by objects of kinds nobody judges (a Gateway) that changed */
  const dirtyKeys = new Set<string>();
  let full = false;
  let running = false;
  let active = false;
  let scheduled: NodeJS.Timeout | undefined;
  let fullTimer: NodeJS.Timeout | undefined;
  /** the mesh settings and cluster ranges the verdicts were reached with: a change of either re-judges everything */
  let judgedWith: string | undefined;
  let last: Pass | undefined;

  const file = (id: StoredId, verdict: StoredVerdict | undefined) => {
    const old = verdicts.get(id);
    if (old) byNamespace.get(old.ref.namespace)?.delete(id);
    if (!verdict) {
      verdicts.delete(id);
      return;
    }
    verdicts.set(id, verdict);
    const set = byNamespace.get(verdict.ref.namespace);
    if (set) set.add(id);
    else byNamespace.set(verdict.ref.namespace, new Set([id]));
  };

  /** Judges one object (undefined: it is stored no more); true when its findings changed. */
  const judgeOne = (
    id: StoredId,
    obj: KubeObject | undefined,
    snapshot: ClusterSnapshot,
    now: number,
    namespaces: Set<string>,
  ): boolean => {
    const old = verdicts.get(id);
    if (!obj) {
      related.delete(id);
      indexed.delete(id);
      if (old) {
        namespaces.add(old.ref.namespace);
        file(id, undefined);
        return true;
      }
      return false;
    }
    // keys change only with the object: a full pass over unchanged objects leaves the index alone
    if (indexed.get(id) !== obj) {
      related.set(id, relatedKeys(obj));
      indexed.set(id, obj);
    }
    let issues: { readonly errors: readonly Issue[]; readonly warnings: readonly Issue[] };
    try {
      issues = storedFindings(obj, snapshot);
    } catch (e) {
      // an object the engine cannot judge is an error result, never silence
      issues = { errors: [{ code: 'EW000', path: '', message: `the rules failed on this object: ${errorText(e)}` }], warnings: [] };
    }
    // most objects keep their verdict from pass to pass: told apart before anything is allocated
    if (old && sameIdentity(old.ref, obj) && sameIssues(old.findings, issues)) return false;
    const ref = refOf(obj);
    const findings: ReportedFinding[] = [];
    const add = (severity: 'error' | 'warning') => (i: Issue) => {
      const fresh = { ref, severity, code: i.code, path: i.path, message: i.message };
      const before = old?.findings.find((f) => sameFinding(f, fresh));
      findings.push({ ...fresh, since: before?.since ?? Math.floor(now / 1000) });
    };
    issues.errors.forEach(add('error'));
    issues.warnings.forEach(add('warning'));
    if (old) namespaces.add(old.ref.namespace);
    namespaces.add(ref.namespace);
    file(id, { ref, findings });
    return true;
  };

  /** the id of a stored object, kept per object so a pass over unchanged objects builds no strings */
  const ids = new WeakMap<KubeObject, StoredId>();
  const idFor = (kind: string, key: string, obj: KubeObject): StoredId => {
    let id = ids.get(obj);
    if (id === undefined) ids.set(obj, (id = idOf(kind, key)));
    return id;
  };

  const storedObject = (id: StoredId): KubeObject | undefined => {
    const { kind, key } = splitId(id);
    return source.stored(kind)?.get(key);
  };

  /** every stored object with its id, then every judged one that is stored no more (without one) */
  const everything = (): [StoredId, KubeObject | undefined][] => {
    const out: [StoredId, KubeObject | undefined][] = [];
    for (const kind of source.kinds) for (const [key, obj] of source.stored(kind) ?? []) out.push([idFor(kind, key, obj), obj]);
    for (const id of verdicts.keys()) if (!storedObject(id)) out.push([id, undefined]);
    return out;
  };

  const run = async (): Promise<boolean> => {
    running = true;
    try {
      while (active && (full || dirty.size > 0 || dirtyKeys.size > 0)) {
        const snapshot = source.current();
        const t0 = performance.now();
        const now = life.now();
        const basis = basisOf(snapshot);
        const isFull = full || basis !== judgedWith;
        full = false;
        const self = new Set(dirty);
        dirty.clear();
        const keys = [...dirtyKeys];
        dirtyKeys.clear();
        let ids: [StoredId, KubeObject | undefined][];
        if (isFull) ids = everything();
        else {
          const touched = new Set(self);
          for (const k of keys) {
            related.touching(k, touched);
            for (const ns of namespacesUsingWaypoint(k, snapshot)) related.touching(`ns:${ns}`, touched);
          }
          // related as they were, and as they are after the change
          for (const id of self) related.related(id, touched);
          for (const id of self) {
            const obj = storedObject(id);
            if (obj && indexed.get(id) !== obj) {
              related.set(id, relatedKeys(obj));
              indexed.set(id, obj);
            }
            related.related(id, touched);
          }
          ids = [...touched].map((id) => [id, storedObject(id)]);
        }
        judgedWith = basis;
        const namespaces = new Set<string>();
        const gained: StoredVerdict[] = [];
        let slice = performance.now();
        for (const [id, obj] of ids) {
          if (!active) return false;
          const before = verdicts.get(id);
          const changed = judgeOne(id, obj, snapshot, now, namespaces);
          if (changed && self.has(id) && !isFull) {
            const after = verdicts.get(id);
            const known = new Set(before?.findings.filter((f) => f.severity === 'error').map((f) => f.code));
            if (after?.findings.some((f) => f.severity === 'error' && !known.has(f.code))) gained.push(after);
          }
          if (performance.now() - slice >= sliceMs) {
            await yieldToRequests();
            slice = performance.now();
          }
        }
        const objects = ids.length;
        last = { full: isFull, objects, ms: performance.now() - t0, namespaces, newErrors: laterOfPairs(gained, source) };
        passed(last);
      }
      return false;
    } catch (e) {
      // judged again in full: what the failed pass had taken off the dirty list is not lost
      full = true;
      log.error({ err: errorText(e), retryInMs: RETRY_AFTER_FAILURE_MS }, 'the audit pass failed; trying again');
      return true;
    } finally {
      running = false;
    }
  };

  const schedule = (wait = 0) => {
    if (!active || running || scheduled) return;
    scheduled = life.later(() => {
      scheduled = undefined;
      void run().then((failed) => {
        // a change that arrived while the pass ran, or the pass to try again
        if (active && (full || dirty.size > 0 || dirtyKeys.size > 0)) schedule(failed ? RETRY_AFTER_FAILURE_MS : 0);
      });
    }, wait);
  };

  const everyFullPass = () => {
    full = true;
    schedule();
    fullTimer = life.later(everyFullPass, fullPassMs);
  };

  return {
    changed: (kind, namespace, name) => {
      if (!active) return;
      if (source.kinds.includes(kind)) dirty.add(idOf(kind, namespacedName(namespace, name)));
      else for (const k of keysOfChange(kind, namespace, name)) dirtyKeys.add(k);
    },
    replaced: (kind) => {
      // a relist may drop objects without a delete; of a kind only read, nobody knows which keys went
      if (active && (source.kinds.includes(kind) || READ_ONLY_KINDS.includes(kind))) full = true;
    },
    published: () => {
      if (!active) return;
      try {
        if (basisOf(source.current()) !== judgedWith) full = true;
      } catch {
        full = true;
      }
      schedule();
    },
    start: () => {
      if (active) return;
      active = true;
      full = true;
      schedule();
      fullTimer = life.later(everyFullPass, fullPassMs);
    },
    stop: () => {
      active = false;
      life.cancel(scheduled);
      life.cancel(fullTimer);
      scheduled = fullTimer = undefined;
      verdicts.clear();
      byNamespace.clear();
      dirty.clear();
      dirtyKeys.clear();
      last = undefined;
      judgedWith = undefined;
      related = new RelatedIndex<StoredId>();
      indexed.clear();
    },
    verdicts: () => verdicts,
    inNamespace: function* (namespace) {
      for (const id of byNamespace.get(namespace) ?? []) {
        const v = verdicts.get(id);
        if (v) yield v;
      }
    },
    lastPass: () => last,
  };
}

/**
 * Of objects that gained errors in the same pass and relate to one another (a pair admitted by two
 * replicas at once), only the later write: the one with the higher resourceVersion. The API server
 * hands them out in increasing order from one etcd; their order is compared only within one resource.
 */
function laterOfPairs(gained: readonly StoredVerdict[], source: AuditSource): StoredVerdict[] {
  if (gained.length < 2) return [...gained];
  const version = (v: StoredVerdict) => {
    const o = source.stored(v.ref.kind)?.get(namespacedName(v.ref.namespace, v.ref.name));
    const rv = o?.metadata?.resourceVersion;
    return typeof rv === 'string' && /^\d+$/.test(rv) ? BigInt(rv) : 0n;
  };
  const codes = (v: StoredVerdict) => new Set(v.findings.filter((f) => f.severity === 'error').map((f) => f.code));
  return gained.filter((v) => {
    const mine = codes(v);
    return !gained.some((other) => other !== v && [...codes(other)].some((c) => mine.has(c)) && version(other) > version(v));
  });
}
