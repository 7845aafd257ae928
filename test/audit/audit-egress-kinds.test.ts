/**
 * `egress-warden audit` over the newer egress kinds: it lists only the judged kinds, and the
 * cluster's snapshot supplies what they read (waypoint Gateways, the other Sidecars).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { audit } from '../../src/audit/audit.ts';
import { snapshotFromObjects } from '../../src/cluster/indexes.ts';
import { cidrsOf } from '../support.ts';

const Audit = suite('audit: the newer egress kinds against what the cluster holds');

const entry = (waypointName: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name: 'api', namespace: 'egress', labels: { 'istio.io/use-waypoint': waypointName } },
  spec: {
    hosts: ['api.example.com'],
    addresses: ['203.0.113.7'],
    location: 'MESH_EXTERNAL',
    resolution: 'STATIC',
    endpoints: [{ address: '203.0.113.7' }],
    ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
  },
});
const gateway = (name: string): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace: 'egress', labels: { 'istio.io/waypoint-for': 'service' } },
  spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
});
const sidecar = (name: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: { name, namespace: 'shop', creationTimestamp: `2026-01-0${name === 'first' ? 1 : 2}T00:00:00Z` },
  spec: { egress: [{ hosts: ['./*', 'istio-system/*'] }] },
});
const codes = (objects: KubeObject[], stored: KubeObject[]) =>
  audit(objects, [], snapshotFromObjects(stored, cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']))).findings.map((f) => f.code);

Audit('a ServiceEntry bound to a waypoint the cluster does not have is reported, and not once the Gateway exists', () => {
  const cluster = [gateway('other')];
  assert.ok(codes([entry('egress-waypoint')], [entry('egress-waypoint'), ...cluster]).includes('EW625'));
  assert.not.ok(codes([entry('egress-waypoint')], [entry('egress-waypoint'), ...cluster, gateway('egress-waypoint')]).includes('EW625'));
});

Audit('a stored Sidecar is not counted twice when audit judges it against the snapshot that also holds it', () => {
  const one = [sidecar('first')];
  assert.not.ok(codes(one, one).includes('EW611'));
  const two = [sidecar('first'), sidecar('second')];
  assert.ok(codes(two, two).includes('EW611'));
});

Audit.run();
