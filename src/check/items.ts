/**
 * The check engine: judges a set of objects with the webhook's own rules. The whole set is added to
 * the state first, then each object is judged against all the others, so the verdict on a set does
 * not depend on the order of its files or documents (a VirtualService before its ServiceEntry, an
 * Egress before its HTTPRouteGroup).
 */
import { groupKind, objectGvk, type AdmissionRequest, type GroupVersionKind, type KubeObject } from '../admission/types.ts';
import { judgedKind } from '../catalogue/kinds.ts';
import { incrementalSnapshot } from '../cluster/incremental.ts';
import type { InputItem } from '../cluster/manifest-files.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { asObj, isObj } from '../json.ts';
import { admitPod } from '../review/mutate.ts';
import { judge } from '../review/validate.ts';
import { demote, finding, type Issue, type Result, type Severity } from '../catalogue/result.ts';
import { summarize, type CheckedObject, type Finding, type Report, type Skipped } from './report.ts';

export type CheckOptions = {
  /** namespace given to objects that name none */
  readonly namespace: string;
  readonly mode: 'enforce' | 'warn';
};

const isNamespaceKind = (gvk: GroupVersionKind) => groupKind(gvk) === '/Namespace';
const isPodKind = (gvk: GroupVersionKind) => groupKind(gvk) === '/Pod';

/** Namespaced objects without a namespace land in the default one, as with `kubectl apply`. */
function placed(obj: KubeObject, gvk: GroupVersionKind, namespace: string): KubeObject {
  if (isNamespaceKind(gvk) || obj.metadata?.namespace) return obj;
  return { ...obj, metadata: { ...obj.metadata, namespace } };
}

function requestFor(obj: KubeObject, gvk: GroupVersionKind, n: number): AdmissionRequest {
  const name = obj.metadata?.name;
  const namespace = isNamespaceKind(gvk) ? undefined : obj.metadata?.namespace;
  return {
    uid: `check-${n}`,
    kind: gvk,
    operation: 'CREATE',
    object: obj,
    ...(name === undefined ? {} : { name }),
    ...(namespace === undefined ? {} : { namespace }),
  };
}

/**
 * Where workloads keep the pod they create. Capture annotations are written there, so a workload is
 * checked as the Pod its controller will create would be.
 */
const POD_TEMPLATES: Readonly<Record<string, readonly string[]>> = {
  'apps/Deployment': ['spec', 'template'],
  'apps/StatefulSet': ['spec', 'template'],
  'apps/DaemonSet': ['spec', 'template'],
  'apps/ReplicaSet': ['spec', 'template'],
  '/ReplicationController': ['spec', 'template'],
  'batch/Job': ['spec', 'template'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The Pod a workload's controller would create, and the field path of its template. */
function templatePod(obj: KubeObject, gvk: GroupVersionKind): { readonly pod: KubeObject; readonly at: string } | undefined {
  const path = POD_TEMPLATES[groupKind(gvk)];
  if (!path) return undefined;
  let template: unknown = obj;
  for (const key of path) template = asObj(template)[key];
  if (!isObj(template)) return undefined;
  const meta = asObj(template.metadata);
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    spec: template.spec,
    metadata: { ...meta, namespace: obj.metadata?.namespace ?? '', generateName: `${obj.metadata?.name ?? 'workload'}-` },
  };
  return { pod, at: path.join('.') };
}

/** Issue paths of the template's Pod, moved under the workload's template field. */
const under = (at: string, r: Result): Result => {
  const move = (i: Issue): Issue => ({ ...i, path: i.path ? `${at}.${i.path}` : at });
  return { errors: r.errors.map(move), warnings: r.warnings.map(move) };
};

/** Findings of a Pod: the mutating webhook's checks (capture annotations, mesh ranges); its patch is not needed here. */
const podFindings = (req: AdmissionRequest, snapshot: ClusterSnapshot): Result => admitPod(req, snapshot).findings;

/** Findings of a kind the engine validates. */
function engineFindings(req: AdmissionRequest, snapshot: ClusterSnapshot): Result {
  const v = judge(req, snapshot);
  // A denial without findings is a rule that threw: the webhook would deny the object.
  if (!v.allowed && v.findings.errors.length === 0) return finding('EW000', '', v.message ?? 'the rule failed');
  return v.findings;
}

/**
 * What the webhook says of a stored object of a validated kind, judged as a create against a
 * snapshot that holds it and everything else the cluster stores: the findings of `audit`.
 */
export const storedFindings = (obj: KubeObject, snapshot: ClusterSnapshot): Result =>
  engineFindings(requestFor(obj, objectGvk(obj), 0), snapshot);

/**
 * Validates every item against `state`, the `context` objects (--state: added, never validated) and
 * all the other items. An object declared more than once (same kind, namespace and name) counts
 * once, in its last declaration, as `kubectl apply` leaves it.
 */
export function checkItems(
  items: readonly InputItem[],
  state: ClusterSnapshot,
  opts: CheckOptions,
  context: readonly KubeObject[] = [],
): Report {
  const live = incrementalSnapshot(state);
  for (const o of context) live.add(placed(o, objectGvk(o), opts.namespace));
  const placedItems = items.map((item) => {
    const gvk = objectGvk(item.object);
    const obj = placed(item.object, gvk, opts.namespace);
    live.add(obj);
    return { item, gvk, obj };
  });
  const findings: Finding[] = [];
  const checked: CheckedObject[] = [];
  const skipped: Skipped[] = [];
  placedItems.forEach(({ item, gvk, obj }, n) => {
    const template = templatePod(obj, gvk);
    if (!judgedKind(gvk) && !template) {
      // as written: a kind the rules do not know may be cluster-scoped, and then has no namespace
      const { name, namespace } = item.object.metadata ?? {};
      skipped.push({
        file: item.file,
        line: item.line,
        kind: gvk.kind,
        ...(namespace ? { namespace } : {}),
        ...(name === undefined ? {} : { name }),
      });
      return;
    }
    const req = requestFor(obj, gvk, n);
    const raw = template
      ? under(template.at, podFindings(requestFor(template.pod, { group: '', version: 'v1', kind: 'Pod' }, n), live.snapshot))
      : isPodKind(gvk)
        ? podFindings(req, live.snapshot)
        : engineFindings(req, live.snapshot);
    const r = opts.mode === 'warn' ? demote(raw) : raw;
    const m = obj.metadata;
    const base = {
      file: item.file,
      kind: gvk.kind,
      namespace: isNamespaceKind(gvk) ? '' : (m?.namespace ?? ''),
      name: m?.name ?? (m?.generateName ? `${m.generateName}*` : ''),
    };
    const object = checked.push({ ...base, line: item.line }) - 1;
    const add = (severity: Severity) => (i: Issue) =>
      findings.push({ object, ...base, line: item.lineOf(i.path), severity, code: i.code, path: i.path, message: i.message });
    r.errors.forEach(add('error'));
    r.warnings.forEach(add('warning'));
  });
  return { findings, checked, skipped, problems: [], summary: summarize(findings, checked, skipped) };
}
