/**
 * An installation's life as an operator lives it, on a real API server: installed before its server
 * runs (writes keep working), enforcing once the server is ready and trusted, called only with its
 * caller token, switched to Fail, moved from the development CA to another CA (as cert-manager's
 * would be) with writes in flight, and uninstalled without a trace. The server runs from this
 * checkout, registered by URL; the in-cluster variants (printed, and the kustomize directory) are
 * applied as rendered, with no image to run, which is the state the cluster is in before the first
 * replica becomes ready.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  accepted,
  cli,
  create,
  denied,
  E2E_LABEL,
  eventually,
  getJson,
  hasCrd,
  keepWriting,
  kubectl,
  must,
  runId,
  sleep,
  servedFingerprint,
  startWebhook,
  untilCalled,
  type Obj,
  type Webhook,
} from '../support/kube.ts';

const E2E = suite('e2e/install: install, enforce, upgrade and uninstall without ever locking writes');
const test = process.env.KUBECONFIG ? E2E : E2E.skip;
if (!process.env.KUBECONFIG) process.stdout.write('e2e/install: skipped, no cluster (run through npm run test:e2e)\n');

let hook: Webhook;
let ns = '';

E2E.before(async () => {
  if (!process.env.KUBECONFIG) return;
  // certificates and a port, but no server yet and nothing registered
  hook = await startWebhook({ register: false });
  await hook.stop();
});

E2E.after(async () => {
  await hook?.dispose();
});

const serviceEntry = (name: string, namespace: string, portName = 'tls') => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace },
  spec: {
    hosts: ['api.example.com'],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    ports: [{ number: 443, name: portName, protocol: 'TLS' }],
  },
});
/** A ServiceEntry the webhook denies: its port name does not parse. */
const invalid = (name: string, namespace: string) => serviceEntry(name, namespace, 'https_443');

/** The caller token `certs --dir` wrote beside the certificates, which `serve --certs` reads. */
const tokenFile = () => join(hook.certDir, 'token');
const serverToken = () => readFileSync(tokenFile(), 'utf8').trim();

/** `egress-warden manifests` as an operator types it, for the URL-registered server of this suite. */
function manifests(...extra: string[]): string {
  const r = cli([
    'manifests',
    '--name',
    hook.name,
    '--url',
    hook.url,
    '--token-file',
    tokenFile(),
    '--namespace-label',
    `${E2E_LABEL}=${hook.name}`,
    ...extra,
  ]);
  if (r.status !== 0) throw new Error(`manifests failed: ${r.stderr}`);
  return r.stdout;
}

const doctor = (...extra: string[]) => cli(['doctor', '--name', hook.name, '--token-file', tokenFile(), ...extra]);

/** Every registered webhook of a configuration pair, as [name, url or service path]. */
const registered = (name: string): string[][] =>
  ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration'].flatMap((kind) =>
    (getJson([kind, name]).webhooks as Obj[]).map((w) => [w.name, w.clientConfig.url ?? w.clientConfig.service.path]),
  );

/** The kinds an in-cluster install creates, for `kubectl get -l` over the whole cluster. */
const INSTALLED_KINDS =
  'namespaces,serviceaccounts,secrets,configmaps,clusterroles,clusterrolebindings,roles,rolebindings,deployments,services,poddisruptionbudgets,networkpolicies,validatingwebhookconfigurations,mutatingwebhookconfigurations';

const leftovers = (instance: string): string =>
  must(['get', INSTALLED_KINDS, '-A', '-l', `app.kubernetes.io/instance=${instance}`, '-o', 'name']).trim();

/** A namespace selected by an in-cluster install rendered with --namespace-label. */
function selectedNamespace(instance: string): string {
  const name = `${instance}-app`;
  must(
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [E2E_LABEL]: instance } } }),
  );
  return name;
}

