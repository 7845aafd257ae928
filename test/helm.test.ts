import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../src/admission/types.ts';
import { captureIo } from '../src/commands/io.ts';
import { runManifests } from '../src/commands/manifests.ts';
import { renderChart } from '../src/manifests/helm.ts';
import { renderInstallation } from '../src/manifests/install.ts';
import { parseDocuments } from '../src/yaml.ts';

const CHART = 'manifests/helm/egress-warden';

type Values = { image: string; failurePolicy: string; caBundle: string; certManager: { enabled: boolean } };
type Release = { Name: string; Namespace: string };
const DEFAULTS: Values = { image: 'egress-warden:0.1.0', failurePolicy: 'Ignore', caBundle: '', certManager: { enabled: false } };

/**
 * Helm's rendering, for exactly the constructs the generator writes (helm is not installed here):
 * the two guards, `if` / `with` blocks with whitespace trimming, and the value substitutions.
 */
function helmTemplate(text: string, values: Values, release: Release, apis: readonly string[] = []): string {
  const lookup = (path: string): unknown => path.split('.').filter(Boolean).reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], { Values: values, Release: release });
  let out = text;
  // guards
  out = out.replace(/\n?\{\{- if ge \.Release\.Name "([^"]+)" \}\}\{\{ fail "([^"]+)" \}\}\{\{ end \}\}/g, (_, limit: string, message: string) => {
    if (release.Name >= limit) throw new Error(message);
    return '';
  });
  out = out.replace(/\n?\{\{- if and \.Values\.certManager\.enabled \(not \(\.Capabilities\.APIVersions\.Has "([^"]+)"\)\) \}\}\{\{ fail "([^"]+)" \}\}\{\{ end \}\}/g, (_, api: string, message: string) => {
    if (values.certManager.enabled && !apis.includes(api)) throw new Error(message);
    return '';
  });
  // blocks (not nested in what the generator writes); `{{-` eats the whitespace before it
  out = out.replace(/\s*\{\{- (if|with) (\.[\w.]+) \}\}([\s\S]*?)\s*\{\{- end \}\}/g, (_, verb: string, path: string, body: string) => {
    const v = lookup(path);
    if (!v) return '';
    return verb === 'with' ? body.replaceAll('{{ . | quote }}', JSON.stringify(v)) : body;
  });
  return out.replace(/\{\{ (\.[\w.]+) \}\}/g, (_, path: string) => String(lookup(path)));
}

function render(values: Values, release: Release = { Name: 'egress-warden', Namespace: 'egress-warden' }, apis: readonly string[] = []): KubeObject[] {
  return renderChart().filter((f) => f.path.startsWith('templates/')).flatMap((f) => {
    const r = parseDocuments(helmTemplate(f.text, values, release, apis));
    if ('error' in r) throw new Error(`${f.path} line ${r.error.line}: ${r.error.message}`);
    return r.docs.map((d) => d.value as KubeObject).filter((o) => o);
  });
}

const comparable = (objects: readonly KubeObject[]) => JSON.parse(JSON.stringify(objects.filter((o) => o.kind !== 'Namespace')))
  .sort((a: KubeObject, b: KubeObject) => `${a.kind}/${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.kind}/${b.metadata?.namespace}/${b.metadata?.name}`));

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

const Helm = suite('helm chart');

Helm('the checked-in chart is exactly what the generator writes, with no stale files', () => {
  const files = renderChart();
  for (const f of files) {
    assert.is(readFileSync(join(CHART, f.path), 'utf8'), f.text, `${CHART}/${f.path} differs: regenerate with \`npm run manifests\``);
  }
  const onDisk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? onDisk(join(dir, e.name)) : [relative(CHART, join(dir, e.name))]));
  assert.equal(onDisk(CHART).sort(), files.map((f) => f.path).sort());
});

Helm('with default values the chart renders the same objects as the kustomize base, Namespace aside', () => {
  assert.equal(comparable(render(DEFAULTS)), comparable(renderInstallation()));
});

Helm('release name and namespace, image, failure policy and caBundle come from the release and the values', () => {
  const values = { ...DEFAULTS, image: 'registry.example.com/egress-warden:0.1.0', failurePolicy: 'Fail', caBundle: Buffer.from(CA).toString('base64') };
  const release = { Name: 'ew', Namespace: 'platform-webhooks' };
  const expected = renderInstallation({ name: 'ew', namespace: 'platform-webhooks', image: values.image, failurePolicy: 'Fail', caPem: CA });
  assert.equal(comparable(render(values, release)), comparable(expected));
});

Helm('certManager.enabled renders the cert-manager variant, and refuses to render on a cluster without cert-manager', () => {
  const values = { ...DEFAULTS, certManager: { enabled: true } };
  assert.equal(comparable(render(values, undefined, ['cert-manager.io/v1'])), comparable(renderInstallation({ certManager: true })));
  assert.throws(() => render(values), /cert-manager is not installed/);
  assert.throws(() => render(DEFAULTS, { Name: 'zz-warden', Namespace: 'x' }), /must sort before istio-sidecar-injector/);
});

Helm('manifests --helm writes the chart and takes no other flag', async () => {
  const io = captureIo();
  assert.is(await runManifests(['--helm', '/nonexistent-dir/x', '--image', 'y'], io), 2);
  assert.match(io.stderr(), /drop --image/);
});

Helm.run();
