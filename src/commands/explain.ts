/**
 * `egress-warden explain`: will this pod reach this destination, and if not, why. This file reads
 * the arguments and the cluster (live, or files); the engine in explain/ decides, and the webhook's
 * own engine judges the fix it proposes.
 */
import type { KubeObject } from '../admission/types.ts';
import { apiStatus, type ClusterApi } from '../cluster/api.ts';
import { storedFindings } from '../check/items.ts';
import { offlineSnapshot } from '../check/state.ts';
import { readCidrSettings, type ConfiguredPair } from '../cluster/cidr-settings.ts';
import { snapshotFromObjects } from '../cluster/indexes.ts';
import { readInputs, showInputError, type InputError } from '../cluster/manifest-files.ts';
import { meshLocations } from '../cluster/mesh-config.ts';
import { PODS } from '../cluster/resources.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { loadStateDir } from '../cluster/state-dir.ts';
import {
  egressObjectsOf,
  existingPod,
  explain,
  EXPLAIN_KINDS,
  parseDestination,
  prospectivePod,
  type EgressObjects,
  type Explanation,
  type Source,
} from '../explain/explain.ts';
import { errorText } from '../json.ts';
import { toYaml } from '../yaml.ts';
import { parseCommand } from './flags.ts';
import { USAGE, type Command, type CommandIo } from './io.ts';
import { liveCluster } from './live.ts';

const HELP = `usage: egress-warden explain --from NAMESPACE[/POD] --to SCHEME://HOST[:PORT]
                            [--service-account SA] [--address IP] [--output text|json]
                            [--kubeconfig FILE | --state DIR] [PATH ...] [--pod-cidrs LIST] [--service-cidrs LIST]
Says whether traffic from the pod to the destination is captured by its sidecar, what the mesh's
egress mode does with it, which objects let it through or break it, and the smallest manifest
that would make it work and that the webhook admits. It names the Istio Sidecar that decides, an
ambient pod's waypoint, and a Linkerd pod's EgressNetwork.
  --from NS/POD     an existing pod; NS alone (with --service-account) is a pod that does not exist yet
  --to URL          http://, https://, tls:// or tcp://HOST[:PORT] (http 80 and https 443 by default)
  --service-account the pod's ServiceAccount (default: the pod's, else "default")
  --address IP      the address HOST resolves to, when capture or an IP range depends on it
  --kubeconfig FILE the live cluster (default: KUBECONFIG, in-cluster, ~/.kube/config)
  --state DIR, PATH objects of a cluster in files (YAML or JSON): explain against them, not a live cluster
  -o, --output      text (default) or json
environment: KUBECONFIG; EW_ISTIO_NAMESPACE (istio-system), EW_OSM_NAMESPACE (osm-system) and the like: where the meshes keep their settings
exit status: 0 allowed or bypassed; 1 blocked; 2 bad usage, no cluster to read, or a pod that does not exist;
3 the cluster or the files could not be read, or the question could not be judged`;

const OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  'service-account': { type: 'string' },
  address: { type: 'string' },
  kubeconfig: { type: 'string' },
  state: { type: 'string' },
  output: { type: 'string', short: 'o', default: 'text' },
  'pod-cidrs': { type: 'string' },
  'service-cidrs': { type: 'string' },
} as const;

/** Exit statuses besides 0 and USAGE (2): scripts tell a blocked destination from a failed run. */
const BLOCKED = 1;
const FAILED = 3;

const SYNC_TIMEOUT_MS = 30_000;

/** Problems printed of unreadable input: a folder of broken files is summed up, not printed whole. */
const PROBLEMS_SHOWN = 5;
const PROBLEM_CHARS_MAX = 300;

type Cluster = {
  readonly snapshot: ClusterSnapshot;
  readonly pod: (namespace: string, name: string) => Promise<KubeObject | undefined>;
  /** the newer egress kinds and the Namespace explained from, which the snapshot does not hold */
  readonly egress: (namespace: string) => Promise<EgressObjects>;
};