test('installed by default with its server not running, the webhook lets every write through', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  must(['apply', '-f', '-'], manifests('--ca', join(hook.certDir, 'ca.crt')));
  const config = getJson(['validatingwebhookconfiguration', hook.name]);
  assert.equal(
    config.webhooks.map((w: Obj) => w.failurePolicy),
    ['Ignore', 'Ignore'],
  );
  ns = hook.namespace('app');
  await sleep(2_000); // the API server loads configurations asynchronously: give it the chance to use this one
  for (let i = 0; i < 5; i++) accepted(create(invalid(`before-ready-${i}`, ns)));
  accepted(kubectl(['annotate', 'namespace', ns, 'egress-warden.io/bypass-ip-ranges=not-a-cidr']));
  kubectl(['annotate', 'namespace', ns, 'egress-warden.io/bypass-ip-ranges-']);
  const r = doctor();
  assert.is(r.status, 1, `doctor must fail while the server is down:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /FAIL\s+certificate\s+cannot read the served certificate/);
});

test('the in-cluster install, and its cert-manager variant on a cluster without cert-manager, block no write before a replica is ready; uninstall leaves nothing', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const plain = runId('ew-e2e-own');
  const variant = runId('ew-e2e-cm');
  const render = (instance: string, ...extra: string[]) => {
    const r = cli(['manifests', '--name', instance, '--namespace', instance, '--namespace-label', `${E2E_LABEL}=${instance}`, ...extra]);
    if (r.status !== 0) throw new Error(`manifests failed: ${r.stderr}`);
    return r.stdout;
  };
  try {
    const ready = cli(['doctor', '--preflight', '--name', plain, '--namespace', plain]);
    assert.is(ready.status, 0, `preflight without cert-manager:\n${ready.stdout}${ready.stderr}`);
    assert.match(ready.stdout, /ok\s+RBAC\s+you may create every object of the installation/);
    must(['apply', '-f', '-'], render(plain, '--ca', join(hook.certDir, 'ca.crt')));
    // a rendering without --token-file made a token: the Secret the pods mount and every path carry it
    const token = Buffer.from(getJson(['secret', '-n', plain, `${plain}-token`]).data.token, 'base64').toString('utf8');
    assert.equal(
      registered(plain).map(([, path]) => path),
      [`/validate/${token}`, `/validate/${token}`, `/mutate/${token}`],
    );
    assert.match(
      cli(['doctor', '--name', plain, '--namespace', plain]).stdout,
      new RegExp(`ok\\s+token\\s+every webhook path carries a token the server holds \\(Secret ${plain}/${plain}-token\\)`),
    );
    const pre = cli(['doctor', '--preflight', '--cert-manager', '--name', variant, '--namespace', variant]);
    assert.is(pre.status, 1, 'preflight must stop a cert-manager install on a cluster without cert-manager');
    assert.match(pre.stdout, /FAIL\s+cert-manager\s+cert-manager is not installed/);
    // applied anyway: kubectl creates what it can, including both webhook configurations without caBundle
    assert.is.not(kubectl(['apply', '-f', '-'], render(variant, '--cert-manager')).code, 0);
    assert.ok(kubectl(['get', 'validatingwebhookconfiguration', variant]).code === 0);
    const apps = [selectedNamespace(plain), selectedNamespace(variant)];
    await sleep(2_000);
    for (const app of apps) accepted(create(invalid('before-any-replica', app)));
    kubectl(['delete', 'namespace', ...apps, '--wait=false']);
    for (const [instance, extra] of [
      [plain, ['--ca', join(hook.certDir, 'ca.crt')]],
      [variant, ['--cert-manager']],
    ] as const) {
      // the cert-manager kinds are unknown to this cluster: kubectl says so and deletes the rest
      kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=false'], render(instance, '--uninstall', ...extra));
      await eventually(`nothing of ${instance} is left`, () => (leftovers(instance) === '' ? true : undefined), 90);
    }
  } finally {
    for (const instance of [plain, variant]) {
      kubectl([
        'delete',
        'validatingwebhookconfiguration,mutatingwebhookconfiguration,clusterrole,clusterrolebinding',
        instance,
        '--ignore-not-found',
      ]);
      kubectl(['delete', 'namespace', instance, `${instance}-app`, '--ignore-not-found', '--wait=false']);
      kubectl(['delete', 'role,rolebinding', '-n', 'kube-system', instance, '--ignore-not-found']);
    }
  }
});

test('once its server is ready and trusted the webhook enforces, called with its token, doctor passes, and validation can be switched to Fail', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  await hook.start();
  await untilCalled(hook.name);
  const token = serverToken();
  assert.equal(registered(hook.name), [
    ['validate.egress-warden.io', `${hook.url}/validate/${token}`],
    ['namespaces.egress-warden.io', `${hook.url}/validate/${token}`],
    ['mutate.egress-warden.io', `${hook.url}/mutate/${token}`],
  ]);
  // judged, so the API server called the token path and the server took the call as the API server's
  denied(create(invalid('after-ready', ns)), 'validate.egress-warden.io', /\[EW115\]/);
  const r = doctor();
  assert.is(r.status, 0, `doctor:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^ok\s+token\s+every webhook path carries a token the server holds/m);
  for (const check of ['webhooks', 'caBundle', 'certificate', 'token', 'reachable', 'RBAC', 'namespaces', 'CIDRs']) {
    assert.match(r.stdout, new RegExp(`^(ok  |WARN)  ${check}\\s`, 'm'), `${check} not reported as passing:\n${r.stdout}`);
  }
  assert.match(r.stdout, /fails open \(Ignore\)/);
  must(['apply', '-f', '-'], manifests('--ca', join(hook.certDir, 'ca.crt'), '--failure-policy', 'Fail'));
  assert.equal(
    getJson(['validatingwebhookconfiguration', hook.name]).webhooks.map((w: Obj) => w.failurePolicy),
    ['Fail', 'Ignore'],
  );
  const json = JSON.parse(doctor('--output', 'json').stdout) as { checks: { name: string; status: string; summary: string }[] };
  assert.match(json.checks.find((c) => c.name === 'webhooks')!.summary, /fails closed \(Fail\)/);
  accepted(create(serviceEntry('valid-after-fail', ns)));
});

