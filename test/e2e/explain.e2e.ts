/**
 * `egress-warden explain` against a real API server, walking the meshes' egress tutorials: Istio
 * under REGISTRY_ONLY (blocked with a ServiceEntry fix, allowed once it is applied, HTTPS by SNI, a
 * namespace capturing only cluster traffic), and OSM with egress policy on (the ServiceAccount an
 * Egress names, another one, and a tcp-server-first match breaking the port).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { accepted, apply, cli, hasCrd, kubectl, must, ourWarnings, runId, startWebhook, type Obj } from '../support/kube.ts';

const E2E = suite('e2e/explain: will this pod reach this destination, and if not, why');
const test = process.env.KUBECONFIG ? E2E : E2E.skip;
if (!process.env.KUBECONFIG) process.stdout.write('e2e/explain: skipped, no cluster (run through npm run test:e2e)\n');

const id = runId('ew-explain');
const shop = `${id}-shop`;
const local = `${id}-local`;
const curl = `${id}-curl`;
const created: string[] = [];

type Answer = {
  readonly code: number;
  readonly verdict: string;
  readonly reasons: { step: string; says: string; objects?: string[] }[];
  readonly fix: string | null;
};

function explain(...args: string[]): Answer {
  const r = cli(['explain', '--kubeconfig', process.env.KUBECONFIG!, '-o', 'json', ...args]);
  assert.ok(r.stdout, `explain printed nothing (status ${r.status}):\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as Omit<Answer, 'code'>;
  return { code: r.status ?? -1, ...out };
}

const namespace = (name: string, labels: Obj, annotations: Obj = {}) => {
  created.push(name);
  must(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } }));
};

E2E.before(() => {
  if (!process.env.KUBECONFIG) return;
  for (const ns of ['istio-system', 'osm-system']) kubectl(['create', 'namespace', ns]);
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: 'istio-system' },
      data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' },
    }),
  );
  namespace(shop, { 'istio-injection': 'enabled' });
  namespace(local, { 'istio-injection': 'enabled' }, { 'egress-warden.io/outbound-capture': 'cluster' });
  namespace(curl, { 'openservicemesh.io/monitored-by': 'osm' }, { 'openservicemesh.io/sidecar-injection': 'enabled' });
});

E2E.after(() => {
  if (!process.env.KUBECONFIG) return;
  kubectl(['delete', 'configmap', 'istio', '-n', 'istio-system', '--ignore-not-found']);
  kubectl(['delete', 'meshconfig.config.openservicemesh.io', 'osm-mesh-config', '-n', 'osm-system', '--ignore-not-found']);
  for (const ns of created) kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
});

test('REGISTRY_ONLY with no ServiceEntry: blocked, with a ServiceEntry fix; applying the fix makes it allowed', () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sleep', namespace: shop },
      spec: { serviceAccountName: 'default', containers: [{ name: 'sleep', image: 'curlimages/curl' }] },
    }),
  );
  const before = explain('--from', `${shop}/sleep`, '--to', 'http://httpbin.org');
  assert.is(before.code, 1);
  assert.is(before.verdict, 'blocked');
  assert.ok(
    before.reasons.some((r) => r.step === 'mesh' && r.says.includes('REGISTRY_ONLY')),
    JSON.stringify(before.reasons),
  );
  assert.match(before.fix ?? '', /kind: ServiceEntry[\s\S]*httpbin\.org[\s\S]*protocol: HTTP/);

  must(['apply', '-f', '-'], before.fix!);
  const after = explain('--from', `${shop}/sleep`, '--to', 'http://httpbin.org');
  assert.is(after.code, 0);
  assert.is(after.verdict, 'allowed');
  assert.ok(
    after.reasons.some((r) => r.objects?.includes(`ServiceEntry ${shop}/httpbin-org-80`)),
    JSON.stringify(after.reasons),
  );
});

test('www.google.com:443 with an HTTPS ServiceEntry is allowed', () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'google', namespace: shop },
      spec: {
        hosts: ['www.google.com'],
        location: 'MESH_EXTERNAL',
        resolution: 'DNS',
        ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
      },
    }),
  );
  const e = explain('--from', shop, '--service-account', 'sleep', '--to', 'https://www.google.com:443');
  assert.is(e.code, 0);
  assert.is(e.verdict, 'allowed');
});

test('a pod in an outbound-capture: cluster namespace is bypassed for an external host', () => {
  const e = explain('--from', local, '--service-account', 'sleep', '--to', 'https://www.google.com');
  assert.is(e.code, 0);
  assert.is(e.verdict, 'bypassed');
  assert.ok(
    e.reasons.some((r) => r.says.includes('lockdown does not apply')),
    JSON.stringify(e.reasons),
  );
});

test('OSM with egress policy on: the curl ServiceAccount with an http/80 Egress for httpbin.org is allowed, another is blocked', () => {
  if (!hasCrd('egresses.policy.openservicemesh.io') || !hasCrd('meshconfigs.config.openservicemesh.io')) return;
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'config.openservicemesh.io/v1alpha2',
      kind: 'MeshConfig',
      metadata: { name: 'osm-mesh-config', namespace: 'osm-system' },
      spec: { traffic: { enableEgress: false }, featureFlags: { enableEgressPolicy: true } },
    }),
  );
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'policy.openservicemesh.io/v1alpha1',
      kind: 'Egress',
      metadata: { name: 'httpbin-80', namespace: curl },
      spec: {
        sources: [{ kind: 'ServiceAccount', name: 'curl', namespace: curl }],
        hosts: ['httpbin.org'],
        ports: [{ number: 80, protocol: 'http' }],
      },
    }),
  );
  const ok = explain('--from', curl, '--service-account', 'curl', '--to', 'http://httpbin.org');
  assert.is(ok.verdict, 'allowed', JSON.stringify(ok.reasons));
  assert.is(ok.code, 0);
  const other = explain('--from', curl, '--service-account', 'other', '--to', 'http://httpbin.org');
  assert.is(other.verdict, 'blocked');
  assert.is(other.code, 1);
  assert.match(other.fix ?? '', /kind: Egress[\s\S]*name: other/);
});

test('a tcp-server-first match on the port is blocked, naming both objects', () => {
  if (!hasCrd('egresses.policy.openservicemesh.io')) return;
  const r = apply({
    apiVersion: 'policy.openservicemesh.io/v1alpha1',
    kind: 'Egress',
    metadata: { name: 'mysql-80', namespace: curl },
    spec: {
      sources: [{ kind: 'ServiceAccount', name: 'curl', namespace: curl }],
      ipAddresses: ['192.0.2.0/24'],
      ports: [{ number: 80, protocol: 'tcp-server-first' }],
    },
  });
  assert.is(r.code, 0, r.stderr);
  const e = explain('--from', curl, '--service-account', 'curl', '--to', 'http://httpbin.org');
  assert.is(e.verdict, 'blocked');
  assert.is(e.code, 1);
  const conflict = e.reasons.find((x) => x.step === 'conflict');
  assert.equal(conflict?.objects, [`Egress ${curl}/mysql-80`, `Egress ${curl}/httpbin-80`]);
});

test('the webhook reads the MeshConfig: an Egress created while egress policy is off is admitted with a warning that it has no effect', async () => {
  if (!hasCrd('egresses.policy.openservicemesh.io') || !hasCrd('meshconfigs.config.openservicemesh.io')) return;
  must([
    'patch',
    'meshconfig.config.openservicemesh.io',
    'osm-mesh-config',
    '-n',
    'osm-system',
    '--type=merge',
    '-p',
    '{"spec":{"featureFlags":{"enableEgressPolicy":false}}}',
  ]);
  // The settings are read when the webhook starts (and every ten minutes after).
  const hook = await startWebhook();
  try {
    const ns = hook.namespace('osm');
    const r = apply({
      apiVersion: 'policy.openservicemesh.io/v1alpha1',
      kind: 'Egress',
      metadata: { name: 'httpbin', namespace: ns },
      spec: {
        sources: [{ kind: 'ServiceAccount', name: 'curl', namespace: ns }],
        hosts: ['httpbin.org'],
        ports: [{ number: 80, protocol: 'http' }],
      },
    });
    accepted(r);
    assert.ok(
      ourWarnings(r.stderr).some((l) => /\[EW348\] spec: OSM ignores this Egress/.test(l)),
      r.stderr,
    );
  } finally {
    await hook.dispose();
  }
});

E2E.run();
