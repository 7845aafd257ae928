/**
 * Client-certificate mode: a webhook started with --client-ca and --client-names answers admission
 * calls only from a caller presenting a certificate signed by that CA under one of those names. The
 * test control plane's API server presents one to every webhook (test/support/control-plane.ts),
 * so kubectl writes are judged as always, while someone holding the URL and even the caller token,
 * but not the API server's key, is refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { clientCertificates, type ClientPems } from '../support/client-certs.ts';
import { byReason, gained, post, refusals, review, type Answer } from '../support/forge.ts';
import { accepted, acceptedCleanly, create, denied, eventually, kubectl, startWebhook, type Obj, type Webhook } from '../support/kube.ts';

const E2E = suite("e2e/client-cert: a webhook that requires the API server's client certificate");

const env = process.env;
const client =
  env.EW_E2E_WEBHOOK_CLIENT_CA &&
  env.EW_E2E_WEBHOOK_CLIENT_CA_KEY &&
  env.EW_E2E_WEBHOOK_CLIENT_NAME &&
  env.EW_E2E_WEBHOOK_CLIENT_CERT &&
  env.EW_E2E_WEBHOOK_CLIENT_KEY
    ? {
        caFile: env.EW_E2E_WEBHOOK_CLIENT_CA,
        caKeyFile: env.EW_E2E_WEBHOOK_CLIENT_CA_KEY,
        name: env.EW_E2E_WEBHOOK_CLIENT_NAME,
        certFile: env.EW_E2E_WEBHOOK_CLIENT_CERT,
        keyFile: env.EW_E2E_WEBHOOK_CLIENT_KEY,
      }
    : undefined;
const live = Boolean(env.KUBECONFIG) && client !== undefined;
const test = live ? E2E : E2E.skip;
if (!env.KUBECONFIG) process.stdout.write('e2e/client-cert: skipped, no cluster (run through npm run test:e2e)\n');
// On a cluster of one's own the certificate the API server presents to webhooks (if any) is unknown.
else if (!client)
  process.stdout.write("e2e/client-cert: skipped, the API server's webhook client certificate is unknown (run with KUBEBUILDER_ASSETS)\n");

let hook: Webhook;
let token: string;
/** signed by a CA the webhook does not trust, with the accepted name */
let stranger: ClientPems;
/** signed by the trusted CA, with a name the webhook does not accept */
let otherName: ClientPems;

E2E.before(async () => {
  if (!live || !client) return;
  hook = await startWebhook({ serveArgs: ['--client-ca', client.caFile, '--client-names', client.name] });
  token = readFileSync(join(hook.certDir, 'token'), 'utf8').split('\n')[0]!.trim();
  stranger = await clientCertificates(client.name);
  otherName = await clientCertificates('someone-else', {
    ca: { cert: readFileSync(client.caFile, 'utf8'), key: readFileSync(client.caKeyFile, 'utf8') },
  });
});

E2E.after(async () => {
  await hook?.dispose();
});

const namespaceObject = (name: string, annotations: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: hook.selector, annotations },
});

const pod = (name: string, ns: string, annotations: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, annotations },
  // no token mount: the namespace's default ServiceAccount may not exist yet
  spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
});

/** A review only the webhook can answer: a Namespace whose bypass list is not CIDRs. */
const probeReview = (ns: string) =>
  review({
    operation: 'CREATE',
    resource: 'namespaces',
    namespace: ns,
    object: namespaceObject(ns, { 'egress-warden.io/bypass-ip-ranges': 'not-a-cidr' }),
  });

const postAs = (path: string, body: Obj, cert?: { readonly cert: string | Buffer; readonly key: string | Buffer }): Promise<Answer> =>
  post(`${hook.url}${path}`, body, { ca: hook.ca(), ...(cert ?? {}) });

