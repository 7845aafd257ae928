/**
 * The meshes' own egress settings, read where each mesh installs them: Istio's mesh config (the
 * `mesh` key of the `istio` ConfigMap) and its injector's default capture ranges (the `values` key
 * of `istio-sidecar-injector`), and OSM's MeshConfig. Every value carries where it came from,
 * including "default" when the object exists but does not set it; a mesh whose objects are absent
 * is simply not there (undefined), which is no error.
 */
import { objectGroupKind, type KubeObject, namespacedName } from '../admission/types.ts';
import { MESH_OBJECTS } from '../catalogue/namespaces.ts';
import { asObj, asStr, isObj, onlyStrs } from '../json.ts';
import { parseDocuments } from '../yaml.ts';

/** A setting and where it came from ("ConfigMap istio-system/istio mesh.outboundTrafficPolicy.mode", "default (unset in ...)"). */
export type Sourced<T> = { readonly value: T; readonly from: string };

export type OutboundPolicy = 'ALLOW_ANY' | 'REGISTRY_ONLY';

export type IstioMeshConfig = {
  readonly outboundPolicy: Sourced<OutboundPolicy>;
  /** the injector's default for pods without the annotation ("*" when the injector says nothing) */
  readonly includeIPRanges: Sourced<string>;
  readonly excludeIPRanges: Sourced<string>;
};

export type OsmMeshConfig = {
  /** where the MeshConfig was found */
  readonly object: { readonly namespace: string; readonly name: string };
  /**
   * The object as stored, apiVersion and spec whole: a change proposed to it must carry every field,
   * as `kubectl apply` of a partial object drops the fields it leaves out that an earlier apply set.
   */
  readonly stored: { readonly apiVersion: string; readonly spec: Readonly<Record<string, unknown>> };
  /** spec.traffic.enableEgress: every destination the policies do not name is let through */
  readonly enableEgress: Sourced<boolean>;
  /** spec.featureFlags.enableEgressPolicy: Egress objects take effect */
  readonly enableEgressPolicy: Sourced<boolean>;
  /** spec.traffic.outboundIPRange{In,Ex}clusionList: merged with each pod's own list */
  readonly inclusions: Sourced<readonly string[]>;
  readonly exclusions: Sourced<readonly string[]>;
};

export type MeshConfig = {
  /** false when nothing was read (no cluster, no --state): the meshes' settings are unknown, not absent */
  readonly read: boolean;
  readonly istio?: IstioMeshConfig;
  readonly osm?: OsmMeshConfig;
  /** what was found but could not be read, and reads that failed */
  readonly notes: readonly string[];
};

export const NO_MESH_CONFIG: MeshConfig = Object.freeze({ read: false, notes: Object.freeze([]) });

/** Where each mesh keeps its settings; each is configurable because revisions and installs move them. */
export type MeshLocations = {
  readonly istioNamespace: string;
  readonly istioConfigMap: string;
  readonly injectorConfigMap: string;
  readonly osmNamespace: string;
  readonly osmMeshConfig: string;
};

export const DEFAULT_MESH_LOCATIONS: MeshLocations = {
  istioNamespace: MESH_OBJECTS.istioNamespace,
  istioConfigMap: MESH_OBJECTS.istioMeshConfigMap,
  injectorConfigMap: MESH_OBJECTS.istioInjector,
  osmNamespace: MESH_OBJECTS.osmNamespace,
  osmMeshConfig: MESH_OBJECTS.osmMeshConfig,
};

/** The environment variables that move each location. */
export const MESH_LOCATION_ENV: Readonly<Record<keyof MeshLocations, string>> = {
  istioNamespace: 'EW_ISTIO_NAMESPACE',
  istioConfigMap: 'EW_ISTIO_CONFIGMAP',
  injectorConfigMap: 'EW_ISTIO_INJECTOR_CONFIGMAP',
  osmNamespace: 'EW_OSM_NAMESPACE',
  osmMeshConfig: 'EW_OSM_MESHCONFIG',
};

