/**
 * The parts of a pod the capture plan reads: its labels and annotations, spec.hostNetwork, the names
 * of its containers and the args of its init containers. The webhook plans from this copy and
 * nothing else, so two pods with equal copies (the replicas of one ReplicaSet, which reach the
 * mutating webhook before the API server names them) get the same plan in the same namespace and
 * cluster, and the copy's JSON can name that plan.
 */
import type { KubeObject } from '../admission/types.ts';
import { isObj } from '../json.ts';

// Array positions are kept, items that are not objects too: patches address init containers by index.
const named = (list: unknown, withArgs: boolean): unknown =>
  Array.isArray(list) ? list.map((c) => (isObj(c) ? (withArgs ? { name: c.name, args: c.args } : { name: c.name }) : c)) : list;

export function captureInputs(pod: KubeObject): KubeObject {
  const metadata = isObj(pod.metadata) ? pod.metadata : undefined;
  const spec = isObj(pod.spec) ? pod.spec : undefined;
  return {
    metadata: { labels: metadata?.labels, annotations: metadata?.annotations },
    spec: spec && {
      hostNetwork: spec.hostNetwork,
      initContainers: named(spec.initContainers, true),
      containers: named(spec.containers, false),
    },
  } as KubeObject;
}
