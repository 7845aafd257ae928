/**
 * `egress-warden audit`: judges what a live cluster already stores with the admission rules, and
 * lists the pods whose capture ranges went stale. Read-only: it lists, it never writes.
 */
import type { KubeObject } from '../admission/types.ts';
import { audit, formatAuditJson, formatAuditText, inNamespace } from '../audit/audit.ts';
import { readCidrSettings } from '../cluster/cidr-settings.ts';
import { AUDITED, PODS, chooseVersion } from '../cluster/resources.ts';
import { parseCommand } from './flags.ts';
import { liveSnapshot } from './live.ts';
import { USAGE, type Command } from './io.ts';

/** `text` broken at spaces into lines of at most 100 characters, each after `indent`. */
function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > 100) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, indent + line].join('\n');
}

const HELP = `usage: egress-warden audit [--kubeconfig FILE] [-n NAMESPACE] [--output text|json]
                          [--pod-cidrs LIST] [--service-cidrs LIST]
Judges every object of these kinds the cluster stores with the webhook's rules, each against all
the others:
${wrap(AUDITED.map((w) => w.kind).join(', '), '  ')}
Then lists the pods whose sidecar capture ranges differ from what
the webhook would write now (restart them to apply the current ranges).
  --kubeconfig FILE  the cluster (default: KUBECONFIG, in-cluster, ~/.kube/config)
  -n, --namespace    report only this namespace
  -o, --output       text (default) or json
  --pod-cidrs, --service-cidrs
                     the ranges serve is configured with, if any (default: EW_POD_CIDRS,
                     EW_SERVICE_CIDRS, else detected as serve detects them)
Exit status: 0 nothing to report, 1 errors found or pods to restart, 2 bad usage or the cluster
could not be read.`;

/** How long the cluster gets to list everything the rules read. */
const SYNC_TIMEOUT_MS = 60_000;

const OPTIONS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o', default: 'text' },
  'pod-cidrs': { type: 'string' },
  'service-cidrs': { type: 'string' },
} as const;

export const runAudit: Command = async (argv, io) => {
  const run = parseCommand(argv, io, { name: 'audit', help: HELP, options: OPTIONS, positionals: false });
  if (typeof run === 'number') return run;
  const { values, usage, refuse } = run;
  if (values.output !== 'text' && values.output !== 'json') return usage(`--output must be text or json, got "${values.output}"`);
  const { config: cidrs, problems } = readCidrSettings({ pod: values['pod-cidrs'], service: values['service-cidrs'] }, io.env);
  if (problems.length) return usage(problems.join('; '));

  const snapshot = await liveSnapshot('audit', values.kubeconfig, cidrs, io, SYNC_TIMEOUT_MS);
  if (typeof snapshot === 'string') return refuse(snapshot);
  // The client library is loaded only for commands that talk to a cluster.
  const { connectCluster } = await import('../cluster/kube.ts');
  const selected = connectCluster({ kubeconfig: values.kubeconfig, env: io.env });
  if ('none' in selected) return refuse(`no cluster: ${selected.none}`);
  const { api } = selected;
  let objects: KubeObject[] = [];
  let pods: KubeObject[];
  try {
    const served = await api.discover();
    for (const w of AUDITED) {
      // Discovery lists only the optional groups; core kinds are always served at their one version.
      const version = w.optional ? chooseVersion(w, served) : w.versions?.[0];
      if (version === undefined) continue; // the CRD is not installed: nothing of that kind is stored
      objects = objects.concat(await api.list({ group: w.group, version, resource: w.resource, kind: w.kind }, 'judged'));
    }
    pods = await api.list(PODS, 'judged');
  } catch (e) {
    io.err(`audit: cannot read the cluster (${selected.source}): ${(e as Error).message}\n`);
    return USAGE;
  }
  const all = audit(objects, pods, snapshot);
  const report = values.namespace !== undefined ? inNamespace(all, values.namespace) : all;
  io.out(values.output === 'json' ? formatAuditJson(report) : formatAuditText(report));
  return report.summary.errors > 0 || report.summary.stalePods > 0 ? 1 : 0;
};
