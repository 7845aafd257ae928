/**
 * `egress-warden check`: the webhook's verdict on manifests before they are applied, with no
 * cluster. This file reads the arguments, the files and (with --kubeconfig) the live cluster; the
 * engine in check/ judges the set and renders the report.
 */
import { DOCS_URL_ENV } from '../catalogue/docs.ts';
import { readFileSync } from 'node:fs';
import type { KubeObject } from '../admission/types.ts';
import { formatGithub } from '../check/github.ts';
import { checkItems } from '../check/items.ts';
import { formatJunit } from '../check/junit.ts';
import {
  formatJson,
  formatText,
  problemReport,
  showProblem,
  summarize,
  unreadFinding,
  type FailOn,
  type Problem,
  type Report,
} from '../check/report.ts';
import { formatSarif } from '../check/sarif.ts';
import { offlineSnapshot } from '../check/state.ts';
import { readCidrSettings } from '../cluster/cidr-settings.ts';
import { readInputs, showInputError, type ReadLimits } from '../cluster/manifest-files.ts';
import { meshLocations } from '../cluster/mesh-config.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { loadStateDir } from '../cluster/state-dir.ts';
import { parseCommand } from './flags.ts';
import { liveCluster } from './live.ts';
import { USAGE, type Command, type CommandIo } from './io.ts';

const HELP = `usage: egress-warden check [PATH ...] [-] [--state DIR] [--kubeconfig FILE] [--namespace NS]
                          [--output text|json|sarif|junit|github] [--fail-on error|warning]
                          [--mode enforce|warn] [--pod-cidrs LIST] [--service-cidrs LIST] [--docs-url URL]
Validates ServiceEntry, VirtualService, Egress, Namespace and Pod manifests (and the pod templates of
workloads) with the webhook's rules.
PATH is a file or a directory (read recursively: .yaml, .yml, .json); - reads stdin.
  --state DIR       objects already in the cluster (same formats), used for cross-object checks and
                    the meshes' settings (Istio's mesh ConfigMap, OSM's MeshConfig) only
  --kubeconfig FILE take the objects already in the cluster from that cluster (read-only)
  -n, --namespace   namespace of objects that name none (default: default)
  -o, --output      text (default), json, sarif (code scanning), junit (GitLab, Jenkins) or github
                    (workflow annotations); written to stdout whatever the exit status
  --fail-on         error (default): errors fail the check; warning: warnings fail it too
  --mode            enforce (default): errors are errors; warn: errors are reported as warnings
  --docs-url URL    the URL of docs/codes.md: SARIF rules get an absolute helpUri (default: EW_DOCS_URL)
  --pod-cidrs, --service-cidrs
                    cluster ranges for pod capture checks (default: EW_POD_CIDRS, EW_SERVICE_CIDRS,
                    else from ServiceCIDR, Node and kube-system ConfigMap objects read, else
                    kubeadm's 10.244.0.0/16 and 10.96.0.0/12)
A file that cannot be read or parsed, or is over the limits (10 MiB per file, 100 MiB and 250,000
documents in all), is an error finding; the other files are still checked.
Exit status: 0 passed, 1 findings that fail the check (a file not read is one), 2 bad usage, no
input, a --state or --kubeconfig that cannot be read.`;

/** How long a live cluster gets to list everything the rules read. */
const SYNC_TIMEOUT_MS = 30_000;

/**
 * The whole set is held at once (the objects, their lines, the indexes of the cross-object checks),
 * so what is read is bounded: at these limits a run needs at most about 1 GiB of heap, which Node
 * takes by default with 4 GiB of memory (a quarter of it). A rendered chart or a CRD bundle is a few
 * MiB and a large repository some 10,000 objects in 2,000 files, far under them.
 */
const LIMITS: ReadLimits = { fileBytes: 10 * 2 ** 20, totalBytes: 100 * 2 ** 20, documents: 250_000 };

const OUTPUTS = ['text', 'json', 'sarif', 'junit', 'github'] as const;
type Output = (typeof OUTPUTS)[number];

const isOutput = (s: string): s is Output => (OUTPUTS as readonly string[]).includes(s);

const version = (): string =>
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function render(report: Report, output: Output, failOn: FailOn, docsUrl?: string): string {
  switch (output) {
    case 'text':
      return formatText(report);
    case 'json':
      return formatJson(report);
    case 'sarif':
      return formatSarif(report, version(), docsUrl);
    case 'junit':
      return formatJunit(report, failOn);
    case 'github':
      return formatGithub(report);
  }
}

/**
 * Nothing could be judged: each problem on stderr, and for the machine formats a report naming
 * them on stdout, so that a CI step reading stdout sees why the check failed.
 */
