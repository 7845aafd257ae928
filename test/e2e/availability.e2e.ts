/**
 * What the API server does when the webhook is away: the failure policies as a user configures
 * them. Certificate rotations with writes in flight are in renewal.e2e.ts.
 */
import * as assert from 'uvu/assert';
import { accepted, create, eventually, getJson, hasCrd, kubectl, must, webhookSuite } from '../support/kube.ts';

const { E2E, test, ctx } = webhookSuite('e2e/availability: the failure policies with the server down');

const serviceEntry = (name: string, ns: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: ns },
  spec: {
    hosts: ['api.example.com'],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
  },
});

test('with the server down and failurePolicy Fail, writes to selected namespaces fail naming the webhook, other namespaces are untouched', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const ns = ctx.hook.namespace('fail');
  const outside = `${ctx.hook.name}-outside`;
  must(['create', 'namespace', outside]);
  try {
    await ctx.hook.stop();
    const r = create(serviceEntry('while-down', ns));
    assert.is.not(r.code, 0, 'the write succeeded with the webhook down and failurePolicy Fail');
    assert.match(r.stderr, /failed calling webhook "validate\.egress-warden\.io"/);
    accepted(create(serviceEntry('outside', outside)));
  } finally {
    kubectl(['delete', 'namespace', outside, '--wait=false']);
    await ctx.hook.start();
  }
});

test('with failurePolicy Ignore, writes succeed while the server is down and pods are stored unchanged', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const ns = ctx.hook.namespace('ignore', { 'istio-injection': 'enabled' });
  must(['apply', '-f', '-'], ctx.hook.render('Ignore'));
  try {
    await ctx.hook.stop();
    await eventually('the API server applies failurePolicy Ignore', () =>
      create(serviceEntry('while-down', ns)).code === 0 ? true : undefined,
    );
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'while-down', namespace: ns },
      spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
    };
    await eventually('the pod is stored', () => (create(pod).code === 0 ? true : undefined));
    const stored = getJson(['pod', 'while-down', '-n', ns]);
    assert.is(stored.metadata.annotations?.['egress-warden.io/applied'], undefined);
  } finally {
    await ctx.hook.start();
    must(['apply', '-f', '-'], ctx.hook.render('Fail'));
  }
});

E2E.run();
