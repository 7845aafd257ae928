/**
 * The cluster view: supervised informers feed per-object compact records; a coalesced publisher
 * turns them into an immutable ClusterSnapshot that the request path reads and never waits for.
 * Without a cluster, the same interface serves a static snapshot from configuration and --state.
 * The parts live beside this file, one job each: informers.ts (supervisor.ts, one per informer), discovery.ts, cidr-sources.ts,
 * publisher.ts, readiness.ts.
 */
import { performance } from 'node:perf_hooks';
import { objectGroupKind, objectKey, type KubeObject } from '../admission/types.ts';
import type { ClusterApi, InformerFactory } from './api.ts';
import { cidrSources, cidrStatus, serviceIps } from './cidr-sources.ts';
import { readCidrSettings, type ConfiguredPair } from './cidr-settings.ts';
import { detectCidrs, rangeRows } from './detect.ts';
import { discoveryLoop } from './discovery.ts';
import { compact, snapshotFromCompact, type Compact } from './indexes.ts';
import { superviseInformers } from './informers.ts';
import type { Delivered } from './supervisor.ts';
import { lifetime } from './lifetime.ts';
import { MESH_CONFIG_KINDS, meshConfigFrom, meshLocations, NO_MESH_CONFIG, type MeshLocations } from './mesh-config.ts';
import { meshSource } from './mesh-source.ts';
import { publisher, type StateRecord } from './publisher.ts';
import { readiness } from './readiness.ts';
import { visitStateDir } from './state-dir.ts';
import { DEFAULT_TIMING, type ClusterView, type Env, type Log, type Timing, type ViewStatus } from './view-types.ts';

export { DEFAULT_TIMING } from './view-types.ts';
export type { ClusterView, Env, InformerStatus, Log, Timing, VerificationStatus, ViewStatus } from './view-types.ts';

export type ViewOptions = {
  readonly env: Env;
  readonly log: Log;
  /** a kubeconfig path (or a path list); otherwise KUBECONFIG, in-cluster config, ~/.kube/config */
  readonly kubeconfig?: string;
  /** run on configured/default CIDRs even when a cluster could be reached */
  readonly noCluster?: boolean;
  /** own namespace, for the dry-run Service create */
  readonly namespace?: string;
  /** the CIDR settings as a command read them (readCidrSettings); then podCidrs, serviceCidrs and env are not read for them */
  readonly cidrs?: ConfiguredPair;
  /** without `cidrs`: explicit ranges, else EW_POD_CIDRS / EW_SERVICE_CIDRS from env */
  readonly podCidrs?: readonly string[];
  readonly serviceCidrs?: readonly string[];
  /** objects from YAML/JSON files, added to the snapshot */
  readonly stateDir?: string;
  /** the API server seam; by default client-node on the selected cluster */
  readonly api?: ClusterApi;
  /** replaces api.informer (tests drive fake informers through it) */
  readonly informerFactory?: InformerFactory;
  readonly timing?: Partial<Timing>;
  /** where the meshes keep their settings; by default from EW_ISTIO_NAMESPACE and the like in env, else the meshes' defaults */
  readonly meshLocations?: MeshLocations;
  /** told what the informers deliver and when a snapshot is built (read-your-writes, overlay.ts) */
  readonly observer?: ViewObserver;
};

export type ViewObserver = {
  readonly delivered: Delivered;
  readonly published: () => void;
  /** a kind's objects were listed again (first sync, relist): some may have gone without a delete */
  readonly replaced?: (kind: string) => void;
};

export const NO_CLUSTER_REASON = 'no cluster: using configured/default CIDRs';

const given = (values: readonly string[] | undefined) => (values?.length ? values.join(',') : undefined);

/** The configured CIDRs, read with the commands' reader unless a command already read them; throws naming each value that is not a CIDR. */
export function configuredCidrs(opts: Pick<ViewOptions, 'cidrs' | 'podCidrs' | 'serviceCidrs' | 'env'>): ConfiguredPair {
  if (opts.cidrs) return opts.cidrs;
  const { config, problems } = readCidrSettings({ pod: given(opts.podCidrs), service: given(opts.serviceCidrs) }, opts.env);
  if (problems.length) throw new Error(`config: ${problems.join('; ')}`);
  return config;
}

/**
 * The compact records of the --state objects, read file by file so that only one file's objects are
 * whole at a time, and the few whole objects the meshes' settings are read from (ConfigMaps, OSM
 * MeshConfigs).
 */
function compactState(
  dir: string | undefined,
  log: Log,
): { readonly records: readonly StateRecord[]; readonly meshObjects: readonly KubeObject[] } {
  const records: StateRecord[] = [];
  const meshObjects: KubeObject[] = [];
  if (!dir) return { records, meshObjects };
  const state = visitStateDir(dir, (o) => {
    const c = compact(o);
    if (c) records.push({ key: objectKey(o), compact: c });
    else if (MESH_CONFIG_KINDS.has(objectGroupKind(o))) meshObjects.push(o);
  });
  if (state.errors.length) throw new Error(`state: ${state.errors.join('; ')}`);
  log.info({ dir, files: state.files, objects: state.objects }, 'loaded cluster objects from the state folder');
  return { records, meshObjects };
}

