import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../src/admission/types.ts';
import { cidrsCommand } from '../src/commands/cidrs.ts';
import { captureIo } from '../src/commands/io.ts';
import { apiServerSlice, endpointSlice, fakeApi, serve } from './cluster/fake-api.ts';
import { fixture } from './support.ts';

const node = (name: string, podCIDRs: string[]): KubeObject => ({
  ...fixture('cluster/node.json'),
  metadata: { name },
  spec: { podCIDRs },
});
const kubernetes: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'kubernetes', namespace: 'default' },
  spec: { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'] },
};

/** A control plane with no kubelet: nodes named, the API server's Service, and no pod behind a Service. */
function controlPlaneOnly(slices: KubeObject[] = [apiServerSlice('192.168.49.2')]) {
  const fake = fakeApi({
    Node: [node('cp', ['10.244.0.0/24'])],
    Service: [kubernetes],
    ServiceCIDR: [{ ...fixture('cluster/servicecidr.json'), spec: { cidrs: ['10.96.0.0/16'] } }],
    EndpointSlice: slices,
  });
  serve(fake, 'networking.k8s.io', 'servicecidrs', ['v1']);
  return cidrsCommand(async () => ({ api: fake.api, source: 'fake' }));
}

const Cidrs = suite('cidrs command');

Cidrs('says there are no pod IPs from EndpointSlices to check, and does not fail because of it', async () => {
  const io = captureIo();
  assert.is(await controlPlaneOnly()([], io), 0, io.stdout());
  assert.match(
    io.stdout(),
    '\nverification: 1 Services checked; no pod IPs from EndpointSlices to check; every address is inside the detected ranges\n',
  );
});

Cidrs('checks the pods behind Services and names one whose IP is outside the pod range', async () => {
  const io = captureIo();
  assert.is(
    await controlPlaneOnly([
      apiServerSlice('192.168.49.2'),
      endpointSlice('shop', 'web', 'IPv4', { 'web-1': '10.244.0.7', 'web-2': '100.64.3.2' }),
    ])([], io),
    1,
  );
  assert.match(
    io.stdout(),
    '\nverification: 2 pods and 1 Services checked; 1 pod and 0 Service addresses are OUTSIDE the detected ranges:\n  pod shop/web-2 100.64.3.2\n',
  );
});

Cidrs('reports the same in JSON', async () => {
  const io = captureIo();
  assert.is(await controlPlaneOnly()(['--output', 'json'], io), 0);
  const report = JSON.parse(io.stdout()) as { verification: { pods: { checked: number }; unchecked: string[] }; failed: string[] };
  assert.equal(
    [report.verification.pods.checked, report.verification.unchecked, report.failed],
    [0, ['no pod IPs from EndpointSlices to check'], []],
  );
});

Cidrs('shows the mesh settings with where each came from, and says when no mesh is installed', async () => {
  const fake = fakeApi({ Node: [node('cp', ['10.244.0.0/24'])], Service: [kubernetes] });
  const none = captureIo();
  await cidrsCommand(async () => ({ api: fake.api, source: 'fake' }))([], none);
  assert.match(none.stdout(), 'mesh: no Istio mesh config and no OSM MeshConfig found');
  fake.configMaps.set('istio-system/istio', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'istio-system', name: 'istio' },
    data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' },
  });
  const io = captureIo();
  await cidrsCommand(async () => ({ api: fake.api, source: 'fake' }))(['--output', 'json'], io);
  const report = JSON.parse(io.stdout()) as { mesh: { settings: { mesh: string; setting: string; value: string; from: string }[] } };
  assert.equal(report.mesh.settings[0], {
    mesh: 'istio',
    setting: 'outboundTrafficPolicy.mode',
    value: 'REGISTRY_ONLY',
    from: 'ConfigMap istio-system/istio mesh.outboundTrafficPolicy.mode',
  });
});

Cidrs.run();
