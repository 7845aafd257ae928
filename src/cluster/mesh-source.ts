/**
 * Reads the meshes' settings from the API server: once for a command, and again now and then for
 * the webhook's view. A mesh that is not installed answers 404 everywhere, which is an answer; a
 * read that fails otherwise is a note, and the settings read so far stay.
 */
import type { KubeObject } from '../admission/types.ts';
import { apiMessage, apiStatus, type ClusterApi } from './api.ts';
import type { Lifetime } from './lifetime.ts';
import { meshConfigFrom, NO_MESH_CONFIG, OSM_MESHCONFIG_GROUP, type MeshConfig, type MeshLocations } from './mesh-config.ts';
import type { Target } from './resources.ts';
import type { Log, Timing } from './view-types.ts';

/** Served versions of OSM's MeshConfig, the storage version first. */
const MESHCONFIG_VERSIONS = ['v1alpha2', 'v1alpha3', 'v1alpha1'] as const;

const meshConfigTarget = (version: string): Target => ({
  group: OSM_MESHCONFIG_GROUP,
  version,
  resource: 'meshconfigs',
  kind: 'MeshConfig',
});

export async function readMeshConfig(api: ClusterApi, loc: MeshLocations): Promise<MeshConfig> {
  const notes: string[] = [];
  const objects: KubeObject[] = [];
  const tryRead = async (what: string, run: () => Promise<KubeObject | undefined>): Promise<boolean> => {
    try {
      const o = await run();
      if (o) objects.push(o);
      return true;
    } catch (e) {
      const status = apiStatus(e);
      if (status === 404) return false;
      notes.push(`${what}: ${status === 403 ? 'forbidden (RBAC)' : apiMessage(e).split('\n')[0]}`);
      return true;
    }
  };
  await Promise.all([
    tryRead(`ConfigMap ${loc.istioNamespace}/${loc.istioConfigMap}`, () => api.getConfigMap(loc.istioNamespace, loc.istioConfigMap)),
    tryRead(`ConfigMap ${loc.istioNamespace}/${loc.injectorConfigMap}`, () => api.getConfigMap(loc.istioNamespace, loc.injectorConfigMap)),
  ]);
  const get = api.get;
  if (get) {
    // 404 at a version means that version is not served (or the object is absent): try the next.
    for (const v of MESHCONFIG_VERSIONS) {
      if (
        await tryRead(`MeshConfig ${loc.osmNamespace}/${loc.osmMeshConfig}`, () =>
          get(meshConfigTarget(v), loc.osmNamespace, loc.osmMeshConfig),
        )
      )
        break;
    }
  }
  return meshConfigFrom(objects, loc, notes);
}

export type MeshSource = { readonly start: () => void; readonly current: () => MeshConfig };

/** The view's copy of the settings: read at start and every regatherMs; `changed` asks for a publish. */
export function meshSource(deps: {
  readonly api: ClusterApi;
  readonly loc: MeshLocations;
  readonly timing: Timing;
  readonly log: Log;
  readonly life: Lifetime;
  readonly changed: () => void;
}): MeshSource {
  let current = NO_MESH_CONFIG;
  const loop = async (): Promise<void> => {
    if (deps.life.ended()) return;
    let next: MeshConfig;
    try {
      next = await readMeshConfig(deps.api, deps.loc);
    } catch (e) {
      next = { ...current, notes: [`mesh settings: ${apiMessage(e)}`] };
    }
    if (deps.life.ended()) return;
    if (JSON.stringify(next) !== JSON.stringify(current)) {
      current = next;
      deps.log.info(
        {
          istio: next.istio?.outboundPolicy.value ?? 'absent',
          osm: next.osm ? { egress: next.osm.enableEgress.value, policy: next.osm.enableEgressPolicy.value } : 'absent',
          notes: next.notes,
        },
        'mesh settings read',
      );
      deps.changed();
    }
    deps.life.later(() => void loop(), deps.timing.regatherMs);
  };
  return { start: () => void loop(), current: () => current };
}
