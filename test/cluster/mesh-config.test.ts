import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { DEFAULT_MESH_LOCATIONS, meshConfigFrom, meshLocations, meshRows } from '../../src/cluster/mesh-config.ts';

const MeshConfig = suite('mesh settings: where each mesh keeps its egress mode, read with where each value came from');

const istio = (mesh: string, ns = 'istio-system'): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: ns, name: 'istio' }, data: { mesh } }) as KubeObject;
const injector = (values: object): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'istio-system', name: 'istio-sidecar-injector' },
    data: { values: JSON.stringify(values) },
  }) as KubeObject;
const osm = (spec: object): KubeObject =>
  ({
    apiVersion: 'config.openservicemesh.io/v1alpha2',
    kind: 'MeshConfig',
    metadata: { namespace: 'osm-system', name: 'osm-mesh-config' },
    spec,
  }) as KubeObject;

MeshConfig('REGISTRY_ONLY in the istio ConfigMap is read and named by where it was set', () => {
  const m = meshConfigFrom([istio('outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n')], DEFAULT_MESH_LOCATIONS);
  assert.equal(m.istio?.outboundPolicy, { value: 'REGISTRY_ONLY', from: 'ConfigMap istio-system/istio mesh.outboundTrafficPolicy.mode' });
  assert.is(m.osm, undefined);
});

MeshConfig("an istio ConfigMap without an outbound policy means Istio's default ALLOW_ANY, said to be a default", () => {
  const m = meshConfigFrom([istio('accessLogFile: /dev/stdout\n')], DEFAULT_MESH_LOCATIONS);
  assert.is(m.istio?.outboundPolicy.value, 'ALLOW_ANY');
  assert.match(m.istio!.outboundPolicy.from, /^default/);
});

MeshConfig("the injector's mesh-wide include and exclude ranges are read from its values", () => {
  const m = meshConfigFrom(
    [injector({ global: { proxy: { includeIPRanges: '10.0.0.0/8', excludeIPRanges: '10.1.0.0/16' } } })],
    DEFAULT_MESH_LOCATIONS,
  );
  assert.is(m.istio?.includeIPRanges.value, '10.0.0.0/8');
  assert.is(m.istio?.excludeIPRanges.value, '10.1.0.0/16');
  assert.is(m.istio?.outboundPolicy.value, 'ALLOW_ANY');
});

MeshConfig('OSM egress switches are read from the MeshConfig; unset switches are false as OSM reads them', () => {
  const m = meshConfigFrom([osm({ traffic: { enableEgress: false }, featureFlags: { enableEgressPolicy: true } })], DEFAULT_MESH_LOCATIONS);
  assert.equal(m.osm?.enableEgress, { value: false, from: 'MeshConfig osm-system/osm-mesh-config spec.traffic.enableEgress' });
  assert.is(m.osm?.enableEgressPolicy.value, true);
  const bare = meshConfigFrom([osm({})], DEFAULT_MESH_LOCATIONS);
  assert.is(bare.osm?.enableEgressPolicy.value, false);
  assert.match(bare.osm!.enableEgressPolicy.from, /^default false/);
});

MeshConfig('no mesh objects: neither mesh is there, and that is no error', () => {
  const m = meshConfigFrom([], DEFAULT_MESH_LOCATIONS);
  assert.equal({ read: m.read, istio: m.istio, osm: m.osm, notes: m.notes }, { read: true, istio: undefined, osm: undefined, notes: [] });
  assert.equal(meshRows(m), []);
});

MeshConfig('the places looked in move with the environment', () => {
  const loc = meshLocations({ EW_ISTIO_NAMESPACE: 'istio-1', EW_OSM_NAMESPACE: 'mesh' });
  assert.is(loc.istioNamespace, 'istio-1');
  assert.is(loc.osmNamespace, 'mesh');
  const m = meshConfigFrom([istio('outboundTrafficPolicy: {mode: REGISTRY_ONLY}', 'istio-1')], loc);
  assert.is(m.istio?.outboundPolicy.value, 'REGISTRY_ONLY');
  assert.is(meshConfigFrom([istio('outboundTrafficPolicy: {mode: REGISTRY_ONLY}', 'istio-1')], DEFAULT_MESH_LOCATIONS).istio, undefined);
});

MeshConfig('mesh YAML that does not parse is a note and the defaults hold', () => {
  const m = meshConfigFrom([istio('outboundTrafficPolicy: [')], DEFAULT_MESH_LOCATIONS);
  assert.is(m.istio?.outboundPolicy.value, 'ALLOW_ANY');
  assert.is(m.notes.length, 1);
});

MeshConfig.run();
