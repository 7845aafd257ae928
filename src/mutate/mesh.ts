/**
 * Which mesh will put a sidecar into this pod, or why the pod is none of this webhook's business.
 * Mirrors the meshes' own injection decisions (Istio's webhook selectors and injectRequired, OSM's
 * mustInject) closely enough that annotations are written only where a mesh will read them.
 */
import type { KubeObject } from '../admission/types.ts';

export type Container = { readonly name?: unknown; readonly args?: unknown; readonly restartPolicy?: unknown };

/** An Istio init container whose -i/-x args carry the ranges (istio-init, or istio-validation under CNI). */
export type IstioInit = {
  readonly index: number;
  readonly name: string;
  /** false when the container does not run istio-iptables (a custom template): its args are left alone */
  readonly rewritable: boolean;
};

export type MeshTarget =
  | { readonly mesh: 'istio'; readonly inits: readonly IstioInit[]; readonly cni: boolean; readonly injected: boolean }
  | { readonly mesh: 'osm'; readonly injected: boolean }
  | { readonly skip: string };

export type NamespaceView = { readonly labels: Readonly<Record<string, string>>; readonly annotations: Readonly<Record<string, string>> };

export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

const MIRROR = 'kubernetes.io/config.mirror';
const ISTIO_INJECT = 'sidecar.istio.io/inject';
const ISTIO_STATUS = 'sidecar.istio.io/status';
const ISTIO_REV = 'istio.io/rev';
const ISTIO_NS = 'istio-injection';
const ISTIO_CONTAINERS = new Set(['istio-init', 'istio-validation', 'istio-proxy']);
const ISTIO_INITS = new Set(['istio-init', 'istio-validation']);
const OSM_MONITORED = 'openservicemesh.io/monitored-by';
const OSM_INJECT = 'openservicemesh.io/sidecar-injection';
const OSM_INIT = 'osm-init';

type PodSpec = { readonly hostNetwork?: unknown; readonly initContainers?: unknown; readonly containers?: unknown };

export const containersOf = (list: unknown): readonly Container[] =>
  Array.isArray(list) ? list.filter((c): c is Container => c !== null && typeof c === 'object') : [];

// Istio's injectRequired reads these spellings (yaml.org/type/bool), case-insensitively.
function istioBool(v: string | undefined): boolean | undefined {
  const s = v?.toLowerCase();
  if (s === 'y' || s === 'yes' || s === 'true' || s === 'on') return true;
  if (s === 'n' || s === 'no' || s === 'false' || s === 'off') return false;
  return undefined;
}

// OSM's sidecar-injection annotation: enabled/yes/true and disabled/no/false, case-insensitive.
function osmBool(v: string | undefined): boolean | undefined {
  const s = v?.toLowerCase();
  if (s === 'enabled' || s === 'yes' || s === 'true') return true;
  if (s === 'disabled' || s === 'no' || s === 'false') return false;
  return undefined;
}

const runsIstioIptables = (c: Container): boolean => {
  const args = Array.isArray(c.args) ? c.args : [];
  return args[0] === 'istio-iptables' || args.some((a) => typeof a === 'string' && /^(?:-i|-x|--istio-service-(?:exclude-)?cidr)(?:=|$)/.test(a));
};

function istioWants(pod: KubeObject, ns: NamespaceView | undefined, names: ReadonlySet<string>): boolean {
  // A sidecar that is already there decides: Istio ran before this webhook (or this is a reinvocation).
  if ([...names].some((n) => ISTIO_CONTAINERS.has(n))) return true;
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  // The label wins over the deprecated annotation, as in injectRequired.
  const inject = istioBool(labels[ISTIO_INJECT] ?? annotations[ISTIO_INJECT]);
  if (inject === false) return false;
  const nsInjection = ns?.labels[ISTIO_NS];
  if (nsInjection === 'enabled') return true;
  // Any other istio-injection value (disabled) keeps every Istio webhook selector from matching.
  if (nsInjection !== undefined) return false;
  if (ns?.labels[ISTIO_REV] !== undefined) return true;
  return inject === true || labels[ISTIO_REV] !== undefined;
}

function osmWants(pod: KubeObject, ns: NamespaceView | undefined, names: ReadonlySet<string>): boolean {
  if (names.has(OSM_INIT)) return true;
  const onPod = osmBool(pod.metadata?.annotations?.[OSM_INJECT]);
  if (onPod !== undefined) return onPod;
  if (osmBool(ns?.annotations[OSM_INJECT]) === false) return false;
  return ns?.labels[OSM_MONITORED] !== undefined;
}

export function meshOf(pod: KubeObject, namespace: string, ns: NamespaceView | undefined): MeshTarget {
  const spec = (pod.spec ?? {}) as PodSpec;
  if (spec.hostNetwork === true) return { skip: 'the pod uses the host network' };
  if (pod.metadata?.annotations?.[MIRROR] !== undefined) return { skip: 'the pod is a static (mirror) pod' };
  if (SYSTEM_NAMESPACES.has(namespace)) return { skip: `namespace ${namespace} is never meshed` };
  const rawInits: readonly unknown[] = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  const all = [...containersOf(rawInits), ...containersOf(spec.containers)];
  const names = new Set(all.map((c) => c.name).filter((n): n is string => typeof n === 'string'));
  if (istioWants(pod, ns, names)) {
    const found: IstioInit[] = [];
    rawInits.forEach((raw, index) => {
      const c = (raw ?? {}) as Container;
      if (typeof c.name === 'string' && ISTIO_INITS.has(c.name)) found.push({ index, name: c.name, rewritable: runsIstioIptables(c) });
    });
    return {
      mesh: 'istio', inits: found, cni: names.has('istio-validation'),
      injected: names.has('istio-proxy') || pod.metadata?.annotations?.[ISTIO_STATUS] !== undefined,
    };
  }
  if (osmWants(pod, ns, names)) return { mesh: 'osm', injected: names.has(OSM_INIT) };
  return { skip: 'no Istio or OSM sidecar will be injected' };
}
