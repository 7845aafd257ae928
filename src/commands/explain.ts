/**
 * `egress-warden explain`: will this pod reach this destination, and if not, why. This file reads
 * the arguments and the cluster (live, or files); the engine in explain/ decides.
 */
import type { KubeObject } from '../admission/types.ts';
import { offlineSnapshot } from '../check/state.ts';
import { readCidrSettings, type ConfiguredPair } from '../cluster/cidr-settings.ts';
import { snapshotFromObjects } from '../cluster/indexes.ts';
import { readInputs, showInputError } from '../cluster/manifest-files.ts';
import { meshConfigFrom, meshLocations } from '../cluster/mesh-config.ts';
import { PODS } from '../cluster/resources.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { loadStateDir } from '../cluster/state-dir.ts';
import { existingPod, explain, parseDestination, prospectivePod, type Explanation, type Source } from '../explain/explain.ts';
import { toYaml } from '../yaml.ts';
import { parseCommand } from './flags.ts';
import type { Command, CommandIo } from './io.ts';

const HELP = `usage: egress-warden explain --from NAMESPACE[/POD] --to SCHEME://HOST[:PORT]
                            [--service-account SA] [--address IP] [--output text|json]
                            [--kubeconfig FILE | --state DIR] [PATH ...] [--pod-cidrs LIST] [--service-cidrs LIST]
Says whether traffic from the pod to the destination is captured by its sidecar, what the mesh's
egress mode does with it, which objects let it through or break it, and the smallest manifest
that would make it work.
  --from NS/POD     an existing pod; NS alone (with --service-account) is a pod that does not exist yet
  --to URL          http://, https://, tls:// or tcp://HOST[:PORT] (http 80 and https 443 by default)
  --service-account the pod's ServiceAccount (default: the pod's, else "default")
  --address IP      the address HOST resolves to, when capture or an IP range depends on it
  --kubeconfig FILE read the live cluster; otherwise --state DIR and PATHs are the cluster's objects
  -o, --output      text (default) or json
environment: EW_ISTIO_NAMESPACE (istio-system), EW_OSM_NAMESPACE (osm-system) and the like: where the meshes keep their settings
exit status: 0 allowed or bypassed; 1 blocked; 2 bad usage or unreadable input`;

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

const SYNC_TIMEOUT_MS = 30_000;

type Cluster = { readonly snapshot: ClusterSnapshot; readonly pod: (namespace: string, name: string) => Promise<KubeObject | undefined> };

async function liveCluster(kubeconfig: string, cidrs: ConfiguredPair, io: CommandIo): Promise<Cluster | string> {
  const { startClusterView } = await import('../cluster/view.ts');
  const { connectCluster } = await import('../cluster/kube.ts');
  const { readMeshConfig } = await import('../cluster/mesh-source.ts');
  const found = connectCluster({ kubeconfig, env: io.env });
  if ('none' in found) return found.none;
  const said = new Set<string>();
  const say = (_: object, msg: string) => {
    if (!said.has(msg)) io.err(`explain: cluster: ${msg}\n`);
    said.add(msg);
  };
  const view = await startClusterView({ env: io.env, kubeconfig, cidrs, api: found.api, log: { info: () => {}, warn: say, error: say } });
  try {
    if (!(await view.untilReady(SYNC_TIMEOUT_MS))) return `cluster not ready after ${SYNC_TIMEOUT_MS / 1000} s: ${view.status().reason}`;
    // Read now rather than taken from the view, which reads them in the background.
    const mesh = await readMeshConfig(found.api, meshLocations(io.env));
    const get = found.api.get!;
    return { snapshot: { ...view.current(), mesh }, pod: (ns, name) => get(PODS, ns, name) };
  } finally {
    await view.stop();
  }
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

export const runExplain: Command = async (argv, io) => {
  const run = parseCommand(argv, io, { name: 'explain', help: HELP, options: OPTIONS, positionals: true });
  if (typeof run === 'number') return run;
  const { values, positionals, usage, refuse } = run;
  if (values.output !== 'text' && values.output !== 'json') return usage(`--output must be text or json, got "${values.output}"`);
  if (!values.from) return usage('--from NAMESPACE[/POD] is required');
  if (!values.to) return usage('--to SCHEME://HOST[:PORT] is required');
  const [namespace, podName, extra] = values.from.split('/');
  if (!namespace || extra !== undefined || podName === '') return usage(`--from must be NAMESPACE or NAMESPACE/POD, got "${values.from}"`);
  if (values.kubeconfig !== undefined && (values.state !== undefined || positionals.length))
    return usage('--kubeconfig reads the live cluster: give no --state or PATH with it');
  const dest = parseDestination(values.to, values.address);
  if ('problem' in dest) return usage(dest.problem);
  const { config, problems } = readCidrSettings({ pod: values['pod-cidrs'], service: values['service-cidrs'] }, io.env);
  if (problems.length) return usage(problems.join('; '));

  let cluster: Cluster;
  if (values.kubeconfig !== undefined) {
    const live = await liveCluster(values.kubeconfig, config, io);
    if (typeof live === 'string') return refuse(live);
    cluster = live;
  } else {
    const objects: KubeObject[] = [];
    if (values.state !== undefined) {
      const s = loadStateDir(values.state);
      if (s.errors.length) return refuse(s.errors.join('; '));
      objects.push(...s.objects);
    }
    const inputs = await readInputs(positionals, io, 'lenient');
    if (inputs.errors.length) return refuse(inputs.errors.map(showInputError).join('; '));
    objects.push(...inputs.items.map((i) => i.object));
    const snapshot = {
      ...snapshotFromObjects(objects, offlineSnapshot(objects, config).cidrs),
      mesh: meshConfigFrom(objects, meshLocations(io.env)),
    };
    cluster = {
      snapshot,
      pod: async (ns, name) =>
        objects.find((o) => o.kind === 'Pod' && (o.metadata?.namespace ?? 'default') === ns && o.metadata?.name === name),
    };
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
  const e = explain(source, dest, cluster.snapshot);
  io.out(
    values.output === 'json'
      ? `${JSON.stringify({ ...e, fix: e.fix.length ? toYaml(e.fix) : null, fixObjects: e.fix }, null, 2)}\n`
      : formatExplanation(e),
  );
  return e.verdict === 'blocked' ? 1 : 0;
};
