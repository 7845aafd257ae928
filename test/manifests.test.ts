import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../src/admission/types.ts';
import { JUDGED_KINDS } from '../src/catalogue/kinds.ts';
import { ACCESS, WATCHED, type Access } from '../src/cluster/resources.ts';
import { captureIo } from '../src/commands/io.ts';
import { runManifests } from '../src/commands/manifests.ts';
import { TOKEN_PATTERN, WEBHOOK_TIMEOUT_SECONDS } from '../src/catalogue/endpoints.ts';
import {
  CERT_DIR,
  DEFAULT_IMAGE,
  ISTIO_INJECTOR,
  MUTATE_WEBHOOK,
  NAMESPACES_WEBHOOK,
  SERVER_PORT,
  TOKEN_DIR,
  TOKEN_FILE,
  VALIDATE_WEBHOOK,
  removalOrder,
  renderInstallation,
  renderKustomization,
  servicePathTokenProblem,
  type PolicyRule,
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
  name: string;
  failurePolicy: string;
  timeoutSeconds: number;
  sideEffects: string;
  matchPolicy: string;
  reinvocationPolicy?: string;
  namespaceSelector?: Selector;
  objectSelector?: Selector;
  clientConfig: { caBundle?: string; url?: string; service?: { name: string; namespace: string; path: string; port: number } };
  rules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[];
  matchConditions?: { name: string; expression: string }[];
};
type Any = Record<string, any>;

/** Caller tokens that a Service path takes (lower case, digits, "-" and "."). */
const TOKEN = 'tok0123456789abcdefghijklmnopqrstuvwxyz-abcd';
const NEXT_TOKEN = 'nxt0123456789abcdefghijklmnopqrstuvwxyz.abcd';
/** A caller token a URL path takes but a Service path does not. */
const URL_ONLY_TOKEN = 'Url_0123456789abcdefghijklmnopqrstuvwxyz~ABC';

/** Label selector semantics as the API server applies them. */
function matches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    byLabel &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const has = Object.hasOwn(labels, key);
      switch (operator) {
        case 'In':
          return has && values.includes(labels[key]!);
        case 'NotIn':
          return !has || !values.includes(labels[key]!);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          throw new Error(`unknown operator ${operator}`);
      }
    })
  );
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
    return (
      matches(w.namespaceSelector, namespaceLabels) && (matches(w.objectSelector, namespaceLabels) || matches(w.objectSelector, oldLabels))
    );
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
  for (const options of [
    {},
    { certManager: true, tokens: [TOKEN] },
    { caPem: CA_PEM, noToken: true },
    { url: 'https://127.0.0.1:9443', caPem: CA_PEM, tokens: [TOKEN] },
    { allowFrom: ['10.0.0.0/8'] },
  ]) {
    const objects = renderInstallation(options);
    assert.equal(parsed(toYaml(objects)), JSON.parse(JSON.stringify(objects)));
    for (const o of objects) assert.ok(o.apiVersion && o.kind && o.metadata?.name, `incomplete object ${JSON.stringify(o).slice(0, 80)}`);
  }
});

Render('the checked-in manifests/ are exactly what the renderer produces, with no stale files', () => {
  const files = renderKustomization();
  for (const f of files) {
    assert.is(
      readFileSync(join('manifests', f.path), 'utf8'),
      f.text,
      `manifests/${f.path} differs from the renderer: regenerate with \`node src/cli.ts manifests --write manifests\``,
    );
    parsed(f.text);
  }
  // base/token is each checkout's own caller token (git-ignored), not part of the rendering
  const onDisk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? e.name === 'helm'
          ? []
          : onDisk(join(dir, e.name))
        : e.name.endsWith('.yaml')
          ? [relative('manifests', join(dir, e.name))]
          : [],
    );
  assert.equal(onDisk('manifests').sort(), files.map((f) => f.path).sort());
  assert.match(readFileSync('.gitignore', 'utf8'), /^manifests\/base\/token$/m);
});

/** kustomize's replacement with a delimiter: the segment at `index` is replaced, or the value appended past the last one. */
function replaceSegment(value: string, delimiter: string, index: number, by: string): string {
  const parts = value.split(delimiter);
  if (index >= parts.length) return [...parts, by].join(delimiter);
  parts[index] = by;
  return parts.join(delimiter);
}

