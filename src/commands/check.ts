/**
 * `egress-warden check`: the webhook's verdict on manifests before they are applied, with no
 * cluster. Every object read is validated by the same engine against the state (--state) plus the
 * objects read before it, then added to that state: the set is checked as it would be once applied
 * in that order.
 */
import { parseArgs } from 'node:util';
import { groupKind, objectGroupKind, objectGvk, type AdmissionRequest, type GroupVersionKind, type KubeObject } from '../admission/types.ts';
import { detectCidrs, parseCidrList, splitList, type CidrInputs, type ConfiguredCidrs } from '../cluster/detect.ts';
import { incrementalSnapshot } from '../cluster/incremental.ts';
import { readInputs, showInputError, type InputItem } from '../cluster/manifest-files.ts';
import { CIDR_CONFIGMAPS } from '../cluster/resources.ts';
import { emptySnapshot, type ClusterCidrs, type ClusterSnapshot } from '../cluster/snapshot.ts';
import { loadStateDir } from '../cluster/state-dir.ts';
import { asObj, isObj } from '../json.ts';
import { admitPod } from '../review/mutate.ts';
import { judge, ruleFor } from '../review/validate.ts';
import { demote, show, type Issue, type Result, type Severity } from '../catalogue/result.ts';
import { USAGE, type Command, type CommandIo } from './io.ts';

const HELP = `usage: egress-warden check [PATH ...] [-] [--state DIR] [--kubeconfig FILE] [--namespace NS]
                          [--output text|json] [--mode enforce|warn]
                          [--pod-cidrs LIST] [--service-cidrs LIST]
Validates ServiceEntry, VirtualService, Egress, Namespace and Pod manifests (and the pod templates of
workloads) with the webhook's rules.
PATH is a file or a directory (read recursively: .yaml, .yml, .json); - reads stdin.
  --state DIR       objects already in the cluster (same formats), used for cross-object checks only
  --kubeconfig FILE take the objects already in the cluster from that cluster (read-only)
  -n, --namespace   namespace of objects that name none (default: default)
  -o, --output      text (default) or json
  --mode            enforce (default): errors fail the check; warn: errors are reported as warnings
  --pod-cidrs, --service-cidrs
                    cluster ranges for pod capture checks (default: from ServiceCIDR, Node and
                    kube-system ConfigMap objects read, else kubeadm's 10.244.0.0/16 and 10.96.0.0/12)
Exit status: 0 no errors, 1 errors found, 2 bad usage or unreadable input.`;

/** A rule that threw: reported as an error, since the webhook would deny the object. */
export const RULE_FAILED = 'EW000';

export type Finding = {
  readonly file: string;
  readonly line: number;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly severity: Severity;
  readonly code: string;
  readonly path: string;
  readonly message: string;
};

export type Summary = { readonly objects: number; readonly errors: number; readonly warnings: number; readonly skipped: number };

export type Report = { readonly findings: Finding[]; readonly summary: Summary };

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
    uid: `check-${n}`, kind: gvk, operation: 'CREATE', object: obj,
    ...(name === undefined ? {} : { name }), ...(namespace === undefined ? {} : { namespace }),
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
    apiVersion: 'v1', kind: 'Pod', spec: template.spec,
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
  if (!v.allowed && v.findings.errors.length === 0) {
    return { errors: [{ code: RULE_FAILED, path: '', message: v.message ?? 'the rule failed' }], warnings: [] };
  }
  return v.findings;
}

/**
 * Validates items in order, each against `state`, then the `context` objects (--state: added, never
 * validated), then the items before it.
 */