test("the API server, presenting its certificate, gets an invalid namespace denied with egress-warden's message and a valid one allowed", () => {
  const ns = hook.namespace('calls');
  denied(
    kubectl(
      ['apply', '--dry-run=server', '-f', '-'],
      JSON.stringify(namespaceObject(ns, { 'egress-warden.io/bypass-ip-ranges': 'not-a-cidr' })),
    ),
    'namespaces.egress-warden.io',
    /\[EW5\d\d\][^\n]*not-a-cidr/,
  );
  acceptedCleanly(
    kubectl(
      ['apply', '--dry-run=server', '-f', '-'],
      JSON.stringify(namespaceObject(ns, { 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24' })),
    ),
  );
});

test('the API server, presenting its certificate, gets pods mutated and a pod with a broken bypass list denied', async () => {
  const ns = hook.namespace('pods', { 'istio-injection': 'enabled' });
  denied(
    create(pod('bad', ns, { 'egress-warden.io/bypass-ip-ranges': 'not-a-cidr' }), '--dry-run=server'),
    'mutate.egress-warden.io',
    /\[EW5\d\d\][^\n]*not-a-cidr/,
  );
  // the server learns the namespace's labels from its own admission of it or from its informer
  const mutated = await eventually('the pod is mutated', () => {
    const r = create(pod('app', ns, { 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24' }), '--dry-run=server', '-o', 'json');
    accepted(r);
    const annotations = (JSON.parse(r.stdout) as Obj).metadata.annotations as Record<string, string>;
    return annotations['egress-warden.io/applied'] ? annotations : undefined;
  });
  assert.ok(
    (mutated['traffic.sidecar.istio.io/excludeOutboundIPRanges'] ?? '').split(',').includes('203.0.113.0/24'),
    JSON.stringify(mutated),
  );
});

test('probes and metrics answer without a client certificate', async () => {
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    const r = await hook.get(path);
    assert.is(r.status, 200, `${path}: ${r.status} ${r.body.slice(0, 300)}`);
  }
});

test('with the right token, a caller without a certificate gets 401, one with a certificate of another CA or another name 403, and each refusal is counted', async () => {
  const ns = `${hook.name}-direct`;
  const before = refusals((await hook.get('/metrics')).body);
  const none = await postAs(`/validate/${token}`, probeReview(ns));
  const noneMutate = await postAs(`/mutate/${token}`, review({ operation: 'CREATE', resource: 'pods', object: pod('p', ns, {}) }));
  const foreign = await postAs(`/validate/${token}`, probeReview(ns), stranger);
  const misnamed = await postAs(`/validate/${token}`, probeReview(ns), otherName);
  const after = refusals((await hook.get('/metrics')).body);

  assert.is(none.status, 401, `no certificate, /validate: ${none.status} ${none.body}`);
  assert.is(noneMutate.status, 401, `no certificate, /mutate: ${noneMutate.status} ${noneMutate.body}`);
  assert.is(foreign.status, 403, `a certificate of another CA: ${foreign.status} ${foreign.body}`);
  assert.is(misnamed.status, 403, `the trusted CA, CN someone-else: ${misnamed.status} ${misnamed.body}`);
  for (const r of [none, noneMutate, foreign, misnamed]) assert.not.match(r.body, /"allowed"/, `a refusal carried a verdict: ${r.body}`);
  // exactly these: the API server's own calls, made with its certificate, are never refused
  assert.equal(
    byReason(gained(before, after)),
    { 'no-certificate': 2, 'certificate-not-accepted': 2 },
    `egress_warden_refused_requests_total gained ${JSON.stringify(gained(before, after))}`,
  );
});

test("the same request with the API server's own certificate is answered: the refusals came from the certificate alone", async () => {
  if (!client) return;
  const ns = `${hook.name}-direct`;
  const r = await postAs(`/validate/${token}`, probeReview(ns), { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) });
  assert.is(r.status, 200, r.body);
  const answer = JSON.parse(r.body) as Obj;
  assert.is(answer.response.allowed, false, r.body);
  assert.match(String(answer.response.status?.message), /not-a-cidr/);
});

E2E.run();
