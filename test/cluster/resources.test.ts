import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_MESH_LOCATIONS } from '../../src/cluster/mesh-config.ts';
import {
  ACCESS,
  CIDR_CONFIGMAPS,
  ENDPOINT_SLICES,
  PODS,
  WATCHED,
  chooseVersion,
  collectionPath,
  resourceName,
} from '../../src/cluster/resources.ts';

const Resources = suite('cluster/resources');

const grants = (group: string, resource: string, verb: string, namespace?: string) =>
  ACCESS.some((a) => a.group === group && a.resource === resource && a.verbs.includes(verb) && a.namespace === namespace);

Resources('grants list and watch together, cluster-wide, on every watched resource', () => {
  for (const w of WATCHED) {
    const rows = ACCESS.filter(
      (a) => a.group === w.group && a.resource === w.resource && a.namespace === undefined && a.verbs.includes('watch'),
    );
    assert.equal(
      rows.map((a) => [...a.verbs]),
      [['list', 'watch']],
      resourceName(w),
    );
  }
});

Resources('grants only what CIDR detection calls: list EndpointSlices, get two ConfigMaps, create Services in its own namespace', () => {
  assert.ok(grants(ENDPOINT_SLICES.group, ENDPOINT_SLICES.resource, 'list'));
  const cm = ACCESS.find((a) => a.resource === 'configmaps' && a.namespace === CIDR_CONFIGMAPS.namespace)!;
  assert.equal(
    [cm.verbs, cm.namespace, cm.resourceNames],
    [['get'], CIDR_CONFIGMAPS.namespace, [CIDR_CONFIGMAPS.kubeadm, CIDR_CONFIGMAPS.kubeProxy]],
  );
  assert.ok(grants('', 'services', 'create', 'self'));
});

Resources('holds no access that nothing uses', () => {
  const used = new Set([
    ...WATCHED.map((w) => `${w.group}/${w.resource}/*/list,watch`),
    'discovery.k8s.io/endpointslices/*/list',
    `/namespaces/*/get`,
    `/configmaps/kube-system/get`,
    `/services/self/create`,
    '/configmaps/*/get,list,watch',
    'config.openservicemesh.io/meshconfigs/*/get,list,watch',
    'coordination.k8s.io/leases/self/get,update',
    'coordination.k8s.io/leases/self/create',
    'wgpolicyk8s.io/policyreports/*/get,list,create,update,delete',
    'wgpolicyk8s.io/clusterpolicyreports/*/get,list,create,update,delete',
    'openreports.io/reports/*/get,list,create,update,delete',
    'openreports.io/clusterreports/*/get,list,create,update,delete',
    'events.k8s.io/events/*/create',
  ]);
  for (const a of ACCESS) assert.ok(used.has(`${a.group}/${a.resource}/${a.namespace ?? '*'}/${a.verbs.join(',')}`), JSON.stringify(a));
  assert.is(ACCESS.length, used.size);
});

Resources(
  "never reads pods, whose specs carry their environment and so Secrets: only the CLI reads them, with its user's credentials",
  () => {
    assert.equal(
      ACCESS.filter((a) => a.group === PODS.group && a.resource === PODS.resource),
      [],
    );
    assert.not.ok(WATCHED.some((w) => w.kind === PODS.kind));
  },
);

Resources("reads and watches the meshes' settings by name only, under the names the meshes install them with", () => {
  const byName = ACCESS.filter((a) => a.namespace === undefined && a.verbs.join() === 'get,list,watch' && a.resourceNames !== undefined);
  assert.equal(
    byName.map((a) => a.resourceNames),
    [[DEFAULT_MESH_LOCATIONS.istioConfigMap, DEFAULT_MESH_LOCATIONS.injectorConfigMap], [DEFAULT_MESH_LOCATIONS.osmMeshConfig]],
  );
});

Resources('opens ServiceCIDRs on v1, else v1beta1, and CRDs on their preferred served version', () => {
  const sc = WATCHED.find((w) => w.kind === 'ServiceCIDR')!;
  const se = WATCHED.find((w) => w.kind === 'ServiceEntry')!;
  assert.is(chooseVersion(sc, new Map([['servicecidrs.networking.k8s.io', ['v1beta1', 'v1']]])), 'v1');
  assert.is(chooseVersion(sc, new Map([['servicecidrs.networking.k8s.io', ['v1beta1']]])), 'v1beta1');
  assert.is(chooseVersion(sc, new Map([['servicecidrs.networking.k8s.io', ['v1alpha1']]])), undefined);
  assert.is(chooseVersion(se, new Map([['serviceentries.networking.istio.io', ['v1beta1', 'v1', 'v1alpha3']]])), 'v1beta1');
  assert.is(chooseVersion(se, new Map()), undefined);
  assert.is(collectionPath({ ...se, version: 'v1' }), '/apis/networking.istio.io/v1/serviceentries');
  assert.is(collectionPath(PODS), '/api/v1/pods');
  assert.is(collectionPath(ENDPOINT_SLICES), '/apis/discovery.k8s.io/v1/endpointslices');
});

Resources.run();
