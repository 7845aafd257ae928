/**
 * What the API server does when the webhook is away: the failure policies as a user configures
 * them. Certificate rotations with writes in flight are in renewal.e2e.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  accepted, create, eventually, getJson, hasCrd, kubectl, must, startWebhook, type Webhook,
} from '../support/kube.ts';

const E2E = suite('e2e/availability: the failure policies with the server down');
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
