/**
 * Whether the sidecar sees traffic to the destination at all: which mesh injects the pod (capture's
 * meshOf), the ranges the pod ends up with (capture's planPod, as the mutation would write them, else
 * the pod's own annotations, else the mesh-wide defaults), and whether the address falls in them, in
 * the order the init container's rules test it (exclusions first).
 */
import { MESH_KEYS, type Mesh } from '../catalogue/keys.ts';
import { parseApplied } from '../capture/annotations.ts';
import { meshOf } from '../capture/mesh.ts';
import { planPod } from '../capture/plan-pod.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { asObj } from '../json.ts';
import { contains, containsAddress, isAll, parseCidr, type Cidr } from '../net/cidr.ts';
import { namesWaypoint } from '../catalogue/keys.ts';
import { isClusterName, type Destination } from './destination.ts';
import type { MeshAnswer, Reason, Source } from './types.ts';

export type Capture =
  | { readonly mesh: Mesh; readonly captured: true; readonly reasons: readonly Reason[] }
  | { readonly mesh: Mesh | null; readonly captured: false; readonly reasons: readonly Reason[] };

type Ranges = { readonly all: boolean; readonly cidrs: readonly Cidr[]; readonly text: string; readonly from: string };

function ranges(text: string, from: string): Ranges {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    all: items.includes('*'),
    cidrs: items.map((s) => parseCidr(s)).filter((c): c is Cidr => c !== undefined),
    text: text || '(empty)',
    from,
  };
}

/** The include and exclude ranges the pod's init container gets, each with where it came from. */
function podRanges(
  source: Source,
  mesh: Mesh,
  snapshot: ClusterSnapshot,
): { readonly include: Ranges; readonly exclude: Ranges; readonly mode: string } {
  const ns = snapshot.namespaces.get(source.namespace);
  const annotations = asObj(source.pod.metadata?.annotations);
  const keys = MESH_KEYS[mesh];
  const built = planPod(source.pod, source.namespace, ns, snapshot).build?.();
  const applied = parseApplied(built?.applied);
  const mode = applied ? `${applied.mode} (${applied.modeFrom})` : 'as the pod and the mesh say';
  const side = (s: 'include' | 'exclude'): { text: string; from: string } | undefined => {
    const a = applied?.[s];
    if (a)
      return {
        text: a.value,
        from: typeof a.from === 'string' ? a.from : `written by egress-warden (${Object.values(a.from).join(', ')})`,
      };
    const own = annotations[keys[s]];
    return typeof own === 'string' ? { text: own, from: `pod annotation ${keys[s]}` } : undefined;
  };
  const include = side('include');
  const exclude = side('exclude');
  if (mesh === 'istio') {
    // Istio's template takes the pod's annotation if present, else the injector's default: never both.
    const d = snapshot.mesh.istio;
    const defInclude = d?.includeIPRanges ?? { value: '*', from: 'default (Istio values.global.proxy.includeIPRanges)' };
    const defExclude = d?.excludeIPRanges ?? { value: '', from: 'default (Istio values.global.proxy.excludeIPRanges)' };
    return {
      include: include ? ranges(include.text, include.from) : ranges(defInclude.value, defInclude.from),
      exclude: exclude ? ranges(exclude.text, exclude.from) : ranges(defExclude.value, defExclude.from),
      mode,
    };
  }
  // OSM merges the pod's lists with the MeshConfig's; an empty inclusion list means everything.
  const o = snapshot.mesh.osm;
  const merged = (
    own: { text: string; from: string } | undefined,
    global: readonly string[] | undefined,
    gFrom: string | undefined,
    empty: string,
  ): Ranges => {
    const parts = [own?.text, ...(global ?? [])].filter((s): s is string => !!s);
    const from = [own?.from, global?.length ? gFrom : undefined].filter(Boolean).join(' + ') || empty;
    return ranges(parts.join(','), from);
  };
  const inc = merged(include, o?.inclusions.value, o?.inclusions.from, 'none set');
  return {
    include: inc.cidrs.length ? inc : { ...inc, all: true, text: '(none: everything)' },
    exclude: merged(exclude, o?.exclusions.value, o?.exclusions.from, 'none set'),
    mode,
  };
}

const insideCluster = (c: Cidr, cluster: readonly Cidr[]): boolean => cluster.some((k) => contains(k, c));

/**
 * A pod in ambient mode: ztunnel captures its traffic whatever ranges are set, and ztunnel does not
 * enforce outboundTrafficPolicy (istio/istio#54281), so REGISTRY_ONLY does not block it; a waypoint,
 * when one is named, is where policy for it applies.
 */
