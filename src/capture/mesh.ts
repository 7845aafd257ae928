/**
 * Which mesh will put a sidecar into this pod, or why the pod is none of this webhook's business.
 * Mirrors the meshes' own injection decisions, in two steps each: whether the mesh's injector
 * webhook is called at all (its namespace and object selectors), then whether the injector injects
 * (Istio's injectRequired, OSM's mustInject). Annotations are written only where a mesh reads them.
 */
import type { KubeObject } from '../admission/types.ts';
import {
  ISTIO_DATAPLANE_MODE,
  ISTIO_INJECT,
  ISTIO_INJECTION,
  ISTIO_INTERCEPTION_MODE,
  ISTIO_REV,
  ISTIO_STATUS,
  ISTIO_TEMPLATES,
  ISTIO_USE_WAYPOINT,
  namesWaypoint,
  MIRROR_ANNOTATION,
  OSM_CONTROL_PLANE,
  OSM_IGNORE,
  OSM_MONITORED_BY,
  OSM_SIDECAR_INJECTION,
} from '../catalogue/keys.ts';
import { ISTIO_IGNORED_NAMESPACE, NEVER_MESHED } from '../catalogue/namespaces.ts';
import { finding, merge, ok, type Result } from '../catalogue/result.ts';
import { asArr, asObj, type Obj } from '../json.ts';
import { stringValues, type Origin } from './annotations.ts';

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
  | { readonly skip: string; readonly ambient?: { readonly from: string; readonly waypoint?: string } };

/** The target, and the findings about label and annotation values the decision could not read (EW518). */
export type MeshDecision = { readonly target: MeshTarget; readonly findings: Result };

export type NamespaceView = { readonly labels: Readonly<Record<string, string>>; readonly annotations: Readonly<Record<string, string>> };

const ISTIO_CONTAINERS = new Set(['istio-init', 'istio-validation', 'istio-proxy']);
const ISTIO_INITS = new Set(['istio-init', 'istio-validation']);
const OSM_INIT = 'osm-init';

/**
 * The namespace labels and annotations whose values decide injection. Keys tested only for
 * presence (istio.io/rev, monitored-by, ...) are not here: any value counts.
 */
export const NAMESPACE_LABELS_READ: readonly string[] = [ISTIO_INJECTION];
export const NAMESPACE_ANNOTATIONS_READ: readonly string[] = [OSM_SIDECAR_INJECTION];

export const containersOf = (list: unknown): readonly Container[] =>
  Array.isArray(list) ? list.filter((c): c is Container => c !== null && typeof c === 'object') : [];

const has = (map: Obj, key: string): boolean => map[key] !== undefined;

// OSM's sidecar-injection annotation: enabled/yes/true and disabled/no/false, case-insensitive.
function osmBool(v: string | undefined): boolean | undefined {
  const s = v?.toLowerCase();
  if (s === 'enabled' || s === 'yes' || s === 'true') return true;
  if (s === 'disabled' || s === 'no' || s === 'false') return false;
  return undefined;
}

const runsIstioIptables = (c: Container): boolean => {
  const args = asArr(c.args);
  return (
    args[0] === 'istio-iptables' || args.some((a) => typeof a === 'string' && /^(?:-i|-x|--istio-service-(?:exclude-)?cidr)(?:=|$)/.test(a))
  );
};

type Seen = {
  readonly podLabels: Obj;
  readonly nsLabels: Obj;
  /** the string values of the keys read for their value */
  readonly podLabel: Readonly<Record<string, string>>;
  readonly podAnnotation: Readonly<Record<string, string>>;
  readonly nsLabel: Readonly<Record<string, string>>;
  readonly nsAnnotation: Readonly<Record<string, string>>;
};

/**
 * Whether one of the webhooks of Istio's sidecar-injector configuration is called for the pod.
 * Label selectors compare label values exactly, and see labels only: the deprecated
 * sidecar.istio.io/inject annotation alone never selects a pod.
 */
function istioWebhookCalled(s: Seen): boolean {
  const optedOut = s.podLabel[ISTIO_INJECT] === 'false';
  // namespace.: istio-injection In [enabled]
  if (has(s.nsLabels, ISTIO_INJECTION)) return s.nsLabel[ISTIO_INJECTION] === 'enabled' && !optedOut;
  // rev.namespace.: istio.io/rev on the namespace, no istio-injection
  if (has(s.nsLabels, ISTIO_REV)) return !optedOut;
  // rev.object.: neither namespace label, istio.io/rev on the pod
  if (has(s.podLabels, ISTIO_REV)) return !optedOut;
  // object.: neither namespace label, sidecar.istio.io/inject In [true] on the pod
  return s.podLabel[ISTIO_INJECT] === 'true';
}