export function checkItems(items: readonly InputItem[], state: ClusterSnapshot, opts: CheckOptions, context: readonly KubeObject[] = []): Report {
  const live = incrementalSnapshot(state);
  for (const o of context) live.add(placed(o, objectGvk(o), opts.namespace));
  const findings: Finding[] = [];
  let objects = 0;
  let skipped = 0;
  let errors = 0;
  let warnings = 0;
  items.forEach((item, n) => {
    const gvk = objectGvk(item.object);
    const obj = placed(item.object, gvk, opts.namespace);
    const template = templatePod(obj, gvk);
    if (!ruleFor(gvk) && !isPodKind(gvk) && !template) {
      skipped++;
      live.add(obj);
      return;
    }
    objects++;
    const req = requestFor(obj, gvk, n);
    const raw = template
      ? under(template.at, podFindings(requestFor(template.pod, { group: '', version: 'v1', kind: 'Pod' }, n), live.snapshot))
      : isPodKind(gvk) ? podFindings(req, live.snapshot) : engineFindings(req, live.snapshot);
    live.add(obj);
    const r = opts.mode === 'warn' ? demote(raw) : raw;
    const m = obj.metadata;
    const base = {
      file: item.file, kind: gvk.kind, namespace: isNamespaceKind(gvk) ? '' : (m?.namespace ?? ''),
      name: m?.name ?? (m?.generateName ? `${m.generateName}*` : ''),
    };
    const add = (severity: Severity) => (i: Issue) =>
      findings.push({ ...base, line: item.lineOf(i.path), severity, code: i.code, path: i.path, message: i.message });
    r.errors.forEach(add('error'));
    r.warnings.forEach(add('warning'));
    errors += r.errors.length;
    warnings += r.warnings.length;
  });
  return { findings, summary: { objects, errors, warnings, skipped } };
}

/**
 * Cluster CIDRs for the checks that need them (pods, ServiceEntry addresses): from --pod-cidrs and
 * --service-cidrs, else from the ServiceCIDR, Node and kube-system ConfigMap objects read, else
 * kubeadm's defaults, exactly as the webhook detects them.
 */
function cidrsOf(objects: readonly KubeObject[], pod?: ConfiguredCidrs, service?: ConfiguredCidrs): ClusterCidrs {
  const inputs: { -readonly [K in keyof CidrInputs]: CidrInputs[K] } = {
    ...(pod ? { podConfig: pod } : {}), ...(service ? { serviceConfig: service } : {}),
  };
  const serviceCidrs: KubeObject[] = [];
  const nodes: KubeObject[] = [];
  for (const o of objects) {
    const gk = objectGroupKind(o);
    if (gk === 'networking.k8s.io/ServiceCIDR') serviceCidrs.push(o);
    else if (gk === '/Node') nodes.push(o);
    else if (gk === '/ConfigMap' && o.metadata?.namespace === CIDR_CONFIGMAPS.namespace) {
      if (o.metadata.name === CIDR_CONFIGMAPS.kubeadm) inputs.kubeadmConfig = o;
      if (o.metadata.name === CIDR_CONFIGMAPS.kubeProxy) inputs.kubeProxy = o;
    }
  }
  if (serviceCidrs.length) inputs.serviceCidrs = serviceCidrs;
  if (nodes.length) inputs.nodes = nodes;
  return detectCidrs(inputs).cidrs;
}

/** How long a live cluster gets to list everything the rules read. */
const SYNC_TIMEOUT_MS = 30_000;

/**
 * The live cluster's snapshot (--kubeconfig), read once through the webhook's own cluster view,
 * or why it could not be had. The client library is loaded only here: offline checks never pay for it.
 */
