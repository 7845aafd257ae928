/**
 * What the API server does when the webhook is away or changes its certificate: the failure
 * policies as a user configures them, and a certificate rotation while writes keep arriving.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  accepted, cli, create, eventually, getJson, hasCrd, keepWriting, kubectl, must, sleep, startWebhook, type Webhook,
} from '../support/kube.ts';

const E2E = suite('e2e/availability: failure policies and certificate rotation');
const test = process.env.KUBECONFIG ? E2E : E2E.skip;
if (!process.env.KUBECONFIG) process.stdout.write('e2e/availability: skipped, no cluster (run through npm run test:e2e)\n');

let hook: Webhook;

E2E.before(async () => {
  if (!process.env.KUBECONFIG) return;
  hook = await startWebhook();
});

E2E.after(async () => {
  await hook?.dispose();
});

const serviceEntry = (name: string, ns: string) => ({
  apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name, namespace: ns },
  spec: { hosts: ['api.example.com'], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] },
});

/** The fingerprint of the certificate a new TLS connection to the server is given. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.end();
      resolve(fp);
    });
    socket.once('error', reject);
  });
}

test('a certificate rotation to a new CA while the API server keeps calling fails no write', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const ns = hook.namespace('rotate');
  const oldCa = readFileSync(join(hook.certDir, 'ca.crt'), 'utf8');
  const oldFingerprint = new X509Certificate(readFileSync(join(hook.certDir, 'tls.crt'))).fingerprint256;
  await eventually('writes reach the webhook', () => (create(serviceEntry('probe', ns), '--dry-run=server').code === 0 ? true : undefined));
  const writer = keepWriting(serviceEntry('rotating', ns));
  const next = mkdtempSync(join(tmpdir(), 'ew-e2e-next-'));
  try {
    await sleep(1_000);
    // 1. trust the old and the new CA
    assert.is(cli(['certs', '--dir', next, '--san', '127.0.0.1']).status, 0);
    const newCa = readFileSync(join(next, 'ca.crt'), 'utf8');
    const bundle = join(next, 'bundle.crt');
    writeFileSync(bundle, `${oldCa.trim()}\n${newCa.trim()}\n`);
    const rendered = (ca: string) => cli(['manifests', '--name', hook.name, '--url', hook.url, '--ca', ca,
      '--namespace-label', `egress-warden.io/e2e=${hook.name}`, '--failure-policy', 'Fail']).stdout;
    must(['apply', '-f', '-'], rendered(bundle));
    await sleep(3_000); // the API server reloads webhook configurations asynchronously
    // 2. serve the new certificate: swap the files as a Secret update would
    for (const f of ['tls.key', 'tls.crt']) {
      writeFileSync(join(hook.certDir, `.${f}.new`), readFileSync(join(next, f)));
      renameSync(join(hook.certDir, `.${f}.new`), join(hook.certDir, f));
    }
    const newFingerprint = new X509Certificate(readFileSync(join(next, 'tls.crt'))).fingerprint256;
    await eventually('new connections get the new certificate', async () => ((await servedFingerprint(hook.port)) === newFingerprint ? true : undefined));
    await sleep(2_000);
    // 3. trust only the new CA
    must(['apply', '-f', '-'], rendered(join(next, 'ca.crt')));
    writeFileSync(join(hook.certDir, 'ca.crt'), newCa);
    await sleep(3_000);
    assert.is.not(newFingerprint, oldFingerprint);
  } finally {
    const { sent, failures } = await writer.stop();
    rmSync(next, { recursive: true, force: true });
    assert.equal(failures, [], `${failures.length} of ${sent} writes failed`);
    assert.ok(sent >= 10, `only ${sent} writes were made during the rotation`);
    process.stdout.write(`  rotation: ${sent} writes through the webhook, ${failures.length} failed\n`);
  }
  const config = getJson(['validatingwebhookconfiguration', hook.name]);
  assert.is(Buffer.from(config.webhooks[0].clientConfig.caBundle, 'base64').toString().trim(), readFileSync(join(hook.certDir, 'ca.crt'), 'utf8').trim());
});

test('with the server down and failurePolicy Fail, writes to selected namespaces fail naming the webhook, other namespaces are untouched', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const ns = hook.namespace('fail');
  const outside = `${hook.name}-outside`;
  must(['create', 'namespace', outside]);
  try {
    await hook.stop();
    const r = create(serviceEntry('while-down', ns));
    assert.is.not(r.code, 0, 'the write succeeded with the webhook down and failurePolicy Fail');
    assert.match(r.stderr, /failed calling webhook "validate\.egress-warden\.io"/);
    accepted(create(serviceEntry('outside', outside)));
  } finally {
    kubectl(['delete', 'namespace', outside, '--wait=false']);
    await hook.start();
  }
});

test('with failurePolicy Ignore, writes succeed while the server is down and pods are stored unchanged', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const ns = hook.namespace('ignore', { 'istio-injection': 'enabled' });
  must(['apply', '-f', '-'], hook.render('Ignore'));
  try {
    await hook.stop();
    await eventually('the API server applies failurePolicy Ignore', () => (create(serviceEntry('while-down', ns)).code === 0 ? true : undefined));
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'while-down', namespace: ns },
      spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] } };
    await eventually('the pod is stored', () => (create(pod).code === 0 ? true : undefined));
    const stored = getJson(['pod', 'while-down', '-n', ns]);
    assert.is(stored.metadata.annotations?.['egress-warden.io/applied'], undefined);
  } finally {
    await hook.start();
    must(['apply', '-f', '-'], hook.render('Fail'));
  }
});

E2E.run();
