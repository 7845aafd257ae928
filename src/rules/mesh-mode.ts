/**
 * Findings that depend on the mesh's own settings (cluster/mesh-config.ts), not on the object
 * alone: an OSM Egress that the MeshConfig makes pointless. Silent when the settings were not read
 * or the mesh is not installed: absence of evidence is no finding.
 */
import type { KubeObject } from '../admission/types.ts';
import { finding, ok, type Result } from '../catalogue/result.ts';
import type { RuleContext } from './rule.ts';

export function egressUnderMeshConfig(_obj: KubeObject, { snapshot }: Pick<RuleContext, 'snapshot'>): Result {
  const osm = snapshot.mesh.osm;
  if (!osm) return ok;
  if (osm.enableEgress.value) {
    return finding('EW347', 'spec', `egress is open to all (enableEgress true, ${osm.enableEgress.from}): this Egress restricts nothing`);
  }
  if (!osm.enableEgressPolicy.value) {
    return finding('EW346', 'spec', `egress policy is off (enableEgressPolicy false, ${osm.enableEgressPolicy.from}): OSM ignores this Egress`);
  }
  return ok;
}
