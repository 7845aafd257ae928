/**
 * The cluster view: supervised informers feed per-object compact records; a coalesced publisher
 * turns them into an immutable ClusterSnapshot that the request path reads and never waits for.
 * Without a cluster, the same interface serves a static snapshot from configuration and --state.
 */
import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../admission/types.ts';
import { apiMessage, type ClusterApi, type Discovery, type Informer, type InformerFactory, type InformerHandlers } from './api.ts';
import { readCidrSettings, type ConfiguredPair } from './cidr-settings.ts';
import {
  detectCidrs, podAddresses, rangeRows, sameCidrs, usesDefaults, verifyCidrs,
  type Addressed, type CidrDetection, type CidrInputs, type RangeRow, type Verification,
} from './detect.ts';
import { gatherStatic, type StaticInputs } from './gather.ts';
import { compact, rebuildSnapshot, snapshotFromObjects, type Compact } from './indexes.ts';
import { PODS, WATCHED, chooseVersion, resourceName, type Target, type Watched } from './resources.ts';
import type { ClusterSnapshot } from './snapshot.ts';
import { compactOf } from './slim.ts';
import { loadStateDir } from './state-dir.ts';

/** pino-compatible */
export type Log = {
  readonly info: (obj: object, msg: string) => void;
  readonly warn: (obj: object, msg: string) => void;
  readonly error: (obj: object, msg: string) => void;
};

export type Env = Readonly<Record<string, string | undefined>>;

export type Timing = {
  /** quiet time before a burst of events is published; stretched to the last build time, so rebuilds take at most half the CPU */
  readonly coalesceMs: number;
  readonly maxCoalesceMs: number;
  /** restart backoff after an informer error, doubling up to the max */
  readonly restartMinMs: number;
  readonly restartMaxMs: number;
  /** an informer with neither events nor reconnects for this long is listed again from scratch */
  readonly silenceMs: number;
  /** how often discovery looks for CRDs that appeared or went away */
  readonly rediscoverMs: number;
  /** how often the ConfigMaps and the dry-run are read again */
  readonly regatherMs: number;
  /** how often pod and Service addresses are checked against the detected ranges */
  readonly reverifyMs: number;
};

export const DEFAULT_TIMING: Timing = {
  coalesceMs: 150, maxCoalesceMs: 1_000, restartMinMs: 1_000, restartMaxMs: 60_000,
  silenceMs: 5 * 60_000, rediscoverMs: 60_000, regatherMs: 10 * 60_000, reverifyMs: 10 * 60_000,
};

export type InformerStatus = {
  /** "serviceentries.networking.istio.io" */
  readonly name: string;
  readonly version: string;
  readonly synced: boolean;
  readonly healthy: boolean;
  readonly restarts: number;
  /** full re-lists after a silent period or a served-version change */
  readonly relists: number;
  /** ISO time of the last add/update/delete, null before the first */
  readonly lastEvent: string | null;
  readonly objects: number;
  readonly error?: string;
};

export type VerificationStatus = {
  readonly checkedPods: number;
  readonly checkedServices: number;
  readonly podsOutside: number;
  readonly servicesOutside: number;
  /** the first addresses outside the ranges, "namespace/name ip" */
  readonly examples: readonly string[];
  /** what there was nothing of to check ("no pods with IPs to check"): those ranges stay unverified */
  readonly unchecked: readonly string[];
  readonly at: string;
};

export type ViewStatus = {
  readonly ready: boolean;
  /** "ready", or the first thing readiness waits for */
  readonly reason: string;
  /** API server URL, null without a cluster */
  readonly cluster: string | null;
  readonly informers: readonly InformerStatus[];
  /** optional resources the cluster does not serve */
  readonly absent: readonly string[];
  readonly cidrs: {
    readonly known: boolean;
    readonly ranges: readonly RangeRow[];
    readonly defaulted: boolean;
    readonly notes: readonly string[];
    readonly verification: VerificationStatus | null;
  };
  readonly snapshot: { readonly generation: number; readonly builtAt: string | null; readonly buildMs: number };
};

export type ClusterView = {
  /** the current snapshot; never blocks, never calls the API server */
  readonly current: () => ClusterSnapshot;
  readonly ready: () => boolean;
  readonly status: () => ViewStatus;
  /** resolves true once ready, false when the time runs out or the view stops */
  readonly untilReady: (timeoutMs: number) => Promise<boolean>;
  readonly stop: () => Promise<void>;
};

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

