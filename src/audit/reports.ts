/**
 * The audit's findings as the reports operators read with kubectl and Policy Reporter:
 * wgpolicyk8s.io PolicyReports and, when asked for, openreports.io Reports. Kyverno writes one report
 * per resource; this writes one per namespace (and one cluster-scoped one for Namespaces), so the
 * number of objects stays with the number of namespaces, not of findings.
 * Pure: the same findings give byte-identical objects, so an unchanged audit writes nothing.
 */
import { MANAGED_BY, MANAGED_BY_LABEL, OMITTED_RESULTS } from '../catalogue/keys.ts';
import { REPORT_FORMATS, type ReportFormat } from '../catalogue/resources.ts';
import type { KubeObject } from '../admission/types.ts';
import { categoryOf } from '../catalogue/docs.ts';
import { docsSlug, FINDINGS, type Code } from '../catalogue/findings.ts';
import { OWN_OBJECTS } from '../catalogue/namespaces.ts';
import {
  apiVersionOf,
  CLUSTER_POLICY_REPORTS,
  OPEN_CLUSTER_REPORTS,
  OPEN_REPORTS,
  POLICY_REPORTS,
  type Target,
} from '../cluster/resources.ts';

/** The object a finding is about, as a report's ObjectReference names it. */
export type ResourceRef = {
  readonly apiVersion: string;
  readonly kind: string;
  /** '' when cluster-scoped */
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
};

export type ReportedFinding = {
  readonly ref: ResourceRef;
  readonly severity: 'error' | 'warning';
  readonly code: Code;
  readonly path: string;
  readonly message: string;
  /** seconds since the epoch when this finding was first seen; keeps a report unchanged while its findings are */
  readonly since: number;
};

/** Where each result's `docs` property points: the section of docs/codes.md named by the code's slug. */
export const CODES_DOC_URL = 'https://github.com/egress-warden/egress-warden/blob/main/docs/codes.md';

export const docsUrl = (code: Code): string => `${CODES_DOC_URL}#${docsSlug(code)}`;

/** How many results one report keeps: etcd refuses objects over about 1.5 MB. */
export const MAX_RESULTS = 1_000;

const POLICY = 'egress-warden';
const SOURCE = 'egress-warden';

/** The kinds a format writes: one report per namespace, and a cluster-scoped one. */
export const FORMAT_TARGETS: Readonly<Record<ReportFormat, { readonly namespaced: Target; readonly cluster: Target }>> = {
  policyreport: { namespaced: POLICY_REPORTS, cluster: CLUSTER_POLICY_REPORTS },
  openreports: { namespaced: OPEN_REPORTS, cluster: OPEN_CLUSTER_REPORTS },
};

/** The kind a report of `format` in `namespace` ('' for the cluster-scoped one) is written as. */
export const reportTarget = (format: ReportFormat, namespace: string): Target =>
  namespace ? FORMAT_TARGETS[format].namespaced : FORMAT_TARGETS[format].cluster;

/** The key of desiredReports' map. */
export const reportKey = (format: ReportFormat, namespace: string): string => `${format}/${namespace}`;

/** The format and namespace a key of desiredReports' map names; undefined when it names neither. */
export function parseReportKey(key: string): { readonly format: ReportFormat; readonly namespace: string } | undefined {
  const slash = key.indexOf('/');
  const format = key.slice(0, slash);
  return slash > 0 && (REPORT_FORMATS as readonly string[]).includes(format)
    ? { format: format as ReportFormat, namespace: key.slice(slash + 1) }
    : undefined;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function order(a: ReportedFinding, b: ReportedFinding): number {
  return (
    compare(a.ref.namespace, b.ref.namespace) ||
    compare(a.ref.kind, b.ref.kind) ||
    compare(a.ref.name, b.ref.name) ||
    compare(a.code, b.code) ||
    compare(a.path, b.path) ||
    compare(a.message, b.message) ||
    compare(a.ref.apiVersion, b.ref.apiVersion) ||
    compare(a.ref.uid ?? '', b.ref.uid ?? '') ||
    a.since - b.since
  );
}

const identity = (f: ReportedFinding): string =>
  JSON.stringify([f.ref.apiVersion, f.ref.kind, f.ref.namespace, f.ref.name, f.ref.uid ?? '', f.code, f.path, f.message]);

function result(f: ReportedFinding): Record<string, unknown> {
  const fail = f.severity === 'error';
  return {
    source: SOURCE,
    policy: POLICY,
    rule: f.code,
    category: categoryOf(f.code),
    severity: fail ? 'high' : 'medium',
    // whole seconds: a fraction would change the bytes without telling anyone anything
    timestamp: { seconds: Math.floor(f.since), nanos: 0 },
    result: fail ? 'fail' : 'warn',
    scored: true,
    resources: [
      {
        apiVersion: f.ref.apiVersion,
        kind: f.ref.kind,
        ...(f.ref.namespace ? { namespace: f.ref.namespace } : {}),
        name: f.ref.name,
        ...(f.ref.uid ? { uid: f.ref.uid } : {}),
      },
    ],
    message: f.path ? `${f.path}: ${f.message}` : f.message,
    properties: {
      ...(f.path ? { path: f.path } : {}),
      fix: FINDINGS[f.code].fix,
      docs: docsUrl(f.code),
    },
  };
}

function report(format: ReportFormat, namespace: string, findings: readonly ReportedFinding[]): KubeObject {
  const target = reportTarget(format, namespace);
  const kept = findings.slice(0, MAX_RESULTS);
  const fail = findings.filter((f) => f.severity === 'error').length;
  const omitted = findings.length - kept.length;
  return {
    apiVersion: apiVersionOf(target),
    kind: target.kind,
    metadata: {
      name: OWN_OBJECTS.report,
      ...(namespace ? { namespace } : {}),
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
      ...(omitted > 0 ? { annotations: { [OMITTED_RESULTS]: String(omitted) } } : {}),
    },
    // OpenReports names its producer on the report too; wgpolicyk8s.io v1alpha2 has no such field,
    // and a field its schema prunes would make every listed report look changed
    ...(format === 'openreports' ? { source: SOURCE } : {}),
    summary: { pass: 0, fail, warn: findings.length - fail, error: 0, skip: 0 },
    results: kept.map(result),
  };
}

/**
 * The reports that should exist: key `${format}/${namespace}` ('' namespace = the cluster-scoped
 * one) → the whole object to write. A namespace without findings has no report. A finding that
 * arrives twice (same object, code, path and message) is reported once, as first seen.
 */
export function desiredReports(findings: Iterable<ReportedFinding>, formats: readonly ReportFormat[]): Map<string, KubeObject> {
  const distinct = new Map<string, ReportedFinding>();
  for (const f of findings) {
    const id = identity(f);
    const seen = distinct.get(id);
    if (!seen || f.since < seen.since) distinct.set(id, f);
  }
  const byNamespace = new Map<string, ReportedFinding[]>();
  for (const f of distinct.values()) {
    const list = byNamespace.get(f.ref.namespace);
    if (list) list.push(f);
    else byNamespace.set(f.ref.namespace, [f]);
  }
  const out = new Map<string, KubeObject>();
  for (const namespace of [...byNamespace.keys()].sort(compare)) {
    const sorted = byNamespace.get(namespace)!.sort(order);
    for (const format of formats) out.set(reportKey(format, namespace), report(format, namespace, sorted));
  }
  return out;
}

export { REPORT_FORMATS, type ReportFormat };
