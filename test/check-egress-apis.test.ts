import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../src/admission/types.ts';
import { checkItems } from '../src/check/items.ts';
import { snapshotWith } from './support.ts';

const Check = suite('check: the newer egress kinds judged against the other objects of the set, whatever the order');

const item = (object: KubeObject, n: number) => ({ object, file: 'egress.yaml', line: n * 10 + 1, lineOf: () => n * 10 + 1 });
const codes = (objects: KubeObject[]) => {
  const report = checkItems(objects.map(item), snapshotWith([]), { namespace: 'default', mode: 'enforce' });
  return report.findings.map((f) => `${f.kind}/${f.name} ${f.code}`).sort();
};

const sidecar = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: { name, namespace: 'shop' },
  spec,
});
const entry: KubeObject = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name: 'api', namespace: 'egress', labels: { 'istio.io/use-waypoint': 'egress-waypoint' } },
  spec: {
    hosts: ['api.example.com'],
    ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
    resolution: 'DNS',
    location: 'MESH_EXTERNAL',
  },
};
const waypoint = (cls: string): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'egress-waypoint', namespace: 'egress' },
  spec: { gatewayClassName: cls, listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
});

Check('two Sidecars without selector in one file: each is told of the other (getSidecarScope, IST0111), in either order', () => {
  const a = sidecar('a', { egress: [{ hosts: ['./*'] }] });
  const b = sidecar('b', { egress: [{ hosts: ['*/*'] }] });
  assert.equal(codes([a, b]), ['Sidecar/a EW611', 'Sidecar/b EW611']);
  assert.equal(codes([b, a]), ['Sidecar/a EW611', 'Sidecar/b EW611']);
});

Check('a ServiceEntry on a waypoint is checked against the Gateways of the set (fetchWaypointForService), not without them', () => {
  assert.equal(codes([entry, waypoint('istio-waypoint')]), []);
  assert.equal(codes([waypoint('istio'), entry]), ['ServiceEntry/api EW626']);
  // no Gateway in the set: the waypoints are not known, nothing is said about them
  assert.equal(codes([entry]), []);
});

Check('a route to a ServiceEntry and an EgressNetwork declared in the same set (referenceAllowed, Linkerd outbound index)', () => {
  const network: KubeObject = {
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'EgressNetwork',
    metadata: { name: 'internet', namespace: 'egress' },
    spec: { trafficPolicy: 'Deny' },
  };
  const route: KubeObject = {
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind: 'TLSRoute',
    metadata: { name: 'api', namespace: 'egress' },
    spec: {
      parentRefs: [
        { group: 'networking.istio.io', kind: 'ServiceEntry', name: 'api', port: 443 },
        { group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'internet', port: 443 },
      ],
      rules: [{ backendRefs: [{ group: 'networking.istio.io', kind: 'Hostname', name: 'api.example.com', port: 443 }] }],
    },
  };
  assert.equal(codes([route, entry, network]), []);
  // no EgressNetwork in the set: the networks are not known, the parent is not reported missing
  assert.equal(codes([route, entry]), []);
  assert.equal(codes([route, { ...network, metadata: { name: 'other', namespace: 'egress' } }, entry]), ['TLSRoute/api EW645']);
});

Check.run();