/**
 * Istio's injectRequired under the default policy (enabled), as at istio/istio 86c9f01: the label,
 * else the deprecated annotation; exactly "false" opts out, and every other value leaves it to the
 * policy, which injects ("true" and "" silently, anything else with a warning in istiod's log).
 */
function istioInjectRequired(s: Seen): boolean {
  return (s.podLabel[ISTIO_INJECT] ?? s.podAnnotation[ISTIO_INJECT]) !== 'false';
}

/** EW521 for a sidecar.istio.io/inject value the injector reads as "use the default". */
function injectValueFindings(s: Seen): Result {
  const onLabel = s.podLabel[ISTIO_INJECT];
  const v = onLabel ?? s.podAnnotation[ISTIO_INJECT];
  if (v === undefined || v === '' || v === 'true' || v === 'false') return ok;
  const path = `metadata.${onLabel !== undefined ? 'labels' : 'annotations'}[${ISTIO_INJECT}]`;
  return finding('EW521', path, `"${v}" is neither "true" nor "false": Istio's injector ignores it and injects by the namespace default`);
}

/** Istio's injection templates that set up no traffic capture: gateways, proxyless gRPC. */
const NON_CAPTURING_TEMPLATES = new Set(['gateway', 'grpc-agent', 'grpc-simple']);

/**
 * Why Istio's data plane will not capture this Istio-injected pod, or undefined when it will (istio-init,
 * or the CNI plugin with istio-validation). Decided, before injection, from what the template reads
 * (interceptionMode, the templates) and, after it, from the init containers the injector recorded
 * in its status annotation (or, without one, those the pod has).
 */
function istioNotCaptured(
  podAnnotation: Readonly<Record<string, string>>,
  names: ReadonlySet<string>,
  status: unknown,
): string | undefined {
  if (podAnnotation[ISTIO_INTERCEPTION_MODE] === 'NONE')
    return `${ISTIO_INTERCEPTION_MODE} is NONE: Istio's template adds no istio-init and nothing captures the pod's traffic`;
  const templates = (podAnnotation[ISTIO_TEMPLATES] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (templates.length && templates.every((t) => NON_CAPTURING_TEMPLATES.has(t)))
    return `injection template ${templates.join(', ')} sets up no traffic capture (a gateway or a proxyless gRPC pod)`;
  const injected = names.has('istio-proxy') || status !== undefined;
  if (!injected) return undefined;
  const inits = Array.isArray(asObj(status).initContainers) ? (asObj(status).initContainers as unknown[]) : undefined;
  const initNames = inits ? new Set(inits.filter((n): n is string => typeof n === 'string')) : names;
  if ([...ISTIO_INITS].some((n) => initNames.has(n))) return undefined;
  return "Istio injected no istio-init or istio-validation: nothing captures the pod's traffic (a gateway, proxyless or custom template)";
}

/**
 * Ambient: ztunnel captures every pod of the namespace (or the pod) that is not kept out, and sends
 * it through the waypoint the pod or namespace names. Undefined when the pod is not in ambient mode.
 */
function ambient(podLabels: Obj, nsLabels: Obj, namespace: string): { readonly from: string; readonly waypoint?: string } | undefined {
  const pod = podLabels[ISTIO_DATAPLANE_MODE];
  if (pod === 'none') return undefined;
  const from =
    pod === 'ambient'
      ? `pod label ${ISTIO_DATAPLANE_MODE}=ambient`
      : nsLabels[ISTIO_DATAPLANE_MODE] === 'ambient'
        ? `namespace ${namespace} label ${ISTIO_DATAPLANE_MODE}=ambient`
        : undefined;
  if (!from) return undefined;
  const waypoint = podLabels[ISTIO_USE_WAYPOINT] ?? nsLabels[ISTIO_USE_WAYPOINT];
  return { from, ...(namesWaypoint(waypoint) ? { waypoint } : {}) };
}

const parseStatus = (text: string | undefined): unknown => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
};

function istioWants(s: Seen, namespace: string, names: ReadonlySet<string>): boolean {
  // A sidecar that is already there decides: Istio ran before this webhook (or this is a reinvocation).
  if ([...names].some((n) => ISTIO_CONTAINERS.has(n))) return true;
  if (namespace === ISTIO_IGNORED_NAMESPACE) return false;
  return istioWebhookCalled(s) && istioInjectRequired(s);
}