/** What `kubectl kustomize` makes of base/ with `token` beside it: the generated Secret, and the replacements applied. */
function kustomizeBase(files: readonly { path: string; text: string }[], token: string): KubeObject[] {
  const text = (path: string) => files.find((f) => f.path === path)!.text;
  const k = parsed(text('base/kustomization.yaml'))[0] as Any;
  const objects = (k.resources as string[]).flatMap((r) => parsed(text(`base/${r}`))) as Any[];
  const source = k.configMapGenerator.find((g: Any) => g.name === k.replacements[0].source.name);
  assert.equal(
    source.options.annotations,
    { 'config.kubernetes.io/local-config': 'true' },
    'the token ConfigMap must stay out of the output',
  );
  for (const {
    select,
    fieldPaths: [fieldPath],
    options,
  } of k.replacements[0].targets as Any[]) {
    const [, hook, field] = /^webhooks\.\[name=([^\]]+)\]\.clientConfig\.(service\.path|url)$/.exec(fieldPath)!;
    const w = objects.find((o) => o.kind === select.kind && o.metadata.name === select.name)!.webhooks.find((h: Any) => h.name === hook);
    if (field === 'url') w.clientConfig.url = replaceSegment(w.clientConfig.url, options.delimiter, options.index, token);
    else w.clientConfig.service.path = replaceSegment(w.clientConfig.service.path, options.delimiter, options.index, token);
  }
  const secrets = (k.secretGenerator ?? []).map((g: Any) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: g.name, namespace: g.namespace, labels: g.options.labels },
    type: g.type,
    data: Object.fromEntries(g.files.map((f: string) => [f, Buffer.from(token).toString('base64')])),
  }));
  return [...objects, ...secrets];
}

const sorted = (objects: readonly KubeObject[]) =>
  JSON.parse(JSON.stringify(objects)).sort((a: KubeObject, b: KubeObject) =>
    `${a.kind}/${a.metadata?.name}`.localeCompare(`${b.kind}/${b.metadata?.name}`),
  );

Render('the kustomize base carries no token: kustomize makes the Secret and every webhook path from base/token', () => {
  const files = renderKustomization();
  for (const f of files) assert.not.match(f.text, TOKEN);
  const webhooksYaml = files.find((f) => f.path === 'base/webhooks.yaml')!.text;
  assert.equal(
    webhooks(parsed(webhooksYaml)).map((w) => w.clientConfig.service?.path),
    ['/validate', '/validate', '/mutate'],
  );
  assert.equal(sorted(kustomizeBase(files, TOKEN)), sorted(renderInstallation({ tokens: [TOKEN] })));
  const k = parsed(files.find((f) => f.path === 'base/kustomization.yaml')!.text)[0] as Any;
  assert.equal(
    [k.secretGenerator[0].files, k.secretGenerator[0].options.disableNameSuffixHash],
    [['token'], true],
    'a hashed name would not match the Deployment',
  );
});

Render('with --url the kustomize rendering appends the token to every webhook URL, whatever path the URL has', () => {
  const url = 'https://203.0.113.7:9443/prefix';
  const files = renderKustomization({ url });
  const k = parsed(files.find((f) => f.path === 'base/kustomization.yaml')!.text)[0] as Any;
  assert.is(k.secretGenerator, undefined, 'nothing runs in the cluster, so no Secret');
  assert.equal(sorted(kustomizeBase(files, TOKEN)), sorted(renderInstallation({ url, tokens: [TOKEN] })));
});

Render('the default installation has every part an in-cluster webhook needs', () => {
  const kinds = renderInstallation().map((o) => o.kind);
  for (const kind of [
    'Namespace',
    'ServiceAccount',
    'ClusterRole',
    'ClusterRoleBinding',
    'Role',
    'RoleBinding',
    'Deployment',
    'Service',
    'PodDisruptionBudget',
    'NetworkPolicy',
    'ValidatingWebhookConfiguration',
    'MutatingWebhookConfiguration',
  ]) {
    assert.ok(kinds.includes(kind), `missing ${kind}`);
  }
  assert.is(kinds[0], 'Namespace', 'the namespace must be applied first');
  assert.ok(
    kinds.slice(-2).every((k) => k?.endsWith('WebhookConfiguration')),
    'webhooks must be registered last',
  );
});

Render('the image tag follows the package version', () => {
  const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  assert.is(DEFAULT_IMAGE, `egress-warden:${version}`);
});

const Selectors = suite('manifests/selectors');

