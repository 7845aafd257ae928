import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../src/admission/types.ts';
import { ACCESS, WATCHED, type Access } from '../src/cluster/resources.ts';
import { captureIo } from '../src/commands/io.ts';
import { runManifests } from '../src/commands/manifests.ts';
import {
  CERT_DIR, DEFAULT_IMAGE, ISTIO_INJECTOR, MUTATE_WEBHOOK, NAMESPACES_WEBHOOK, OBSERVE_WEBHOOK, SERVER_PORT, VALIDATE_WEBHOOK,
  renderInstallation, renderKustomization, type PolicyRule,
} from '../src/manifests/install.ts';
import { parseDocuments, toYaml } from '../src/yaml.ts';

// A self-signed P-256 CA valid until 2126: the file a user passes with --ca.
const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBqDCCAU2gAwIBAgIUNTmzx74LirPSTcFQloEJDeWrqFMwCgYIKoZIzj0EAwIw
IDEeMBwGA1UEAwwVZWdyZXNzLXdhcmRlbiB0ZXN0IENBMCAXDTI2MTEyMjE2MTQw
NloYDzIxMjYxMDI5MTYxNDA2WjAgMR4wHAYDVQQDDBVlZ3Jlc3Mtd2FyZGVuIHRl
c3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQHVhWSbYGBrIPcy4EFhOOb
fr0O+s7GLXFbfnjWxjSdfs0SIcAZ5hsR0UwUJ6o6zmu9oZmrdhVyD8ncUhhTPiJJ
o2MwYTAdBgNVHQ4EFgQUwGBVap4Ox68rYcNN61D5/q7mIbAwHwYDVR0jBBgwFoAU
wGBVap4Ox68rYcNN61D5/q7mIbAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8E
BAMCAgQwCgYIKoZIzj0EAwIDSQAwRgIhAJ0ktOr64H2zHfPbSXb+Nxnnwfdls0si
lmwlSDupjJBmAiEA+61Y+wR/qA6JCZCzItdb18zj2crGVDU2cuAUebMH5bM=
-----END CERTIFICATE-----
`;

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
type Webhook = {
  name: string; failurePolicy: string; timeoutSeconds: number; sideEffects: string; matchPolicy: string; reinvocationPolicy?: string;
  namespaceSelector?: Selector; objectSelector?: Selector;
  clientConfig: { caBundle?: string; url?: string; service?: { name: string; namespace: string; path: string; port: number } };
  rules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[];
};
type Any = Record<string, any>;

/** Label selector semantics as the API server applies them. */
function matches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return byLabel && (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'In': return has && values.includes(labels[key]!);
      case 'NotIn': return !has || !values.includes(labels[key]!);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: throw new Error(`unknown operator ${operator}`);
    }
  });
}

/** Labels the API server gives a namespace: kubernetes.io/metadata.name is always its name. */
const ns = (name: string, labels: Record<string, string> = {}) => ({ 'kubernetes.io/metadata.name': name, ...labels });

const find = (objects: readonly KubeObject[], kind: string, namespace?: string): Any[] =>
  objects.filter((o) => o.kind === kind && (namespace === undefined || o.metadata?.namespace === namespace)) as Any[];
const one = (objects: readonly KubeObject[], kind: string): Any => {
  const found = find(objects, kind);
  assert.is(found.length, 1, `expected one ${kind}`);
  return found[0]!;
};
const webhooks = (objects: readonly KubeObject[]): Webhook[] =>
  objects.flatMap((o) => (o.kind?.endsWith('WebhookConfiguration') ? (o.webhooks as Webhook[]) : []));
const webhook = (objects: readonly KubeObject[], name: string): Webhook => {
  const w = webhooks(objects).find((h) => h.name === name);
  if (!w) throw new Error(`no webhook ${name}`);
  return w;
};

/** Would the API server send a request for an object in this namespace to this webhook? Namespaces are judged on their own labels, old or new. */
function sees(w: Webhook, namespaceLabels: Record<string, string>, oldLabels = namespaceLabels): boolean {
  if (w.name === NAMESPACES_WEBHOOK) {
    return matches(w.namespaceSelector, namespaceLabels) && (matches(w.objectSelector, namespaceLabels) || matches(w.objectSelector, oldLabels));
  }
  return matches(w.namespaceSelector, namespaceLabels);
}

async function run(argv: string[]) {
  const io = captureIo();
  const code = await runManifests(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

function parsed(text: string): KubeObject[] {
  const r = parseDocuments(text);
  if ('error' in r) throw new Error(`line ${r.error.line}: ${r.error.message}`);
  return r.docs.map((d) => d.value as KubeObject);
}

const Render = suite('manifests/render');

Render('the rendered YAML parses back into exactly the objects that were rendered', () => {
  for (const options of [{}, { certManager: true }, { caPem: CA_PEM }, { url: 'https://127.0.0.1:9443', caPem: CA_PEM }]) {
    const objects = renderInstallation(options);
    assert.equal(parsed(toYaml(objects)), JSON.parse(JSON.stringify(objects)));
    for (const o of objects) assert.ok(o.apiVersion && o.kind && o.metadata?.name, `incomplete object ${JSON.stringify(o).slice(0, 80)}`);
  }
});

Render('the checked-in manifests/ are exactly what the renderer produces, with no stale files', () => {
  const files = renderKustomization();
  for (const f of files) {
    assert.is(readFileSync(join('manifests', f.path), 'utf8'), f.text,
      `manifests/${f.path} differs from the renderer: regenerate with \`node src/cli.ts manifests --write manifests\``);
    parsed(f.text);
  }
  const onDisk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? onDisk(join(dir, e.name)) : e.name.endsWith('.yaml') ? [relative('manifests', join(dir, e.name))] : []));
  assert.equal(onDisk('manifests').sort(), files.map((f) => f.path).sort());
});

