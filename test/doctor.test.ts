import { X509Certificate } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../src/admission/types.ts';
import type { AdminApi } from '../src/cluster/admin.ts';
import type { ClusterApi } from '../src/cluster/api.ts';
import { chainTrusted, doctorCommand, selects } from '../src/commands/doctor.ts';
import { captureIo } from '../src/commands/io.ts';
import { renderInstallation } from '../src/manifests/install.ts';
import { generateCertificates } from '../src/tls.ts';

const names = { service: 'egress-warden', namespace: 'egress-warden', days: 30 };
const [dev, other] = await Promise.all([generateCertificates(names), generateCertificates(names)]);
const x509 = (pem: string) => new X509Certificate(pem);

const Trust = suite('doctor: the served certificate against caBundle');

Trust('a certificate is trusted by the CA that signed it, in a bundle with others, and by no other CA', () => {
  assert.ok(chainTrusted([x509(dev.cert)], [x509(dev.caCert)]));
  assert.ok(chainTrusted([x509(dev.cert)], [x509(other.caCert), x509(dev.caCert)]));
  assert.not.ok(chainTrusted([x509(dev.cert)], [x509(other.caCert)]));
  assert.ok(chainTrusted([x509(dev.cert), x509(dev.caCert)], [x509(dev.caCert)]), 'a chain ending in the bundle');
});

Trust('label selectors are read as the API server reads them', () => {
  const selector = { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }, { key: 'egress-warden.io/ignore', operator: 'DoesNotExist' }] };
  assert.ok(selects(selector, { 'kubernetes.io/metadata.name': 'shop' }));
  assert.not.ok(selects(selector, { 'kubernetes.io/metadata.name': 'kube-system' }));
  assert.not.ok(selects(selector, { 'kubernetes.io/metadata.name': 'shop', 'egress-warden.io/ignore': '' }));
  assert.ok(selects(undefined, {}));
});

/** A cluster as the doctor sees it: objects by "Kind/namespace/name", and how writes and reviews are answered. */
function fakeCluster(objects: readonly KubeObject[], opts: { dryRun?: string; allowed?: boolean; served?: string[] } = {}): AdminApi {
  const byKey = new Map(objects.map((o) => [`${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`, o]));
  const cluster: ClusterApi = {
    server: 'https://fake', namespace: 'default', discover: async () => new Map(), list: async () => [],
    informer: () => { throw new Error('no informers here'); }, getConfigMap: async () => undefined, dryRunService: async () => undefined,
  };
  return {
    source: 'fake cluster', namespace: 'default', cluster: () => cluster,
    get: async (_v, kind, name, ns) => byKey.get(`${kind}/${ns ?? ''}/${name}`),
    listNamespaces: async () => objects.filter((o) => o.kind === 'Namespace'),
    dryRunCreate: async () => opts.dryRun,
    canI: async () => ({ allowed: opts.allowed ?? true, reason: '' }),
    servedChain: async () => opts.served ?? [],
  };
}

const crd = (name: string): KubeObject => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } });
const MESH_CRDS = ['serviceentries.networking.istio.io', 'virtualservices.networking.istio.io', 'egresses.policy.openservicemesh.io'].map(crd);
const secret = (pems: typeof dev): KubeObject => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name: 'egress-warden-tls', namespace: 'egress-warden' },
  data: { 'tls.crt': Buffer.from(pems.cert).toString('base64') },
});
const DENIED = 'admission webhook "namespaces.egress-warden.io" denied the request: [EW501] bypass';

async function doctor(api: AdminApi, ...argv: string[]) {
  const io = captureIo();
  const code = await doctorCommand(async () => api)(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const Doctor = suite('doctor: checks and exit status');

Doctor('preflight with --cert-manager on a cluster without cert-manager fails and says to install it first', async () => {
  const r = await doctor(fakeCluster(MESH_CRDS), '--preflight', '--cert-manager');
  assert.is(r.code, 1);
  assert.match(r.out, /FAIL\s+cert-manager\s+cert-manager is not installed/);
  assert.match(r.out, /fix: install cert-manager/);
  assert.match(r.out, /ok\s+webhooks\s+not installed yet/);
  assert.match(r.out, /ok\s+RBAC\s+you may create every object of the installation/);
});

Doctor('preflight says which objects of the installation you may not create', async () => {
  const r = await doctor(fakeCluster(MESH_CRDS, { allowed: false }), '--preflight');
  assert.is(r.code, 1);
  assert.match(r.out, /FAIL\s+RBAC\s+you may not create/);
  assert.match(r.out, /create validatingwebhookconfigurations\.admissionregistration\.k8s\.io/);
});

Doctor('a healthy in-cluster install passes every check and exits 0', async () => {
  const installed = renderInstallation({ caPem: dev.caCert });
  const r = await doctor(fakeCluster([...MESH_CRDS, ...installed, secret(dev)], { dryRun: DENIED }));
  assert.is(r.code, 0, r.out);
  for (const check of ['CRDs', 'webhooks', 'caBundle', 'certificate', 'reachable', 'RBAC', 'namespaces']) assert.match(r.out, new RegExp(`ok\\s+${check}\\s`));
  assert.match(r.out, /fails open \(Ignore\)/);
  assert.match(r.out, /--failure-policy Fail/);
});

Doctor('a certificate from another CA, an unreachable webhook and missing permissions each fail with a fix', async () => {
  const installed = renderInstallation({ caPem: dev.caCert });
  const r = await doctor(fakeCluster([...MESH_CRDS, ...installed, secret(other)], { allowed: false }));
  assert.is(r.code, 1);
  assert.match(r.out, /FAIL\s+certificate\s+.*not signed by a CA in caBundle/);
  assert.match(r.out, /FAIL\s+reachable\s+the API server did not get an answer/);
  assert.match(r.out, /FAIL\s+RBAC\s+system:serviceaccount:egress-warden:egress-warden: \d+ of \d+ permissions missing/);
});

Doctor('the JSON report lists every check with its status, and bad usage exits 2', async () => {
  const r = await doctor(fakeCluster(MESH_CRDS), '--output', 'json');
  const report = JSON.parse(r.out) as { checks: { name: string; status: string }[] };
  assert.equal(report.checks.find((c) => c.name === 'webhooks')?.status, 'fail');
  assert.is(r.code, 1);
  assert.is((await doctor(fakeCluster([]), '--output', 'yaml')).code, 2);
});

Trust.run();
Doctor.run();
