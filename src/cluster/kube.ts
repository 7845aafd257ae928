/**
 * ClusterApi on @kubernetes/client-node: cluster selection, discovery, paginated lists, informers
 * whose caches hold slim objects, the two ConfigMaps and the dry-run Service create.
 */
import * as k8s from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { KubeObject } from '../admission/types.ts';
import { asArr, asObj, asStr, isObj, onlyStrs } from '../json.ts';
import { servedChain, type AccessAnswer, type AccessQuestion, type AdminApi } from './admin.ts';
import type { ApiError, ClusterApi, Discovery, Informer, InformerHandlers, NamedWatchHandlers } from './api.ts';
import { HOST_ADDRESS_TYPES } from './detect.ts';
import { WATCHED, apiVersionOf, collectionPath, resourceName, type Target, type Watched } from './resources.ts';
import { carrier, judged, referencesJudged, slim } from './slim.ts';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
const PAGE = 500;

export type Selection = { readonly api: ClusterApi; readonly source: string } | { readonly none: string };

/** An ApiError from whatever client-node threw: HTTP status and the Status message when there is one. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof k8s.ApiException) {
    let message = `HTTP ${e.code}`;
    try {
      const body: unknown = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
      message = asStr(asObj(body).message) || message;
    } catch {
      if (typeof e.body === 'string' && e.body) message = `HTTP ${e.code}: ${e.body.slice(0, 200)}`;
    }
    return Object.assign(new Error(message), { status: e.code });
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const status = (err as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number') return Object.assign(new Error(`HTTP ${status}: ${err.message}`), { status });
  // fetch says only "fetch failed"; the cause (ECONNREFUSED, a DNS or TLS failure) is what an operator can act on
  const cause = err.cause instanceof Error ? err.cause.message : '';
  return cause && !err.message.includes(cause) ? new Error(`${err.message}: ${cause}`, { cause: err }) : err;
}

function loadFiles(kc: k8s.KubeConfig, files: readonly string[]): void {
  files.forEach((file, i) => {
    const next = i === 0 ? kc : new k8s.KubeConfig();
    try {
      next.loadFromFile(file);
    } catch (e) {
      throw new Error(`kubeconfig: cannot load ${file}: ${(e as Error).message}`);
    }
    if (next !== kc) kc.mergeConfig(next, true);
  });
}

/** A kubeconfig picked the way kubectl does, with the namespace requests default to. */
export type KubeSelection =
  | { readonly kc: k8s.KubeConfig; readonly source: string; readonly namespace: string }
  | { readonly none: string };

/**
 * Picks the cluster the way kubectl does: --kubeconfig (a path list), KUBECONFIG, the in-cluster
 * service account, ~/.kube/config. `none` when there is nothing to pick; throws when a named
 * kubeconfig cannot be used. The namespace: the one given, else the service account's (in a pod),
 * else the current context's, else "default".
 */