for (const namespace of ['egress-warden', 'platform-webhooks']) {
  Selectors(
    `no webhook sees kube-system, kube-node-lease, the meshes' control planes, its own namespace (${namespace}) or ignore-labelled namespaces`,
    () => {
      const objects = renderInstallation({ namespace });
      assert.is(webhooks(objects).length, 3);
      for (const w of webhooks(objects)) {
        for (const name of ['kube-system', 'kube-node-lease', 'istio-system', 'osm-system', namespace])
          assert.not.ok(sees(w, ns(name)), `${w.name} sees ${name}`);
        assert.not.ok(sees(w, ns('shop', { 'egress-warden.io/ignore': 'true' })), `${w.name} sees an ignored namespace`);
        assert.not.ok(sees(w, ns('shop', { 'egress-warden.io/ignore': '' })), `${w.name} sees a namespace whose ignore label is empty`);
        for (const name of ['shop', 'default', 'istio-ingress'])
          assert.ok(sees(w, ns(name, { 'istio-injection': 'enabled' })), `${w.name} misses ${name}`);
      }
    },
  );
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
  const r = await run(['--url', 'https://127.0.0.1:9443', '--no-token', '--namespace-label', 'egress-warden.io/e2e=run-1']);
  assert.is(r.code, 0, r.err);
  for (const w of webhooks(parsed(r.out))) {
    assert.ok(sees(w, ns('t1', { 'egress-warden.io/e2e': 'run-1' })), `${w.name} misses the labelled namespace`);
    assert.not.ok(sees(w, ns('t1', { 'egress-warden.io/e2e': 'run-2' })), `${w.name} sees another run`);
    assert.not.ok(sees(w, ns('shop')), `${w.name} sees an unlabelled namespace`);
  }
});

const Webhooks = suite('manifests/webhooks');

Webhooks('egress objects are validated on create and update in every version, failing open until the install is switched to Fail', () => {
  const w = webhook(renderInstallation(), VALIDATE_WEBHOOK);
  assert.equal(
    w.rules.map((r) => [r.apiGroups, r.resources, r.apiVersions, r.operations]),
    [
      [['networking.istio.io'], ['serviceentries', 'virtualservices', 'sidecars'], ['*'], ['CREATE', 'UPDATE']],
      [['policy.openservicemesh.io'], ['egresses'], ['*'], ['CREATE', 'UPDATE']],
      [['specs.smi-spec.io'], ['httproutegroups'], ['*'], ['CREATE', 'UPDATE']],
      [['security.istio.io'], ['authorizationpolicies'], ['*'], ['CREATE', 'UPDATE']],
      [['gateway.networking.k8s.io'], ['httproutes', 'grpcroutes', 'tlsroutes', 'tcproutes'], ['*'], ['CREATE', 'UPDATE']],
      [['policy.linkerd.io'], ['egressnetworks', 'httproutes'], ['*'], ['CREATE', 'UPDATE']],
    ],
  );
  assert.equal(
    [w.failurePolicy, w.timeoutSeconds, w.matchPolicy, w.sideEffects],
    ['Ignore', WEBHOOK_TIMEOUT_SECONDS, 'Equivalent', 'None'],
  );
  assert.is(webhook(renderInstallation({ tokens: [TOKEN] }), VALIDATE_WEBHOOK).clientConfig.service?.path, `/validate/${TOKEN}`);
  assert.is(webhook(renderInstallation({ failurePolicy: 'Fail' }), VALIDATE_WEBHOOK).failurePolicy, 'Fail');
});

