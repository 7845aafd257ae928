/**
 * The parts of an object the validating rules read: its apiVersion and kind, its name, namespace,
 * labels, annotations and deletionTimestamp, and its spec. The rules judge this copy and nothing
 * else, on every path (serve, check, audit, explain), so two reviews whose copies are equal get the
 * same findings against the same cluster, whatever else differs between them: the request uid, the
 * user, resourceVersion, generation, managedFields. That is what lets the serving path remember a
 * decision (remembered-reviews.ts).
 */
import type { KubeObject } from '../admission/types.ts';
import { isObj } from '../json.ts';

export function judgeInputs(obj: KubeObject): KubeObject {
  const metadata = isObj(obj.metadata) ? obj.metadata : undefined;
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: metadata && {
      name: metadata.name,
      namespace: metadata.namespace,
      labels: metadata.labels,
      annotations: metadata.annotations,
      deletionTimestamp: (metadata as { readonly deletionTimestamp?: unknown }).deletionTimestamp,
    },
    spec: (obj as { readonly spec?: unknown }).spec,
  } as KubeObject;
}
