/**
 * CIDR detection from ServiceCIDR objects (networking.k8s.io/v1beta1 in Kubernetes 1.32), on a
 * control plane of its own started with the MultiCIDRServiceAllocator feature: the shared one
 * serves no ServiceCIDR API, which is what the dry-run probe test needs.
 */
import { spawnSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startClusterView } from '../../src/cluster/view.ts';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { eventually } from '../support/kube.ts';

const assets = process.env.KUBEBUILDER_ASSETS;
const E2E = suite('e2e/service-cidr: the service range from ServiceCIDR objects');
const test = assets && process.env.EW_E2E_CLUSTER === 'envtest' ? E2E : E2E.skip;
if (!assets) process.stdout.write('e2e/service-cidr: skipped, needs KUBEBUILDER_ASSETS to start a control plane with ServiceCIDRs\n');

let plane: ControlPlane | undefined;
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
type Row = { kind: string; cidr: string; source: string; origin: string };

E2E.before(async () => {
  if (!assets || process.env.EW_E2E_CLUSTER !== 'envtest') return;
  plane = await startControlPlane({ assets, serviceCidrs: true, serviceClusterIpRange: '10.120.0.0/16' });
});

E2E.after(async () => {
  await plane?.stop();
});

test('the view reads the default ServiceCIDR and follows one added later', async () => {
  const kubeconfig = plane!.kubeconfig;
  const view = await startClusterView({ env: { KUBECONFIG: kubeconfig }, log: quiet, namespace: 'default' });
  try {
    assert.ok(await view.untilReady(60_000), JSON.stringify(view.status(), null, 2));
    const serviceRows = () => (view.status() as unknown as { cidrs: { ranges: Row[] } }).cidrs.ranges.filter((r) => r.kind === 'service');
    await eventually('the default ServiceCIDR is detected', () =>
      serviceRows().some((r) => r.cidr === '10.120.0.0/16') ? true : undefined,
    );
    assert.equal(
      serviceRows().map((r) => [r.cidr, r.source, r.origin]),
      [['10.120.0.0/16', 'ServiceCIDR', 'ServiceCIDR/kubernetes']],
    );

    const extra = {
      apiVersion: 'networking.k8s.io/v1beta1',
      kind: 'ServiceCIDR',
      metadata: { name: 'extra' },
      spec: { cidrs: ['10.121.0.0/16'] },
    };
    const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'create', '-f', '-'], { input: JSON.stringify(extra), encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    await eventually('the added ServiceCIDR is detected', () => (serviceRows().some((x) => x.cidr === '10.121.0.0/16') ? true : undefined));
    assert.equal(
      serviceRows()
        .map((x) => x.origin)
        .sort(),
      ['ServiceCIDR/extra', 'ServiceCIDR/kubernetes'],
    );
  } finally {
    await view.stop();
  }
});

E2E.run();