Webhooks('routes and AuthorizationPolicies are sent only when they reference a ServiceEntry or an EgressNetwork; Sidecars always', () => {
  const conditions = webhook(renderInstallation(), VALIDATE_WEBHOOK).matchConditions ?? [];
  assert.equal(
    conditions.map((c) => c.name),
    ['authorization-policy-references', 'egress-route-references'],
  );
  const [policy, routes] = conditions.map((c) => c.expression);
  // each condition is derived from the rows that carry sentWhen: their resources, fields and kinds
  for (const row of JUDGED_KINDS) {
    const when = 'sentWhen' in row ? row.sentWhen : undefined;
    const expression = row.rule === 'authorization-policy' ? policy! : routes!;
    if (!when) continue;
    assert.ok(expression.includes(`request.resource.group == '${row.group}'`), `${row.kind}: no group`);
    assert.ok(expression.includes(`'${row.plural}'`), `${row.kind}: no resource`);
    for (const { field } of when.refs) assert.ok(expression.includes(`object.spec.${field}`), `${row.kind}: no ${field}`);
    for (const t of when.naming)
      assert.ok(expression.includes(`.group == '${t.group}' && `) && expression.includes(`.kind == '${t.kind}'`));
  }
  assert.not.ok(
    conditions.some((c) => c.expression.includes("'sidecars'")),
    'Sidecars are all judged',
  );
  // requests of any other resource pass every condition: each starts by letting them through
  for (const c of conditions) assert.match(c.expression, /^!\(\(request\.resource\.group == /);
  // a field of another shape is no reference, never an evaluation error that failurePolicy Fail would turn into a denial
  assert.match(
    routes!,
    "type(object.spec.parentRefs) == list && object.spec.parentRefs.exists(r, (type(r) == map && 'group' in r && 'kind' in r",
  );
  assert.match(policy!, "type(object.spec.targetRef) == map && 'group' in object.spec.targetRef");
});

Webhooks('namespace annotations are validated without ever blocking a namespace change', () => {
  const w = webhook(renderInstallation({ tokens: [TOKEN] }), NAMESPACES_WEBHOOK);
  assert.equal(
    w.rules.map((r) => [r.apiGroups, r.resources, r.operations]),
    [[[''], ['namespaces'], ['CREATE', 'UPDATE']]],
  );
  assert.equal(
    [w.failurePolicy, w.timeoutSeconds, w.sideEffects, w.clientConfig.service?.path],
    ['Ignore', WEBHOOK_TIMEOUT_SECONDS, 'None', `/validate/${TOKEN}`],
  );
});

Webhooks('pods are mutated on create before Istio injects, again when it does, and never blocked', () => {
  const objects = renderInstallation({ tokens: [TOKEN] });
  const config = one(objects, 'MutatingWebhookConfiguration');
  assert.ok(config.metadata.name < ISTIO_INJECTOR, `${config.metadata.name} does not sort before ${ISTIO_INJECTOR}`);
  const w = webhook(objects, MUTATE_WEBHOOK);
  assert.equal(
    w.rules.map((r) => [r.apiGroups, r.resources, r.operations]),
    [[[''], ['pods'], ['CREATE']]],
  );
  assert.equal(
    [w.failurePolicy, w.reinvocationPolicy, w.timeoutSeconds, w.sideEffects, w.clientConfig.service?.path],
    ['Ignore', 'IfNeeded', WEBHOOK_TIMEOUT_SECONDS, 'None', `/mutate/${TOKEN}`],
  );
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
    assert.equal(w.clientConfig.service && [w.clientConfig.service.name, w.clientConfig.service.namespace, w.clientConfig.service.port], [
      svc.metadata.name,
      svc.metadata.namespace,
      443,
    ]);
  }
  assert.equal(svc.spec.ports, [{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }]);
  const port = one(objects, 'Deployment').spec.template.spec.containers[0].ports[0];
  assert.equal([port.name, port.containerPort], ['https', SERVER_PORT]);
  assert.equal(one(objects, 'NetworkPolicy').spec.ingress, [{ ports: [{ protocol: 'TCP', port: SERVER_PORT }] }]);
});

const Network = suite('manifests/network-policy');

Network('by default the server port is open to any source, because the API server calls from platform-specific addresses', () => {
  assert.equal(one(renderInstallation(), 'NetworkPolicy').spec.ingress, [{ ports: [{ protocol: 'TCP', port: SERVER_PORT }] }]);
});

Network('--allow-from admits the server port only from the CIDRs given', async () => {
  const r = await run(['--allow-from', '10.0.0.0/28,fd00:10::/64', '--allow-from', '192.168.7.0/24', '--no-token']);
  assert.is(r.code, 0, r.err);
  assert.equal(one(parsed(r.out), 'NetworkPolicy').spec.ingress, [
    {
      from: [{ ipBlock: { cidr: '10.0.0.0/28' } }, { ipBlock: { cidr: 'fd00:10::/64' } }, { ipBlock: { cidr: '192.168.7.0/24' } }],
      ports: [{ protocol: 'TCP', port: SERVER_PORT }],
    },
  ]);
});

for (const [what, argv, message] of [
  ['a value that is not a CIDR', ['--allow-from', '10.0.0.0/8,control-plane'], '--allow-from: "control-plane" is not a CIDR'],
  ['a CIDR with host bits set', ['--allow-from', '10.0.0.1/8'], 'has host bits set; did you mean 10.0.0.0/8?'],
  ['a bare address', ['--allow-from', '10.0.0.1'], '--allow-from: "10.0.0.1" is not a CIDR'],
  [
    '--allow-from with --url',
    ['--allow-from', '10.0.0.0/8', '--url', 'https://127.0.0.1:9443', '--no-token'],
    'with --url nothing runs in the cluster',
  ],
] as const) {
  Network(`refuses ${what} with exit status 2`, async () => {
    const r = await run([...argv]);
    assert.is(r.code, 2);
    assert.is(r.out, '');
    assert.match(r.err, message);
  });
}

const Rbac = suite('manifests/rbac');

const grants = (rules: readonly PolicyRule[], a: Access) =>
  rules.some(
    (r) =>
      r.apiGroups.includes(a.group) &&
      r.resources.includes(a.resource) &&
      a.verbs.every((v) => r.verbs.includes(v)) &&
      JSON.stringify(r.resourceNames ?? []) === JSON.stringify(a.resourceNames ?? []),
  );

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
    assert.ok(
      grants(rules, { group: w.group, resource: w.resource, verbs: ['list', 'watch'], why: '' }),
      `the ${w.kind} informer cannot list and watch ${w.group || 'core'}/${w.resource}`,
    );
  }
});

