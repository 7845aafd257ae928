/**
 * What the informer caches keep of each object: identity, the fields compaction and CIDR detection
 * read, nothing else. managedFields, last-applied annotations and Node/Pod status dominate the
 * size of real objects, and the caches would otherwise hold every one of them.
 */
import type { KubeObject } from '../admission/types.ts';
import type { SentWhen } from '../catalogue/resources.ts';
import { asArr, asObj, isObj, type Obj } from '../json.ts';
import { compact, type Compact } from './indexes.ts';
import { apiVersionOf, type Target } from './resources.ts';

/** A copy being built: unlike the read-only Obj, it gets fields set. */
type Fields = Record<string, unknown>;

const pick = (from: Obj, keys: readonly string[]): Fields => {
  const out: Fields = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
};

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Kinds whose records read labels (use-waypoint, waypoint-for) or the creation time (the oldest Sidecar wins). */
const LABELLED: ReadonlySet<string> = new Set(['ServiceEntry', 'Gateway']);
const DATED: ReadonlySet<string> = new Set(['Sidecar', 'EgressNetwork']);

/**
 * RFC 3339 as the API server writes it: LIST items are models whose timestamps are Dates, WATCH
 * objects hold the string; records compare them as strings, so both must read the same.
 */
export const rfc3339 = (v: unknown): string | undefined =>
  v instanceof Date
    ? Number.isNaN(v.getTime())
      ? undefined
      : v.toISOString().replace(/\.\d{3}Z$/, 'Z')
    : typeof v === 'string'
      ? v
      : undefined;

/**
 * A small copy of a listed or watched object, stamped with apiVersion and kind (list items of
 * built-in kinds come without them). Reads only plain fields, so generated models (LIST) and raw
 * JSON (WATCH) slim to the same shape.
 */
export function slim(o: unknown, t: Target): KubeObject {
  const src = asObj(o);
  const m = asObj(src.metadata);
  const metadata: Fields = pick(m, ['name', 'namespace', 'resourceVersion']);
  if (LABELLED.has(t.kind) && m.labels) metadata.labels = { ...asObj(m.labels) };
  if (DATED.has(t.kind)) {
    const created = rfc3339(m.creationTimestamp);
    if (created) metadata.creationTimestamp = created;
  }
  if (t.kind === 'Namespace') {
    if (m.labels) metadata.labels = { ...asObj(m.labels) };
    if (m.annotations) {
      const { [LAST_APPLIED]: _, ...rest } = asObj(m.annotations) as Record<string, string>;
      metadata.annotations = rest;
    }
  }
  const spec = asObj(src.spec);
  const out: Fields = { apiVersion: apiVersionOf(t), kind: t.kind, metadata };
  switch (t.kind) {
    case 'Namespace':
      break;
    case 'Node':
      out.spec = pick(spec, ['podCIDR', 'podCIDRs']);
      break;
    case 'Pod':
      out.spec = pick(spec, ['hostNetwork']);
      out.status = pick(asObj(src.status), ['podIP', 'podIPs']);
      break;
    default:
      out.spec = spec;
  }
  return out as KubeObject;
}

/**
 * What the rules and the capture read of a stored object, for an audit of what the cluster holds:
 * labels and annotations (without kubectl's copy of the whole object), the deletion mark, the spec
 * (of a Pod only its mesh-relevant parts: init containers' names and args, hostNetwork) and no status.
 */
export function judged(o: unknown, t: Target): KubeObject {
  const src = asObj(o);
  const m = asObj(src.metadata);
  const metadata: Fields = pick(m, ['name', 'namespace', 'uid', 'resourceVersion', 'labels', 'deletionTimestamp']);
  // the Sidecar rule names the older of two Sidecars by its creation time
  if (DATED.has(t.kind)) {
    const created = rfc3339(m.creationTimestamp);
    if (created) metadata.creationTimestamp = created;
  }
  if (m.annotations) {
    const { [LAST_APPLIED]: _, ...rest } = asObj(m.annotations) as Record<string, string>;
    metadata.annotations = rest;
  }
  const spec = asObj(src.spec);
  const out: Fields = { apiVersion: apiVersionOf(t), kind: t.kind, metadata };
  if (t.kind === 'Pod') {
    out.spec = {
      ...pick(spec, ['hostNetwork', 'serviceAccountName']),
      initContainers: Array.isArray(spec.initContainers)
        ? spec.initContainers.map((c) => pick(asObj(c), ['name', 'image', 'args', 'restartPolicy']))
        : [],
      containers: Array.isArray(spec.containers) ? spec.containers.map((c) => pick(asObj(c), ['name', 'image', 'args'])) : [],
    };
  } else if (t.kind !== 'Namespace') {
    out.spec = spec;
  }
  return out as KubeObject;
}

/**
 * Whether an object references one of the kinds its rule judges it for (the registration's
 * matchConditions, read the same way): every ingress route of a cluster is watched for the audit,
 * and only the mesh egress ones need their spec kept.
 */
export function referencesJudged(o: unknown, when: SentWhen): boolean {
  const spec = asObj(asObj(o).spec);
  const names = (r: unknown) => isObj(r) && when.naming.some((t) => r.group === t.group && r.kind === t.kind);
  return when.refs.some(({ field, list }) => (list ? asArr(spec[field]).some(names) : names(spec[field])));
}

/** Where a carrier keeps its compact record (a symbol: no API field can collide with it). */
export const COMPACTED: unique symbol = Symbol('compacted');
/** Where a carrier of an audited kind keeps what the rules read of the object. */
export const JUDGED: unique symbol = Symbol('judged');

type Carrier = KubeObject & { readonly [COMPACTED]: Compact | undefined; readonly [JUDGED]?: KubeObject };

/**
 * For indexed kinds the informer cache needs only identity and resourceVersion; the compact record
 * rides along, so the cache and the view share one copy instead of the cache holding the spec. Of
 * an audited kind (`judged` set) the rules' copy rides along too, for the continuous audit.
 */
export function carrier(o: unknown, t: Target, keepJudged = false): KubeObject {
  const full = slim(o, t);
  const m = full.metadata ?? {};
  const metadata = { name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion };
  const out: Carrier = {
    apiVersion: full.apiVersion,
    kind: full.kind,
    metadata,
    [COMPACTED]: compact(full),
    ...(keepJudged ? { [JUDGED]: judged(o, t) } : {}),
  };
  return out;
}

/** What the rules read of a delivered object: the copy a carrier brings, or the object itself. */
export const judgedOf = (o: KubeObject): KubeObject => (JUDGED in o ? ((o as Carrier)[JUDGED] ?? o) : o);

/** The compact record of an object: the one a carrier brings, or computed from the whole object. */
export const compactOf = (o: KubeObject): Compact | undefined => (COMPACTED in o ? (o as Carrier)[COMPACTED] : compact(o));