/** Why the input could not be read: the first few problems, one a line, and how many more there were. */
function unreadable(io: CommandIo, problems: readonly InputError[]): number {
  for (const p of problems.slice(0, PROBLEMS_SHOWN)) {
    const line = showInputError(p);
    io.err(`explain: ${line.length > PROBLEM_CHARS_MAX ? `${line.slice(0, PROBLEM_CHARS_MAX - 1)}…` : line}\n`);
  }
  const more = problems.length - PROBLEMS_SHOWN;
  if (more > 0)
    io.err(`explain: … and ${more.toLocaleString('en-US')} more problems (${problems.length.toLocaleString('en-US')} in all)\n`);
  return FAILED;
}

/** The objects of --state and the PATHs as a cluster; the problems when any could not be read. */
async function fileCluster(
  state: string | undefined,
  paths: readonly string[],
  cidrs: ConfiguredPair,
  io: CommandIo,
): Promise<Cluster | readonly InputError[]> {
  // Pushed one by one: spreading a cluster dump into push() overflows the stack.
  const objects: KubeObject[] = [];
  if (state !== undefined) {
    const s = loadStateDir(state);
    if (s.problems.length) return s.problems;
    for (const o of s.objects) objects.push(o);
  }
  const inputs = await readInputs(paths, io, 'lenient');
  if (inputs.errors.length) return inputs.errors;
  for (const i of inputs.items) objects.push(i.object);
  const offline = offlineSnapshot(objects, cidrs, meshLocations(io.env));
  const snapshot = { ...snapshotFromObjects(objects, offline.cidrs), mesh: offline.mesh };
  return {
    snapshot,
    pod: async (ns, name) =>
      objects.find((o) => o.kind === 'Pod' && (o.metadata?.namespace ?? 'default') === ns && o.metadata?.name === name),
    egress: async (ns) => ({ ...egressObjectsOf(objects, ns), rootNamespace: meshLocations(io.env).istioNamespace }),
  };
}

/**
 * Sidecars, ServiceEntries (with their labels), Gateways and EgressNetworks listed from the cluster
 * with the user's credentials, each at the version it is served; a kind whose CRD is not installed is
 * a note, not an error. The Sidecars a pod of `namespace` may get are read whole: istiod keeps the
 * oldest, and a fix that changes one carries it whole.
 */
async function liveEgressObjects(api: ClusterApi, namespace: string, root: string): Promise<EgressObjects> {
  const notes: string[] = [];
  const objects: KubeObject[] = [];
  const absent: string[] = [];
  const read: string[] = [];
  for (const k of EXPLAIN_KINDS) {
    // the versions in order: one not served answers 404 (so does a CRD that is not installed)
    let listed: { objects: KubeObject[]; version: string } | undefined;
    let problem: string | undefined;
    for (const version of k.versions) {
      try {
        listed = { objects: await api.list({ group: k.group, version, resource: k.plural, kind: k.kind }, 'judged'), version };
        break;
      } catch (e) {
        const status = apiStatus(e);
        if (status === 404) continue;
        problem = status === 403 ? 'forbidden (RBAC)' : errorText(e);
        break;
      }
    }
    if (problem !== undefined) notes.push(`${k.kind} (${k.group}) not read: ${problem}`);
    else if (!listed) absent.push(`${k.kind} (${k.group})`);
    else {
      read.push(k.kind);
      const target = { group: k.group, version: listed.version, resource: k.plural, kind: k.kind };
      const whole = k.kind === 'Sidecar' && api.get ? api.get : undefined;
      for (const o of listed.objects) {
        const ns = o.metadata?.namespace;
        const wanted = whole && (ns === namespace || ns === root);
        objects.push((wanted && (await whole(target, ns ?? '', o.metadata?.name ?? ''))) || o);
      }
    }
  }
  if (absent.length) notes.unshift(`not installed in this cluster, so none read: ${absent.join(', ')}`);
  const ns = api.readNamespace ? await api.readNamespace(namespace).catch(() => undefined) : undefined;
  return { ...egressObjectsOf(ns ? [...objects, ns] : objects, namespace, notes, read), rootNamespace: root };
}