Rbac('nothing is granted beyond what the code declares, and no wildcard', () => {
  const objects = renderInstallation({ namespace: 'platform-webhooks' });
  const scopeOf = (o: Any): Access['namespace'] =>
    o.kind === 'ClusterRole' ? undefined : o.metadata.namespace === 'kube-system' ? 'kube-system' : 'self';
  for (const role of [...find(objects, 'ClusterRole'), ...find(objects, 'Role')]) {
    for (const r of role.rules as PolicyRule[]) {
      for (const group of r.apiGroups)
        for (const resource of r.resources)
          for (const verb of r.verbs) {
            assert.ok(![group, resource, verb].includes('*'), `wildcard in ${role.kind} ${JSON.stringify(r)}`);
            assert.ok(
              ACCESS.some(
                (a) =>
                  a.namespace === scopeOf(role) &&
                  a.group === group &&
                  a.resource === resource &&
                  a.verbs.includes(verb) &&
                  JSON.stringify(a.resourceNames ?? []) === JSON.stringify(r.resourceNames ?? []),
              ),
              `${role.kind} ${role.metadata.namespace ?? ''} grants ${verb} on ${group}/${resource}, which no ACCESS entry declares`,
            );
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
    const b = bindings.find(
      (x) => x.roleRef.kind === role.kind && x.roleRef.name === role.metadata.name && x.metadata.namespace === role.metadata.namespace,
    );
    assert.ok(b, `${role.kind} ${role.metadata.namespace ?? ''}/${role.metadata.name} is not bound`);
    assert.equal(b!.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
  }
});

const Pod = suite('manifests/deployment');

Pod('two replicas run non-root on a read-only root filesystem with the certificates mounted from the TLS Secret', () => {
  const d = one(renderInstallation({ tokens: [TOKEN] }), 'Deployment');
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  assert.is(d.spec.replicas, 2);
  assert.equal(d.spec.strategy.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 });
  assert.is(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0);
  assert.equal(
    [c.securityContext.readOnlyRootFilesystem, c.securityContext.allowPrivilegeEscalation, c.securityContext.capabilities.drop],
    [true, false, ['ALL']],
  );
  assert.equal(c.args, ['serve', '--port', String(SERVER_PORT), '--certs', CERT_DIR, '--token-file', TOKEN_FILE]);
  assert.equal(c.volumeMounts[0], { name: 'certs', mountPath: CERT_DIR, readOnly: true });
  assert.is(pod.volumes[0].secret.secretName, 'egress-warden-tls');
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);
  assert.is(pod.topologySpreadConstraints.length, 2);
});

Pod('probes check health and readiness over HTTPS, and shutdown outlasts the pause plus a review', () => {
  const c = one(renderInstallation(), 'Deployment').spec.template.spec;
  const container = c.containers[0];
  assert.equal(
    [container.startupProbe.httpGet.path, container.livenessProbe.httpGet.path, container.readinessProbe.httpGet.path],
    ['/healthz', '/healthz', '/readyz'],
  );
  for (const p of [container.startupProbe, container.livenessProbe, container.readinessProbe]) assert.is(p.httpGet.scheme, 'HTTPS');
  const pause = Number(container.lifecycle.preStop.exec.command.at(-1));
  assert.ok(pause >= 5, 'the pause must outlast endpoint propagation');
  const timeout = webhook(renderInstallation(), VALIDATE_WEBHOOK).timeoutSeconds;
  assert.ok(c.terminationGracePeriodSeconds > pause + timeout, 'grace period too short to drain after the pause');
});

Pod('the server reads the caller tokens from the token Secret, mounted as a directory so that a rotation reaches the file', () => {
  const objects = renderInstallation({ tokens: [TOKEN, NEXT_TOKEN], namespace: 'platform-webhooks' });
  const secret = one(objects, 'Secret');
  assert.equal([secret.metadata.name, secret.metadata.namespace, secret.type], ['egress-warden-token', 'platform-webhooks', 'Opaque']);
  assert.is(Buffer.from(secret.data.token, 'base64').toString('utf8'), `${TOKEN}\n${NEXT_TOKEN}`);
  const pod = one(objects, 'Deployment').spec.template.spec;
  const mount = pod.containers[0].volumeMounts.find((m: Any) => m.mountPath === TOKEN_DIR);
  assert.equal(mount, { name: 'token', mountPath: TOKEN_DIR, readOnly: true }, 'a subPath mount would never see a rotated token');
  assert.is(pod.volumes.find((v: Any) => v.name === 'token').secret.secretName, secret.metadata.name);
  assert.ok(TOKEN_FILE.startsWith(`${TOKEN_DIR}/`));
  assert.ok(
    webhooks(objects).every((w) => w.clientConfig.service?.path.endsWith(`/${TOKEN}`)),
    'the first line is the registered token',
  );
  const kinds = objects.map((o) => o.kind);
  assert.ok(kinds.indexOf('Secret') < kinds.indexOf('Deployment'), 'the Secret is applied before the pods that mount it');
});

Pod('with authentication turned off there is no token Secret, the paths are bare, and the server is told so', () => {
  const objects = renderInstallation({ noToken: true });
  assert.equal(find(objects, 'Secret'), []);
  const c = one(objects, 'Deployment').spec.template.spec.containers[0];
  assert.ok(c.args.includes('--insecure-no-token'));
  assert.not.ok(c.args.includes('--token-file'));
  assert.equal(
    webhooks(objects).map((w) => w.clientConfig.service?.path),
    ['/validate', '/validate', '/mutate'],
  );
});

Pod('a disruption budget keeps one replica up through node drains', () => {
  const pdb = one(renderInstallation(), 'PodDisruptionBudget');
  assert.is(pdb.spec.minAvailable, 1);
  assert.equal(pdb.spec.selector.matchLabels, one(renderInstallation(), 'Deployment').spec.selector.matchLabels);
});

Pod('the server learns its own namespace from the downward API, whatever namespace it was rendered for', () => {
  const c = one(renderInstallation({ namespace: 'platform-webhooks' }), 'Deployment').spec.template.spec.containers[0];
  assert.equal(
    c.env.find((e: Any) => e.name === 'POD_NAMESPACE'),
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  );
});

const Removal = suite('manifests/uninstall');

Removal('removal order takes the webhook configurations away first and the namespace last', () => {
  for (const options of [{}, { certManager: true }, { url: 'https://127.0.0.1:9443' }]) {
    const objects = renderInstallation(options);
    const order = removalOrder(objects);
    assert.is(order.length, objects.length);
    assert.equal(
      order.slice(0, 2).map((o) => o.kind),
      ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'],
    );
    if (!options.url) assert.is(order.at(-1)?.kind, 'Namespace');
  }
});

Removal('manifests --uninstall prints the same objects in removal order for kubectl delete, the token Secret included', async () => {
  const r = await run(['--uninstall', '--namespace', 'platform-webhooks']);
  assert.is(r.code, 0, r.err);
  const objects = parsed(r.out);
  const tokens = [Buffer.from(one(objects, 'Secret').data.token, 'base64').toString('utf8')];
  assert.equal(objects, JSON.parse(JSON.stringify(removalOrder(renderInstallation({ namespace: 'platform-webhooks', tokens })))));
  const both = await run(['--uninstall', '--write', 'x']);
  assert.is(both.code, 2);
});

const Cli = suite('manifests/cli');

Cli('caBundle in every webhook is the CA file passed with --ca', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-manifests-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), CA_PEM);
    const r = await run(['--ca', join(dir, 'ca.crt')]);
    assert.is(r.code, 0, r.err);
    const hooks = webhooks(parsed(r.out));
    assert.is(hooks.length, 3);
    for (const w of hooks)
      assert.is(Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString('utf8'), readFileSync(join(dir, 'ca.crt'), 'utf8'));
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
  assert.ok(
    webhooks(objects).every((w) => !('caBundle' in w.clientConfig)),
    'a rendered caBundle would fight the cainjector',
  );
});

