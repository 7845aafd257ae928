/**
 * The webhook as a user meets it: registered from `egress-warden manifests --url`, called by a real
 * API server, answering `kubectl apply` with denials and warnings exactly as kubectl prints them.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startInjector, type Injector } from '../support/injector.ts';
import {
  accepted,
  acceptedCleanly,
  apply,
  create,
  denied,
  eventually,
  getJson,
  hasCrd,
  kubectl,
  must,
  ourWarnings,
  startWebhook,
  type Obj,
  type Webhook,
} from '../support/kube.ts';

const E2E = suite('e2e/webhook: admission through a real API server');
const test = process.env.KUBECONFIG ? E2E : E2E.skip;
if (!process.env.KUBECONFIG) process.stdout.write('e2e/webhook: skipped, no cluster (run through npm run test:e2e)\n');

let hook: Webhook;
let injector: Injector | undefined;

E2E.before(async () => {
  if (!process.env.KUBECONFIG) return;
  hook = await startWebhook();
});

E2E.after(async () => {
  await injector?.close();
  await hook?.dispose();
});

const serviceEntry = (name: string, ns: string, protocol: string, portName = 'tls') => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: ns },
  spec: { hosts: ['api.example.com'], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 443, name: portName, protocol }] },
});

const virtualService = (name: string, ns: string, sniHost: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace: ns },
  spec: {
    hosts: ['api.example.com'],
    tls: [{ match: [{ port: 443, sniHosts: [sniHost] }], route: [{ destination: { host: 'api.example.com', port: { number: 443 } } }] }],
  },
});

const egress = (name: string, ns: string, protocol: string) => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace: ns },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
    hosts: ['httpbin.org'],
    ports: [{ number: 80, protocol }],
  },
});

const pod = (name: string, ns: string, annotations: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, annotations },
  spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
});

test('the configurations rendered by manifests --url carry the CA and the server URL', () => {
  for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
    const config = getJson([kind, hook.name]);
    for (const w of config.webhooks as Obj[]) {
      assert.ok(String(w.clientConfig.url).startsWith(hook.url), `${w.name}: ${w.clientConfig.url}`);
      assert.is(Buffer.from(w.clientConfig.caBundle, 'base64').toString().trim(), hook.ca().toString().trim());
    }
  }
});

test('a namespace annotated with a bypass list that is not CIDRs is denied at kubectl annotate time', () => {
  const ns = hook.namespace('annotate');
  const r = kubectl(['annotate', 'namespace', ns, 'egress-warden.io/bypass-ip-ranges=not-a-cidr']);
  denied(r, 'namespaces.egress-warden.io', /\[EW5\d\d\].*not-a-cidr/);
  acceptedCleanly(kubectl(['annotate', '--overwrite', 'namespace', ns, 'egress-warden.io/bypass-ip-ranges=203.0.113.0/24']));
  assert.is(getJson(['namespace', ns]).metadata.annotations['egress-warden.io/bypass-ip-ranges'], '203.0.113.0/24');
});

test("a denial reads in kubectl as the API server forwards it: Forbidden, the webhook, the code, the field path, the message and the code's page", () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const ns = hook.namespace('deny');
  acceptedCleanly(apply(serviceEntry('good', ns, 'TLS')));
  const r = apply(serviceEntry('bad', ns, 'FOO'));
  denied(r, 'validate.egress-warden.io', /\[EW1\d\d\] spec\.ports\[0\]\.protocol/);
  const line = r.stderr
    .trim()
    .split('\n')
    .find((l) => l.includes('denied the request'))!;
  assert.match(
    line,
    /^Error from server \(Forbidden\): error when creating "STDIN": admission webhook "validate\.egress-warden\.io" denied the request: \[EW1\d\d\] spec\.ports\[0\]\.protocol: .*FOO.* \(egress-warden help EW1\d\d\)$/,
  );
  assert.is(kubectl(['get', 'serviceentry', 'bad', '-n', ns]).code, 1, 'a denied object must not be stored');
});

test('--dry-run=server is judged like a write and stores nothing', () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const ns = hook.namespace('dryrun');
  denied(apply(serviceEntry('bad', ns, 'FOO'), '--dry-run=server'), 'validate.egress-warden.io', /\[EW1\d\d\]/);
  const r = apply(serviceEntry('good', ns, 'TLS'), '--dry-run=server');
  acceptedCleanly(r);
  assert.match(r.stdout, /serviceentry\.networking\.istio\.io\/good created \(server dry run\)/);
  assert.is(kubectl(['get', 'serviceentry', 'good', '-n', ns]).code, 1, 'a dry run must not store the object');
});

test('a TLS VirtualService whose SNI host is not one of its hosts is denied, and in a warn-mode namespace stored with a warning', async () => {
  if (!hasCrd('virtualservices.networking.istio.io')) return;
  const enforce = hook.namespace('vs');
  acceptedCleanly(apply(virtualService('good', enforce, 'api.example.com')));
  denied(apply(virtualService('bad', enforce, 'other.example.com')), 'validate.egress-warden.io', /\[EW2\d\d\] spec\.tls\[0\]/);

  const warnNs = hook.namespace('warn', { 'egress-warden.io/mode': 'warn' });
  // the server learns the namespace's mode from its informer
  await eventually('the warn mode applies', () =>
    apply(virtualService('bad', warnNs, 'other.example.com'), '--dry-run=server').code === 0 ? true : undefined,
  );
  const r = apply(virtualService('bad', warnNs, 'other.example.com'));
  accepted(r);
  const warnings = ourWarnings(r.stderr);
  assert.ok(
    warnings.some((l) => /^Warning: \[EW2\d\d\] spec\.tls\[0\]/.test(l)),
    `expected a warning, got:\n${r.stderr}`,
  );
  assert.is(kubectl(['get', 'virtualservice', 'bad', '-n', warnNs]).code, 0, 'the object was not stored');
});

test('an OSM Egress with an upper-case protocol, which OSM silently ignores, is denied; a well-formed one is accepted', () => {
  if (!hasCrd('egresses.policy.openservicemesh.io')) return;
  const ns = hook.namespace('egress');
  acceptedCleanly(apply(egress('good', ns, 'http')));
  denied(apply(egress('bad', ns, 'HTTP')), 'validate.egress-warden.io', /\[EW3\d\d\] spec\.ports\[0\]/);
});

test('a pod is stored with its bypass range in the mesh annotations and in istio-init -x after the injector ran (reinvocation)', async () => {
  const ns = hook.namespace('pods', { 'istio-injection': 'enabled' });
  injector = await startInjector(`istio-sidecar-injector-${hook.name}`, hook.selector);
  const annotations = { 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24' };
  // the server learns the namespace's labels from its informer, the API server the new configuration asynchronously
  await eventually(
    'the pod is mutated and injected',
    () => {
      const r = create(pod('probe', ns, annotations), '--dry-run=server', '-o', 'json');
      if (r.code !== 0) throw new Error(r.stderr);
      const p = JSON.parse(r.stdout) as Obj;
      if (!p.metadata?.annotations?.['egress-warden.io/applied'] || !p.spec.initContainers?.length)
        throw new Error(`not yet: ${JSON.stringify(p.metadata.annotations)} ${JSON.stringify(p.spec.initContainers)}`);
      return true;
    },
    60,
  );
  accepted(create(pod('bypass', ns, annotations)));
  const stored = getJson(['pod', 'bypass', '-n', ns]);
  const a = stored.metadata.annotations as Record<string, string>;
  assert.ok(a['egress-warden.io/applied'], `no egress-warden.io/applied annotation: ${JSON.stringify(a)}`);
  assert.ok((a['traffic.sidecar.istio.io/excludeOutboundIPRanges'] ?? '').split(',').includes('203.0.113.0/24'), JSON.stringify(a));
  const init = (stored.spec.initContainers as Obj[]).find((c) => c.name === 'istio-init')!;
  const args = init.args as string[];
  assert.ok(args[args.indexOf('-x') + 1]!.split(',').includes('203.0.113.0/24'), `istio-init -x lacks the range: ${JSON.stringify(args)}`);
});

test('a pod whose bypass annotation is not a CIDR list is denied with the key and the value', () => {
  const ns = hook.namespace('badpod', { 'istio-injection': 'enabled' });
  const r = create(pod('bad-bypass', ns, { 'egress-warden.io/bypass-ip-ranges': 'not-a-cidr' }));
  denied(r, 'mutate.egress-warden.io', /\[EW5\d\d\][^\n]*egress-warden\.io\/bypass-ip-ranges[^\n]*not-a-cidr/);
});

test("the server's metrics count the reviews the API server sent", async () => {
  const r = await hook.get('/metrics');
  assert.is(r.status, 200);
  const validate = r.body.split('\n').filter((l) => l.startsWith('egress_warden_') && l.includes('route="/validate"'));
  assert.ok(validate.length > 0, r.body.slice(0, 2000));
  must(['get', 'validatingwebhookconfiguration', hook.name]);
});

E2E.run();
