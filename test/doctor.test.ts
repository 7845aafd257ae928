import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../src/admission/types.ts';
import type { AdminApi } from '../src/cluster/admin.ts';
import type { ClusterApi } from '../src/cluster/api.ts';
import { chainTrusted, doctorCommand, registeredPath, selects } from '../src/commands/doctor.ts';
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
  const selector = {
    matchExpressions: [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] },
      { key: 'egress-warden.io/ignore', operator: 'DoesNotExist' },
    ],
  };
  assert.ok(selects(selector, { 'kubernetes.io/metadata.name': 'shop' }));
  assert.not.ok(selects(selector, { 'kubernetes.io/metadata.name': 'kube-system' }));
  assert.not.ok(selects(selector, { 'kubernetes.io/metadata.name': 'shop', 'egress-warden.io/ignore': '' }));
  assert.ok(selects(undefined, {}));
});

/** A cluster as the doctor sees it: objects by "Kind/namespace/name", and how writes and reviews are answered. */
function fakeCluster(
  objects: readonly KubeObject[],
  opts: { dryRun?: string; allowed?: boolean; served?: string[]; forbidden?: string[] } = {},
): AdminApi {
  const byKey = new Map(objects.map((o) => [`${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`, o]));
  const cluster: ClusterApi = {
    server: 'https://fake',
    namespace: 'default',
    discover: async () => new Map(),
    list: async () => [],
    informer: () => {
      throw new Error('no informers here');
    },
    getConfigMap: async () => undefined,
    dryRunService: async () => undefined,
  };
  return {
    source: 'fake cluster',
    namespace: 'default',
    cluster: () => cluster,
    get: async (_v, kind, name, ns) => {
      if (opts.forbidden?.includes(kind)) throw Object.assign(new Error(`${kind.toLowerCase()}s "${name}" is forbidden`), { code: 403 });
      return byKey.get(`${kind}/${ns ?? ''}/${name}`);
    },
    listNamespaces: async () => objects.filter((o) => o.kind === 'Namespace'),
    dryRunCreate: async () => opts.dryRun,
    canI: async () => ({ allowed: opts.allowed ?? true, reason: '' }),
    servedChain: async () => opts.served ?? [],
  };
}

const crd = (name: string): KubeObject => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } });
const MESH_CRDS = ['serviceentries.networking.istio.io', 'virtualservices.networking.istio.io', 'egresses.policy.openservicemesh.io'].map(
  crd,
);
const secret = (pems: typeof dev): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'egress-warden-tls', namespace: 'egress-warden' },
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

Doctor('preflight counts only the namespaces the installation would send to the webhooks', async () => {
  const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
  });
  const fresh = ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'istio-system'].map((n) => ns(n));
  const r = await doctor(fakeCluster([...MESH_CRDS, ...fresh, ns('legacy', { 'egress-warden.io/ignore': '' })]), '--preflight');
  assert.match(r.out, /namespaces\s+6 namespaces, 2 would be sent to the webhooks \(2 enforce\)/);
});

Doctor('preflight says which objects of the installation you may not create', async () => {
  const r = await doctor(fakeCluster(MESH_CRDS, { allowed: false }), '--preflight');
  assert.is(r.code, 1);
  assert.match(r.out, /FAIL\s+RBAC\s+you may not create/);
  assert.match(r.out, /create validatingwebhookconfigurations\.admissionregistration\.k8s\.io/);
});