function loadState(dir: string | undefined, log: Log): readonly KubeObject[] {
  if (!dir) return [];
  const state = loadStateDir(dir);
  if (state.errors.length) throw new Error(`state: ${state.errors.join('; ')}`);
  log.info({ dir, files: state.files, objects: state.objects.length }, 'loaded cluster objects from the state folder');
  return state.objects;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

const cidrsStatus = (d: CidrDetection, known: boolean, notes: readonly string[], verification: VerificationStatus | null): ViewStatus['cidrs'] =>
  ({ known, ranges: rangeRows(d), defaulted: usesDefaults(d), notes: [...d.notes, ...notes], verification });

/** A view over configured/default CIDRs and the --state objects: ready at once, never changes. */
export function staticClusterView(opts: Pick<ViewOptions, 'cidrs' | 'podCidrs' | 'serviceCidrs' | 'env' | 'stateDir' | 'log'>, reason = NO_CLUSTER_REASON): ClusterView {
  const detection = detectCidrs(configuredCidrs(opts));
  const objects = loadState(opts.stateDir, opts.log);
  const t0 = performance.now();
  const snapshot = snapshotFromObjects(objects, detection.cidrs);
  const buildMs = performance.now() - t0;
  const builtAt = new Date().toISOString();
  const rows = rangeRows(detection);
  opts.log.warn({ podCidrs: rows.filter((r) => r.kind === 'pod').map((r) => `${r.cidr} (${r.origin})`),
    serviceCidrs: rows.filter((r) => r.kind === 'service').map((r) => `${r.cidr} (${r.origin})`) }, reason);
  const status: ViewStatus = {
    ready: true, reason, cluster: null, informers: [], absent: [],
    cidrs: cidrsStatus(detection, true, [], null),
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
  return liveView(api, config, loadState(opts.stateDir, opts.log), opts.log, { ...DEFAULT_TIMING, ...opts.timing });
}

type Run = {
  readonly informer: Informer;
  /** "namespace/name" → Compact (index role) or the slim object (cidr role) */
  readonly items: Map<string, unknown>;
  errors: number;
  synced: boolean;
  /** stopped on purpose: client-node reports the aborted watch as an error, which is not one */
  stopped: boolean;
};

type Slot = {
  readonly watched: Watched;
  readonly target: Target & { readonly watched: Watched };
  readonly name: string;
  run: Run;
  /** the run whose items are in the snapshot: the last one that synced */
  published: Run | undefined;
  healthy: boolean;
  restarts: number;
  relists: number;
  lastEvent: number | undefined;
  lastSeen: number;
  error: string | undefined;
  backoff: number;
  lastErrorAt: number;
  timer: NodeJS.Timeout | undefined;
};

const keyOf = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

function liveView(api: ClusterApi, config: Pick<CidrInputs, 'podConfig' | 'serviceConfig'>, stateObjects: readonly KubeObject[], log: Log, timing: Timing): ClusterView {
  const slots = new Map<string, Slot>();
  const timers = new Set<NodeJS.Timeout>();
  const dirty = new Set<Compact['kind']>();
  const stateByKind = new Map<Compact['kind'], Map<string, Compact>>();
  for (const o of stateObjects) {
    const c = compact(o);
    if (!c) continue;
    const m = stateByKind.get(c.kind) ?? new Map<string, Compact>();
    m.set(keyOf(o), c);
    stateByKind.set(c.kind, m);
    dirty.add(c.kind);
  }
  let stopped = false;
  let discovery: Discovery | undefined;
  let discoveryError: string | undefined;
  let statics: StaticInputs | undefined;
  let gathering = false;
  let detection: CidrDetection | undefined;
  let cidrDirty = true;
  const preliminary = detectCidrs(config);
  let snapshot = snapshotFromObjects([], preliminary.cidrs);
  let generation = 0;
  let builtAt: number | undefined;
  let buildMs = 0;
  let publishTimer: NodeJS.Timeout | undefined;
  let announced = false;
  let verification: VerificationStatus | null = null;
  let verifyNote: string | undefined;
  let verifying = false;
  const waiters = new Set<(ok: boolean) => void>();

  /** Runs fn after ms; nothing is scheduled once stopped, so stop() is final whatever is still in flight. */
  const later = (fn: () => void, ms: number): NodeJS.Timeout | undefined => {
    if (stopped) return undefined;
    const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
    t.unref();
    timers.add(t);
    return t;
  };
  const cancel = (t: NodeJS.Timeout | undefined) => {
    if (t) { clearTimeout(t); timers.delete(t); }
  };

  // --- informers -------------------------------------------------------------------------------

  const changed = (slot: Slot) => {
    if (slot.watched.role === 'index') dirty.add(slot.watched.kind as Compact['kind']);
    else cidrDirty = true;
    schedulePublish();
  };

  const live = (slot: Slot, run: Run) => !stopped && !run.stopped && slot.run === run;

  const put = (slot: Slot, run: Run, o: KubeObject) => {
    if (!live(slot, run)) return;
    slot.lastEvent = slot.lastSeen = Date.now();
    const value = slot.watched.role === 'index' ? compactOf(o) : o;
    if (value === undefined) run.items.delete(keyOf(o));
    else run.items.set(keyOf(o), value);
    if (slot.published === run) changed(slot);
  };

  const remove = (slot: Slot, run: Run, o: KubeObject) => {
    if (!live(slot, run)) return;
    slot.lastEvent = slot.lastSeen = Date.now();
    if (run.items.delete(keyOf(o)) && slot.published === run) changed(slot);
  };

  const failed = (slot: Slot, run: Run, e: unknown) => {
    if (!live(slot, run)) return;
    run.errors++;
    const now = Date.now();
    slot.healthy = false;
    slot.error = apiMessage(e).split('\n')[0];
    // a failure soon after the last one keeps doubling the wait; a long healthy spell resets it
    slot.backoff = now - slot.lastErrorAt > 2 * timing.restartMaxMs ? timing.restartMinMs : Math.min(slot.backoff * 2, timing.restartMaxMs);
    slot.lastErrorAt = now;
    log.warn({ informer: slot.name, version: slot.target.version, err: slot.error, restartInMs: slot.backoff }, 'informer stopped; restarting');
    cancel(slot.timer);
    slot.timer = later(() => {
      slot.restarts++;
      void startRun(slot, run);
    }, slot.backoff);
    settle();
  };

  const newRun = (slot: Slot): Run => {
    const run: Run = { informer: undefined as unknown as Informer, items: new Map(), errors: 0, synced: false, stopped: false };
    const on: InformerHandlers = {
      add: (o) => put(slot, run, o),
      update: (o) => put(slot, run, o),
      delete: (o) => remove(slot, run, o),
      error: (e) => failed(slot, run, e),
      connect: () => { if (live(slot, run)) slot.lastSeen = Date.now(); },
    };
    (run as { informer: Informer }).informer = api.informer(slot.target, on);
    return run;
  };

  const halt = (run: Run): Promise<void> => {
    run.stopped = true;
    return run.informer.stop().catch(() => {});
  };

  async function startRun(slot: Slot, run: Run): Promise<void> {
    if (!live(slot, run)) return;
    const before = run.errors;
    slot.lastSeen = Date.now();
    try {
      await run.informer.start();
    } catch (e) {
      failed(slot, run, e);
      return;
    }
    if (!live(slot, run) || run.errors !== before) return;
    run.synced = true;
    slot.healthy = true;
    slot.error = undefined;
    if (slot.published !== run) {
      slot.published = run;
      log.info({ informer: slot.name, version: slot.target.version, objects: run.items.size }, 'informer synced');
    }
    changed(slot);
  }

  const addSlot = (watched: Watched, version: string) => {
    const target = { group: watched.group, version, resource: watched.resource, kind: watched.kind, watched };
    const slot: Slot = {
      watched, target, name: resourceName(watched), run: undefined as unknown as Run, published: undefined,
      healthy: false, restarts: 0, relists: 0, lastEvent: undefined, lastSeen: Date.now(), error: undefined,
      backoff: timing.restartMinMs, lastErrorAt: 0, timer: undefined,
    };
    slot.run = newRun(slot);
    slots.set(slot.name, slot);
    void startRun(slot, slot.run);
  };

  const removeSlot = (slot: Slot, why: string) => {
    slots.delete(slot.name);
    cancel(slot.timer);
    void halt(slot.run);
    log.info({ informer: slot.name, version: slot.target.version }, why);
    changed(slot);
  };

  /** Lists again from scratch; the old items stay published until the new list has synced. */
  const relist = (slot: Slot, why: string) => {
    cancel(slot.timer);
    void halt(slot.run);
    slot.relists++;
    log.warn({ informer: slot.name, version: slot.target.version, silentMs: Date.now() - slot.lastSeen }, why);
    slot.run = newRun(slot);
    void startRun(slot, slot.run);
  };

  const watchdog = () => {
    const now = Date.now();
    for (const slot of slots.values()) {
      if (slot.healthy && now - slot.lastSeen > timing.silenceMs) relist(slot, 'informer silent too long; listing again');
    }
    later(watchdog, Math.max(1, Math.floor(timing.silenceMs / 4)));
  };

  // --- discovery, CIDR sources, verification ---------------------------------------------------

  async function rediscover(): Promise<void> {
    if (stopped) return;
    try {
      discovery = await api.discover();
      discoveryError = undefined;
    } catch (e) {
      if (stopped) return;
      discoveryError = apiMessage(e).split('\n')[0];
      log.warn({ err: discoveryError }, 'discovery failed; optional resources are looked up again later');
      later(() => void rediscover(), discovery ? timing.rediscoverMs : timing.restartMinMs);
      settle();
      return;
    }
    if (stopped) return;
    for (const w of WATCHED) {
      if (!w.optional) continue;
      const version = chooseVersion(w, discovery);
      const slot = slots.get(resourceName(w));
      if (slot && slot.target.version === version) continue;
      if (slot) removeSlot(slot, version ? `served version changed to ${version}; switching` : 'resource no longer served; dropping its objects');
      if (version) addSlot(w, version);
    }
    if (!statics && !gathering) void regather();
    cidrDirty = true;
    schedulePublish();
    later(() => void rediscover(), timing.rediscoverMs);
  }

  /** Reads the ConfigMaps (and probes with a dry-run where it can still name the range); runs after discovery. */
  async function regather(): Promise<void> {
    if (stopped) return;
    gathering = true;
    let s: StaticInputs;
    try {
      s = await gatherStatic(api, { dryRun: !slots.has('servicecidrs.networking.k8s.io') });
    } catch (e) {
      s = { dryRun: [], failed: [`CIDR sources: ${apiMessage(e)}`], notes: [], retry: true };
    } finally {
      gathering = false;
    }
    if (stopped) return;
    statics = s;
    cidrDirty = true;
    schedulePublish();
    later(() => void regather(), s.retry ? Math.max(timing.restartMinMs, Math.min(timing.regatherMs, 30_000)) : timing.regatherMs);
  }

  const cidrSlot = (kind: string) => [...slots.values()].find((s) => s.watched.kind === kind);

  const cidrInputs = (): CidrInputs | undefined => {
    const nodes = cidrSlot('Node');
    const serviceCidrs = cidrSlot('ServiceCIDR');
    if (!discovery || !statics || !nodes?.published || (serviceCidrs && !serviceCidrs.published)) return undefined;
    const { failed: _, notes: __, retry: ___, ...found } = statics;
    return {
      ...config, ...found,
      nodes: [...nodes.published.items.values()] as KubeObject[],
      ...(serviceCidrs?.published ? { serviceCidrs: [...serviceCidrs.published.items.values()] as KubeObject[] } : {}),
    };
  };

  const serviceIps = (): Addressed[] => {
    const out: Addressed[] = [];
    for (const c of itemsOf('Service')) {
      if (c.kind !== 'Service') continue;
      const s = c.ports[0]?.service;
      if (s?.clusterIPs.length) out.push({ name: `${s.namespace}/${s.name}`, ips: s.clusterIPs });
    }
    return out;
  };

  async function verify(): Promise<void> {
    if (stopped || verifying || !detection) return;
    verifying = true;
    try {
      const pods = podAddresses(await api.list(PODS));
      if (stopped) return;
      const v: Verification = verifyCidrs(detection.cidrs, pods, serviceIps());
      const examples = [...v.pods.outside, ...v.services.outside].slice(0, 10).map((o) => `${o.name} ${o.ip}`);
      verification = {
        checkedPods: v.pods.checked, checkedServices: v.services.checked,
        podsOutside: v.pods.outside.length, servicesOutside: v.services.outside.length, examples, unchecked: v.unchecked,
        at: new Date().toISOString(),
      };
      verifyNote = undefined;
      if (examples.length) {
        log.warn({ podsOutside: verification.podsOutside, servicesOutside: verification.servicesOutside, examples },
          'addresses outside the detected cluster CIDRs; set --pod-cidrs / --service-cidrs');
      }
    } catch (e) {
      if (stopped) return;
      verifyNote = `verification: ${apiMessage(e).split('\n')[0]}`;
      log.warn({ err: verifyNote }, 'could not list pods to verify the detected CIDRs');
    } finally {
      verifying = false;
    }
  }

  const verifyLoop = () => {
    void verify();
    later(verifyLoop, timing.reverifyMs);
  };

  // --- publishing ------------------------------------------------------------------------------

  function* itemsOf(kind: Compact['kind']): Iterable<Compact> {
    const state = stateByKind.get(kind);
    const live = [...slots.values()].find((s) => s.watched.kind === kind)?.published?.items as Map<string, Compact> | undefined;
    if (live) yield* live.values();
    if (state) for (const [key, c] of state) if (!live?.has(key)) yield c;
  }

  function publish(): void {
    cancel(publishTimer);
    publishTimer = undefined;
    if (stopped) return;
    const t0 = performance.now();
    if (cidrDirty) {
      const inputs = cidrInputs();
      if (inputs) {
        const next = detectCidrs(inputs);
        const first = !detection;
        const moved = first || !sameCidrs(detection!.cidrs, next.cidrs);
        detection = next;
        cidrDirty = false;
        if (moved) {
          log.info({ ranges: rangeRows(next).map((r) => `${r.kind} ${r.cidr} (${r.origin})`), notes: next.notes },
            first ? 'cluster CIDRs detected' : 'cluster CIDRs changed');
          if (usesDefaults(next)) log.warn({ notes: next.notes }, 'no cluster source named some CIDRs; using defaults');
          queueMicrotask(first ? verifyLoop : () => void verify());
        }
      }
    }
    snapshot = rebuildSnapshot(snapshot, dirty, itemsOf, (detection ?? preliminary).cidrs);
    dirty.clear();
    buildMs = performance.now() - t0;
    builtAt = Date.now();
    generation++;
    settle();
  }

  function schedulePublish(): void {
    if (stopped || publishTimer) return;
    if (!announced && waitingFor() === undefined) {
      publish();
      return;
    }
    const delay = Math.min(timing.maxCoalesceMs, Math.max(timing.coalesceMs, buildMs));
    publishTimer = later(publish, delay);
  }

  // --- readiness -------------------------------------------------------------------------------

  /** The first input readiness waits for, or undefined when all are in. */
  function waitingFor(): string | undefined {
    if (stopped) return 'stopped';
    if (!discovery) return `discovery has not succeeded${discoveryError ? `: ${discoveryError}` : ' yet'}`;
    for (const s of slots.values()) {
      if (!s.published) return `informer ${s.name} (${s.target.version}) has not synced${s.error ? `: ${s.error}` : ''}`;
      if (!s.healthy) return `informer ${s.name} (${s.target.version}) failed: ${s.error ?? 'unknown error'}; restarting`;
    }
    if (!statics) return 'CIDR sources not read yet';
    return undefined;
  }

  /** The first thing readiness waits for, or undefined when ready. */
  const reason = (): string | undefined => waitingFor() ?? (detection ? undefined : 'CIDR detection pending');

  const ready = () => reason() === undefined && detection !== undefined && generation > 0;

  function settle(): void {
    if (!ready()) return;
    if (!announced) {
      announced = true;
      log.info({ informers: [...slots.values()].map((s) => `${s.name}=${s.published?.items.size ?? 0}`), buildMs: Math.round(buildMs) },
        'cluster state synced; ready');
    }
    for (const w of waiters) w(true);
    waiters.clear();
  }

  const status = (): ViewStatus => {
    const why = reason();
    const d = detection ?? preliminary;
    return {
      ready: ready(),
      reason: why ?? (ready() ? 'ready' : 'publishing the first snapshot'),
      cluster: api.server,
      informers: [...slots.values()].map((s) => ({
        name: s.name, version: s.target.version, synced: s.published !== undefined, healthy: s.healthy,
        restarts: s.restarts, relists: s.relists, lastEvent: iso(s.lastEvent),
        objects: (s.published ?? s.run).items.size, ...(s.error ? { error: s.error } : {}),
      })),
      absent: discovery ? WATCHED.filter((w) => w.optional && !slots.has(resourceName(w))).map(resourceName) : [],
      cidrs: cidrsStatus(d, detection !== undefined, [...(statics?.failed ?? []), ...(statics?.notes ?? []), ...(verifyNote ? [verifyNote] : [])], verification),
      snapshot: { generation, builtAt: iso(builtAt), buildMs },
    };
  };

  // --- start -----------------------------------------------------------------------------------

  log.info({ server: api.server }, 'watching the cluster');
  for (const w of WATCHED) if (!w.optional) addSlot(w, w.versions?.[0] ?? 'v1');
  void rediscover();
  later(watchdog, Math.max(1, Math.floor(timing.silenceMs / 4)));

  return {
    current: () => snapshot,
    ready,
    status,
    untilReady: (timeoutMs) => new Promise<boolean>((resolve) => {
      if (ready()) return resolve(true);
      // a caller waiting on readiness keeps the process alive, unlike the view's own timers
      const t = setTimeout(() => { waiters.delete(done); resolve(false); }, timeoutMs);
      const done = (ok: boolean) => { clearTimeout(t); resolve(ok); };
      waiters.add(done);
    }),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const w of waiters) w(false);
      waiters.clear();
      await Promise.all([...slots.values()].map((s) => halt(s.run)));
    },
  };
}