/** A scratch directory for the test's files, removed afterwards. */
async function inDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ew-manifests-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

Cli('--url registers the webhooks by URL with the caller token of --token-file and renders nothing that runs in the cluster', () =>
  inDir(async (dir) => {
    writeFileSync(join(dir, 'ca.crt'), CA_PEM);
    writeFileSync(join(dir, 'token'), `${TOKEN}\n${NEXT_TOKEN}\n`);
    const r = await run(['--url', 'https://127.0.0.1:9443/', '--ca', join(dir, 'ca.crt'), '--token-file', join(dir, 'token')]);
    assert.is(r.code, 0, r.err);
    const objects = parsed(r.out);
    assert.equal(
      objects.map((o) => o.kind),
      ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'],
    );
    assert.equal(
      webhooks(objects).map((w) => [w.name, w.clientConfig.url, 'service' in w.clientConfig]),
      [
        [VALIDATE_WEBHOOK, `https://127.0.0.1:9443/validate/${TOKEN}`, false],
        [NAMESPACES_WEBHOOK, `https://127.0.0.1:9443/validate/${TOKEN}`, false],
        [MUTATE_WEBHOOK, `https://127.0.0.1:9443/mutate/${TOKEN}`, false],
      ],
    );
  }),
);

Cli('--url without a token is refused with the fix, and --no-token registers bare paths', async () => {
  const refused = await run(['--url', 'https://127.0.0.1:9443']);
  assert.is(refused.code, 2);
  assert.is(refused.out, '');
  assert.match(refused.err, '--token-file certs/token (written by `egress-warden certs`');
  assert.match(refused.err, '--no-token for a server run with `serve --insecure-no-token`');
  const bare = await run(['--url', 'https://127.0.0.1:9443', '--no-token']);
  assert.is(bare.code, 0, bare.err);
  assert.equal(
    webhooks(parsed(bare.out)).map((w) => w.clientConfig.url),
    ['https://127.0.0.1:9443/validate', 'https://127.0.0.1:9443/validate', 'https://127.0.0.1:9443/mutate'],
  );
  const removal = await run(['--uninstall', '--url', 'https://127.0.0.1:9443']);
  assert.is(removal.code, 0, 'uninstalling needs no token');
});