Render('the default installation has every part an in-cluster webhook needs', () => {
  const kinds = renderInstallation().map((o) => o.kind);
  for (const kind of ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'Service',
    'PodDisruptionBudget', 'NetworkPolicy', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    assert.ok(kinds.includes(kind), `missing ${kind}`);
  }
  assert.is(kinds[0], 'Namespace', 'the namespace must be applied first');
  assert.ok(kinds.slice(-2).every((k) => k?.endsWith('WebhookConfiguration')), 'webhooks must be registered last');
});

Render('the image tag follows the package version', () => {
  const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  assert.is(DEFAULT_IMAGE, `egress-warden:${version}`);
});

const Selectors = suite('manifests/selectors');

for (const namespace of ['egress-warden', 'platform-webhooks']) {
  Selectors(`no webhook sees kube-system, kube-node-lease, its own namespace (${namespace}) or ignore-labelled namespaces`, () => {
    const objects = renderInstallation({ namespace });
    assert.is(webhooks(objects).length, 4);
    for (const w of webhooks(objects)) {
      for (const name of ['kube-system', 'kube-node-lease', namespace]) assert.not.ok(sees(w, ns(name)), `${w.name} sees ${name}`);
      assert.not.ok(sees(w, ns('shop', { 'egress-warden.io/ignore': 'true' })), `${w.name} sees an ignored namespace`);
      assert.not.ok(sees(w, ns('shop', { 'egress-warden.io/ignore': '' })), `${w.name} sees a namespace whose ignore label is empty`);
      for (const name of ['shop', 'default', 'istio-system']) assert.ok(sees(w, ns(name, { 'istio-injection': 'enabled' })), `${w.name} misses ${name}`);
    }
  });
}

