/**
 * Reads the meshes' settings from the API server: once for a command, and on every change for the
 * webhook's view. A mesh that is not installed answers 404 everywhere, which is an answer; a
 * read that fails otherwise is a note, and the settings read so far stay.
 */
import type { KubeObject } from '../admission/types.ts';
import { apiMessage, apiStatus, type ClusterApi } from './api.ts';
import { backoff } from './backoff.ts';
import type { Lifetime } from './lifetime.ts';
import { meshConfigFrom, NO_MESH_CONFIG, OSM_MESHCONFIG_GROUP, type MeshConfig, type MeshLocations } from './mesh-config.ts';
import { CONFIG_MAPS, type Target } from './resources.ts';
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

export type MeshSource = { readonly start: () => void; readonly current: () => MeshConfig; readonly stop: () => void };

/**
 * The view's copy of the settings. The three objects are watched by name, so a change reaches the
 * next snapshot within a read of it; they are also read every regatherMs, in case a watch missed
 * one. Reads never overlap: a change during a read is followed by one more. `changed` asks for a publish.
 */
export function meshSource(deps: {
  readonly api: ClusterApi;
  readonly loc: MeshLocations;
  readonly timing: Timing;
  readonly log: Log;
  readonly life: Lifetime;
  readonly changed: () => void;
}): MeshSource {
  const { api, loc, timing, log, life } = deps;
  let current = NO_MESH_CONFIG;
  let reading = false;
  let again = false;
  const watches: { stop: () => void }[] = [];

  const readOnce = async (): Promise<void> => {
    let next: MeshConfig;
    try {
      next = await readMeshConfig(api, loc);
    } catch (e) {
      next = { ...current, notes: [`mesh settings: ${apiMessage(e)}`] };
    }
    if (life.ended() || JSON.stringify(next) === JSON.stringify(current)) return;
    current = next;
    log.info(
      {
        istio: next.istio?.outboundPolicy.value ?? 'absent',
        osm: next.osm ? { egress: next.osm.enableEgress.value, policy: next.osm.enableEgressPolicy.value } : 'absent',
        notes: next.notes,
      },
      'mesh settings read',
    );
    deps.changed();
  };

  const read = async (): Promise<void> => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    do {
      again = false;
      if (!life.ended()) await readOnce();
    } while (again && !life.ended());
    reading = false;
  };

  const poll = (): void => {
    void read();
    life.later(poll, timing.regatherMs);
  };

  /** Keeps a watch on one object open: reopened after the server closes it, with back-off after a failure. */
  const follow = (target: Target, namespace: string, name: string): void => {
    const watchNamed = api.watchNamed;
    if (!watchNamed) return;
    const streak = backoff(timing);
    let failing = false;
    const open = (): void => {
      if (life.ended()) return;
      const openedAt = life.now();
      const watch = watchNamed(target, namespace, name, {
        changed: () => {
          failing = false;
          void read();
        },
        ended: (err) => {
          const at = watches.indexOf(watch);
          if (at >= 0) watches.splice(at, 1);
          if (err && !failing)
            log.warn({ object: `${namespace}/${name}`, err: apiMessage(err).split('\n')[0] }, 'mesh settings watch failed; retrying');
          failing = err !== undefined;
          if (!err) streak.synced(openedAt);
          life.later(open, err ? streak.failed(life.now()) : timing.restartMinMs);
        },
      });
      watches.push(watch);
    };
    open();
  };

  return {
    start: () => {
      poll();
      follow(CONFIG_MAPS, loc.istioNamespace, loc.istioConfigMap);
      follow(CONFIG_MAPS, loc.istioNamespace, loc.injectorConfigMap);
      follow(meshConfigTarget(MESHCONFIG_VERSIONS[0]), loc.osmNamespace, loc.osmMeshConfig);
    },
    current: () => current,
    stop: () => {
      for (const w of watches.splice(0)) w.stop();
    },
  };
}