function unreadable(io: CommandIo, problems: readonly Problem[], output: Output, failOn: FailOn): number {
  const report = problemReport(problems);
  for (const p of problems) io.err(`check: ${showProblem(p)}\n`);
  if (output !== 'text') io.out(render(report, output, failOn));
  return USAGE;
}

const OPTIONS = {
  state: { type: 'string' },
  kubeconfig: { type: 'string' },
  'pod-cidrs': { type: 'string' },
  'service-cidrs': { type: 'string' },
  namespace: { type: 'string', short: 'n', default: 'default' },
  output: { type: 'string', short: 'o', default: 'text' },
  mode: { type: 'string', default: 'enforce' },
  'fail-on': { type: 'string', default: 'error' },
  'docs-url': { type: 'string' },
} as const;

export const runCheck: Command = async (argv, io) => {
  const run = parseCommand(argv, io, { name: 'check', help: HELP, options: OPTIONS, positionals: true });
  if (typeof run === 'number') return run;
  const { values, positionals, usage } = run;
  const output = values.output;
  if (!isOutput(output)) return usage(`--output must be one of ${OUTPUTS.join(', ')}, got "${output}"`);
  const failOn = values['fail-on'];
  if (failOn !== 'error' && failOn !== 'warning') return usage(`--fail-on must be error or warning, got "${failOn}"`);
  if (values.mode !== 'enforce' && values.mode !== 'warn') return usage(`--mode must be enforce or warn, got "${values.mode}"`);
  if (!values.namespace) return usage('--namespace must not be empty');
  if (positionals.length === 0) return usage('no input: name files or directories, or - for stdin');
  const { config, problems } = readCidrSettings({ pod: values['pod-cidrs'], service: values['service-cidrs'] }, io.env);
  if (problems.length) return usage(problems.join('; '));

  // --state is read exactly as `serve --state` reads it; the inputs leniently, since manifest trees hold other YAML too
  let stateObjects: readonly KubeObject[] = [];
  if (values.state !== undefined) {
    const s = loadStateDir(values.state);
    if (s.problems.length) return unreadable(io, s.problems, output, failOn);
    stateObjects = s.objects;
  }
  const inputs = await readInputs(positionals, io, 'lenient', LIMITS);
  // A file that cannot be read is reported where it is and the rest is still judged; only when
  // nothing at all was found is there no report to give.
  if (inputs.errors.length === 0) {
    // A wrong path, an empty file or an empty stdin must not pass the gate as "0 objects checked".
    const named = positionals.map((p) => (p === '-' ? '<stdin>' : p)).join(' ');
    const why =
      inputs.files === 0
        ? 'no .yaml, .yml or .json file found'
        : inputs.items.length === 0
          ? inputs.skipped
            ? `${inputs.skipped} documents read, none a Kubernetes object (apiVersion and kind)`
            : 'the input is empty'
          : undefined;
    if (why !== undefined) return unreadable(io, [...inputs.warnings, { file: named, message: `no input: ${why}` }], output, failOn);
  }

  let state: ClusterSnapshot;
  if (values.kubeconfig !== undefined) {
    const live = await liveCluster('check', values.kubeconfig, config, io, SYNC_TIMEOUT_MS);
    if ('none' in live) return unreadable(io, [{ message: live.none }], output, failOn);
    if ('problem' in live) return unreadable(io, [{ message: live.problem }], output, failOn);
    // The view reads the meshes' settings in the background without waiting for them: read them now.
    const { readMeshConfig } = await import('../cluster/mesh-source.ts');
    state = { ...live.snapshot, mesh: await readMeshConfig(live.api, meshLocations(io.env)) };
  } else {
    state = offlineSnapshot([...stateObjects, ...inputs.items.map((i) => i.object)], config, meshLocations(io.env));
  }

  const checked = checkItems(inputs.items, state, { namespace: values.namespace, mode: values.mode }, stateObjects);
  const unread = [...inputs.errors.map((e) => unreadFinding(e, 'error')), ...inputs.warnings.map((w) => unreadFinding(w, 'warning'))];
  const findings = [...unread, ...checked.findings];
  const skipped = [...checked.skipped, ...inputs.skippedDocuments];
  const report: Report = {
    findings,
    checked: checked.checked,
    skipped,
    problems: [],
    summary: summarize(findings, checked.checked, skipped),
  };
  // stdout may go to a report file: the log of a CI step still says which files were not read
  if (output !== 'text') for (const e of [...inputs.errors, ...inputs.warnings]) io.err(`check: ${showInputError(e)}\n`);
  io.out(render(report, output, failOn, values['docs-url'] ?? (io.env[DOCS_URL_ENV] || undefined)));
  const failing = report.summary.errors + (failOn === 'warning' ? report.summary.warnings : 0);
  return failing > 0 ? 1 : 0;
};