test('configurations that carry another token are refused by the server, doctor names them, and the right token restores judging', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const dir = mkdtempSync(join(tmpdir(), 'ew-e2e-token-'));
  try {
    const wrong = join(dir, 'token');
    writeFileSync(wrong, 'wrong0123456789abcdefghijklmnopqrstuvwxyzabc\n', { mode: 0o600 });
    const r = cli([
      'manifests',
      '--name',
      hook.name,
      '--url',
      hook.url,
      '--token-file',
      wrong,
      '--ca',
      join(hook.certDir, 'ca.crt'),
      '--namespace-label',
      `${E2E_LABEL}=${hook.name}`,
      '--failure-policy',
      'Fail',
    ]);
    assert.is(r.status, 0, r.stderr);
    must(['apply', '-f', '-'], r.stdout);
    // with Fail, a refused call fails the write: even a valid object is not admitted unjudged
    const failed = await eventually(
      'the API server calls with the wrong token',
      () => {
        const w = create(serviceEntry('wrong-token', ns));
        return w.code !== 0 && w.stderr.includes('failed calling webhook "validate.egress-warden.io"') ? w : undefined;
      },
      60,
    );
    assert.not.ok(failed.stderr.includes('denied the request'), failed.stderr);
    const d = doctor();
    assert.is(d.status, 1);
    assert.match(
      d.stdout,
      /FAIL\s+token\s+validate\.egress-warden\.io, namespaces\.egress-warden\.io, mutate\.egress-warden\.io call with a token that .* does not hold/,
    );
  } finally {
    must(['apply', '-f', '-'], manifests('--ca', join(hook.certDir, 'ca.crt'), '--failure-policy', 'Fail'));
    rmSync(dir, { recursive: true, force: true });
  }
  await untilCalled(hook.name);
  accepted(create(serviceEntry('right-token', ns)));
  denied(create(invalid('right-token-invalid', ns)), 'validate.egress-warden.io', /\[EW115\]/);
});