Cli(
  'in the cluster every rendering without --token-file makes a new token, says so, and puts it in the Secret and every path',
  async () => {
    const first = await run([]);
    const second = await run([]);
    assert.is(first.code, 0, first.err);
    const tokenOf = (out: string) => Buffer.from(one(parsed(out), 'Secret').data.token, 'base64').toString('utf8');
    const token = tokenOf(first.out);
    assert.ok(TOKEN_PATTERN.test(token), token);
    assert.is(servicePathTokenProblem(token), undefined, token);
    assert.is.not(tokenOf(second.out), token);
    assert.equal(
      webhooks(parsed(first.out)).map((w) => w.clientConfig.service?.path),
      [`/validate/${token}`, `/validate/${token}`, `/mutate/${token}`],
    );
    assert.match(first.err, 'a new caller token was made for Secret egress-warden/egress-warden-token');
    assert.match(first.err, 'pass --token-file to keep the token');
  },
);

Cli('--token-file keeps the token across renderings: every line in the Secret, the first in the paths', () =>
  inDir(async (dir) => {
    writeFileSync(join(dir, 'token'), `${NEXT_TOKEN}\n${TOKEN}\n`);
    const r = await run(['--token-file', join(dir, 'token'), '--namespace', 'platform-webhooks']);
    assert.is(r.code, 0, r.err);
    assert.not.match(r.err, 'new caller token');
    const objects = parsed(r.out);
    assert.equal(objects, parsed((await run(['--token-file', join(dir, 'token'), '--namespace', 'platform-webhooks'])).out));
    assert.is(Buffer.from(one(objects, 'Secret').data.token, 'base64').toString('utf8'), `${NEXT_TOKEN}\n${TOKEN}`);
    assert.ok(webhooks(objects).every((w) => w.clientConfig.service?.path.endsWith(`/${NEXT_TOKEN}`)));
  }),
);

Cli('a token with upper case or "_" is refused for a Service path, naming the fix, and taken for a URL', () =>
  inDir(async (dir) => {
    writeFileSync(join(dir, 'token'), `${URL_ONLY_TOKEN}\n`);
    const refused = await run(['--token-file', join(dir, 'token')]);
    assert.is(refused.code, 2);
    assert.match(refused.err, 'the API server refuses it in a webhook Service path');
    assert.match(refused.err, 'openssl rand -hex 32');
    const byUrl = await run(['--url', 'https://127.0.0.1:9443', '--token-file', join(dir, 'token')]);
    assert.is(byUrl.code, 0, byUrl.err);
    assert.ok(webhooks(parsed(byUrl.out)).every((w) => w.clientConfig.url?.endsWith(`/${URL_ONLY_TOKEN}`)));
    writeFileSync(join(dir, 'second'), `${TOKEN}\n${URL_ONLY_TOKEN}\n`);
    assert.is((await run(['--token-file', join(dir, 'second')])).code, 0, 'only the first token goes into the paths');
    writeFileSync(join(dir, 'kustomized'), URL_ONLY_TOKEN);
    assert.is((await run(['--write', join(dir, 'k'), '--token-file', join(dir, 'kustomized')])).code, 2);
  }),
);

