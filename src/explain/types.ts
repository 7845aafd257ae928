/** What `explain` answers: a verdict, the steps that led to it, and the smallest change that would allow it. */
import type { KubeObject } from '../admission/types.ts';
import type { Result } from '../catalogue/result.ts';
import type { MeshConfig } from '../cluster/mesh-config.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';

/** bypassed: the sidecar never sees the traffic, so no mesh policy applies to it. */
export type Verdict = 'allowed' | 'blocked' | 'bypassed';

export type StepKind = 'sidecar' | 'capture' | 'mesh' | 'match' | 'route' | 'conflict' | 'note' | 'fix';

export type Reason = {
  readonly step: StepKind;
  readonly says: string;
  /** "ServiceEntry default/httpbin", the objects the step is about */
  readonly objects?: readonly string[];
};

export type Explanation = {
  readonly verdict: Verdict;
  readonly from: { readonly namespace: string; readonly pod: string | null; readonly serviceAccount: string };
  readonly to: { readonly scheme: string; readonly host: string; readonly port: number; readonly address: string | null };
  readonly mesh: 'istio' | 'osm' | 'linkerd' | null;
  readonly reasons: readonly Reason[];
  /**
   * objects that would make it work, ready for `kubectl apply -f -`, that the webhook's rules admit
   * against the same state; empty when nothing is needed, nothing applied would help, or nothing
   * that would help is admitted (a `fix` reason then says why)
   */
  readonly fix: readonly KubeObject[];
};

/** The pod asked about: a real one, or one that does not exist yet (namespace and ServiceAccount only). */
export type Source = {
  readonly pod: KubeObject;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly exists: boolean;
};

/** One way to make the traffic work: objects applied together. */
export type FixOption = {
  readonly objects: readonly KubeObject[];
  /** "an http Egress for admin.example.com on port 3306", completing "… would be denied" */
  readonly what: string;
  /** what the user should know when this option is the one offered (what it gives up) */
  readonly note?: string;
  /** the mesh settings once the option's own MeshConfig change is read, which the webhook watches */
  readonly mesh?: MeshConfig;
};

/**
 * A mesh's answer. `fix` lists the options best first; `explain` offers the first one the webhook's
 * rules admit.
 */
export type MeshAnswer = { readonly verdict: Verdict; readonly reasons: readonly Reason[]; readonly fix: readonly FixOption[] };

/**
 * The webhook's verdict on one object created against a snapshot: its findings, errors deny. The
 * command layer passes the engine in (review/ sits on the same floor as explain/).
 */
export type Admission = (obj: KubeObject, snapshot: ClusterSnapshot) => Result;