Selectors('the namespace webhook still sees a namespace that drops its ignore label while being annotated', () => {
  const w = webhook(renderInstallation(), NAMESPACES_WEBHOOK);
  assert.ok(sees(w, ns('shop'), ns('shop', { 'egress-warden.io/ignore': 'true' })));
  assert.ok(sees(w, ns('shop', { 'egress-warden.io/ignore': 'true' }), ns('shop')), 'adding the ignore label is checked too');
  assert.not.ok(sees(w, ns('kube-system'), ns('kube-system')));
});

Selectors('the guarded objects cannot opt out with labels of their own', () => {
  for (const name of [VALIDATE_WEBHOOK, MUTATE_WEBHOOK]) {
    assert.is(webhook(renderInstallation(), name).objectSelector, undefined, `${name} has an objectSelector`);
  }
});

Selectors('--namespace-label confines every webhook to the labelled namespaces', async () => {
  const r = await run(['--url', 'https://127.0.0.1:9443', '--namespace-label', 'egress-warden.io/e2e=run-1']);
  assert.is(r.code, 0, r.err);
  for (const w of webhooks(parsed(r.out))) {
    assert.ok(sees(w, ns('t1', { 'egress-warden.io/e2e': 'run-1' })), `${w.name} misses the labelled namespace`);
    assert.not.ok(sees(w, ns('t1', { 'egress-warden.io/e2e': 'run-2' })), `${w.name} sees another run`);
    assert.not.ok(sees(w, ns('shop')), `${w.name} sees an unlabelled namespace`);
  }
});

const Webhooks = suite('manifests/webhooks');

Webhooks('egress objects are validated on create and update in every version, failing closed within 3 seconds', () => {
  const w = webhook(renderInstallation(), VALIDATE_WEBHOOK);
  assert.equal(w.rules.map((r) => [r.apiGroups, r.resources, r.apiVersions, r.operations]), [
    [['networking.istio.io'], ['serviceentries', 'virtualservices'], ['*'], ['CREATE', 'UPDATE']],
    [['policy.openservicemesh.io'], ['egresses'], ['*'], ['CREATE', 'UPDATE']],
  ]);
  assert.equal([w.failurePolicy, w.timeoutSeconds, w.matchPolicy, w.sideEffects], ['Fail', 3, 'Equivalent', 'None']);
  assert.is(w.clientConfig.service?.path, '/validate');
  assert.is(webhook(renderInstallation({ failurePolicy: 'Ignore' }), VALIDATE_WEBHOOK).failurePolicy, 'Ignore');
});

Webhooks('namespace annotations are validated without ever blocking a namespace change', () => {
  const w = webhook(renderInstallation(), NAMESPACES_WEBHOOK);
  assert.equal(w.rules.map((r) => [r.apiGroups, r.resources, r.operations]), [[[''], ['namespaces'], ['CREATE', 'UPDATE']]]);
  assert.equal([w.failurePolicy, w.timeoutSeconds, w.sideEffects, w.clientConfig.service?.path], ['Ignore', 3, 'None', '/validate']);
});

Webhooks('pods are mutated on create before Istio injects, again when it does, and never blocked', () => {
  const objects = renderInstallation();
  const config = one(objects, 'MutatingWebhookConfiguration');
  assert.ok(config.metadata.name < ISTIO_INJECTOR, `${config.metadata.name} does not sort before ${ISTIO_INJECTOR}`);
  const w = webhook(objects, MUTATE_WEBHOOK);
  assert.equal(w.rules.map((r) => [r.apiGroups, r.resources, r.operations]), [[[''], ['pods'], ['CREATE']]]);
  assert.equal([w.failurePolicy, w.reinvocationPolicy, w.timeoutSeconds, w.sideEffects, w.clientConfig.service?.path],
    ['Ignore', 'IfNeeded', 3, 'None', '/mutate']);
});

Webhooks('a configuration name that sorts after istio-sidecar-injector is refused', async () => {
  const r = await run(['--name', 'zz-egress']);
  assert.is(r.code, 2);
  assert.match(r.err, 'sorts after istio-sidecar-injector');
});