export function selectKubeConfig(opts: {
  readonly kubeconfig?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly namespace?: string | undefined;
}): KubeSelection {
  const kc = new k8s.KubeConfig();
  const files = (opts.kubeconfig ?? opts.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const home = opts.env.HOME ?? opts.env.USERPROFILE;
  const homeConfig = home ? join(home, '.kube', 'config') : undefined;
  let source: string;
  let namespace = opts.namespace;
  if (files.length) {
    loadFiles(kc, files);
    source = `kubeconfig ${files.join(delimiter)}`;
  } else if (opts.env.KUBERNETES_SERVICE_HOST && existsSync(`${SERVICE_ACCOUNT}/token`)) {
    kc.loadFromCluster();
    source = 'in-cluster service account';
    if (!namespace && existsSync(`${SERVICE_ACCOUNT}/namespace`)) namespace = readFileSync(`${SERVICE_ACCOUNT}/namespace`, 'utf8').trim();
  } else if (homeConfig && existsSync(homeConfig)) {
    loadFiles(kc, [homeConfig]);
    source = `kubeconfig ${homeConfig}`;
  } else {
    return { none: 'no --kubeconfig, no KUBECONFIG, not running in a pod, no ~/.kube/config' };
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig: ${source}: the current context "${kc.getCurrentContext()}" names no cluster`);
  namespace ||= kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
  return { kc, namespace, source: `${source} (context ${kc.getCurrentContext()}, ${cluster.server})` };
}

/** The cluster as the informers and CIDR detection use it (see selectKubeConfig). */
export function connectCluster(opts: {
  readonly kubeconfig?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly namespace?: string | undefined;
}): Selection {
  const found = selectKubeConfig(opts);
  if ('none' in found) return found;
  return { api: kubeApi(found.kc, found.namespace), source: found.source };
}

type Page = {
  readonly items?: readonly unknown[];
  readonly metadata?: { readonly resourceVersion?: string; readonly _continue?: string; readonly continue?: string };
};

type Shrink = (o: unknown, t: Target) => KubeObject;

/** A Node's addresses kubelet gives host-network pods: CIDR verification drops them from the pod IPs. */
const hostAddresses = (node: unknown) =>
  asArr(asObj(asObj(node).status).addresses)
    .map((a) => ({ type: asStr(asObj(a).type), address: asStr(asObj(a).address) }))
    .filter((a) => HOST_ADDRESS_TYPES.has(a.type) && a.address);

/** Of each endpoint only its addresses and what it points at; conditions, topology and ports are not read. */
const podEndpoints = (slice: unknown) =>
  asArr(asObj(slice).endpoints).map((e) => {
    const { addresses, targetRef } = asObj(e);
    const ref = asObj(targetRef);
    return {
      addresses: onlyStrs(addresses),
      ...(isObj(targetRef) ? { targetRef: { kind: asStr(ref.kind), namespace: asStr(ref.namespace), name: asStr(ref.name) } } : {}),
    };
  });

/**
 * slim.ts's copy plus what CIDR verification reads: a Node's host addresses, and an EndpointSlice's
 * address type and endpoints (slim keeps a spec, which EndpointSlices do not have).
 */
function slimForCidrs(o: unknown, t: Target): KubeObject {
  const small = slim(o, t);
  if (t.kind === 'Node') {
    const addresses = hostAddresses(o);
    return addresses.length ? { ...small, status: { addresses } } : small;
  }
  if (t.kind === 'EndpointSlice') {
    return {
      apiVersion: small.apiVersion,
      kind: small.kind,
      metadata: small.metadata,
      addressType: asStr(asObj(o).addressType),
      endpoints: podEndpoints(o),
    };
  }
  return small;
}

/** Shrinks watched objects before the informer's cache stores them. */
class SlimWatch extends k8s.Watch {
  readonly target: Target;
  readonly shrink: Shrink;
  constructor(kc: k8s.KubeConfig, target: Target, shrink: Shrink) {
    super(kc);
    this.target = target;
    this.shrink = shrink;
  }
  override watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, obj: unknown, raw?: unknown) => void,
    done: (err: unknown) => void,
  ) {
    return super.watch(
      path,
      query,
      (phase, obj, raw) => {
        callback(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? this.shrink(obj, this.target) : obj, raw);
      },
      done,
    );
  }
}

export function kubeApi(kc: k8s.KubeConfig, namespace: string): ClusterApi {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const apis = kc.makeApiClient(k8s.ApisApi);
  const discoveryV1 = kc.makeApiClient(k8s.DiscoveryV1Api);
  const server = kc.getCurrentCluster()?.server ?? '';

  const page = (t: Target, _continue: string | undefined): Promise<Page> => {
    const q = { limit: PAGE, ...(_continue ? { _continue } : {}) };
    switch (t.group ? `${resourceName(t)}/${t.version}` : t.resource) {
      case 'namespaces':
        return core.listNamespace(q);
      case 'nodes':
        return core.listNode(q);
      case 'services':
        return core.listServiceForAllNamespaces(q);
      case 'pods':
        return core.listPodForAllNamespaces(q);
      case 'endpointslices.discovery.k8s.io/v1':
        return discoveryV1.listEndpointSliceForAllNamespaces(q);
      default:
        if (t.group)
          return custom.listClusterCustomObject({ group: t.group, version: t.version, plural: t.resource, ...q }) as Promise<Page>;
        throw new Error(`no list call for core resource ${t.resource}`);
    }
  };

  const listAll = async (t: Target, shrink: Shrink = slimForCidrs): Promise<{ items: KubeObject[]; resourceVersion: string }> => {
    const items: KubeObject[] = [];
    let resourceVersion = '';
    let next: string | undefined;
    try {
      do {
        const p = await page(t, next);
        for (const item of p.items ?? []) items.push(shrink(item, t));
        resourceVersion = p.metadata?.resourceVersion ?? resourceVersion;
        next = p.metadata?._continue || p.metadata?.continue || undefined;
      } while (next);
    } catch (e) {
      throw toApiError(e);
    }
    return { items, resourceVersion };
  };

  const discover = async (): Promise<Discovery> => {
    const wanted = new Set(WATCHED.filter((w) => w.optional).map((w) => w.group));
    const out = new Map<string, string[]>();
    try {
      const { groups } = await apis.getAPIVersions();
      await Promise.all(
        groups
          .filter((g) => wanted.has(g.name))
          .map(async (g) => {
            const versions = [
              ...new Set([g.preferredVersion?.version, ...g.versions.map((v) => v.version)].filter((v): v is string => !!v)),
            ];
            const lists = await Promise.all(versions.map((version) => custom.getAPIResources({ group: g.name, version })));
            lists.forEach((list, i) => {
              for (const r of list.resources) {
                if (r.name.includes('/')) continue; // subresources
                const key = `${r.name}.${g.name}`;
                out.set(key, [...(out.get(key) ?? []), versions[i]!]);
              }
            });
          }),
      );
    } catch (e) {
      throw toApiError(e);
    }
    return out;
  };

  const informer = (target: Target & { readonly watched: Watched }, on: InformerHandlers): Informer => {
    const { sentWhen } = target.watched;
    const shrink: Shrink =
      target.watched.role === 'cidr'
        ? slimForCidrs
        : target.watched.audited
          ? (o, t) => carrier(o, t, !sentWhen || referencesJudged(o, sentWhen))
          : carrier;
    const lw = new k8s.ListWatch<k8s.KubernetesObject>(
      collectionPath(target),
      new SlimWatch(kc, target, shrink),
      async () => {
        const { items, resourceVersion } = await listAll(target, shrink);
        return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion }, items: items as k8s.KubernetesObject[] };
      },
      false,
    );
    lw.on('add', (o) => on.add(o as KubeObject));
    lw.on('update', (o) => on.update(o as KubeObject));
    lw.on('delete', (o) => on.delete(o as KubeObject));
    lw.on('error', (e) => on.error(toApiError(e)));
    lw.on('connect', () => on.connect());
    return { start: () => lw.start(), stop: () => lw.stop() };
  };

  const getConfigMap = async (ns: string, name: string): Promise<KubeObject | undefined> => {
    try {
      const cm = await core.readNamespacedConfigMap({ namespace: ns, name });
      return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { ...cm.data } };
    } catch (e) {
      const err = toApiError(e);
      if (err.status === 404) return undefined;
      throw err;
    }
  };

  const dryRunService = async (clusterIP: string): Promise<string | undefined> => {
    try {
      await core.createNamespacedService({
        namespace,
        dryRun: 'All',
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { generateName: 'egress-warden-cidr-probe-' },
          spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports: [{ port: 443, protocol: 'TCP' }] },
        },
      });
      return undefined;
    } catch (e) {
      const err = toApiError(e);
      if (err.status === 422 || err.status === 400) return err.message;
      throw err;
    }
  };

  const get = async (t: Target, ns: string, name: string): Promise<KubeObject | undefined> => {
    try {
      const found = t.group
        ? await custom.getNamespacedCustomObject({ group: t.group, version: t.version, plural: t.resource, namespace: ns, name })
        : t.resource === 'pods'
          ? await core.readNamespacedPod({ namespace: ns, name })
          : t.resource === 'configmaps'
            ? await core.readNamespacedConfigMap({ namespace: ns, name })
            : undefined;
      if (found === undefined) throw new Error(`no get call for core resource ${t.resource}`);
      // Models of built-in kinds come without apiVersion and kind, and serialize to their JSON field names.
      return { ...(JSON.parse(JSON.stringify(found)) as KubeObject), apiVersion: apiVersionOf(t), kind: t.kind };
    } catch (e) {
      const err = toApiError(e);
      if (err.status === 404) return undefined;
      throw err;
    }
  };

  const readNamespace = async (name: string): Promise<KubeObject | undefined> => {
    try {
      return slim(await core.readNamespace({ name }), { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace' });
    } catch (e) {
      const err = toApiError(e);
      if (err.status === 404) return undefined;
      throw err;
    }
  };

  const watchNamed = (t: Target, ns: string, name: string, on: NamedWatchHandlers): { readonly stop: () => void } => {
    const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
    let request: AbortController | undefined;
    let stopped = false;
    let ended = false;
    const end = (err: unknown) => {
      if (ended || stopped) return;
      ended = true;
      on.ended(err ? toApiError(err) : undefined);
    };
    new k8s.Watch(kc)
      .watch(`${base}/namespaces/${ns}/${t.resource}`, { fieldSelector: `metadata.name=${name}` }, () => on.changed(), end)
      .then((r) => {
        request = r;
        if (stopped) r.abort();
        // the watch is open: what changed while it was not is read now
        else on.changed();
      }, end);
    return {
      stop: () => {
        stopped = true;
        request?.abort();
      },
    };
  };

  return {
    server,
    namespace,
    watchNamed,
    discover,
    informer,
    list: async (t, as = 'slim') => (await listAll(t, as === 'judged' ? judged : slimForCidrs)).items,
    getConfigMap,
    dryRunService,
    get,
    readNamespace,
  };
}

/** The reads and dry-run writes of `egress-warden doctor` (admin.ts). */
export function adminApi(kc: k8s.KubeConfig, namespace: string, source: string): AdminApi {
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);

  const get = async (apiVersion: string, kind: string, name: string, ns?: string): Promise<KubeObject | undefined> => {
    try {
      return (await objects.read({ apiVersion, kind, metadata: { name, ...(ns ? { namespace: ns } : {}) } })) as KubeObject;
    } catch (e) {
      const err = toApiError(e);
      if (err.status === 404) return undefined;
      throw err;
    }
  };

  const dryRunCreate = async (obj: KubeObject): Promise<string | undefined> => {
    try {
      await objects.create(obj as k8s.KubernetesObject, undefined, 'All');
      return undefined;
    } catch (e) {
      const err = toApiError(e);
      if (err.status === undefined) throw err;
      return err.message;
    }
  };

  const canI = async (q: AccessQuestion, user?: string): Promise<AccessAnswer> => {
    const resourceAttributes = {
      group: q.group,
      resource: q.resource,
      verb: q.verb,
      ...(q.namespace ? { namespace: q.namespace } : {}),
      ...(q.name ? { name: q.name } : {}),
    };
    try {
      const status = user
        ? (await authz.createSubjectAccessReview({ body: { spec: { user, resourceAttributes } } })).status
        : (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes } } })).status;
      return { allowed: status?.allowed ?? false, reason: status?.reason ?? status?.evaluationError ?? '' };
    } catch (e) {
      throw toApiError(e);
    }
  };

  const listNamespaces = async (): Promise<KubeObject[]> => {
    try {
      return (await core.listNamespace()).items as KubeObject[];
    } catch (e) {
      throw toApiError(e);
    }
  };

  return { source, namespace, cluster: (ns) => kubeApi(kc, ns), get, listNamespaces, dryRunCreate, canI, servedChain };
}
