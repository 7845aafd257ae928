/** Pods, namespaces and reviews for the mutation tests, derived from the real fixtures. */
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { fixture } from '../support.ts';

type Review = { review: { request: AdmissionRequest } };

/** The request of a real review fixture (reviews/<name>). */
export const reviewFixture = (name: string): AdmissionRequest => fixture<Review>(`reviews/${name}`).review.request;

/** Namespace "shop" as the API server sent it in review 011 (istio-injection=enabled, a bypass range). */
export const shopNamespace = (): KubeObject => reviewFixture('011-validate-update-namespace.review-v1.json').object!;

/** A Namespace with exactly these labels and annotations. */
export const namespace = (name: string, labels: Record<string, string>, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels }, annotations },
});

export const ISTIO_NS = { 'istio-injection': 'enabled' };
export const OSM_NS = { 'openservicemesh.io/monitored-by': 'osm' };
/** The annotation `osm namespace add` sets next to the label: without it (or the pod asking), OSM injects nothing. */
export const OSM_INJECT = { 'openservicemesh.io/sidecar-injection': 'enabled' };

/** A CREATE review for a pod, in `ns` unless the pod says otherwise. */
export function podReview(
  pod: KubeObject,
  ns = pod.metadata?.namespace ?? 'shop',
  extra: Partial<AdmissionRequest> = {},
): AdmissionRequest {
  return {
    uid: '00000000-0000-4000-8000-000000000000',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: ns,
    operation: 'CREATE',
    object: pod,
    oldObject: null,
    dryRun: false,
    ...extra,
  };
}

/** The Deployment-made pod of review 013 (generateName only) with exactly these annotations. */
export function plainPod(annotations?: Record<string, string>): KubeObject {
  const pod = fixture('objects/pod-deployment.json') as { metadata: Record<string, unknown> };
  if (annotations) pod.metadata.annotations = annotations;
  else delete pod.metadata.annotations;
  return pod as KubeObject;
}

/** A copy of `pod` with annotations added (or replaced, key by key). */
export const annotate = (pod: KubeObject, annotations: Record<string, string>): KubeObject => ({
  ...pod,
  metadata: { ...pod.metadata, annotations: { ...pod.metadata?.annotations, ...annotations } },
});

/** A copy of `pod` with labels added. */
export const label = (pod: KubeObject, labels: Record<string, string>): KubeObject => ({
  ...pod,
  metadata: { ...pod.metadata, labels: { ...pod.metadata?.labels, ...labels } },
});

/** A copy of `pod` with spec fields replaced. */
export const withSpec = (pod: KubeObject, spec: Record<string, unknown>): KubeObject => ({
  ...pod,
  spec: { ...(pod.spec as Record<string, unknown>), ...spec },
});

export const initArgs = (pod: KubeObject, index = 0): string[] =>
  (pod.spec as { initContainers: { args: string[] }[] }).initContainers[index]!.args;
