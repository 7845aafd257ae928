/**
 * `egress-warden explain` against a real API server, walking the meshes' egress tutorials: Istio
 * under REGISTRY_ONLY (blocked with a ServiceEntry fix, allowed once it is applied, HTTPS by SNI, a
 * namespace capturing only cluster traffic), and OSM with egress policy on (the ServiceAccount an
 * Egress names, another one, a tcp-server-first match breaking the port, and one that leaves only a
 * tcp-server-first fix admissible); then the newer egress kinds: a Sidecar hiding another namespace's
 * ServiceEntry, an ambient ServiceEntry whose waypoint is missing, and a Linkerd Deny EgressNetwork.
 * The cluster is found from KUBECONFIG, as every command finds it;
 * every fix explain prints is applied with kubectl through a running webhook, which must admit it
 * without a finding.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  accepted,
  acceptedCleanly,
  apply,
  cli,
  denial,
  eventually,
  hasCrd,
  kubectl,
  must,
  ourWarnings,
  runId,
  startWebhook,
  type Obj,
  type Webhook,
} from '../support/kube.ts';

const E2E = suite('e2e/explain: will this pod reach this destination, and if not, why');
const test = process.env.KUBECONFIG ? E2E : E2E.skip;
if (!process.env.KUBECONFIG) process.stdout.write('e2e/explain: skipped, no cluster (run through npm run test:e2e)\n');

const id = runId('ew-explain');
const shop = `${id}-shop`;
const local = `${id}-local`;
const curl = `${id}-curl`;
const bank = `${id}-bank`;
/** Not selected by the webhook: objects that were there before it, which it would have refused. */
const legacy = `${id}-legacy`;
const created: string[] = [];
let hook: Webhook | undefined;

type Answer = {
  readonly code: number;
  readonly stderr: string;
  readonly verdict: string;
  readonly reasons: { step: string; says: string; objects?: string[] }[];
  readonly fix: string | null;
};

