/**
 * Findings that depend on the mesh's own settings (cluster/mesh-config.ts), not on the object
 * alone: an OSM Egress that the MeshConfig makes pointless, an external host a VirtualService names
 * that a REGISTRY_ONLY mesh (or the namespace's Sidecar) will not let out. Silent when the settings were not read
 * or the mesh is not installed: absence of evidence is no finding.
 */
import type { KubeObject } from '../admission/types.ts';
import { MESH_OBJECTS } from '../catalogue/namespaces.ts';
import { finding, merge, ok, type Result } from '../catalogue/result.ts';
import { asArr, asObj, asStr, onlyStrs } from '../json.ts';
import { snapshotLookup } from './egress-records.ts';
import { coveringHosts, isIpAddress } from './fields.ts';
import type { RuleContext } from './rule.ts';
import { decidingSidecar, type OutboundPolicy, outboundPolicyFor } from './sidecar-scope.ts';

export function egressUnderMeshConfig(_obj: KubeObject, { snapshot }: Pick<RuleContext, 'snapshot'>): Result {
  const osm = snapshot.mesh.osm;
  if (!osm) return ok;
  if (osm.enableEgress.value) {
    return finding('EW349', 'spec', `this Egress restricts nothing: OSM lets all egress out (enableEgress true, ${osm.enableEgress.from})`);
  }
  if (!osm.enableEgressPolicy.value) {
    return finding(
      'EW348',
      'spec',
      `OSM ignores this Egress: egress policy is off (enableEgressPolicy false, ${osm.enableEgressPolicy.from})`,
    );
  }
  return ok;
}

/** Whether an Istio object exported as `exportTo` from `own` is seen in `namespace`: empty or * everywhere, . its own namespace, ~ nowhere. */
export function exportedTo(exportTo: readonly string[], own: string, namespace: string): boolean {
  if (exportTo.length === 0 || exportTo.includes('*')) return true;
  return exportTo.some((e) => (e === '.' ? own === namespace : e === namespace));
}

/** Names Istio resolves inside the cluster: short names, namespace-qualified names, *.svc and *.cluster.local. */
function inCluster(host: string, snapshot: RuleContext['snapshot']): boolean {
  if (!host.includes('.') || /(^|\.)svc(\.cluster\.local)?$/.test(host) || host.endsWith('.cluster.local')) return true;
  const labels = host.split('.');
  return labels.length === 2 && snapshot.namespaces.has(labels[1]!);
}

/**
 * The outbound policy of a namespace's workloads: its Sidecar without selector, else the mesh root
 * namespace's (istiod's getSidecarScope), overrides the mesh config's, either way. Sidecars with a
 * selector apply to some pods only and are left to `explain`, which asks about one pod.
 */
function namespacePolicy(snapshot: RuleContext['snapshot'], namespace: string): OutboundPolicy | undefined {
  const mesh = snapshot.mesh.istio?.outboundPolicy;
  const sidecars = snapshotLookup(snapshot).sidecars;
  if (!sidecars) return mesh;
  const everyPod = (ns: string) => sidecars(ns).filter((s) => s.selector === undefined);
  const root = MESH_OBJECTS.istioNamespace;
  return outboundPolicyFor(decidingSidecar({}, everyPod(namespace), namespace === root ? [] : everyPod(root)), mesh);
}

/**
 * Under REGISTRY_ONLY a VirtualService alone opens nothing: every external host it names (its
 * hosts, its route destinations) needs a ServiceEntry visible to its namespace. Gateway-bound
 * VirtualServices serve ingress and are left alone.
 */
export function virtualServiceUnderMeshConfig(
  obj: KubeObject,
  { snapshot, namespace }: Pick<RuleContext, 'snapshot' | 'namespace'>,
): Result {
  const spec = asObj(obj.spec);
  const gateways = onlyStrs(spec.gateways);
  if (gateways.length && !gateways.includes('mesh')) return ok;
  const ns = asStr(obj.metadata?.namespace) || namespace;
  const policy = namespacePolicy(snapshot, ns);
  if (policy?.value !== 'REGISTRY_ONLY') return ok;
  const named: { host: string; at: string }[] = onlyStrs(spec.hosts).map((host, i) => ({ host, at: `spec.hosts[${i}]` }));
  for (const type of ['http', 'tls', 'tcp'] as const) {
    asArr(spec[type]).forEach((route, r) =>
      asArr(asObj(route).route).forEach((d, k) => {
        const host = asStr(asObj(asObj(d).destination).host);
        if (host) named.push({ host, at: `spec.${type}[${r}].route[${k}].destination.host` });
      }),
    );
  }
  const seen = new Set<string>();
  const findings: Result[] = [];
  for (const { host, at } of named) {
    const h = host.toLowerCase();
    if (seen.has(h) || h === '*' || inCluster(h, snapshot) || isIpAddress(h)) continue;
    seen.add(h);
    const registered = coveringHosts(h).some((key) =>
      (snapshot.serviceEntriesByHost.get(key) ?? []).some((p) => exportedTo(p.entry.exportTo, p.entry.namespace, ns)),
    );
    if (!registered)
      findings.push(finding('EW407', at, `no ServiceEntry registers ${host}: REGISTRY_ONLY (${policy.from}) sends it to BlackHoleCluster`));
  }
  return merge(...findings);
}