/** A view over configured/default CIDRs and the --state objects: ready at once, never changes. */
export function staticClusterView(
  opts: Pick<ViewOptions, 'cidrs' | 'podCidrs' | 'serviceCidrs' | 'env' | 'stateDir' | 'log' | 'meshLocations'>,
  reason = NO_CLUSTER_REASON,
): ClusterView {
  const detection = detectCidrs(configuredCidrs(opts));
  const state = compactState(opts.stateDir, opts.log);
  const t0 = performance.now();
  const mesh = opts.stateDir ? meshConfigFrom(state.meshObjects, opts.meshLocations ?? meshLocations(opts.env)) : NO_MESH_CONFIG;
  const snapshot = {
    ...snapshotFromCompact(
      state.records.map((r) => r.compact),
      detection.cidrs,
    ),
    mesh,
  };
  const buildMs = performance.now() - t0;
  const builtAt = new Date().toISOString();
  const rows = rangeRows(detection);
  opts.log.warn(
    {
      podCidrs: rows.filter((r) => r.kind === 'pod').map((r) => `${r.cidr} (${r.origin})`),
      serviceCidrs: rows.filter((r) => r.kind === 'service').map((r) => `${r.cidr} (${r.origin})`),
    },
    reason,
  );
  const status: ViewStatus = {
    ready: true,
    reason,
    cluster: null,
    informers: [],
    absent: [],
    staleSeconds: 0,
    cidrs: cidrStatus(detection, true, [], null),
    snapshot: { generation: 1, builtAt, buildMs },
  };
  return { current: () => snapshot, ready: () => true, status: () => status, untilReady: async () => true, stop: async () => {} };
}

/**
 * Starts the view: the no-cluster variant when no cluster is selected, otherwise informers on the
 * selected cluster. Returns at once; ready() turns true when everything has synced.
 */
export async function startClusterView(opts: ViewOptions): Promise<ClusterView> {
  const config = configuredCidrs(opts);
  let api = opts.api;
  if (!api && !opts.noCluster) {
    const { connectCluster } = await import('./kube.ts');
    const found = connectCluster({ kubeconfig: opts.kubeconfig, env: opts.env, namespace: opts.namespace });
    if ('api' in found) api = found.api;
    else opts.log.info({ why: found.none }, 'no cluster selected');
  }
  if (!api) return staticClusterView(opts);
  if (opts.informerFactory) api = { ...api, informer: opts.informerFactory };
  return liveView(
    api,
    config,
    // with a cluster the meshes' settings come from it, not from --state
    compactState(opts.stateDir, opts.log).records,
    opts.log,
    { ...DEFAULT_TIMING, ...opts.timing },
    opts.meshLocations ?? meshLocations(opts.env),
    opts.observer,
  );
}

function liveView(
  api: ClusterApi,
  config: ConfiguredPair,
  stateRecords: readonly StateRecord[],
  log: Log,
  timing: Timing,
  loc: MeshLocations,
  observer?: ViewObserver,
): ClusterView {
  const life = lifetime();
  // The parts reach each other only through these closures, and none is called before start below,
  // so a part may name one set up after it.
  const informers = superviseInformers({
    api,
    timing,
    log,
    life,
    delivered: observer?.delivered,
    replaced: observer?.replaced,
    changed: (watched) => {
      if (watched.role === 'index') published.mark(watched.kind as Compact['kind']);
      else cidrs.changed();
      published.schedule();
    },
  });
  const cidrs = cidrSources({
    api,
    config,
    timing,
    log,
    life,
    informers,
    serviceIps: () => serviceIps(published.itemsOf('Service')),
    publish: () => published.schedule(),
  });
  // The meshes' settings never hold readiness back: a mesh that is not installed is the common case.
  const mesh = meshSource({ api, loc, timing, log, life, changed: () => published.schedule() });
  const published = publisher({
    timing,
    life,
    informers,
    cidrs,
    stateRecords,
    mesh: mesh.current,
    immediate: () => !ready.announced() && ready.waitingFor() === undefined,
    built: () => {
      observer?.published();
      ready.settle();
    },
  });
  const discovery = discoveryLoop(api, timing, log, life, {
    found: (d) => {
      informers.follow(d);
      cidrs.discovered();
      published.schedule();
    },
    failed: () => ready.settle(),
  });
  const ready = readiness({ server: api.server, log, life, discovery, informers, cidrs, publisher: published });

  log.info({ server: api.server }, 'watching the cluster');
  informers.start();
  discovery.start();
  mesh.start();

  return {
    current: published.current,
    ready: ready.ready,
    status: ready.status,
    untilReady: ready.untilReady,
    ...(api.readNamespace ? { readNamespace: api.readNamespace } : {}),
    stored: informers.stored,
    stop: async () => {
      if (life.ended()) return;
      life.end();
      ready.stop();
      mesh.stop();
      await informers.stop();
    },
  };
}