/** explain as a user runs it: the cluster from KUBECONFIG alone, no --kubeconfig. */
function explain(...args: string[]): Answer {
  const r = cli(['explain', '-o', 'json', ...args]);
  assert.ok(r.stdout, `explain printed nothing (status ${r.status}):\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as Omit<Answer, 'code' | 'stderr'>;
  return { code: r.status ?? -1, stderr: r.stderr, ...out };
}

/** Applies the fix explain printed, as its output says to: the webhook must admit it with no finding. */
function applyFix(answer: Answer): void {
  assert.ok(answer.fix, `explain printed no fix: ${JSON.stringify(answer.reasons)}`);
  acceptedCleanly(kubectl(['apply', '-f', '-'], answer.fix!));
}

const says = (answer: Answer, step: string): string =>
  answer.reasons
    .filter((r) => r.step === step)
    .map((r) => r.says)
    .join('\n');

const namespace = (name: string, labels: Obj, annotations: Obj = {}) => {
  created.push(name);
  must(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } }));
};

const osmLabels = { 'openservicemesh.io/monitored-by': 'osm' };
const osmInjection = { 'openservicemesh.io/sidecar-injection': 'enabled' };

const egress = (name: string, ns: string, sa: string, spec: Obj): Obj => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace: ns },
  spec: { sources: [{ kind: 'ServiceAccount', name: sa, namespace: ns }], ...spec },
});

E2E.before(async () => {
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
  hook = await startWebhook();
  const judged = hook.selector;
  namespace(shop, { ...judged, 'istio-injection': 'enabled' });
  namespace(local, { ...judged, 'istio-injection': 'enabled' }, { 'egress-warden.io/outbound-capture': 'cluster' });
  namespace(curl, { ...judged, ...osmLabels }, osmInjection);
  namespace(bank, { ...judged, ...osmLabels }, osmInjection);
  namespace(legacy, osmLabels, osmInjection);
});

E2E.after(async () => {
  if (!process.env.KUBECONFIG) return;
  await hook?.dispose();
  kubectl(['delete', 'configmap', 'istio', '-n', 'istio-system', '--ignore-not-found']);
  kubectl(['delete', 'meshconfig.config.openservicemesh.io', 'osm-mesh-config', '-n', 'osm-system', '--ignore-not-found']);
  for (const ns of created) kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
});

test('REGISTRY_ONLY with no ServiceEntry: blocked, with a ServiceEntry fix the webhook admits cleanly; applied, it makes it allowed', () => {
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
  assert.match(says(before, 'fix'), "passes the webhook's rules against this state");

  applyFix(before);
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

test('--kubeconfig FILE gives the answer KUBECONFIG alone gives; with neither and no ~/.kube/config, exit 2 says where it looked', () => {
  const home = mkdtempSync(join(tmpdir(), 'ew-explain-home-'));
  try {
    const bare = { ...process.env, KUBECONFIG: undefined, HOME: home, KUBERNETES_SERVICE_HOST: undefined };
    const args = ['explain', '--from', local, '--service-account', 'sleep', '--to', 'https://www.google.com', '-o', 'json'];
    const named = cli([...args, '--kubeconfig', process.env.KUBECONFIG!], bare);
    assert.is(named.status, 0, named.stderr);
    assert.is(JSON.parse(named.stdout).verdict, explain(...args.slice(1, -2)).verdict);
    const none = cli(args, bare);
    assert.is(none.status, 2);
    assert.is(none.stdout, '');
    assert.match(none.stderr, 'explain: no cluster to read (no --kubeconfig, no KUBECONFIG, not running in a pod, no ~/.kube/config)');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('OSM with egress policy on: the curl ServiceAccount with an http/80 Egress for httpbin.org is allowed; another gets a fix the webhook admits cleanly, which works', () => {
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
  acceptedCleanly(apply(egress('httpbin-80', curl, 'curl', { hosts: ['httpbin.org'], ports: [{ number: 80, protocol: 'http' }] })));
  const ok = explain('--from', curl, '--service-account', 'curl', '--to', 'http://httpbin.org');
  assert.is(ok.verdict, 'allowed', JSON.stringify(ok.reasons));
  assert.is(ok.code, 0);
  const other = explain('--from', curl, '--service-account', 'other', '--to', 'http://httpbin.org');
  assert.is(other.verdict, 'blocked');
  assert.is(other.code, 1);
  assert.match(other.fix ?? '', /kind: Egress[\s\S]*name: other/);
  applyFix(other);
  const after = explain('--from', curl, '--service-account', 'other', '--to', 'http://httpbin.org');
  assert.is(after.verdict, 'allowed', JSON.stringify(after.reasons));
  assert.is(after.code, 0);
});

test('a tcp-server-first match on the port, from before the webhook, is blocked naming both objects, with no fix to apply', () => {
  if (!hasCrd('egresses.policy.openservicemesh.io')) return;
  accepted(apply(egress('httpbin-80', legacy, 'curl', { hosts: ['httpbin.org'], ports: [{ number: 80, protocol: 'http' }] })));
  accepted(
    apply(egress('mysql-80', legacy, 'curl', { ipAddresses: ['192.0.2.0/24'], ports: [{ number: 80, protocol: 'tcp-server-first' }] })),
  );
  const e = explain('--from', legacy, '--service-account', 'curl', '--to', 'http://httpbin.org');
  assert.is(e.verdict, 'blocked');
  assert.is(e.code, 1);
  const conflict = e.reasons.find((x) => x.step === 'conflict');
  assert.equal(conflict?.objects, [`Egress ${legacy}/mysql-80`, `Egress ${legacy}/httpbin-80`]);
  assert.is(e.fix, null);
});

test('beside a tcp-server-first Egress on 3306, explain offers not the http Egress the webhook denies (EW420) but a tcp-server-first one it admits cleanly, which works', async () => {
  if (!hasCrd('egresses.policy.openservicemesh.io')) return;
  acceptedCleanly(
    apply(egress('mysql', bank, 'app', { ipAddresses: ['192.0.2.0/24'], ports: [{ number: 3306, protocol: 'tcp-server-first' }] })),
  );
  const before = explain('--from', bank, '--service-account', 'app', '--to', 'http://admin.example.com:3306');
  assert.is(before.verdict, 'blocked');
  assert.is(before.code, 1);
  assert.match(says(before, 'fix'), /an http Egress for .* would fail the webhook's rules: \[EW420\]/);
  assert.match(says(before, 'fix'), 'proposed instead: a tcp-server-first Egress');
  assert.match(before.fix ?? '', /protocol: tcp-server-first/);
  assert.not.match(before.fix ?? '', /protocol: http\b/);

  // What explain turned down is what the webhook denies, once it has seen the mysql Egress.
  const refused = egress('app-admin-example-com-3306', bank, 'app', {
    hosts: ['admin.example.com'],
    ports: [{ number: 3306, protocol: 'http' }],
  });
  await eventually('the webhook denies the http Egress on 3306', () => {
    const r = apply(refused, '--dry-run=server');
    return r.code !== 0 && r.stderr.includes(denial('validate.egress-warden.io')) && /\[EW420\]/.test(r.stderr) ? true : undefined;
  });

  applyFix(before);
  const after = explain('--from', bank, '--service-account', 'app', '--to', 'http://admin.example.com:3306');
  assert.is(after.verdict, 'allowed', JSON.stringify(after.reasons));
  assert.is(after.code, 0);
  assert.is(after.fix, null);
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

test("a Sidecar that does not import another namespace's ServiceEntry: blocked; the fix is the whole Sidecar with the host added, admitted, after which it is allowed", () => {
  if (!hasCrd('sidecars.networking.istio.io')) return;
  const scoped = `${id}-scoped`;
  const registry = `${id}-registry`;
  namespace(scoped, { ...hook!.selector, 'istio-injection': 'enabled' });
  namespace(registry, hook!.selector);
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'partner', namespace: registry },
      spec: {
        hosts: ['api.partner.example'],
        location: 'MESH_EXTERNAL',
        resolution: 'DNS',
        ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
      },
    }),
  );
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: { name: 'default', namespace: scoped, labels: { team: 'shop' } },
      spec: { egress: [{ hosts: ['./*', 'istio-system/*'] }] },
    }),
  );
  const before = explain('--from', scoped, '--service-account', 'app', '--to', 'https://api.partner.example');
  assert.is(before.verdict, 'blocked', JSON.stringify(before.reasons));
  assert.is(before.code, 1);
  assert.match(says(before, 'mesh'), `Sidecar ${scoped}/default decides this pod's egress`);
  assert.match(says(before, 'conflict'), `spec.egress[0].hosts has no ${registry}/api.partner.example`);
  assert.match(before.fix ?? '', 'kind: Sidecar');
  assert.match(before.fix ?? '', 'team: shop');
  applyFix(before);
  const after = explain('--from', scoped, '--service-account', 'app', '--to', 'https://api.partner.example');
  assert.is(after.verdict, 'allowed', JSON.stringify(after.reasons));
});

