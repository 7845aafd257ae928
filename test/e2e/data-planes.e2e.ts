/**
 * Pods of every data plane stored through the webhook on a real API server, shaped as Istio's own
 * injector leaves them (test/fixtures/istio-injected, from its goldens): each stored pod carries what
 * the data plane that captures it reads, and nothing where nothing captures it.
 */
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { accepted, apply, create, eventually, getJson, must, ourWarnings, webhookSuite, type Obj } from '../support/kube.ts';

const { E2E, test, ctx } = webhookSuite('e2e/data-planes: capture written only where a data plane reads it');

type Golden = { readonly golden: string; readonly pod: Obj };
const { pods } = JSON.parse(readFileSync(new URL('../fixtures/istio-injected/pods.json', import.meta.url), 'utf8')) as { pods: Golden[] };

const BYPASS = '203.0.113.0/24';
const APPLIED = 'egress-warden.io/applied';
const INCLUDE = 'traffic.sidecar.istio.io/includeOutboundIPRanges';
const EXCLUDE = 'traffic.sidecar.istio.io/excludeOutboundIPRanges';
let ns = '';

/** A golden pod as a user stores it: in the test namespace, named, without a ServiceAccount token to mount. */
function golden(name: string, file: string, annotations: Record<string, string> = {}): Obj {
  const g = pods.find((p) => p.golden === file);
  if (!g) throw new Error(`no golden ${file}`);
  const { generateName: _, ...meta } = g.pod.metadata;
  return {
    ...g.pod,
    metadata: { ...meta, name, namespace: ns, annotations: { ...meta.annotations, ...annotations } },
    spec: { ...g.pod.spec, automountServiceAccountToken: false },
  };
}

const plain = (name: string, namespace: string, annotations: Record<string, string> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, annotations },
  spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
});

const stored = (name: string, namespace = ns): Obj => getJson(['pod', name, '-n', namespace]);
const flag = (args: string[], f: string): string => args[args.lastIndexOf(f) + 1] ?? '';

E2E.before(async () => {
  if (!ctx.hook) return;
  ns = ctx.hook.namespace(
    'planes',
    { 'istio-injection': 'enabled' },
    { 'egress-warden.io/outbound-capture': 'cluster', 'egress-warden.io/bypass-ip-ranges': BYPASS },
  );
  // the server learns the namespace from its informer: a pod created before that would get nothing
  await eventually('the namespace reaches the webhook', () => {
    const r = create(plain('probe', ns), '--dry-run=server', '-o', 'json');
    return r.code === 0 && (JSON.parse(r.stdout) as Obj).metadata.annotations?.[APPLIED] ? true : undefined;
  });
});

test('a gateway pod (Istio template gateway, proxy router, no init container) is stored without capture annotations', () => {
  accepted(create(golden('gateway', 'gateway.yaml.injected')));
  const a = stored('gateway').metadata.annotations ?? {};
  assert.is(a[APPLIED], undefined);
  assert.is(a[INCLUDE], undefined);
  assert.is(a[EXCLUDE], undefined);
});

test('a pod with sidecar.istio.io/interceptionMode NONE is stored without capture annotations', () => {
  accepted(create(plain('no-intercept', ns, { 'sidecar.istio.io/interceptionMode': 'NONE' })));
  const a = stored('no-intercept').metadata.annotations ?? {};
  assert.is(a[APPLIED], undefined);
  assert.is(a[EXCLUDE], undefined);
});

test('a pod in an ambient namespace is left to ztunnel', async () => {
  const ambient = ctx.hook.namespace(
    'ambient',
    { 'istio.io/dataplane-mode': 'ambient' },
    { 'egress-warden.io/outbound-capture': 'cluster' },
  );
  await eventually('the ambient namespace reaches the webhook', () => {
    const r = create(plain('probe', ambient, { 'sidecar.istio.io/interceptionMode': 'x' }), '--dry-run=server', '-o', 'json');
    return r.code === 0 ? true : undefined;
  });
  accepted(create(plain('app', ambient)));
  assert.is(stored('app', ambient).metadata.annotations?.[APPLIED], undefined);
});

test("a CNI pod with a spaced, trailing-comma exclude list is stored with the list both of Istio's parsers read, and a warning", () => {
  const r = create(golden('cni', 'hello.yaml.cni.injected', { [EXCLUDE]: '10.0.0.1/32, 10.0.0.2/32,' }));
  accepted(r);
  assert.ok(
    ourWarnings(r.stderr).some((w) => w.includes('[EW522]')),
    r.stderr,
  );
  const a = stored('cni').metadata.annotations;
  assert.is(a[EXCLUDE], '10.0.0.1/32,10.0.0.2/32');
  assert.ok(typeof a[INCLUDE] === 'string' && !a[INCLUDE].includes(' '));
});

test("a pod whose istio-init carries the operator's mesh-wide excludes keeps them beside the namespace bypass", () => {
  accepted(create(golden('mesh-wide', 'traffic-params.yaml.injected')));
  const pod = stored('mesh-wide');
  const init = (pod.spec.initContainers as Obj[]).find((c) => c.name === 'istio-init')!;
  const x = flag(init.args as string[], '-x');
  assert.ok(x.split(',').includes(BYPASS), x);
  assert.ok(x.split(',').includes('10.96.0.0/24'), `the mesh-wide 10.96.0.2/24 and 10.96.0.3/24 are kept: ${x}`);
  assert.is(pod.metadata.annotations[EXCLUDE], x);
  const applied = JSON.parse(pod.metadata.annotations[APPLIED]) as { exclude: { from: Record<string, string> } };
  assert.match(applied.exclude.from['10.96.0.0/24']!, 'Istio mesh-wide exclude');
});

/** A Deployment of `replicas` plain pods: the ReplicaSet controller creates them, each through the webhook. */
const web = (replicas: number): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: ns },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
    },
  },
});

const replicasOf = (count: number) =>
  eventually(
    `${count} replicas stored`,
    () => {
      const items = getJson(['pods', '-n', ns, '-l', 'app=web']).items as Obj[];
      return items.length === count ? items : undefined;
    },
    60,
  );

// Last in this file: it changes the namespace's bypass range.
test('every replica a ReplicaSet creates gets the capture annotations, and replicas created after the namespace changed get the new range', async () => {
  accepted(apply(web(3)));
  const first = await replicasOf(3);
  for (const p of first) assert.ok(String(p.metadata.annotations?.[EXCLUDE]).split(',').includes(BYPASS), JSON.stringify(p.metadata));
  assert.is(new Set(first.map((p) => p.metadata.annotations?.[APPLIED])).size, 1, 'the replicas got the same record');

  const next = '198.51.100.0/24';
  must(['annotate', 'namespace', ns, '--overwrite', `egress-warden.io/bypass-ip-ranges=${next}`]);
  await eventually('the new bypass range reaches the webhook', () => {
    const r = create(plain('probe-next', ns), '--dry-run=server', '-o', 'json');
    return r.code === 0 && String((JSON.parse(r.stdout) as Obj).metadata.annotations?.[EXCLUDE]).includes(next) ? true : undefined;
  });
  accepted(apply(web(5)));
  const added = (await replicasOf(5)).filter((p) => !first.some((f) => f.metadata.name === p.metadata.name));
  assert.is(added.length, 2);
  for (const p of added) {
    const exclude = String(p.metadata.annotations?.[EXCLUDE]).split(',');
    assert.ok(exclude.includes(next) && !exclude.includes(BYPASS), exclude.join(','));
  }
});

E2E.run();