Webhooks('every webhook calls the Service on 443, which forwards to the port the server listens on', () => {
  const objects = renderInstallation();
  const svc = one(objects, 'Service');
  for (const w of webhooks(objects)) {
    assert.equal(w.clientConfig.service && [w.clientConfig.service.name, w.clientConfig.service.namespace, w.clientConfig.service.port],
      [svc.metadata.name, svc.metadata.namespace, 443]);
  }
  assert.equal(svc.spec.ports, [{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }]);
  const port = one(objects, 'Deployment').spec.template.spec.containers[0].ports[0];
  assert.equal([port.name, port.containerPort], ['https', SERVER_PORT]);
  assert.equal(one(objects, 'NetworkPolicy').spec.ingress, [{ ports: [{ protocol: 'TCP', port: SERVER_PORT }] }]);
});

const Rbac = suite('manifests/rbac');

const grants = (rules: readonly PolicyRule[], a: Access) => rules.some((r) =>
  r.apiGroups.includes(a.group) && r.resources.includes(a.resource) && a.verbs.every((v) => r.verbs.includes(v))
  && JSON.stringify(r.resourceNames ?? []) === JSON.stringify(a.resourceNames ?? []));

Rbac('the ClusterRole and Roles grant every access the informers and CIDR detection declare', () => {
  const objects = renderInstallation({ namespace: 'platform-webhooks' });
  const rolesFor = (a: Access): PolicyRule[] => {
    if (a.namespace === undefined) return one(objects, 'ClusterRole').rules;
    const where = a.namespace === 'self' ? 'platform-webhooks' : a.namespace;
    return find(objects, 'Role', where).flatMap((r) => r.rules as PolicyRule[]);
  };
  for (const a of ACCESS) assert.ok(grants(rolesFor(a), a), `no rule grants ${a.verbs.join(',')} on ${a.group}/${a.resource} (${a.why})`);
});

Rbac('the ClusterRole lets every informer list and watch its resource cluster-wide', () => {
  const rules = one(renderInstallation(), 'ClusterRole').rules as PolicyRule[];
  for (const w of WATCHED) {
    assert.ok(grants(rules, { group: w.group, resource: w.resource, verbs: ['list', 'watch'], why: '' }),
      `the ${w.kind} informer cannot list and watch ${w.group || 'core'}/${w.resource}`);
  }
});

Rbac('nothing is granted beyond what the code declares, and no wildcard', () => {
  const objects = renderInstallation({ namespace: 'platform-webhooks' });
  const scopeOf = (o: Any): Access['namespace'] =>
    o.kind === 'ClusterRole' ? undefined : o.metadata.namespace === 'kube-system' ? 'kube-system' : 'self';
  for (const role of [...find(objects, 'ClusterRole'), ...find(objects, 'Role')]) {
    for (const r of role.rules as PolicyRule[]) {
      for (const group of r.apiGroups) for (const resource of r.resources) for (const verb of r.verbs) {
        assert.ok(![group, resource, verb].includes('*'), `wildcard in ${role.kind} ${JSON.stringify(r)}`);
        assert.ok(ACCESS.some((a) => a.namespace === scopeOf(role) && a.group === group && a.resource === resource && a.verbs.includes(verb)
          && JSON.stringify(a.resourceNames ?? []) === JSON.stringify(r.resourceNames ?? [])),
        `${role.kind} ${role.metadata.namespace ?? ''} grants ${verb} on ${group}/${resource}, which no ACCESS entry declares`);
      }
    }
  }
});

