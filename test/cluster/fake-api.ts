/** A ClusterApi of plain objects: informers the test drives by hand, discovery it edits. */
import type { KubeObject } from '../../src/admission/types.ts';
import type { ClusterApi, InformerHandlers, NamedWatchHandlers } from '../../src/cluster/api.ts';
import type { Log } from '../../src/cluster/view.ts';
import { resourceName, type Target } from '../../src/cluster/resources.ts';

export type FakeInformer = {
  readonly target: Target;
  readonly on: InformerHandlers;
  starts: number;
  stopped: boolean;
};

export type Fake = {
  readonly api: ClusterApi;
  /** current objects per kind: what a (re)list returns */
  readonly objects: Map<string, KubeObject[]>;
  /** every informer the view created, newest last */
  readonly informers: FakeInformer[];
  /** resource name → served versions */
  readonly served: Map<string, string[]>;
  /** errors the next starts of a kind's informer report, one per start */
  readonly failures: Map<string, unknown[]>;
  readonly configMaps: Map<string, KubeObject>;
  dryRunMessage: string | undefined;
  /** calls of discover() so far */
  discoveries: number;
  /** when set, discover() waits for it, and fails when it rejects */
  discoveryGate: Promise<void> | undefined;
  /** the newest informer of a kind */
  readonly informer: (kind: string) => FakeInformer;
  /** open watches of named objects, "namespace/name" → their handlers */
  readonly namedWatches: Map<string, NamedWatchHandlers[]>;
  /** tells the watchers of an object that it changed */
  readonly touch: (namespace: string, name: string) => void;
};

export function fakeApi(init: Record<string, KubeObject[]> = {}): Fake {
  const fake: Fake = {
    objects: new Map(Object.entries(init)),
    informers: [],
    served: new Map(),
    failures: new Map(),
    configMaps: new Map(),
    dryRunMessage: undefined,
    discoveries: 0,
    discoveryGate: undefined,
    namedWatches: new Map(),
    touch: (namespace, name) => {
      for (const on of fake.namedWatches.get(`${namespace}/${name}`) ?? []) on.changed();
    },
    informer: (kind) => {
      const found = fake.informers.filter((i) => i.target.kind === kind).at(-1);
      if (!found) throw new Error(`no informer for ${kind}`);
      return found;
    },
    api: {
      server: 'https://fake.example:6443',
      namespace: 'egress-warden',
      discover: async () => {
        fake.discoveries++;
        if (fake.discoveryGate) await fake.discoveryGate;
        return new Map(fake.served);
      },
      informer: (target, on) => {
        const inf: FakeInformer = { target, on, starts: 0, stopped: false };
        fake.informers.push(inf);
        return {
          start: async () => {
            inf.starts++;
            inf.stopped = false;
            await Promise.resolve();
            const failure = fake.failures.get(target.kind)?.shift();
            if (failure !== undefined) {
              on.error(failure);
              return;
            }
            for (const o of fake.objects.get(target.kind) ?? []) on.add(o);
          },
          stop: async () => {
            inf.stopped = true;
          },
        };
      },
      list: async (t) => fake.objects.get(t.kind) ?? [],
      watchNamed: (_t, namespace, name, on) => {
        const key = `${namespace}/${name}`;
        fake.namedWatches.set(key, [...(fake.namedWatches.get(key) ?? []), on]);
        queueMicrotask(() => on.changed());
        return {
          stop: () =>
            fake.namedWatches.set(
              key,
              (fake.namedWatches.get(key) ?? []).filter((h) => h !== on),
            ),
        };
      },
      getConfigMap: async (ns, name) => fake.configMaps.get(`${ns}/${name}`),
      dryRunService: async () => fake.dryRunMessage,
    },
  };
  return fake;
}

/**
 * An EndpointSlice of `service` as the EndpointSlice controller writes it, one endpoint per pod
 * name → address; `targetKind` other than Pod for endpoints that point elsewhere.
 */
export function endpointSlice(
  namespace: string,
  service: string,
  addressType: 'IPv4' | 'IPv6' | 'FQDN',
  pods: Record<string, string>,
  targetKind = 'Pod',
): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-${addressType.toLowerCase()}`, namespace, labels: { 'kubernetes.io/service-name': service } },
    addressType,
    endpoints: Object.entries(pods).map(([name, address]) => ({
      addresses: [address],
      conditions: { ready: true },
      nodeName: 'node-a',
      targetRef: { kind: targetKind, namespace, name },
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

/** The `kubernetes` Service's slice: the API server's address, pointing at no pod. */
export const apiServerSlice = (address: string): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
  addressType: 'IPv4',
  endpoints: [{ addresses: [address], conditions: { ready: true } }],
  ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
});

export const serve = (fake: Fake, group: string, resource: string, versions: string[]) =>
  fake.served.set(resourceName({ group, resource }), versions);

export type Logged = { readonly level: string; readonly msg: string; readonly obj: object };

export function recordingLog(): Log & { readonly lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, msg, obj });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** Waits until `check` holds, polling; fails with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
