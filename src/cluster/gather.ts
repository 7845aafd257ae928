/**
 * Gathers the inputs of CIDR detection from the API server. A source that is missing or forbidden
 * is a note, not a failure: detection moves on to the next source. Only failures that may pass
 * (network, 5xx) are flagged so the caller can ask again.
 */
import type { KubeObject } from '../admission/types.ts';
import { apiMessage, apiStatus, type ClusterApi } from './api.ts';
import { podAddresses, serviceAddresses, type Addressed, type CidrInputs, type ConfiguredCidrs } from './detect.ts';
import { CIDR_CONFIGMAPS, PODS, WATCHED, chooseVersion, resourceName, type Target } from './resources.ts';

/** Addresses no service range contains (TEST-NET-1 and the IPv6 documentation prefix). */
export const DRY_RUN_PROBES = ['192.0.2.1', '2001:db8::1'] as const;

/** The sources read once and refreshed now and then: the two ConfigMaps and the dry-run answers. */
export type StaticInputs = {
  readonly kubeadmConfig?: KubeObject;
  readonly kubeProxy?: KubeObject;
  readonly dryRun: readonly string[];
  readonly notes: readonly string[];
  /** some source failed in a way that may pass; ask again later */
  readonly retry: boolean;
};

type Noted = { notes: string[]; retry: boolean };

async function attempt<T>(what: string, run: () => Promise<T>, n: Noted): Promise<T | undefined> {
  try {
    return await run();
  } catch (e) {
    const status = apiStatus(e);
    if (status === 403) n.notes.push(`${what}: forbidden (RBAC)`);
    else if (status === 404) return undefined;
    else {
      n.notes.push(`${what}: ${apiMessage(e).split('\n')[0]}`);
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
  const n: Noted = { notes: [], retry: false };
  const cm = (name: string) => attempt(`${CIDR_CONFIGMAPS.namespace}/${name}`, () => api.getConfigMap(CIDR_CONFIGMAPS.namespace, name), n);
  const [kubeadmConfig, kubeProxy, ...probes] = await Promise.all([
    cm(CIDR_CONFIGMAPS.kubeadm),
    cm(CIDR_CONFIGMAPS.kubeProxy),
    ...(opts.dryRun ? DRY_RUN_PROBES : []).map(async (ip) => {
      const answer = await attempt(`dry-run Service create in ${api.namespace}`, async () => ({ message: await api.dryRunService(ip) }), n);
      if (answer && answer.message === undefined) n.notes.push(`dry-run Service create: clusterIP ${ip} was accepted, so it names no range`);
      return answer?.message;
    }),
  ]);
  return {
    ...(kubeadmConfig ? { kubeadmConfig } : {}),
    ...(kubeProxy ? { kubeProxy } : {}),
    dryRun: probes.filter((m): m is string => m !== undefined),
    notes: n.notes,
    retry: n.retry,
  };
}

/** Everything `egress-warden cidrs` needs, read once. */
export type Gathered = {
  readonly inputs: CidrInputs;
  readonly pods: readonly Addressed[];
  readonly services: readonly Addressed[];
  readonly notes: readonly string[];
  /** "networking.k8s.io/v1" or undefined when the cluster serves no ServiceCIDR API */
  readonly serviceCidrApi: string | undefined;
};

const target = (kind: string, version: string): Target => {
  const w = WATCHED.find((x) => x.kind === kind)!;
  return { group: w.group, version, resource: w.resource, kind: w.kind };
};

export async function gatherAll(api: ClusterApi, config: { readonly podConfig?: ConfiguredCidrs; readonly serviceConfig?: ConfiguredCidrs }): Promise<Gathered> {
  const n: Noted = { notes: [], retry: false };
  const discovery = await attempt('discovery', () => api.discover(), n);
  const scWatched = WATCHED.find((w) => w.kind === 'ServiceCIDR')!;
  const scVersion = discovery && chooseVersion(scWatched, discovery);
  const list = (t: Target) => attempt(`list ${resourceName(t)}`, () => api.list(t), n);
  const [nodes, serviceCidrs, pods, services, statics] = await Promise.all([
    list(target('Node', 'v1')),
    scVersion ? list(target('ServiceCIDR', scVersion)) : Promise.resolve(undefined),
    list(PODS),
    list(target('Service', 'v1')),
    gatherStatic(api, { dryRun: !scVersion }),
  ]);
  const { notes, retry: _, dryRun, ...configMaps } = statics;
  return {
    inputs: {
      ...config, ...configMaps, dryRun,
      ...(nodes ? { nodes } : {}),
      ...(serviceCidrs ? { serviceCidrs } : {}),
    },
    pods: podAddresses(pods ?? []),
    services: serviceAddresses(services ?? []),
    notes: [...n.notes, ...notes],
    serviceCidrApi: scVersion ? `${scWatched.group}/${scVersion}` : undefined,
  };
}