/**
 * OSM's injector webhook is called only in namespaces labelled monitored-by (and not ignore or
 * control-plane); there mustInject injects when the pod says yes, or the namespace says yes and
 * the pod does not say no. The pod annotation alone does nothing in a namespace OSM does not monitor.
 */
function osmWants(s: Seen, names: ReadonlySet<string>): boolean {
  if (names.has(OSM_INIT)) return true;
  if (!has(s.nsLabels, OSM_MONITORED_BY) || has(s.nsLabels, OSM_IGNORE) || has(s.nsLabels, OSM_CONTROL_PLANE)) return false;
  const onPod = osmBool(s.podAnnotation[OSM_SIDECAR_INJECTION]);
  if (onPod !== undefined) return onPod;
  return osmBool(s.nsAnnotation[OSM_SIDECAR_INJECTION]) === true;
}

const POD: Origin = { kind: 'pod' };

export function meshOf(pod: KubeObject, namespace: string, ns: NamespaceView | undefined): MeshDecision {
  const skip = (why: string): MeshDecision => ({ target: { skip: why }, findings: ok });
  const spec = asObj(pod.spec);
  const podAnnotations = asObj(pod.metadata?.annotations);
  if (spec.hostNetwork === true) return skip('the pod uses the host network');
  if (has(podAnnotations, MIRROR_ANNOTATION)) return skip('the pod is a static (mirror) pod');
  if (NEVER_MESHED.has(namespace)) return skip(`namespace ${namespace} is never meshed`);

  const inNamespace: Origin = { kind: 'namespace', name: namespace };
  const podLabels = asObj(pod.metadata?.labels);
  const nsLabels = asObj(ns?.labels);
  const podLabel = stringValues(podLabels, [ISTIO_INJECT], { field: 'labels', origin: POD });
  const podAnnotation = stringValues(
    podAnnotations,
    [ISTIO_INJECT, OSM_SIDECAR_INJECTION, ISTIO_INTERCEPTION_MODE, ISTIO_TEMPLATES, ISTIO_STATUS],
    {
      field: 'annotations',
      origin: POD,
    },
  );
  const nsLabel = stringValues(nsLabels, NAMESPACE_LABELS_READ, { field: 'labels', origin: inNamespace });
  const nsAnnotation = stringValues(ns?.annotations, NAMESPACE_ANNOTATIONS_READ, { field: 'annotations', origin: inNamespace });
  const findings = merge(podLabel.findings, podAnnotation.findings, nsLabel.findings, nsAnnotation.findings);
  const seen: Seen = {
    podLabels,
    nsLabels,
    podLabel: podLabel.values,
    podAnnotation: podAnnotation.values,
    nsLabel: nsLabel.values,
    nsAnnotation: nsAnnotation.values,
  };

  const rawInits = asArr(spec.initContainers);
  const all = [...containersOf(rawInits), ...containersOf(spec.containers)];
  const names = new Set(all.map((c) => c.name).filter((n): n is string => typeof n === 'string'));
  if (istioWants(seen, namespace, names)) {
    const injectFindings = merge(findings, injectValueFindings(seen));
    const notCaptured = istioNotCaptured(podAnnotation.values, names, parseStatus(podAnnotation.values[ISTIO_STATUS]));
    if (notCaptured) return { target: { skip: notCaptured }, findings: injectFindings };
    const found: IstioInit[] = [];
    rawInits.forEach((raw, index) => {
      const c = asObj(raw) as Container;
      if (typeof c.name === 'string' && ISTIO_INITS.has(c.name)) found.push({ index, name: c.name, rewritable: runsIstioIptables(c) });
    });
    const target: MeshTarget = {
      mesh: 'istio',
      inits: found,
      cni: names.has('istio-validation'),
      injected: names.has('istio-proxy') || has(podAnnotations, ISTIO_STATUS),
    };
    return { target, findings: injectFindings };
  }
  if (osmWants(seen, names)) return { target: { mesh: 'osm', injected: names.has(OSM_INIT) }, findings };
  const inAmbient = ambient(podLabels, nsLabels, namespace);
  if (inAmbient)
    return {
      target: {
        skip: `ambient mode (${inAmbient.from}): ztunnel captures all outbound traffic, and per-pod outbound ranges do not apply`,
        ambient: inAmbient,
      },
      findings,
    };
  return { target: { skip: 'no Istio or OSM sidecar will be injected' }, findings };
}