Rbac('every role is bound to the service account the Deployment runs as', () => {
  const objects = renderInstallation();
  const sa = one(objects, 'ServiceAccount');
  assert.is(one(objects, 'Deployment').spec.template.spec.serviceAccountName, sa.metadata.name);
  const bindings = [...find(objects, 'ClusterRoleBinding'), ...find(objects, 'RoleBinding')];
  for (const role of [...find(objects, 'ClusterRole'), ...find(objects, 'Role')]) {
    const b = bindings.find((x) => x.roleRef.kind === role.kind && x.roleRef.name === role.metadata.name && x.metadata.namespace === role.metadata.namespace);
    assert.ok(b, `${role.kind} ${role.metadata.namespace ?? ''}/${role.metadata.name} is not bound`);
    assert.equal(b!.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
  }
});

const Pod = suite('manifests/deployment');

Pod('two replicas run non-root on a read-only root filesystem with the certificates mounted from the TLS Secret', () => {
  const d = one(renderInstallation(), 'Deployment');
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  assert.is(d.spec.replicas, 2);
  assert.equal(d.spec.strategy.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 });
  assert.is(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0);
  assert.equal([c.securityContext.readOnlyRootFilesystem, c.securityContext.allowPrivilegeEscalation, c.securityContext.capabilities.drop],
    [true, false, ['ALL']]);
  assert.equal(c.args, ['serve', '--port', String(SERVER_PORT), '--certs', CERT_DIR]);
  assert.equal(c.volumeMounts, [{ name: 'certs', mountPath: CERT_DIR, readOnly: true }]);
  assert.is(pod.volumes[0].secret.secretName, 'egress-warden-tls');
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);
  assert.is(pod.topologySpreadConstraints.length, 2);
});

Pod('probes check health and readiness over HTTPS, and shutdown outlasts the pause plus a review', () => {
  const c = one(renderInstallation(), 'Deployment').spec.template.spec;
  const container = c.containers[0];
  assert.equal([container.startupProbe.httpGet.path, container.livenessProbe.httpGet.path, container.readinessProbe.httpGet.path],
    ['/healthz', '/healthz', '/readyz']);
  for (const p of [container.startupProbe, container.livenessProbe, container.readinessProbe]) assert.is(p.httpGet.scheme, 'HTTPS');
  const pause = Number(container.lifecycle.preStop.exec.command.at(-1));
  assert.ok(pause >= 5, 'the pause must outlast endpoint propagation');
  const timeout = webhook(renderInstallation(), VALIDATE_WEBHOOK).timeoutSeconds;
  assert.ok(c.terminationGracePeriodSeconds > pause + timeout, 'grace period too short to drain after the pause');
});

Pod('a disruption budget keeps one replica up through node drains', () => {
  const pdb = one(renderInstallation(), 'PodDisruptionBudget');
  assert.is(pdb.spec.minAvailable, 1);
  assert.equal(pdb.spec.selector.matchLabels, one(renderInstallation(), 'Deployment').spec.selector.matchLabels);
});

const Cli = suite('manifests/cli');