export function ambientOf(source: Source, snapshot: ClusterSnapshot): (MeshAnswer & { readonly mesh: 'istio' }) | undefined {
  const { target } = meshOf(source.pod, source.namespace, snapshot.namespaces.get(source.namespace));
  if (!('skip' in target) || !target.ambient) return undefined;
  const reasons: Reason[] = [
    {
      step: 'sidecar',
      says: `no sidecar: ambient mode [${target.ambient.from}]; ztunnel captures all outbound traffic, and per-pod outbound ranges do not apply`,
    },
  ];
  const policy = snapshot.mesh.istio?.outboundPolicy;
  if (policy?.value === 'REGISTRY_ONLY')
    reasons.push({
      step: 'mesh',
      says: `the mesh is REGISTRY_ONLY [${policy.from}], but ztunnel does not enforce it (istio/istio#54281): the destination is not blocked for lack of a ServiceEntry`,
    });
  // the pod's label read as the rules read every use-waypoint value: "" and "None" name none
  const waypoint = namesWaypoint(target.ambient.waypoint) ? target.ambient.waypoint : undefined;
  reasons.push(
    waypoint
      ? {
          step: 'route',
          says: `traffic goes through waypoint ${waypoint} (istio.io/use-waypoint), where AuthorizationPolicies attached to it apply`,
        }
      : { step: 'route', says: 'no waypoint is named (istio.io/use-waypoint): only L4 AuthorizationPolicies enforced by ztunnel apply' },
  );
  return { mesh: 'istio', verdict: 'allowed', reasons, fix: [] };
}

/** Which part of the data plane sets up the capture, as the pod shows it. */
const plane = (
  t: { readonly mesh: 'istio'; readonly cni: boolean; readonly inits: readonly unknown[] } | { readonly mesh: 'osm' },
): string =>
  t.mesh === 'osm'
    ? '; osm-init sets up the capture'
    : t.cni
      ? '; the istio-cni plugin sets up the capture from the pod annotations'
      : t.inits.length
        ? '; istio-init sets up the capture from its -i/-x args'
        : '';

export function captureOf(source: Source, dest: Destination, snapshot: ClusterSnapshot): Capture {
  const ns = snapshot.namespaces.get(source.namespace);
  const { target } = meshOf(source.pod, source.namespace, ns);
  if ('skip' in target) {
    return {
      mesh: null,
      captured: false,
      reasons: [{ step: 'sidecar', says: `no sidecar: ${target.skip}, so traffic leaves the pod directly` }],
    };
  }
  const mesh = target.mesh;
  const reasons: Reason[] = [
    {
      step: 'sidecar',
      says: `${mesh === 'istio' ? 'Istio' : 'OSM'} sidecar${target.injected ? ' (injected)' : source.exists ? ' (the injector selects this pod)' : ' (a new pod in this namespace gets one)'}${plane(target)}`,
    },
  ];
  const r = podRanges(source, mesh, snapshot);
  const shown = `include ${r.include.text} [${r.include.from}], exclude ${r.exclude.text} [${r.exclude.from}]; capture mode ${r.mode}`;
  const cluster = [...snapshot.cidrs.pod, ...snapshot.cidrs.service].map((d) => d.cidr);
  const done = (captured: boolean, why: string): Capture =>
    captured
      ? { mesh, captured: true, reasons: [...reasons, { step: 'capture', says: `captured: ${why} (${shown})` }] }
      : {
          mesh,
          captured: false,
          reasons: [...reasons, { step: 'capture', says: `not captured: ${why} (${shown}); the connection leaves the pod directly` }],
        };

  if (mesh === 'istio' && !r.include.all && r.include.cidrs.length === 0) return done(false, 'the include list holds no range');
  if (dest.address !== undefined) {
    if (containsAddress(r.exclude.cidrs, dest.address)) return done(false, `${dest.address} is in an excluded range`);
    if (r.include.all || containsAddress(r.include.cidrs, dest.address)) return done(true, `${dest.address} is in the captured ranges`);
    return done(false, `${dest.address} is outside the captured ranges`);
  }
  if (isClusterName(dest.host)) return done(true, `${dest.host} is an in-cluster name (a Service address)`);
  // A name outside the cluster: its address is unknown, but it lies outside the cluster's ranges.
  if (r.exclude.cidrs.some(isAll)) return done(false, 'every address is excluded');
  const maybeExcluded = r.exclude.cidrs.filter((c) => !insideCluster(c, cluster));
  if (r.include.all) {
    if (maybeExcluded.length) {
      reasons.push({
        step: 'note',
        says: `${dest.host} is excluded if it resolves into ${maybeExcluded.map((c) => c.text).join(', ')}; give --address to decide`,
      });
    }
    return done(true, 'every address is captured');
  }
  const beyondCluster = r.include.cidrs.filter((c) => !insideCluster(c, cluster));
  if (beyondCluster.length === 0) return done(false, `only the cluster's ranges are captured and ${dest.host} is outside the cluster`);
  reasons.push({
    step: 'note',
    says: `${dest.host} is captured only if it resolves into ${beyondCluster.map((c) => c.text).join(', ')}; give --address to decide`,
  });
  return done(true, `${beyondCluster.map((c) => c.text).join(', ')} may hold ${dest.host}`);
}