async function clusterState(kubeconfig: string, configured: Partial<Record<'pod' | 'service', ConfiguredCidrs>>, io: CommandIo): Promise<ClusterSnapshot | string> {
  const { startClusterView } = await import('../cluster/view.ts');
  // Informers retry on their own; each distinct complaint is worth one line, not one per retry.
  const said = new Set<string>();
  const say = (_: object, msg: string) => {
    if (said.has(msg)) return;
    said.add(msg);
    io.err(`check: cluster: ${msg}\n`);
  };
  let view;
  try {
    view = await startClusterView({
      env: io.env, kubeconfig, log: { info: () => {}, warn: say, error: say },
      ...(configured.pod ? { podCidrs: configured.pod } : {}), ...(configured.service ? { serviceCidrs: configured.service } : {}),
    });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  try {
    if (!(await view.untilReady(SYNC_TIMEOUT_MS))) return `cluster not ready after ${SYNC_TIMEOUT_MS / 1000} s: ${view.status().reason}`;
    return view.current();
  } finally {
    await view.stop();
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `FILE:LINE KIND NAMESPACE/NAME [CODE] PATH: MESSAGE`, one line per finding, then a summary line. */
export function formatText(report: Report): string {
  const lines = report.findings.map((f) => {
    const ref = f.namespace ? `${f.namespace}/${f.name || '<unnamed>'}` : f.name || '<unnamed>';
    const issue = f.path ? show(f) : `[${f.code}] ${f.message}`;
    return `${f.file}:${f.line} ${f.kind} ${ref} ${issue}`;
  });
  const s = report.summary;
  lines.push(`${plural(s.objects, 'object')} checked: ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${s.skipped} skipped`);
  return `${lines.join('\n')}\n`;
}

export function formatJson(report: Report): string {
  const findings = report.findings.map((f) => ({
    file: f.file, line: f.line, kind: f.kind, namespace: f.namespace, name: f.name,
    severity: f.severity, code: f.code, path: f.path, message: f.message,
  }));
  return `${JSON.stringify({ findings, summary: report.summary }, null, 2)}\n`;
}

function unreadable(io: CommandIo, errors: readonly string[]): number {
  for (const e of errors) io.err(`check: ${e}\n`);
  return USAGE;
}

export const runCheck: Command = async (argv, io) => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        state: { type: 'string' }, kubeconfig: { type: 'string' }, 'pod-cidrs': { type: 'string' }, 'service-cidrs': { type: 'string' }, namespace: { type: 'string', short: 'n', default: 'default' },
        output: { type: 'string', short: 'o', default: 'text' }, mode: { type: 'string', default: 'enforce' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true, allowPositionals: true,
    });
  } catch (e) {
    io.err(`check: ${(e as Error).message}\n${HELP}\n`);
    return USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const usage = (message: string) => {
    io.err(`check: ${message}\n${HELP}\n`);
    return USAGE;
  };
  if (values.output !== 'text' && values.output !== 'json') return usage(`--output must be text or json, got "${values.output}"`);
  if (values.mode !== 'enforce' && values.mode !== 'warn') return usage(`--mode must be enforce or warn, got "${values.mode}"`);
  if (!values.namespace) return usage('--namespace must not be empty');
  if (positionals.length === 0) return usage('no input: name files or directories, or - for stdin');

  const configured: Partial<Record<'pod' | 'service', ConfiguredCidrs>> = {};
  for (const kind of ['pod', 'service'] as const) {
    const flag = `${kind}-cidrs` as const;
    const text = values[flag];
    if (text === undefined) continue;
    const given = { values: splitList(text), origin: `--${flag}` };
    const { problems } = parseCidrList(given.values, given.origin);
    if (problems.length || given.values.length === 0) return usage(problems.join('; ') || `--${flag} is empty`);
    configured[kind] = given;
  }

  // --state is read exactly as `serve --state` reads it; the inputs leniently, since manifest trees hold other YAML too
  let stateObjects: readonly KubeObject[] = [];
  if (values.state !== undefined) {
    const s = loadStateDir(values.state);
    if (s.errors.length) return unreadable(io, s.errors);
    stateObjects = s.objects;
  }
  const inputs = await readInputs(positionals, io, 'lenient');
  if (inputs.errors.length) return unreadable(io, inputs.errors.map(showInputError));

  let state: ClusterSnapshot;
  if (values.kubeconfig !== undefined) {
    const live = await clusterState(values.kubeconfig, configured, io);
    if (typeof live === 'string') {
      io.err(`check: ${live}\n`);
      return USAGE;
    }
    state = live;
  } else {
    state = emptySnapshot(cidrsOf([...stateObjects, ...inputs.items.map((i) => i.object)], configured.pod, configured.service));
  }

  const checked = checkItems(inputs.items, state, { namespace: values.namespace, mode: values.mode }, stateObjects);
  const report = { findings: checked.findings, summary: { ...checked.summary, skipped: checked.summary.skipped + inputs.skipped } };
  io.out(values.output === 'json' ? formatJson(report) : formatText(report));
  return report.summary.errors > 0 ? 1 : 0;
};
