/**
 * Gathers the inputs of CIDR detection from the API server. A read that fails (forbidden,
 * unreachable, a server error) never stops detection, which moves on to the next source; it is
 * named in `failed`, so the webhook can show it and `egress-warden cidrs` can refuse to call the
 * result verified. Only failures that may pass (network, 5xx) are flagged so the caller can ask again.
 */
import type { KubeObject } from '../admission/types.ts';
import { apiMessage, apiStatus, type ClusterApi } from './api.ts';
import { podAddresses, serviceAddresses, type Addressed, type CidrInputs, type ConfiguredCidrs } from './detect.ts';
import { CIDR_CONFIGMAPS, ENDPOINT_SLICES, WATCHED, chooseVersion, resourceName, type Target } from './resources.ts';

/** Addresses no service range contains (TEST-NET-1 and the IPv6 documentation prefix). */
export const DRY_RUN_PROBES = ['192.0.2.1', '2001:db8::1'] as const;

/** The sources read once and refreshed now and then: the two ConfigMaps and the dry-run answers. */
export type StaticInputs = {
  readonly kubeadmConfig?: KubeObject;
  readonly kubeProxy?: KubeObject;
  readonly dryRun: readonly string[];
  /** reads that failed, "what: reason" */
  readonly failed: readonly string[];
  /** what the sources said that is worth knowing but is no failure */
  readonly notes: readonly string[];
  /** some source failed in a way that may pass; ask again later */
  readonly retry: boolean;
};

type Noted = { failed: string[]; notes: string[]; retry: boolean };

/**
 * The answer of one read, or undefined when it failed (recorded in `n`). `absentIf404`: a 404
 * means the thing does not exist, which is an answer (the optional ConfigMaps), not a failure.
 */
async function attempt<T>(what: string, run: () => Promise<T>, n: Noted, absentIf404 = false): Promise<T | undefined> {
  try {
    return await run();
  } catch (e) {
    const status = apiStatus(e);
    if (status === 404 && absentIf404) return undefined;
    if (status === 403) n.failed.push(`${what}: forbidden (RBAC)`);
    else {
      n.failed.push(`${what}: ${apiMessage(e).split('\n')[0]}`);
      n.retry = true;
    }
    return undefined;
  }
}

/**
 * `dryRun: false` skips the probe: servers that serve the ServiceCIDR API allocate through
 * ServiceCIDRs, and their dry-run answer never names the range.
 */
export async function gatherStatic(api: ClusterApi, opts: { readonly dryRun: boolean } = { dryRun: true }): Promise<StaticInputs> {
  const n: Noted = { failed: [], notes: [], retry: false };
  const cm = (name: string) =>
    attempt(`${CIDR_CONFIGMAPS.namespace}/${name}`, () => api.getConfigMap(CIDR_CONFIGMAPS.namespace, name), n, true);
  const [kubeadmConfig, kubeProxy, ...probes] = await Promise.all([
    cm(CIDR_CONFIGMAPS.kubeadm),
    cm(CIDR_CONFIGMAPS.kubeProxy),
    ...(opts.dryRun ? DRY_RUN_PROBES : []).map(async (ip) => {
      const answer = await attempt(`dry-run Service create in ${api.namespace}`, async () => ({ message: await api.dryRunService(ip) }), n);
      if (answer && answer.message === undefined)
        n.notes.push(`dry-run Service create: clusterIP ${ip} was accepted, so it names no range`);
      return answer?.message;
    }),
  ]);
  return {
    ...(kubeadmConfig ? { kubeadmConfig } : {}),
    ...(kubeProxy ? { kubeProxy } : {}),
    dryRun: probes.filter((m): m is string => m !== undefined),
    failed: n.failed,
    notes: n.notes,
    retry: n.retry,
  };
}

/** Everything `egress-warden cidrs` needs, read once. */
export type Gathered = {
  readonly inputs: CidrInputs;
  /** pod IPs from EndpointSlices; null when they could not be listed */
  readonly pods: readonly Addressed[] | null;
  readonly services: readonly Addressed[] | null;
  /** reads that failed, "what: reason": what was shown is not verified */
  readonly failed: readonly string[];
  readonly notes: readonly string[];
  /** "networking.k8s.io/v1" or undefined when the cluster serves no ServiceCIDR API */
  readonly serviceCidrApi: string | undefined;
};

const target = (kind: string, version: string): Target => {
  const w = WATCHED.find((x) => x.kind === kind)!;
  return { group: w.group, version, resource: w.resource, kind: w.kind };
};

export async function gatherAll(
  api: ClusterApi,
  config: { readonly podConfig?: ConfiguredCidrs; readonly serviceConfig?: ConfiguredCidrs },
): Promise<Gathered> {
  const n: Noted = { failed: [], notes: [], retry: false };
  const discovery = await attempt('discovery', () => api.discover(), n);
  const scWatched = WATCHED.find((w) => w.kind === 'ServiceCIDR')!;
  const scVersion = discovery && chooseVersion(scWatched, discovery);
  const list = (t: Target) => attempt(`list ${resourceName(t)}`, () => api.list(t), n);
  const [nodes, serviceCidrs, slices, services, statics] = await Promise.all([
    list(target('Node', 'v1')),
    scVersion ? list(target('ServiceCIDR', scVersion)) : Promise.resolve(undefined),
    list(ENDPOINT_SLICES),
    list(target('Service', 'v1')),
    gatherStatic(api, { dryRun: !scVersion }),
  ]);
  const { failed, notes, retry: _, dryRun, ...configMaps } = statics;
  return {
    inputs: {
      ...config,
      ...configMaps,
      dryRun,
      ...(nodes ? { nodes } : {}),
      ...(serviceCidrs ? { serviceCidrs } : {}),
    },
    // without the Nodes (their list failed, which is named) host-network pods cannot be told apart
    pods: slices ? podAddresses(slices, nodes ?? []) : null,
    services: services ? serviceAddresses(services) : null,
    failed: [...n.failed, ...failed],
    notes: [...n.notes, ...notes],
    serviceCidrApi: scVersion ? `${scWatched.group}/${scVersion}` : undefined,
  };
}