export function meshLocations(env: Readonly<Record<string, string | undefined>>): MeshLocations {
  const out: Record<string, string> = { ...DEFAULT_MESH_LOCATIONS };
  for (const [key, name] of Object.entries(MESH_LOCATION_ENV)) {
    const v = env[name]?.trim();
    if (v) out[key] = v;
  }
  return out as MeshLocations;
}

export const OSM_MESHCONFIG_GROUP = 'config.openservicemesh.io';
const CONFIG_MAP = '/ConfigMap';
const OSM_MESHCONFIG = `${OSM_MESHCONFIG_GROUP}/MeshConfig`;
/** The group/Kinds (objectGroupKind) meshConfigFrom reads its settings from. */
export const MESH_CONFIG_KINDS: ReadonlySet<string> = new Set([CONFIG_MAP, OSM_MESHCONFIG]);

const at = (o: KubeObject): string => namespacedName(asStr(o.metadata?.namespace), asStr(o.metadata?.name));

function find(objects: readonly KubeObject[], groupKind: string, namespace: string, name: string): KubeObject | undefined {
  return objects.find((o) => objectGroupKind(o) === groupKind && o.metadata?.namespace === namespace && o.metadata?.name === name);
}

/** Istio's mesh config is YAML inside the ConfigMap; an unreadable one is a note, and the defaults hold. */
function istioOf(mesh: KubeObject | undefined, injector: KubeObject | undefined, notes: string[]): IstioMeshConfig | undefined {
  if (!mesh && !injector) return undefined;
  let policy: Sourced<OutboundPolicy> = { value: 'ALLOW_ANY', from: 'default (no istio mesh ConfigMap)' };
  if (mesh) {
    const where = `ConfigMap ${at(mesh)}`;
    const text = asStr(asObj(mesh.data).mesh);
    const parsed = text ? parseDocuments(text, { exact: false }) : { docs: [] };
    const doc = 'docs' in parsed ? asObj(parsed.docs[0]?.value) : undefined;
    if (!doc) notes.push(`${where}: key mesh is not YAML; Istio's defaults assumed`);
    const mode = asStr(asObj(doc?.outboundTrafficPolicy).mode);
    if (mode === 'REGISTRY_ONLY' || mode === 'ALLOW_ANY') policy = { value: mode, from: `${where} mesh.outboundTrafficPolicy.mode` };
    else {
      if (mode) notes.push(`${where}: outboundTrafficPolicy.mode "${mode}" is not ALLOW_ANY or REGISTRY_ONLY; ALLOW_ANY assumed`);
      policy = { value: 'ALLOW_ANY', from: `default (unset in ${where})` };
    }
  }
  let include: Sourced<string> = { value: '*', from: 'default (Istio values.global.proxy.includeIPRanges)' };
  let exclude: Sourced<string> = { value: '', from: 'default (Istio values.global.proxy.excludeIPRanges)' };
  if (injector) {
    const where = `ConfigMap ${at(injector)} values.global.proxy`;
    let values: unknown;
    try {
      values = JSON.parse(asStr(asObj(injector.data).values) || '{}');
    } catch {
      notes.push(`ConfigMap ${at(injector)}: key values is not JSON; Istio's default capture ranges assumed`);
    }
    const proxy = asObj(asObj(asObj(values).global).proxy);
    if (typeof proxy.includeIPRanges === 'string') include = { value: proxy.includeIPRanges, from: `${where}.includeIPRanges` };
    if (typeof proxy.excludeIPRanges === 'string') exclude = { value: proxy.excludeIPRanges, from: `${where}.excludeIPRanges` };
  }
  return { outboundPolicy: policy, includeIPRanges: include, excludeIPRanges: exclude };
}