Doctor('a healthy in-cluster install passes every check and exits 0', async () => {
  const installed = renderInstallation({ caPem: dev.caCert, tokens: [TOKEN] });
  const r = await doctor(fakeCluster([...MESH_CRDS, ...installed, secret(dev)], { dryRun: DENIED }));
  assert.is(r.code, 0, r.out);
  for (const check of ['CRDs', 'webhooks', 'caBundle', 'certificate', 'token', 'reachable', 'RBAC', 'namespaces'])
    assert.match(r.out, new RegExp(`ok\\s+${check}\\s`));
  assert.match(r.out, /ok\s+token\s+every webhook path carries a token the server holds \(Secret egress-warden\/egress-warden-token\)/);
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

const TOKEN = 'tok0123456789abcdefghijklmnopqrstuvwxyz-abcd';
const OTHER = 'oth0123456789abcdefghijklmnopqrstuvwxyz-abcd';

/** An in-cluster install whose webhooks were rendered with one token and whose Secret holds others. */
function installedWith(registered: string, held: readonly string[]): KubeObject[] {
  const secretOf = renderInstallation({ caPem: dev.caCert, tokens: [...held] }).filter((o) => o.kind === 'Secret');
  return [...renderInstallation({ caPem: dev.caCert, tokens: [registered] }).filter((o) => o.kind !== 'Secret'), ...secretOf];
}

const Token = suite('doctor: the caller token in the webhook paths');

Token('a registered path is read as its endpoint and the token after it, also behind a URL prefix', () => {
  assert.equal(registeredPath({ clientConfig: { service: { path: `/validate/${TOKEN}` } } }), {
    path: `/validate/${TOKEN}`,
    endpoint: 'validate',
    token: TOKEN,
  });
  assert.equal(registeredPath({ clientConfig: { url: `https://h:9443/x/mutate/${TOKEN}` } }), {
    path: `/x/mutate/${TOKEN}`,
    endpoint: 'mutate',
    token: TOKEN,
  });
  assert.equal(registeredPath({ clientConfig: { service: { path: '/validate' } } }), { path: '/validate', endpoint: 'validate' });
  assert.equal(registeredPath({ clientConfig: { service: { path: '/review' } } }), { path: '/review' });
});

Token('webhooks that call with a token the server does not hold fail, named, with the fix', async () => {
  const r = await doctor(fakeCluster([...MESH_CRDS, ...installedWith(OTHER, [TOKEN]), secret(dev)], { dryRun: DENIED }));
  assert.is(r.code, 1);
  assert.match(
    r.out,
    /FAIL\s+token\s+validate\.egress-warden\.io, namespaces\.egress-warden\.io, mutate\.egress-warden\.io call with a token that Secret egress-warden\/egress-warden-token does not hold/,
  );
  assert.match(r.out, /fix: render the configurations with the server's token/);
  assert.match(r.out, /kubectl -n egress-warden get secret egress-warden-token -o jsonpath='\{\.data\.token\}' \| base64 -d > token/);
});

Token('during a rotation the registered token may be any line of the Secret, and doctor says what is left to do', async () => {
  const r = await doctor(fakeCluster([...MESH_CRDS, ...installedWith(OTHER, [TOKEN, OTHER]), secret(dev)], { dryRun: DENIED }));
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /ok\s+token\s+every webhook path carries a token the server holds/);
  assert.match(r.out, /holds 2 tokens, a rotation in progress/);
});

Token('bare paths are reported as authentication turned off, with the fix, and fail when the server holds a token', async () => {
  const off = await doctor(
    fakeCluster([...MESH_CRDS, ...renderInstallation({ caPem: dev.caCert, noToken: true }), secret(dev)], { dryRun: DENIED }),
  );
  assert.match(
    off.out,
    /WARN\s+token\s+caller authentication is off: no webhook path carries a token \(validate\.egress-warden\.io, namespaces\.egress-warden\.io, mutate\.egress-warden\.io\)/,
  );
  assert.match(off.out, /read-your-writes is off/);
  assert.match(off.out, /fix: render the installation without --no-token/);
  const held = renderInstallation({ caPem: dev.caCert, tokens: [TOKEN] }).filter((o) => o.kind === 'Secret');
  const refused = await doctor(
    fakeCluster([...MESH_CRDS, ...renderInstallation({ caPem: dev.caCert, noToken: true }), ...held, secret(dev)], { dryRun: DENIED }),
  );
  assert.is(refused.code, 1);
  assert.match(refused.out, /FAIL\s+token\s+no webhook path carries a caller token, but the server holds one/);
});

Token('a token path without the token Secret fails: the server has no token to accept', async () => {
  const r = await doctor(
    fakeCluster(
      [...MESH_CRDS, ...renderInstallation({ caPem: dev.caCert, tokens: [TOKEN] }).filter((o) => o.kind !== 'Secret'), secret(dev)],
      { dryRun: DENIED },
    ),
  );
  assert.is(r.code, 1);
  assert.match(r.out, /FAIL\s+token\s+the webhook paths carry a token, but no Secret egress-warden\/egress-warden-token/);
});

Token('a Secret doctor may not read leaves the token uncompared, and --token-file compares with the file instead', async () => {
  const objects = [...MESH_CRDS, ...installedWith(TOKEN, [TOKEN]), secret(dev)];
  const forbidden = await doctor(fakeCluster(objects, { dryRun: DENIED, forbidden: ['Secret'] }));
  assert.match(forbidden.out, /ok\s+token\s+every webhook path carries a caller token/);
  assert.match(forbidden.out, /not compared with the server's: cannot read Secret egress-warden\/egress-warden-token/);
  const dir = mkdtempSync(join(tmpdir(), 'ew-doctor-'));
  try {
    writeFileSync(join(dir, 'token'), `${OTHER}\n`);
    const r = await doctor(fakeCluster(objects, { dryRun: DENIED, forbidden: ['Secret'] }), '--token-file', join(dir, 'token'));
    assert.is(r.code, 1);
    assert.match(
      r.out,
      new RegExp(`FAIL\\s+token\\s+.* call with a token that ${join(dir, 'token').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not hold`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Token('a server registered by URL is compared with --token-file, the file `serve --token-file` reads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-doctor-'));
  try {
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const installed = renderInstallation({ url: 'https://127.0.0.1:9443', caPem: dev.caCert, tokens: [TOKEN] });
    const uncompared = await doctor(fakeCluster([...MESH_CRDS, ...installed]));
    assert.match(uncompared.out, /ok\s+token\s+every webhook path carries a caller token/);
    assert.match(uncompared.out, /pass --token-file FILE/);
    const same = await doctor(fakeCluster([...MESH_CRDS, ...installed]), '--token-file', join(dir, 'token'));
    assert.match(same.out, /ok\s+token\s+every webhook path carries a token the server holds/);
    const mutateOnly = renderInstallation({ url: 'https://127.0.0.1:9443', caPem: dev.caCert, tokens: [OTHER] }).filter(
      (o) => o.kind === 'MutatingWebhookConfiguration',
    );
    const mixed = [...installed.filter((o) => o.kind !== 'MutatingWebhookConfiguration'), ...mutateOnly];
    const wrong = await doctor(fakeCluster([...MESH_CRDS, ...mixed]), '--token-file', join(dir, 'token'));
    assert.match(wrong.out, /FAIL\s+token\s+mutate\.egress-warden\.io calls with a token that .* does not hold: the server refuses it/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
Token.run();
