import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../src/admission/types.ts';
import { TOKEN_PATTERN } from '../src/catalogue/endpoints.ts';
import { captureIo } from '../src/commands/io.ts';
import { runManifests } from '../src/commands/manifests.ts';
import { renderChart } from '../src/manifests/helm.ts';
import { renderInstallation, servicePathTokenProblem } from '../src/manifests/install.ts';
import { parseDocuments, toYaml } from '../src/yaml.ts';

const CHART = 'manifests/helm/egress-warden';

type Values = {
  image: string;
  failurePolicy: string;
  caBundle: string;
  certManager: { enabled: boolean };
  networkPolicy: { from: unknown[] };
  docsUrl: string;
};
type Release = { Name: string; Namespace: string };
/** What `lookup` finds: Secret data by "namespace/name". */
type Cluster = { readonly apis?: readonly string[]; readonly secrets?: Readonly<Record<string, Readonly<Record<string, string>>>> };
const DEFAULTS: Values = {
  image: 'egress-warden:0.1.0',
  failurePolicy: 'Ignore',
  caBundle: '',
  certManager: { enabled: false },
  networkPolicy: { from: [] },
  docsUrl: '',
};

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randAlphaNum = (n: number) => Array.from({ length: n }, () => ALNUM[randomInt(ALNUM.length)]).join('');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Go templates treat nil, false, "", empty lists and empty maps as false. */
const truthy = (v: unknown): boolean =>
  Boolean(v) && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && Object.keys(v as object).length === 0);

/**
 * Helm's rendering of one template file, for exactly the constructs the generator writes (helm is
 * not installed here): the two guards, the caller token variables (`lookup`, `dig`, `b64dec`,
 * `randAlphaNum | lower`, `ternary`, `splitList | first | trim`, `b64enc`, `quote`), `if` / `with` blocks with
 * whitespace trimming, `toYaml . | nindent N`, and the value substitutions. A variable used in a file
 * that does not define it fails, as Helm's parser does.
 */