function osmOf(meshConfig: KubeObject | undefined): OsmMeshConfig | undefined {
  if (!meshConfig) return undefined;
  const where = `MeshConfig ${at(meshConfig)}`;
  const spec = asObj(meshConfig.spec);
  const traffic = asObj(spec.traffic);
  const flags = asObj(spec.featureFlags);
  // OSM reads the object into Go structs: a missing bool is false, a missing list empty.
  const bool = (from: Readonly<Record<string, unknown>>, path: string, key: string): Sourced<boolean> =>
    typeof from[key] === 'boolean'
      ? { value: from[key], from: `${where} spec.${path}.${key}` }
      : { value: false, from: `default false (unset in ${where})` };
  const list = (key: string): Sourced<readonly string[]> =>
    isObj(traffic) && Array.isArray(traffic[key])
      ? { value: onlyStrs(traffic[key]), from: `${where} spec.traffic.${key}` }
      : { value: [], from: `default empty (unset in ${where})` };
  return {
    object: { namespace: asStr(meshConfig.metadata?.namespace), name: asStr(meshConfig.metadata?.name) },
    stored: { apiVersion: asStr(meshConfig.apiVersion), spec },
    enableEgress: bool(traffic, 'traffic', 'enableEgress'),
    enableEgressPolicy: bool(flags, 'featureFlags', 'enableEgressPolicy'),
    inclusions: list('outboundIPRangeInclusionList'),
    exclusions: list('outboundIPRangeExclusionList'),
  };
}

/** The mesh settings among `objects` (a --state folder, or the objects a live read returned). */
export function meshConfigFrom(objects: readonly KubeObject[], loc: MeshLocations, notes: readonly string[] = []): MeshConfig {
  const said = [...notes];
  const istio = istioOf(
    find(objects, CONFIG_MAP, loc.istioNamespace, loc.istioConfigMap),
    find(objects, CONFIG_MAP, loc.istioNamespace, loc.injectorConfigMap),
    said,
  );
  const osm = osmOf(find(objects, OSM_MESHCONFIG, loc.osmNamespace, loc.osmMeshConfig));
  return { read: true, ...(istio ? { istio } : {}), ...(osm ? { osm } : {}), notes: said };
}

/** One row per setting, for `egress-warden cidrs` and `explain`. */
export type MeshRow = { readonly mesh: 'istio' | 'osm'; readonly setting: string; readonly value: string; readonly from: string };

export function meshRows(m: MeshConfig): MeshRow[] {
  const rows: MeshRow[] = [];
  if (m.istio) {
    rows.push({
      mesh: 'istio',
      setting: 'outboundTrafficPolicy.mode',
      value: m.istio.outboundPolicy.value,
      from: m.istio.outboundPolicy.from,
    });
    rows.push({
      mesh: 'istio',
      setting: 'includeOutboundIPRanges',
      value: m.istio.includeIPRanges.value || '(empty)',
      from: m.istio.includeIPRanges.from,
    });
    rows.push({
      mesh: 'istio',
      setting: 'excludeOutboundIPRanges',
      value: m.istio.excludeIPRanges.value || '(empty)',
      from: m.istio.excludeIPRanges.from,
    });
  }
  if (m.osm) {
    const o = m.osm;
    rows.push({ mesh: 'osm', setting: 'traffic.enableEgress', value: String(o.enableEgress.value), from: o.enableEgress.from });
    rows.push({
      mesh: 'osm',
      setting: 'featureFlags.enableEgressPolicy',
      value: String(o.enableEgressPolicy.value),
      from: o.enableEgressPolicy.from,
    });
    rows.push({
      mesh: 'osm',
      setting: 'traffic.outboundIPRangeInclusionList',
      value: o.inclusions.value.join(',') || '(empty)',
      from: o.inclusions.from,
    });
    rows.push({
      mesh: 'osm',
      setting: 'traffic.outboundIPRangeExclusionList',
      value: o.exclusions.value.join(',') || '(empty)',
      from: o.exclusions.from,
    });
  }
  return rows;
}
