/**
 * The capture plan: which ranges the sidecar captures (include) and which bypass it (exclude), each
 * with the source of every input range, plus the warnings a platform owner wants before the pod
 * starts. Pure: the cluster CIDRs and the parsed annotations come in as data.
 */
import { BYPASS, CAPTURE, CAPTURE_RANGES, type Side } from '../catalogue/keys.ts';
import { finding, merge, ok, type Result } from '../catalogue/result.ts';
import type { ClusterCidrs } from '../cluster/snapshot.ts';
import { compareCidrs, isAll, mergeCidrs, overlaps, type Cidr } from '../net/cidr.ts';
import {
  annotationPath,
  formatMeshRanges,
  originText,
  type CaptureMode,
  type MeshValue,
  type Origin,
  type Setting,
} from './annotations.ts';

/** One input range and where it came from ("pod CIDR (ServiceCIDR/kubernetes)", "namespace shop"). */
export type Sourced = { readonly cidr: Cidr; readonly from: string };

export type RangeInput = { readonly cidrs: readonly Cidr[]; readonly origin: Origin };

/** A range-list setting as plan input: absent and invalid settings contribute no ranges. */
export const rangeInput = (s: Setting<readonly Cidr[]>): RangeInput | undefined =>
  s.state === 'valid' ? { cidrs: s.value, origin: s.origin } : undefined;

/** A mesh annotation the user set on the pod: it wins, and is only checked. */
export type UserValue = MeshValue & { readonly key: string };

export type PlanInput = {
  readonly mode: Exclude<CaptureMode, 'off'>;
  readonly cluster: ClusterCidrs;
  readonly capture?: RangeInput | undefined;
  readonly bypass?: RangeInput | undefined;
  /**
   * Ranges the mesh operator excludes for every pod (Istio's values.global.proxy.excludeIPRanges, as
   * the injector config holds them or the injected istio-init already carries them): kept in a
   * computed exclude list, never replaced by it
   */
  readonly meshExclude?: readonly { readonly cidr: Cidr; readonly from: string }[];
  readonly user?: { readonly include?: UserValue | undefined; readonly exclude?: UserValue | undefined };
  /** the keys the plan is written to, for the field paths of findings about the written value */
  readonly keys: Readonly<Record<Side, string>>;
  /** OSM's osm-init programs iptables only, never ip6tables */
  readonly ipv4Only: boolean;
};

export type PlannedSide =
  | { readonly by: 'computed'; readonly cidrs: readonly Cidr[]; readonly from: Readonly<Record<string, string>> }
  | { readonly by: 'pod'; readonly user: UserValue };

export type Plan = { readonly include?: PlannedSide; readonly exclude?: PlannedSide; readonly findings: Result };

const sourced = (input: RangeInput | undefined): Sourced[] =>
  (input?.cidrs ?? []).map((cidr) => ({ cidr, from: originText(input!.origin) }));

function computed(sources: readonly Sourced[]): PlannedSide | undefined {
  if (sources.length === 0) return undefined;
  const from: Record<string, string> = {};
  for (const s of [...sources].sort((a, b) => compareCidrs(a.cidr, b.cidr))) {
    const seen = from[s.cidr.text];
    if (seen === undefined) from[s.cidr.text] = s.from;
    else if (!seen.split(', ').includes(s.from)) from[s.cidr.text] = `${seen}, ${s.from}`;
  }
  return { by: 'computed', cidrs: mergeCidrs(sources.map((s) => s.cidr)), from };
}

/** Keeps IPv4 only when asked, saying what was left out. */
function families(sources: readonly Sourced[], ipv4Only: boolean, key: string): { kept: Sourced[]; findings: Result } {
  if (!ipv4Only) return { kept: [...sources], findings: ok };
  const dropped = sources.filter((s) => s.cidr.family === 6);
  if (dropped.length === 0) return { kept: [...sources], findings: ok };
  const list = [...new Set(dropped.map((s) => s.cidr.text))].join(',');
  return {
    kept: sources.filter((s) => s.cidr.family === 4),
    findings: finding('EW509', annotationPath(key), `IPv4 only, left out ${list}`),
  };
}

function userChecks(user: UserValue | undefined, side: Side, ipv4Only: boolean): Result {
  if (!user) return ok;
  const at = annotationPath(user.key);
  return merge(
    ...user.hostBits.map((h) => finding('EW503', at, `${h.text} has host bits set, means ${h.cidr.text}`)),
    ...(side === 'exclude'
      ? user.cidrs.filter(isAll).map((c) => finding('EW505', at, `${c.text}: all IPv${c.family} traffic bypasses the sidecar`))
      : []),
    ...(ipv4Only ? user.cidrs.filter((c) => c.family === 6).map((c) => finding('EW509', at, `osm-init fails on IPv6 ${c.text}`)) : []),
  );
}

function overridden(user: UserValue | undefined, planned: PlannedSide | undefined): Result {
  if (!user || planned?.by !== 'computed') return ok;
  const value = formatMeshRanges(planned.cidrs);
  return value === user.value ? ok : finding('EW513', annotationPath(user.key), `overrides computed ${value}`);
}

