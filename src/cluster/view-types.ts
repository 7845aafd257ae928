/** What the parts of the cluster view share and what it shows: its log, its timings, its status. */
import type { KubeObject } from '../admission/types.ts';
import type { RangeRow } from './detect.ts';
import type { ClusterSnapshot } from './snapshot.ts';

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
  /** restart back-off after an informer error: doubling from min up to max, each wait jittered (backoff.ts) */
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
  /**
   * how long a synced informer that lost the API server keeps the view ready, answering from its
   * last synced objects, before readiness fails (docs/reliability.md, "API server outages")
   */
  readonly staleMs: number;
  /** while an informer waits out its back-off, how often the API server is asked whether it is back */
  readonly probeMs: number;
};

export const DEFAULT_TIMING: Timing = {
  coalesceMs: 150,
  maxCoalesceMs: 1_000,
  restartMinMs: 1_000,
  restartMaxMs: 30_000,
  silenceMs: 5 * 60_000,
  rediscoverMs: 60_000,
  regatherMs: 10 * 60_000,
  reverifyMs: 10 * 60_000,
  staleMs: 5 * 60_000,
  probeMs: 2_000,
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
  /** pods behind Services, with the IPs their EndpointSlices list (the server reads no pods) */
  readonly checkedPods: number;
  readonly checkedServices: number;
  readonly podsOutside: number;
  readonly servicesOutside: number;
  /** the first addresses outside the ranges, "namespace/name ip" */
  readonly examples: readonly string[];
  /** what there was nothing of to check ("no pod IPs from EndpointSlices to check"): those ranges stay unverified */
  readonly unchecked: readonly string[];
  readonly at: string;
};

export type CidrStatus = {
  readonly known: boolean;
  readonly ranges: readonly RangeRow[];
  readonly defaulted: boolean;
  readonly notes: readonly string[];
  readonly verification: VerificationStatus | null;
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
  readonly cidrs: CidrStatus;
  readonly snapshot: { readonly generation: number; readonly builtAt: string | null; readonly buildMs: number };
  /** seconds since the first informer whose objects are in the snapshot lost the API server; 0 while all are healthy */
  readonly staleSeconds: number;
};

export type ClusterView = {
  /** the current snapshot; never blocks, never calls the API server */
  readonly current: () => ClusterSnapshot;
  readonly ready: () => boolean;
  readonly status: () => ViewStatus;
  /** resolves true once ready, false when the time runs out or the view stops */
  readonly untilReady: (timeoutMs: number) => Promise<boolean>;
  readonly stop: () => Promise<void>;
  /** a Namespace as the API server holds it now (read-through); absent without a cluster */
  readonly readNamespace?: (name: string) => Promise<KubeObject | undefined>;
  /** of an audited kind, what the rules read of each stored object, "namespace/name" → object; absent without a cluster */
  readonly stored?: (kind: string) => ReadonlyMap<string, KubeObject> | undefined;
};

export const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