Cli('--no-token in the cluster renders no token Secret and tells the server authentication is off', async () => {
  const r = await run(['--no-token']);
  assert.is(r.code, 0, r.err);
  const objects = parsed(r.out);
  assert.equal(find(objects, 'Secret'), []);
  assert.ok(one(objects, 'Deployment').spec.template.spec.containers[0].args.includes('--insecure-no-token'));
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
  ['a missing token file', ['--token-file', '/nonexistent/token'], '--token-file: cannot read /nonexistent/token: ENOENT'],
  ['a token file that holds no token', ['--token-file', 'package.json'], '--token-file: line 1 of package.json is not a caller token'],
  ['--token-file with --no-token', ['--token-file', 'certs/token', '--no-token'], '--token-file and --no-token exclude each other'],
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
    writeFileSync(
      join(dir, 'tls.key'),
      '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n',
    );
    const r = await run(['--ca', join(dir, 'tls.key')]);
    assert.is(r.code, 2);
    assert.match(r.err, 'holds a private key; pass the CA certificate (ca.crt)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Cli('--write makes base/token once, mode 0600 and without a newline, and never overwrites it', () =>
  inDir(async (dir) => {
    const r = await run(['--write', dir]);
    assert.is(r.code, 0, r.err);
    const file = join(dir, 'base/token');
    const token = readFileSync(file, 'utf8');
    assert.ok(TOKEN_PATTERN.test(token), `"${token}" must be one token with no newline: kustomize copies the bytes into the paths`);
    assert.is(servicePathTokenProblem(token), undefined, token);
    assert.is(statSync(file).mode & 0o777, 0o600);
    assert.match(r.out, file);
    const again = await run(['--write', dir, '--cert-manager']);
    assert.is(again.code, 0, again.err);
    assert.is(readFileSync(file, 'utf8'), token);
    assert.not.match(again.out, file);
  }),
);

Cli('--write seeds base/token from --token-file, and refuses a base/token that differs or ends in a newline', () =>
  inDir(async (dir) => {
    writeFileSync(join(dir, 'mine'), `${TOKEN}\n`);
    assert.is((await run(['--write', join(dir, 'a'), '--token-file', join(dir, 'mine')])).code, 0);
    assert.is(readFileSync(join(dir, 'a/base/token'), 'utf8'), TOKEN);
    assert.is((await run(['--write', join(dir, 'a'), '--token-file', join(dir, 'mine')])).code, 0, 'the same token again');
    writeFileSync(join(dir, 'other'), NEXT_TOKEN);
    const differs = await run(['--write', join(dir, 'a'), '--token-file', join(dir, 'other')]);
    assert.is(differs.code, 2);
    assert.match(differs.err, 'holds another token than --token-file');
    writeFileSync(join(dir, 'a/base/token'), `${TOKEN}\n`);
    const newline = await run(['--write', join(dir, 'a')]);
    assert.is(newline.code, 2);
    assert.match(newline.err, 'must hold exactly one token and no newline');
    assert.is((await run(['--write', join(dir, 'b'), '--no-token'])).code, 0);
    assert.throws(() => statSync(join(dir, 'b/base/token')), /ENOENT/, '--no-token needs no token file');
  }),
);

Cli('--write lays out the base and the cert-manager variant that kustomize reads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ew-manifests-'));
  try {
    const r = await run(['--write', dir]);
    assert.is(r.code, 0, r.err);
    for (const f of renderKustomization()) assert.is(readFileSync(join(dir, f.path), 'utf8'), f.text);
    const top = parsed(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0] as Any;
    assert.equal(top.resources, ['base']);
    const variant = parsed(readFileSync(join(dir, 'cert-manager/kustomization.yaml'), 'utf8'))[0] as Any;
    assert.equal(variant.resources, ['../base', 'ca.yaml', 'serving-certificate.yaml']);
    const serving = parsed(readFileSync(join(dir, 'cert-manager/serving-certificate.yaml'), 'utf8')) as Any[];
    assert.equal(
      serving.map((o) => [o.kind, o.metadata.name]),
      [['Certificate', 'egress-warden-tls']],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Render.run();
Selectors.run();
Webhooks.run();
Network.run();
Rbac.run();
Pod.run();
Removal.run();
Cli.run();