/** The live cluster, found as every command finds it, or why there is none and the exit status that says so. */
async function clusterOnline(
  kubeconfig: string | undefined,
  cidrs: ConfiguredPair,
  io: CommandIo,
): Promise<Cluster | { readonly status: number; readonly why: string }> {
  const live = await liveCluster('explain', kubeconfig, cidrs, io, SYNC_TIMEOUT_MS);
  if ('none' in live)
    return {
      status: USAGE,
      why: `no cluster to read (${live.none}): give --kubeconfig FILE, or --state DIR and PATHs to explain against files`,
    };
  if ('problem' in live) return { status: FAILED, why: `cannot read the cluster: ${live.problem}` };
  const get = live.api.get;
  if (!get) return { status: FAILED, why: `cannot read pods from ${live.source}` };
  // Read now rather than taken from the view, which reads them in the background.
  const { readMeshConfig } = await import('../cluster/mesh-source.ts');
  const mesh = await readMeshConfig(live.api, meshLocations(io.env));
  return {
    snapshot: { ...live.snapshot, mesh },
    pod: (ns, name) => get(PODS, ns, name),
    egress: (ns) => liveEgressObjects(live.api, ns, meshLocations(io.env).istioNamespace),
  };
}

export function formatExplanation(e: Explanation): string {
  const who = e.from.pod ? `pod ${e.from.namespace}/${e.from.pod}` : `a new pod in ${e.from.namespace}`;
  const lines = [
    `from:    ${who} (ServiceAccount ${e.from.serviceAccount})`,
    `to:      ${e.to.scheme}://${e.to.host}:${e.to.port}${e.to.address && e.to.address !== e.to.host ? ` (${e.to.address})` : ''}`,
    `verdict: ${e.verdict.toUpperCase()}`,
    '',
    ...e.reasons.map((r) => `  ${r.step.padEnd(8)} ${r.says}${r.objects?.length ? ` [${r.objects.join(', ')}]` : ''}`),
  ];
  const fix = e.fix.length ? `\nfix (kubectl apply -f -):\n${toYaml(e.fix)}` : '';
  return `${lines.join('\n')}\n${fix}`;
}

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseCommand(argv, io, { name: 'explain', help: HELP, options: OPTIONS, positionals: true });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals, usage, refuse } = parsed;
  if (values.output !== 'text' && values.output !== 'json') return usage(`--output must be text or json, got "${values.output}"`);
  if (!values.from) return usage('--from NAMESPACE[/POD] is required');
  if (!values.to) return usage('--to SCHEME://HOST[:PORT] is required');
  const [namespace, podName, extra] = values.from.split('/');
  if (!namespace || extra !== undefined || podName === '') return usage(`--from must be NAMESPACE or NAMESPACE/POD, got "${values.from}"`);
  const offline = values.state !== undefined || positionals.length > 0;
  if (values.kubeconfig !== undefined && offline) return usage('--kubeconfig reads the live cluster: give no --state or PATH with it');
  const dest = parseDestination(values.to, values.address);
  if ('problem' in dest) return usage(dest.problem);
  const { config, problems } = readCidrSettings({ pod: values['pod-cidrs'], service: values['service-cidrs'] }, io.env);
  if (problems.length) return usage(problems.join('; '));

  let cluster: Cluster;
  if (offline) {
    const files = await fileCluster(values.state, positionals, config, io);
    if (!('snapshot' in files)) return unreadable(io, files);
    cluster = files;
  } else {
    const live = await clusterOnline(values.kubeconfig, config, io);
    if (!('snapshot' in live)) {
      io.err(`explain: ${live.why}\n`);
      return live.status;
    }
    cluster = live;
  }

  let source: Source;
  if (podName !== undefined) {
    const pod = await cluster.pod(namespace, podName);
    if (!pod)
      return refuse(
        `pod ${namespace}/${podName} not found (name a pod that does not exist yet as --from ${namespace} --service-account SA)`,
      );
    source = existingPod({ ...pod, metadata: { ...pod.metadata, namespace } }, values['service-account']);
  } else {
    source = prospectivePod(namespace, values['service-account'] || 'default');
  }
  const e = explain(source, dest, cluster.snapshot, storedFindings, await cluster.egress(namespace));
  io.out(
    values.output === 'json'
      ? `${JSON.stringify({ ...e, fix: e.fix.length ? toYaml(e.fix) : null, fixObjects: e.fix }, null, 2)}\n`
      : formatExplanation(e),
  );
  return e.verdict === 'blocked' ? BLOCKED : 0;
}

/** Whatever goes wrong is one line and status 3, never a stack trace or the status of "blocked". */
export const runExplain: Command = async (argv, io) => {
  try {
    return await run(argv, io);
  } catch (e) {
    io.err(`explain: ${errorText(e)}\n`);
    return FAILED;
  }
};