/** What the cluster's own ranges give a plan: the same for every pod until the cluster CIDRs change. */
type ClusterPart = {
  readonly sources: readonly Sourced[];
  readonly inCluster: { readonly kept: readonly Sourced[]; readonly findings: Result };
  /** the include list of cluster mode when the pod and namespace add no ranges of their own */
  readonly include: PlannedSide | undefined;
};

/** Per cluster CIDRs (one object per snapshot), per mesh family rule and include key. */
const clusterParts = new WeakMap<ClusterCidrs, Map<string, ClusterPart>>();

function clusterPart(cluster: ClusterCidrs, ipv4Only: boolean, includeKey: string): ClusterPart {
  let byKey = clusterParts.get(cluster);
  if (!byKey) clusterParts.set(cluster, (byKey = new Map()));
  const key = `${ipv4Only}|${includeKey}`;
  let part = byKey.get(key);
  if (!part) {
    const sources: Sourced[] = [
      ...cluster.pod.map((r) => ({ cidr: r.cidr, from: `pod CIDR (${r.origin})` })),
      ...cluster.service.map((r) => ({ cidr: r.cidr, from: `service CIDR (${r.origin})` })),
    ];
    const inCluster = families(sources, ipv4Only, includeKey);
    part = { sources, inCluster, include: computed(inCluster.kept) };
    byKey.set(key, part);
  }
  return part;
}

export function planRanges(input: PlanInput): Plan {
  const { mode, cluster, ipv4Only, keys } = input;
  const findings: Result[] = [];
  const part = clusterPart(cluster, ipv4Only, keys.include);
  const clusterSources = part.sources;
  const captureSources = sourced(input.capture);
  const bypassSources = sourced(input.bypass);

  let include: PlannedSide | undefined;
  if (mode === 'cluster') {
    const inCluster = part.inCluster;
    const extra = families(captureSources, ipv4Only, keys.include);
    findings.push(merge(inCluster.findings, extra.findings));
    // Capturing only the extra ranges would stop capturing in-cluster traffic: the mesh itself.
    if (inCluster.kept.length === 0) {
      findings.push(finding('EW511', annotationPath(CAPTURE), `no ${ipv4Only ? 'IPv4 ' : ''}cluster CIDRs known: include left as is`));
    } else {
      include = extra.kept.length ? computed([...inCluster.kept, ...extra.kept]) : part.include;
      // Node podCIDRs are slices: a node that joins later brings a range this pod will not capture.
      if (cluster.pod.some((r) => r.partial)) {
        findings.push(
          finding('EW519', annotationPath(CAPTURE), 'partial pod range (node podCIDRs): pods on nodes added later bypass the sidecar'),
        );
      }
    }
  } else if (captureSources.length) {
    findings.push(finding('EW510', annotationPath(CAPTURE_RANGES), `ignored in ${mode} mode (only cluster mode uses it)`));
  }
  const bypass = families(bypassSources, ipv4Only, keys.exclude);
  findings.push(bypass.findings);
  // Without a bypass nothing is computed, and the mesh's own exclude list is left where it is.
  const meshWide = bypass.kept.length ? families(input.meshExclude ?? [], ipv4Only, keys.exclude).kept : [];
  let exclude = computed([...bypass.kept, ...meshWide]);

  const user = input.user ?? {};
  findings.push(userChecks(user.include, 'include', ipv4Only), userChecks(user.exclude, 'exclude', ipv4Only));
  findings.push(overridden(user.include, include), overridden(user.exclude, exclude));
  if (user.include) include = { by: 'pod', user: user.include };
  if (user.exclude) exclude = { by: 'pod', user: user.exclude };

  // Overlap checks run on what will take effect, naming the input that causes them.
  const excluded: { cidr: Cidr; at: string }[] =
    exclude?.by === 'pod'
      ? exclude.user.cidrs.map((cidr) => ({ cidr, at: annotationPath(exclude.user.key) }))
      : bypass.kept.map((s) => ({ cidr: s.cidr, at: annotationPath(BYPASS) }));
  const included: Sourced[] =
    include?.by === 'pod'
      ? include.user.all
        ? []
        : include.user.cidrs.map((cidr) => ({ cidr, from: 'pod' }))
      : mode === 'cluster'
        ? captureSources
        : [];
  for (const e of excluded) {
    if (isAll(e.cidr)) continue; // EW505 already says it, louder
    const inCluster = clusterSources.find((c) => overlaps(c.cidr, e.cidr));
    if (inCluster) {
      findings.push(finding('EW504', e.at, `${e.cidr.text} overlaps cluster ${inCluster.cidr.text}: no mTLS`));
      continue;
    }
    const inc = included.find((i) => overlaps(i.cidr, e.cidr));
    if (inc) findings.push(finding('EW506', e.at, `${e.cidr.text} overlaps included ${inc.cidr.text}, excluded`));
  }
  return { ...(include ? { include } : {}), ...(exclude ? { exclude } : {}), findings: merge(...findings) };
}
