/**
 * What a rule is: a pure function from an object and what the cluster holds to findings. Rules
 * never decide the answer; the review layer applies the namespace's mode to what they report.
 */
import type { KubeObject, Operation } from '../admission/types.ts';
import type { Result } from '../catalogue/result.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';

export type RuleContext = {
  readonly snapshot: ClusterSnapshot;
  readonly namespace: string;
  readonly operation: Operation;
  /** the stored version on UPDATE, as the API server sent it (fresher than the snapshot) */
  readonly oldObject?: KubeObject;
};

export type Rule = (obj: KubeObject, ctx: RuleContext) => Result;
