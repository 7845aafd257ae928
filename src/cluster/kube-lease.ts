/**
 * LeaseApi (lease.ts) on @kubernetes/client-node's CoordinationV1Api.
 *
 * The client writes a MicroTime only when given a V1MicroTime: a plain Date goes out with
 * milliseconds, which the API server refuses for a MicroTime field. It reads one back as the string
 * the server sent, since it has no deserializer for the type, so both forms are read.
 */
import * as k8s from '@kubernetes/client-node';
import { toApiError } from './kube.ts';
import { microTime, type LeaseApi, type LeaseRecord } from './lease.ts';

const fromMicroTime = (t: unknown): string | undefined =>
  t instanceof Date ? (Number.isFinite(t.getTime()) ? microTime(t.getTime()) : undefined) : typeof t === 'string' && t ? t : undefined;

const toMicroTime = (s: string | undefined): k8s.V1MicroTime | undefined => {
  const ms = s ? Date.parse(s) : Number.NaN;
  return Number.isFinite(ms) ? new k8s.V1MicroTime(ms) : undefined;
};

const toRecord = (lease: k8s.V1Lease): LeaseRecord => ({
  holderIdentity: lease.spec?.holderIdentity ?? '',
  leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
  acquireTime: fromMicroTime(lease.spec?.acquireTime),
  renewTime: fromMicroTime(lease.spec?.renewTime),
  leaseTransitions: lease.spec?.leaseTransitions ?? 0,
  resourceVersion: lease.metadata?.resourceVersion,
});

const toSpec = (record: LeaseRecord): k8s.V1LeaseSpec => ({
  holderIdentity: record.holderIdentity,
  leaseDurationSeconds: record.leaseDurationSeconds,
  acquireTime: toMicroTime(record.acquireTime),
  renewTime: toMicroTime(record.renewTime),
  leaseTransitions: record.leaseTransitions,
});

export function kubeLeaseApi(kc: k8s.KubeConfig): LeaseApi {
  const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  // A replace sends the whole object: without the labels and annotations last read, it would drop them.
  const kept = new Map<string, { readonly resourceVersion?: string; readonly meta: k8s.V1ObjectMeta }>();
  const keep = (namespace: string, name: string, lease: k8s.V1Lease): LeaseRecord => {
    const { labels, annotations, ownerReferences } = lease.metadata ?? {};
    kept.set(`${namespace}/${name}`, { resourceVersion: lease.metadata?.resourceVersion, meta: { labels, annotations, ownerReferences } });
    return toRecord(lease);
  };

  return {
    get: async (namespace, name) => {
      try {
        return keep(namespace, name, await coordination.readNamespacedLease({ name, namespace }));
      } catch (e) {
        const err = toApiError(e);
        if (err.status === 404) return undefined;
        throw err;
      }
    },
    create: async (namespace, name, record) => {
      try {
        const body: k8s.V1Lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: toSpec(record),
        };
        return keep(namespace, name, await coordination.createNamespacedLease({ namespace, body }));
      } catch (e) {
        throw toApiError(e);
      }
    },
    update: async (namespace, name, record) => {
      const last = kept.get(`${namespace}/${name}`);
      const meta = last && last.resourceVersion === record.resourceVersion ? last.meta : {};
      try {
        const body: k8s.V1Lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { ...meta, name, namespace, resourceVersion: record.resourceVersion },
          spec: toSpec(record),
        };
        return keep(namespace, name, await coordination.replaceNamespacedLease({ name, namespace, body }));
      } catch (e) {
        throw toApiError(e);
      }
    },
  };
}
