/**
 * The report writer's calls (audit/report-writer.ts) on @kubernetes/client-node: list, create,
 * replace and delete of the report kinds. The seam's type lives here, below the audit, so both the
 * writer and this implementation can name it.
 */
import { MANAGED_SELECTOR } from '../catalogue/keys.ts';
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../admission/types.ts';
import { toApiError } from './kube.ts';
import type { Target } from './resources.ts';

/** The reports this product writes, seen by the writer. Calls reject with an ApiError (its `.status` set for HTTP answers). */
export type ReportApi = {
  /** reports this product manages (label app.kubernetes.io/managed-by=egress-warden) of one target, across namespaces */
  readonly list: (target: Target) => Promise<KubeObject[]>;
  readonly create: (target: Target, obj: KubeObject) => Promise<KubeObject>;
  /** replace at obj.metadata.resourceVersion; 409 on conflict */
  readonly replace: (target: Target, obj: KubeObject) => Promise<KubeObject>;
  readonly remove: (target: Target, namespace: string, name: string) => Promise<void>;
};

const PAGE = 100;
/**
 * The label every report is written with (audit/reports.ts), spelled out again because the cluster
 * floor does not import the audit; a test holds the two equal.
 */

/** PolicyReport and Report are namespaced; ClusterPolicyReport and ClusterReport are not. */
export const clusterScoped = (t: Target): boolean => t.kind.startsWith('Cluster');

type Page = { readonly items?: readonly unknown[]; readonly metadata?: { readonly continue?: string; readonly _continue?: string } };

export function kubeReportApi(kc: k8s.KubeConfig): ReportApi {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);

  const call = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw toApiError(e);
    }
  };

  const list = (t: Target) =>
    call(async () => {
      const items: KubeObject[] = [];
      let next: string | undefined;
      do {
        const page = (await custom.listClusterCustomObject({
          group: t.group,
          version: t.version,
          plural: t.resource,
          labelSelector: MANAGED_SELECTOR,
          // reports run to a megabyte each: small pages keep one answer from holding hundreds of them
          limit: PAGE,
          ...(next ? { _continue: next } : {}),
        })) as Page;
        for (const item of page.items ?? []) items.push(item as KubeObject);
        next = page.metadata?.continue || page.metadata?._continue || undefined;
      } while (next);
      return items;
    });

  const of = (t: Target) => ({ group: t.group, version: t.version, plural: t.resource });

  const create = (t: Target, obj: KubeObject) =>
    call(
      async () =>
        (clusterScoped(t)
          ? await custom.createClusterCustomObject({ ...of(t), body: obj })
          : await custom.createNamespacedCustomObject({ ...of(t), namespace: obj.metadata?.namespace ?? '', body: obj })) as KubeObject,
    );

  const replace = (t: Target, obj: KubeObject) =>
    call(async () => {
      const name = obj.metadata?.name ?? '';
      return (
        clusterScoped(t)
          ? await custom.replaceClusterCustomObject({ ...of(t), name, body: obj })
          : await custom.replaceNamespacedCustomObject({ ...of(t), namespace: obj.metadata?.namespace ?? '', name, body: obj })
      ) as KubeObject;
    });

  const remove = async (t: Target, namespace: string, name: string): Promise<void> => {
    try {
      if (clusterScoped(t)) await custom.deleteClusterCustomObject({ ...of(t), name });
      else await custom.deleteNamespacedCustomObject({ ...of(t), namespace, name });
    } catch (e) {
      const err = toApiError(e);
      // already gone is what the delete wanted
      if (err.status === 404) return;
      throw err;
    }
  };

  return { list, create, replace, remove };
}
