/** Creates Events (events.k8s.io/v1) with @kubernetes/client-node. */
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../admission/types.ts';
import { toApiError } from './kube.ts';
import { EVENTS } from './resources.ts';

export type EventApi = { readonly create: (event: KubeObject) => Promise<void> };

export function kubeEventApi(kc: k8s.KubeConfig): EventApi {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  return {
    create: async (event) => {
      try {
        await custom.createNamespacedCustomObject({
          group: EVENTS.group,
          version: EVENTS.version,
          plural: EVENTS.resource,
          namespace: event.metadata?.namespace ?? 'default',
          body: event,
        });
      } catch (e) {
        throw toApiError(e);
      }
    },
  };
}