test('the kustomize directory takes its token from base/token: the Secret and every path carry it, and nothing else is applied', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const instance = runId('ew-e2e-kust');
  const dir = mkdtempSync(join(tmpdir(), `${instance}-`));
  try {
    const w = cli([
      'manifests',
      '--write',
      dir,
      '--name',
      instance,
      '--namespace',
      instance,
      '--namespace-label',
      `${E2E_LABEL}=${instance}`,
      '--ca',
      join(hook.certDir, 'ca.crt'),
    ]);
    assert.is(w.status, 0, w.stderr);
    const token = readFileSync(join(dir, 'base/token'), 'utf8');
    assert.is(statSync(join(dir, 'base/token')).mode & 0o777, 0o600);
    must(['apply', '-k', dir]);
    assert.equal(registered(instance), [
      ['validate.egress-warden.io', `/validate/${token}`],
      ['namespaces.egress-warden.io', `/validate/${token}`],
      ['mutate.egress-warden.io', `/mutate/${token}`],
    ]);
    assert.is(Buffer.from(getJson(['secret', '-n', instance, `${instance}-token`]).data.token, 'base64').toString('utf8'), token);
    assert.is.not(
      kubectl(['get', 'configmap', '-n', instance, `${instance}-token`]).code,
      0,
      'the local-config ConfigMap must stay out of the cluster',
    );
    assert.match(
      cli(['doctor', '--name', instance, '--namespace', instance]).stdout,
      /ok\s+token\s+every webhook path carries a token the server holds/,
    );
    const app = selectedNamespace(instance);
    await sleep(2_000);
    accepted(create(invalid('before-any-replica', app)));
    kubectl(['delete', 'namespace', app, '--wait=false']);
    kubectl(['delete', '-k', dir, '--ignore-not-found', '--wait=false']);
    await eventually(`nothing of ${instance} is left`, () => (leftovers(instance) === '' ? true : undefined), 90);
  } finally {
    kubectl([
      'delete',
      'validatingwebhookconfiguration,mutatingwebhookconfiguration,clusterrole,clusterrolebinding',
      instance,
      '--ignore-not-found',
    ]);
    kubectl(['delete', 'namespace', instance, `${instance}-app`, '--ignore-not-found', '--wait=false']);
    kubectl(['delete', 'role,rolebinding', '-n', 'kube-system', instance, '--ignore-not-found']);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('moving from the development CA to a new CA, the way docs/install.md moves to cert-manager, fails no write', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const oldCa = readFileSync(join(hook.certDir, 'ca.crt'), 'utf8');
  const next = mkdtempSync(join(tmpdir(), 'ew-e2e-upgrade-'));
  const writer = keepWriting(serviceEntry('upgrading', ns));
  try {
    await sleep(1_000);
    // 1. the new CA exists first (cert-manager: manifests/cert-manager/ca.yaml, then the CA Secret's ca.crt)
    assert.is(cli(['certs', '--dir', next, '--san', '127.0.0.1']).status, 0);
    const newCa = readFileSync(join(next, 'ca.crt'), 'utf8');
    const bundle = join(next, 'bundle.crt');
    writeFileSync(bundle, `${oldCa.trim()}\n${newCa.trim()}\n`);
    // 2. trust both
    must(['apply', '-f', '-'], manifests('--ca', bundle, '--failure-policy', 'Fail'));
    await sleep(3_000);
    // 3. the serving certificate changes (cert-manager: serving-certificate.yaml rewrites the Secret; the server reloads it)
    for (const f of ['tls.key', 'tls.crt']) {
      writeFileSync(join(hook.certDir, `.${f}.new`), readFileSync(join(next, f)));
      renameSync(join(hook.certDir, `.${f}.new`), join(hook.certDir, f));
    }
    const served = new X509Certificate(readFileSync(join(next, 'tls.crt'))).fingerprint256;
    await eventually('new connections get the new certificate', async () =>
      (await servedFingerprint(hook.port)) === served ? true : undefined,
    );
    await sleep(2_000);
    // 4. the injector takes caBundle over (cainjector patches it to the new CA only), and the last
    //    applied configuration forgets caBundle, so that later applies without one never clear it
    const caBundle = Buffer.from(newCa).toString('base64');
    for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
      const count = (getJson([kind, hook.name]).webhooks as Obj[]).length;
      const patch = Array.from({ length: count }, (_, i) => ({
        op: 'replace',
        path: `/webhooks/${i}/clientConfig/caBundle`,
        value: caBundle,
      }));
      must(['patch', kind, hook.name, '--type=json', '-p', JSON.stringify(patch)]);
    }
    writeFileSync(join(hook.certDir, 'ca.crt'), newCa);
    const withoutCa = manifests('--failure-policy', 'Fail');
    must(['apply', 'set-last-applied', '-f', '-'], withoutCa);
    await sleep(3_000);
    must(['apply', '-f', '-'], withoutCa);
    await sleep(3_000);
  } finally {
    const { sent, failures } = await writer.stop();
    rmSync(next, { recursive: true, force: true });
    assert.equal(failures, [], `${failures.length} of ${sent} writes failed`);
    assert.ok(sent >= 10, `only ${sent} writes were made during the upgrade`);
    process.stdout.write(`  upgrade: ${sent} writes through the webhook, ${failures.length} failed\n`);
  }
  for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
    for (const w of getJson([kind, hook.name]).webhooks as Obj[]) {
      assert.is(
        Buffer.from(w.clientConfig.caBundle, 'base64').toString().trim(),
        readFileSync(join(hook.certDir, 'ca.crt'), 'utf8').trim(),
        `${w.name} lost its caBundle`,
      );
    }
  }
  denied(create(invalid('after-upgrade', ns)), 'validate.egress-warden.io', /\[EW115\]/);
});

test('uninstall removes the webhook configurations first, and the namespace labels it asked for come off', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  must(['delete', '-f', '-'], manifests('--uninstall'));
  for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
    assert.is(kubectl(['get', kind, hook.name]).code, 1, `${kind} ${hook.name} is still there`);
  }
  must(['label', 'namespace', '-l', `${E2E_LABEL}=${hook.name}`, `${E2E_LABEL}-`]);
  assert.is(must(['get', 'namespaces', '-l', `${E2E_LABEL}=${hook.name}`, '-o', 'name']).trim(), '');
  await sleep(2_000);
  accepted(create(invalid('after-uninstall', ns)));
});

E2E.run();