function helmTemplate(text: string, values: Values, release: Release, cluster: Cluster = {}): string {
  const lookup = (path: string): unknown =>
    path
      .split('.')
      .filter(Boolean)
      .reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], { Values: values, Release: release });
  const apis = cluster.apis ?? [];
  let out = text;
  // the caller token, in the order the file defines it
  let existing: string | undefined;
  let tokens: string | undefined;
  let token: string | undefined;
  out = out.replace(
    /\s*\{\{- \$existing := dig "data" "token" "" \(lookup "v1" "Secret" \.Release\.Namespace \(printf "%s-token" \.Release\.Name\)\) \}\}/,
    () => {
      existing = cluster.secrets?.[`${release.Namespace}/${release.Name}-token`]?.token ?? '';
      return '';
    },
  );
  out = out.replace(
    /\s*\{\{- \$tokens := ternary \(b64dec \$existing\) \(randAlphaNum (\d+) \| lower\) \(ne \$existing ""\) \}\}/,
    (_, n: string) => {
      if (existing === undefined) throw new Error('undefined variable "$existing"');
      tokens = existing !== '' ? Buffer.from(existing, 'base64').toString('utf8') : randAlphaNum(Number(n)).toLowerCase();
      return '';
    },
  );
  out = out.replace(/\s*\{\{- \$token := splitList "\\n" \(trim \$tokens\) \| first \| trim \}\}/, () => {
    if (tokens === undefined) throw new Error('undefined variable "$tokens"');
    token = tokens.trim().split('\n')[0]!.trim();
    return '';
  });
  out = out.replaceAll('{{ $tokens | b64enc }}', () => b64(tokens ?? '')).replaceAll('{{ $token }}', () => token ?? '');
  if ((/\{\{ \$tokens/.test(text) && tokens === undefined) || (/\{\{ \$token \}\}/.test(text) && token === undefined)) {
    throw new Error('undefined variable: the token is used in a file that does not make it');
  }
  // guards
  out = out.replace(
    /\n?\{\{- if ge \.Release\.Name "([^"]+)" \}\}\{\{ fail "([^"]+)" \}\}\{\{ end \}\}/g,
    (_, limit: string, message: string) => {
      if (release.Name >= limit) throw new Error(message);
      return '';
    },
  );
  out = out.replace(
    /\n?\{\{- if and \.Values\.certManager\.enabled \(not \(\.Capabilities\.APIVersions\.Has "([^"]+)"\)\) \}\}\{\{ fail "([^"]+)" \}\}\{\{ end \}\}/g,
    (_, api: string, message: string) => {
      if (values.certManager.enabled && !apis.includes(api)) throw new Error(message);
      return '';
    },
  );
  // blocks (not nested in what the generator writes); `{{-` eats the whitespace before it
  out = out.replace(/\s*\{\{- (if|with) (\.[\w.]+) \}\}([\s\S]*?)\s*\{\{- end \}\}/g, (_, verb: string, path: string, body: string) => {
    const v = lookup(path);
    if (!truthy(v)) return '';
    if (verb !== 'with') return body;
    return body.replaceAll('{{ . | quote }}', JSON.stringify(v)).replace(
      /\s*\{\{- toYaml \. \| nindent (\d+) \}\}/g,
      (_m, n: string) =>
        `\n${toYaml([v])
          .trimEnd()
          .split('\n')
          .map((l) => ' '.repeat(Number(n)) + l)
          .join('\n')}`,
    );
  });
  return out
    .replace(/\{\{ (\.[\w.]+) \| quote \}\}/g, (_, path: string) => JSON.stringify(String(lookup(path))))
    .replace(/\{\{ (\.[\w.]+) \}\}/g, (_, path: string) => String(lookup(path)));
}

function render(
  values: Values,
  release: Release = { Name: 'egress-warden', Namespace: 'egress-warden' },
  cluster: Cluster = {},
): KubeObject[] {
  return renderChart()
    .filter((f) => f.path.startsWith('templates/'))
    .flatMap((f) => {
      const r = parseDocuments(helmTemplate(f.text, values, release, cluster));
      if ('error' in r) throw new Error(`${f.path} line ${r.error.line}: ${r.error.message}`);
      return r.docs.map((d) => d.value as KubeObject).filter((o) => o);
    });
}

const comparable = (objects: readonly KubeObject[]) =>
  JSON.parse(JSON.stringify(objects.filter((o) => o.kind !== 'Namespace'))).sort((a: KubeObject, b: KubeObject) =>
    `${a.kind}/${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.kind}/${b.metadata?.namespace}/${b.metadata?.name}`),
  );

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** The lines of the rendered token Secret: what the server accepts. */
function secretTokens(objects: readonly KubeObject[]): string[] {
  const secrets = objects.filter((o) => o.kind === 'Secret' && o.metadata?.name?.endsWith('-token'));
  assert.is(secrets.length, 1, 'one token Secret');
  return Buffer.from((secrets[0]!.data as { token: string }).token, 'base64')
    .toString('utf8')
    .split('\n');
}

type Hook = { name: string; clientConfig: { service: { path: string } } };
const paths = (objects: readonly KubeObject[]) =>
  objects
    .flatMap((o) => (o.kind?.endsWith('WebhookConfiguration') ? (o.webhooks as Hook[]) : []))
    .map((w) => [w.name, w.clientConfig.service.path]);

const Helm = suite('helm chart');

Helm('the checked-in chart is exactly what the generator writes, with no stale files', () => {
  const files = renderChart();
  for (const f of files) {
    assert.is(readFileSync(join(CHART, f.path), 'utf8'), f.text, `${CHART}/${f.path} differs: regenerate with \`npm run manifests\``);
  }
  const onDisk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? onDisk(join(dir, e.name)) : [relative(CHART, join(dir, e.name))],
    );
  assert.equal(onDisk(CHART).sort(), files.map((f) => f.path).sort());
});

Helm('docsUrl reaches the server as EW_DOCS_URL, which its denials and warnings point to', () => {
  const objects = render({ ...DEFAULTS, docsUrl: 'https://docs.example.com/egress-warden/codes.md' });
  const deployment = objects.find((o) => o.kind === 'Deployment') as {
    spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
  };
  const env = deployment.spec.template.spec.containers[0]!.env.find((e) => e.name === 'EW_DOCS_URL');
  assert.is(env?.value, 'https://docs.example.com/egress-warden/codes.md');
});

Helm('with default values the chart renders the same objects as `manifests` with the same token, Namespace aside', () => {
  const objects = render(DEFAULTS);
  assert.equal(comparable(objects), comparable(renderInstallation({ tokens: secretTokens(objects) })));
});

Helm('release name and namespace, image, failure policy and caBundle come from the release and the values', () => {
  const values = {
    ...DEFAULTS,
    image: 'registry.example.com/egress-warden:0.1.0',
    failurePolicy: 'Fail',
    caBundle: Buffer.from(CA).toString('base64'),
  };
  const release = { Name: 'ew', Namespace: 'platform-webhooks' };
  const objects = render(values, release);
  const expected = renderInstallation({
    name: 'ew',
    namespace: 'platform-webhooks',
    image: values.image,
    failurePolicy: 'Fail',
    caPem: CA,
    tokens: secretTokens(objects),
  });
  assert.equal(comparable(objects), comparable(expected));
});

Helm('certManager.enabled renders the cert-manager variant, and refuses to render on a cluster without cert-manager', () => {
  const values = { ...DEFAULTS, certManager: { enabled: true } };
  const objects = render(values, undefined, { apis: ['cert-manager.io/v1'] });
  assert.equal(comparable(objects), comparable(renderInstallation({ certManager: true, tokens: secretTokens(objects) })));
  assert.throws(() => render(values), /cert-manager is not installed/);
  assert.throws(() => render(DEFAULTS, { Name: 'zz-warden', Namespace: 'x' }), /must sort before istio-sidecar-injector/);
});

Helm('a new install gets one random caller token, in its Secret and in every webhook path, mounted by the server', () => {
  const objects = render(DEFAULTS);
  const [token, ...more] = secretTokens(objects);
  assert.equal(more, []);
  assert.ok(TOKEN_PATTERN.test(token!), `${token} is not a caller token`);
  assert.is(servicePathTokenProblem(token!), undefined, 'the API server must accept the token in a Service path');
  assert.equal(paths(objects), [
    ['validate.egress-warden.io', `/validate/${token}`],
    ['namespaces.egress-warden.io', `/validate/${token}`],
    ['mutate.egress-warden.io', `/mutate/${token}`],
  ]);
  const pod = (objects.find((o) => o.kind === 'Deployment') as any).spec.template.spec;
  assert.ok(pod.volumes.some((v: any) => v.secret?.secretName === 'egress-warden-token'));
  assert.is.not(secretTokens(render(DEFAULTS))[0], token, 'another install gets another token');
});

Helm('an upgrade keeps the token of the existing Secret, all its lines, with the first in the webhook paths', () => {
  const kept = ['kept0123456789abcdefghijklmnopqrstuvwxyzabcd', 'old00123456789abcdefghijklmnopqrstuvwxyzabcd'];
  const release = { Name: 'ew', Namespace: 'platform-webhooks' };
  const cluster = { secrets: { 'platform-webhooks/ew-token': { token: b64(kept.join('\n')) } } };
  const objects = render(DEFAULTS, release, cluster);
  assert.equal(secretTokens(objects), kept);
  assert.ok(
    paths(objects).every(([, path]) => path!.endsWith(`/${kept[0]}`)),
    JSON.stringify(paths(objects)),
  );
  assert.equal(
    secretTokens(render(DEFAULTS, release, { secrets: { 'other/ew-token': { token: b64(kept[0]!) } } })).includes(kept[0]!),
    false,
    'a Secret of another namespace is not looked up',
  );
});

Helm('the token is made in the one template file that holds the Secret and the webhook configurations', () => {
  const uses = renderChart()
    .filter((f) => f.text.includes('$token'))
    .map((f) => f.path);
  assert.equal(uses, ['templates/webhooks.yaml']);
  const moved = renderChart()
    .find((f) => f.path === 'templates/webhooks.yaml')!
    .text.replace(/\{\{- \$existing[^\n]*\n/, '');
  assert.throws(() => helmTemplate(moved, DEFAULTS, { Name: 'egress-warden', Namespace: 'egress-warden' }), /undefined variable/);
});

Helm('networkPolicy.from admits only the peers listed, and by default any source', () => {
  const from = [{ ipBlock: { cidr: '10.0.0.0/28' } }, { ipBlock: { cidr: 'fd00::/64' } }];
  const objects = render({ ...DEFAULTS, networkPolicy: { from } });
  assert.equal(
    comparable(objects),
    comparable(renderInstallation({ allowFrom: ['10.0.0.0/28', 'fd00::/64'], tokens: secretTokens(objects) })),
  );
  const peers = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }];
  const policy = render({ ...DEFAULTS, networkPolicy: { from: peers } }).find((o) => o.kind === 'NetworkPolicy') as any;
  assert.equal(policy.spec.ingress[0].from, peers);
  const open = render(DEFAULTS).find((o) => o.kind === 'NetworkPolicy') as any;
  assert.is(open.spec.ingress[0].from, undefined);
});

Helm('manifests --helm writes the chart and takes no other flag', async () => {
  const io = captureIo();
  assert.is(await runManifests(['--helm', '/nonexistent-dir/x', '--image', 'y'], io), 2);
  assert.match(io.stderr(), /drop --image/);
});

Helm.run();
