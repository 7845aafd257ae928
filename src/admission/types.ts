/**
 * The subset of admission.k8s.io/v1 (and v1beta1, which has the same shape) this webhook reads and
 * writes. Hand-written so the request path carries no generated client types.
 */
import { groupKind, type Operation } from '../catalogue/kinds.ts';

export { groupKind, type Operation };

export type GroupVersionKind = { readonly group: string; readonly version: string; readonly kind: string };

export type ObjectMeta = {
  readonly name?: string;
  readonly generateName?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly [key: string]: unknown;
};

/** Any Kubernetes object as it arrives in a review: only the envelope is typed. */
export type KubeObject = {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
  readonly spec?: unknown;
  readonly [key: string]: unknown;
};

export type AdmissionRequest = {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly resource?: { readonly group: string; readonly version: string; readonly resource: string };
  readonly subResource?: string;
  readonly requestKind?: GroupVersionKind;
  readonly name?: string;
  readonly namespace?: string;
  readonly operation: Operation;
  readonly userInfo?: { readonly username?: string; readonly groups?: readonly string[] };
  readonly object?: KubeObject | null;
  readonly oldObject?: KubeObject | null;
  readonly dryRun?: boolean;
  readonly options?: unknown;
};

export type AdmissionResponse = {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly status: 'Failure'; readonly code: number; readonly reason: string; readonly message: string };
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
  readonly patchType?: 'JSONPatch';
  readonly patch?: string;
};

export type AdmissionReview = {
  readonly apiVersion: string;
  readonly kind: 'AdmissionReview';
  readonly request?: AdmissionRequest;
  readonly response?: AdmissionResponse;
};

/** Group, version and kind of an object from its own apiVersion/kind (objects read from files or informers). */
export function objectGvk(obj: KubeObject): GroupVersionKind {
  const api = obj.apiVersion ?? '';
  const slash = api.indexOf('/');
  return { group: slash < 0 ? '' : api.slice(0, slash), version: api.slice(slash + 1), kind: obj.kind ?? '' };
}

/** "group/Kind" of an object from its own apiVersion/kind. */
export const objectGroupKind = (obj: KubeObject): string => groupKind(objectGvk(obj));

/** `namespace/name`: how objects are keyed and named everywhere ("/name" for a cluster-scoped one). */
export const namespacedName = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The `namespace/name` key of an object as sent, missing fields counting as empty. */
export const objectKey = (o: KubeObject): string => namespacedName(o.metadata?.namespace ?? '', o.metadata?.name ?? '');