Cli('caBundle in every webhook is the CA file passed with --ca', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-manifests-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), CA_PEM);
    const r = await run(['--ca', join(dir, 'ca.crt')]);
    assert.is(r.code, 0, r.err);
    const hooks = webhooks(parsed(r.out));
    assert.is(hooks.length, 4);
    for (const w of hooks) assert.is(Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString('utf8'), readFileSync(join(dir, 'ca.crt'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Cli('without --ca or --cert-manager caBundle is left out and the output says so', async () => {
  const r = await run([]);
  assert.is(r.code, 0);
  assert.ok(webhooks(parsed(r.out)).every((w) => !('caBundle' in w.clientConfig)));
  assert.match(r.err, 'caBundle is left out');
});

Cli('--cert-manager issues the serving certificate into the mounted Secret and injects its CA', async () => {
  const r = await run(['--cert-manager', '--namespace', 'platform-webhooks']);
  assert.is(r.code, 0, r.err);
  const objects = parsed(r.out);
  const leaf = find(objects, 'Certificate').find((c) => !c.spec.isCA)!;
  assert.ok(leaf.spec.dnsNames.includes('egress-warden.platform-webhooks.svc'));
  assert.is(leaf.spec.secretName, one(objects, 'Deployment').spec.template.spec.volumes[0].secret.secretName);
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    assert.is(one(objects, kind).metadata.annotations['cert-manager.io/inject-ca-from'], `platform-webhooks/${leaf.metadata.name}`);
  }
  assert.ok(webhooks(objects).every((w) => !('caBundle' in w.clientConfig)), 'a rendered caBundle would fight the cainjector');
});

Cli('--url registers the webhooks by URL and renders nothing that runs in the cluster', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-manifests-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), CA_PEM);
    const r = await run(['--url', 'https://127.0.0.1:9443/', '--ca', join(dir, 'ca.crt')]);
    assert.is(r.code, 0, r.err);
    const objects = parsed(r.out);
    assert.equal(objects.map((o) => o.kind), ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']);
    assert.equal(webhooks(objects).map((w) => [w.name, w.clientConfig.url, 'service' in w.clientConfig]), [
      [VALIDATE_WEBHOOK, 'https://127.0.0.1:9443/validate', false],
      [NAMESPACES_WEBHOOK, 'https://127.0.0.1:9443/validate', false],
      [OBSERVE_WEBHOOK, 'https://127.0.0.1:9443/validate', false],
      [MUTATE_WEBHOOK, 'https://127.0.0.1:9443/mutate', false],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const refusals: [string, string[], string][] = [
  ['a missing CA file', ['--ca', '/nonexistent/ca.crt'], 'cannot read --ca /nonexistent/ca.crt: no such file'],
  ['a CA file without a certificate', ['--ca', 'package.json'], '--ca package.json holds no PEM certificate'],
  ['a plain-http URL', ['--url', 'http://127.0.0.1:9443'], 'must use https'],
  ['a URL with a query', ['--url', 'https://127.0.0.1:9443/?x=1'], 'may not carry user info, a query or a fragment'],
  ['--cert-manager with --url', ['--cert-manager', '--url', 'https://127.0.0.1:9443'], '--cert-manager needs the in-cluster Service'],
  ['an unknown failure policy', ['--failure-policy', 'Never'], '--failure-policy must be Fail or Ignore, got "Never"'],
  ['a shared namespace', ['--namespace', 'kube-system'], 'egress-warden needs a namespace of its own'],
  ['a label without a value', ['--namespace-label', 'team'], '--namespace-label must be KEY=VALUE'],
  ['an unknown flag', ['--kubeconfig', 'x'], "Unknown option '--kubeconfig'"],
];
for (const [what, argv, message] of refusals) {
  Cli(`refuses ${what} with exit status 2 and a clear message`, async () => {
    const r = await run(argv);
    assert.is(r.code, 2);
    assert.is(r.out, '');
    assert.match(r.err, message);
  });
}

Cli('refuses --ca together with --cert-manager', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-manifests-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), CA_PEM);
    const r = await run(['--cert-manager', '--ca', join(dir, 'ca.crt')]);
    assert.is(r.code, 2);
    assert.match(r.err, '--ca and --cert-manager exclude each other');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Cli('refuses a private key passed as the CA', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-manifests-'));
  try {
    writeFileSync(join(dir, 'tls.key'), '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n');
    const r = await run(['--ca', join(dir, 'tls.key')]);
    assert.is(r.code, 2);
    assert.match(r.err, 'holds a private key; pass the CA certificate (ca.crt)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Cli('--write lays out the base and the cert-manager variant that kustomize reads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-manifests-'));
  try {
    const r = await run(['--write', dir]);
    assert.is(r.code, 0, r.err);
    for (const f of renderKustomization()) assert.is(readFileSync(join(dir, f.path), 'utf8'), f.text);
    const top = parsed(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0] as Any;
    assert.equal(top.resources, ['base']);
    const variant = parsed(readFileSync(join(dir, 'cert-manager/kustomization.yaml'), 'utf8'))[0] as Any;
    assert.equal(variant.resources, ['../base', 'certificates.yaml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Render.run();
Selectors.run();
Webhooks.run();
Rbac.run();
Pod.run();
Cli.run();
