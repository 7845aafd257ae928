/**
 * `egress-warden cidrs`: the pod and service CIDRs the webhook would use, where each came from,
 * and whether the cluster's pod and Service addresses fall inside them.
 */
import type { Selection } from '../cluster/kube.ts';
import { gatherAll } from '../cluster/gather.ts';
import { readCidrSettings } from '../cluster/cidr-settings.ts';
import { detectCidrs, rangeRows, verifyCidrs, type RangeRow, type Verification } from '../cluster/detect.ts';
import { meshLocations, meshRows, type MeshRow } from '../cluster/mesh-config.ts';
import { readMeshConfig } from '../cluster/mesh-source.ts';
import { parseCommand } from './flags.ts';
import type { Command, CommandIo } from './io.ts';

export const CIDRS_USAGE = `usage: egress-warden cidrs [--kubeconfig FILE] [--output text|json] [--pod-cidrs LIST] [--service-cidrs LIST]
environment: KUBECONFIG, EW_POD_CIDRS, EW_SERVICE_CIDRS
exit status: 0 ranges shown and verified; 1 a read of the cluster failed (could not verify) or addresses fall outside the ranges; 2 bad usage`;

type Connect = (opts: { readonly kubeconfig?: string | undefined; readonly env: CommandIo['env'] }) => Promise<Selection>;

export type CidrsReport = {
  /** how the cluster was selected, null without one */
  readonly cluster: string | null;
  readonly pod: readonly RangeRow[];
  readonly service: readonly RangeRow[];
  /** null without a cluster, or when EndpointSlices or Services could not be listed */
  readonly verification: Verification | null;
  /** reads of the cluster that failed, "what: reason": the ranges shown are not verified */
  readonly failed: readonly string[];
  readonly notes: readonly string[];
  /** the meshes' egress settings and where each came from; null without a cluster */
  readonly mesh: { readonly settings: readonly MeshRow[]; readonly notes: readonly string[] } | null;
};

/** Rows aligned on columns shared by every table of the report. */
function table(rows: readonly RangeRow[], all: readonly RangeRow[]): string {
  const w = Math.max(...all.map((r) => r.cidr.length));
  const s = Math.max(...all.map((r) => r.source.length));
  return rows.map((r) => `  ${r.cidr.padEnd(w)}  ${r.source.padEnd(s)}  ${r.origin}\n`).join('');
}

function verificationText(v: Verification): string {
  const outside = [...v.pods.outside.map((o) => ({ ...o, what: 'pod' })), ...v.services.outside.map((o) => ({ ...o, what: 'Service' }))];
  const counts = [
    [v.pods.checked, 'pods'],
    [v.services.checked, 'Services'],
  ] as const;
  const checked = counts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
  const said = [...(checked.length ? [`${checked.join(' and ')} checked`] : []), ...v.unchecked];
  if (!checked.length) return `verification: ${said.join('; ')}\n`;
  const head = `verification: ${said.join('; ')}; `;
  if (!outside.length) return `${head}every address is inside the detected ranges\n`;
  const shown = outside
    .slice(0, 20)
    .map((o) => `  ${o.what} ${o.name} ${o.ip}\n`)
    .join('');
  const more = outside.length > 20 ? `  … and ${outside.length - 20} more\n` : '';
  return `${head}${v.pods.outside.length} pod and ${v.services.outside.length} Service addresses are OUTSIDE the detected ranges:\n${shown}${more}`;
}

function meshText(m: NonNullable<CidrsReport['mesh']>): string {
  if (!m.settings.length && !m.notes.length) return '\nmesh: no Istio mesh config and no OSM MeshConfig found\n';
  const w = Math.max(0, ...m.settings.map((r) => `${r.mesh} ${r.setting}`.length));
  const v = Math.max(0, ...m.settings.map((r) => r.value.length));
  const rows = m.settings.map((r) => `  ${`${r.mesh} ${r.setting}`.padEnd(w)}  ${r.value.padEnd(v)}  ${r.from}\n`).join('');
  return `\nmesh settings\n${rows}${m.notes.map((n) => `  note: ${n}\n`).join('')}`;
}

export function formatCidrsText(r: CidrsReport): string {
  const head = r.cluster ? `cluster: ${r.cluster}\n` : 'no cluster: using configured/default CIDRs\n';
  const notes = r.notes.length ? `notes:\n${r.notes.map((n) => `  - ${n}\n`).join('')}` : '';
  const all = [...r.pod, ...r.service];
  const failed = r.failed.map((f) => `could not verify: ${f}\n`).join('');
  return `${head}\npod CIDRs\n${table(r.pod, all)}service CIDRs\n${table(r.service, all)}\n${r.verification ? verificationText(r.verification) : ''}${failed}${notes}${r.mesh ? meshText(r.mesh) : ''}`;
}

const OPTIONS = {
  kubeconfig: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'pod-cidrs': { type: 'string' },
  'service-cidrs': { type: 'string' },
} as const;

export function cidrsCommand(connect: Connect): Command {
  return async (argv, io) => {
    const run = parseCommand(argv, io, { name: 'cidrs', help: CIDRS_USAGE, options: OPTIONS, positionals: false });
    if (typeof run === 'number') return run;
    const { values, usage, refuse } = run;
    const output = values.output ?? 'text';
    if (output !== 'text' && output !== 'json') return usage(`--output must be text or json, got "${output}"`);
    const { config, problems } = readCidrSettings({ pod: values['pod-cidrs'], service: values['service-cidrs'] }, io.env);
    if (problems.length) return refuse(problems.join('; '));

    let selection: Selection;
    try {
      selection = await connect({ kubeconfig: values.kubeconfig, env: io.env });
    } catch (e) {
      io.err(`cidrs: ${(e as Error).message}\n`);
      return 1;
    }
    let report: CidrsReport;
    if ('none' in selection) {
      const d = detectCidrs(config);
      const rows = rangeRows(d);
      report = {
        cluster: null,
        pod: rows.filter((r) => r.kind === 'pod'),
        service: rows.filter((r) => r.kind === 'service'),
        verification: null,
        failed: [],
        notes: [selection.none, ...d.notes],
        mesh: null,
      };
    } else {
      const [g, mesh] = await Promise.all([gatherAll(selection.api, config), readMeshConfig(selection.api, meshLocations(io.env))]);
      const d = detectCidrs(g.inputs);
      const rows = rangeRows(d);
      report = {
        cluster: selection.source,
        pod: rows.filter((r) => r.kind === 'pod'),
        service: rows.filter((r) => r.kind === 'service'),
        verification: g.pods && g.services ? verifyCidrs(d.cidrs, g.pods, g.services) : null,
        failed: g.failed,
        notes: [...g.notes, ...d.notes],
        mesh: { settings: meshRows(mesh), notes: mesh.notes },
      };
    }
    io.out(output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatCidrsText(report));
    const outside = report.verification ? report.verification.pods.outside.length + report.verification.services.outside.length : 0;
    return report.failed.length > 0 || outside > 0 ? 1 : 0;
  };
}

export const runCidrs: Command = cidrsCommand(async (opts) => (await import('../cluster/kube.ts')).connectCluster(opts));