test('an ambient pod: REGISTRY_ONLY is not enforced by ztunnel; the waypoint its ServiceEntry names does not exist, and the Gateway printed is admitted and then serves', () => {
  if (!hasCrd('serviceentries.networking.istio.io') || !hasCrd('gateways.gateway.networking.k8s.io')) return;
  const ambient = `${id}-ambient`;
  namespace(ambient, { ...hook!.selector, 'istio.io/dataplane-mode': 'ambient' });
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'api', namespace: ambient, labels: { 'istio.io/use-waypoint': 'egress-waypoint' } },
      spec: {
        hosts: ['api.ambient.example'],
        addresses: ['240.240.0.10'],
        location: 'MESH_EXTERNAL',
        resolution: 'DNS',
        ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
      },
    }),
  );
  const before = explain('--from', ambient, '--to', 'https://api.ambient.example');
  assert.is(before.verdict, 'allowed', JSON.stringify(before.reasons));
  assert.match(says(before, 'sidecar'), 'ztunnel captures all outbound traffic');
  assert.match(says(before, 'mesh'), 'ztunnel does not enforce it (istio/istio#54281)');
  assert.match(
    says(before, 'conflict'),
    `ServiceEntry ${ambient}/api uses waypoint ${ambient}/egress-waypoint`,
    JSON.stringify(before.reasons),
  );
  assert.match(says(before, 'conflict'), '[EW625]');
  assert.match(before.fix ?? '', 'gatewayClassName: istio-waypoint');
  applyFix(before);
  const after = explain('--from', ambient, '--to', 'https://api.ambient.example');
  assert.match(says(after, 'route'), 'which exists and serves service traffic');
  assert.is(after.fix, null);
});

test('a Linkerd-injected namespace with a Deny EgressNetwork: blocked for its address; the TLSRoute printed is admitted, after which it is allowed', () => {
  if (!hasCrd('egressnetworks.policy.linkerd.io') || !hasCrd('tlsroutes.gateway.networking.k8s.io')) return;
  const meshed = `${id}-linkerd`;
  namespace(meshed, hook!.selector, { 'linkerd.io/inject': 'enabled' });
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'policy.linkerd.io/v1alpha1',
      kind: 'EgressNetwork',
      metadata: { name: 'partners', namespace: meshed },
      spec: { trafficPolicy: 'Deny', networks: [{ cidr: '203.0.113.0/24' }] },
    }),
  );
  const ask = () => explain('--from', meshed, '--to', 'https://api.partner.example', '--address', '203.0.113.7');
  const before = ask();
  assert.is(before.verdict, 'blocked', JSON.stringify(before.reasons));
  assert.match(says(before, 'sidecar'), `Linkerd proxy [namespace ${meshed} annotation linkerd.io/inject=enabled]`);
  assert.match(says(before, 'match'), `EgressNetwork ${meshed}/partners (Deny) holds 203.0.113.7`);
  assert.match(before.fix ?? '', 'kind: TLSRoute');
  applyFix(before);
  const after = ask();
  assert.is(after.verdict, 'allowed', JSON.stringify(after.reasons));
  assert.match(says(after, 'match'), `TLSRoute ${meshed}/api-partner-example-443 attached to it matches`);
});

E2E.run();
