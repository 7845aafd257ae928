/** What `explain` answers: a verdict, the steps that led to it, and the smallest change that would allow it. */
import type { KubeObject } from '../admission/types.ts';

/** bypassed: the sidecar never sees the traffic, so no mesh policy applies to it. */
export type Verdict = 'allowed' | 'blocked' | 'bypassed';

export type StepKind = 'sidecar' | 'capture' | 'mesh' | 'match' | 'route' | 'conflict' | 'note';

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
  readonly mesh: 'istio' | 'osm' | null;
  readonly reasons: readonly Reason[];
  /** objects that would make it work, ready for `kubectl apply -f -`; empty when nothing is needed or nothing applied would help */
  readonly fix: readonly KubeObject[];
};

/** The pod asked about: a real one, or one that does not exist yet (namespace and ServiceAccount only). */
export type Source = {
  readonly pod: KubeObject;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly exists: boolean;
};

export type MeshAnswer = { readonly verdict: Verdict; readonly reasons: readonly Reason[]; readonly fix: readonly KubeObject[] };
