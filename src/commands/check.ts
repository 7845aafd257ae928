/**
 * `egress-warden check`: the webhook's verdict on manifests before they are applied, with no
 * cluster. This file reads the arguments, the files and (with --kubeconfig) the live cluster; the
 * engine in check/ judges the set and renders the report.
 */
import type { KubeObject } from '../admission/types.ts';
import { checkItems } from '../check/items.ts';
import { formatJson, formatText } from '../check/report.ts';
import { offlineSnapshot } from '../check/state.ts';
import { readCidrSettings, type ConfiguredPair } from '../cluster/cidr-settings.ts';
import { readInputs, showInputError } from '../cluster/manifest-files.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { loadStateDir } from '../cluster/state-dir.ts';
import { parseCommand } from './flags.ts';
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
                    cluster ranges for pod capture checks (default: EW_POD_CIDRS, EW_SERVICE_CIDRS,
                    else from ServiceCIDR, Node and kube-system ConfigMap objects read, else
                    kubeadm's 10.244.0.0/16 and 10.96.0.0/12)
Exit status: 0 no errors, 1 errors found, 2 bad usage or unreadable input.`;

/** How long a live cluster gets to list everything the rules read. */
const SYNC_TIMEOUT_MS = 30_000;

/**
 * The live cluster's snapshot (--kubeconfig), read once through the webhook's own cluster view,
 * or why it could not be had. The client library is loaded only here: offline checks never pay for it.
 */
async function clusterState(kubeconfig: string, cidrs: ConfiguredPair, io: CommandIo): Promise<ClusterSnapshot | string> {
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
      env: io.env, kubeconfig, cidrs, log: { info: () => {}, warn: say, error: say },
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

function unreadable(io: CommandIo, errors: readonly string[]): number {
  for (const e of errors) io.err(`check: ${e}\n`);
  return USAGE;
}

const OPTIONS = {
  state: { type: 'string' }, kubeconfig: { type: 'string' }, 'pod-cidrs': { type: 'string' }, 'service-cidrs': { type: 'string' },
  namespace: { type: 'string', short: 'n', default: 'default' }, output: { type: 'string', short: 'o', default: 'text' },
  mode: { type: 'string', default: 'enforce' },
} as const;

export const runCheck: Command = async (argv, io) => {
  const run = parseCommand(argv, io, { name: 'check', help: HELP, options: OPTIONS, positionals: true });
  if (typeof run === 'number') return run;
  const { values, positionals, usage } = run;
  if (values.output !== 'text' && values.output !== 'json') return usage(`--output must be text or json, got "${values.output}"`);
  if (values.mode !== 'enforce' && values.mode !== 'warn') return usage(`--mode must be enforce or warn, got "${values.mode}"`);
  if (!values.namespace) return usage('--namespace must not be empty');
  if (positionals.length === 0) return usage('no input: name files or directories, or - for stdin');
  const { config, problems } = readCidrSettings({ pod: values['pod-cidrs'], service: values['service-cidrs'] }, io.env);
  if (problems.length) return usage(problems.join('; '));

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
    const live = await clusterState(values.kubeconfig, config, io);
    if (typeof live === 'string') {
      io.err(`check: ${live}\n`);
      return USAGE;
    }
    state = live;
  } else {
    state = offlineSnapshot([...stateObjects, ...inputs.items.map((i) => i.object)], config);
  }

  const checked = checkItems(inputs.items, state, { namespace: values.namespace, mode: values.mode }, stateObjects);
  const report = { findings: checked.findings, summary: { ...checked.summary, skipped: checked.summary.skipped + inputs.skipped } };
  io.out(values.output === 'json' ? formatJson(report) : formatText(report));
  return report.summary.errors > 0 ? 1 : 0;
};
