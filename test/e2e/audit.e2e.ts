/**
 * `egress-warden audit` against a real API server: objects stored while no webhook judged them are
 * reported with their codes, both objects of a conflicting pair are named, and a node that joins
 * with a new podCIDR lists exactly the pods whose capture went stale.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  accepted,
  apply,
  cli,
  create,
  disposable,
  eventually,
  getJson,
  hasCrd,
  kubectl,
  must,
  runId,
  startWebhook,
  type Obj,
  type Webhook,
} from '../support/kube.ts';

const E2E = suite('e2e/audit: what the cluster already stores');
const test = process.env.KUBECONFIG ? E2E : E2E.skip;
const onDisposable = disposable ? test : E2E.skip;
if (!process.env.KUBECONFIG) process.stdout.write('e2e/audit: skipped, no cluster (run through npm run test:e2e)\n');

type Report = {
  findings: { kind: string; namespace: string; name: string; severity: string; code: string; path: string }[];
  stalePods: { namespace: string; name: string; changes: { where: string; was: string | null; now: string | null }[] }[];
  summary: { errors: number; stalePods: number };
};

const id = runId('ew-e2e-audit');
const nodes = [`${id}-a`, `${id}-b`];
const namespaces: string[] = [];
let hook: Webhook | undefined;

E2E.after(async () => {
  await hook?.dispose();
  if (namespaces.length) kubectl(['delete', 'namespace', ...namespaces, '--ignore-not-found', '--wait=false']);
  if (disposable) kubectl(['delete', 'node', ...nodes, '--ignore-not-found']);
});

const runAudit = (...args: string[]): { code: number; report: Report; stderr: string } => {
  const r = cli(['audit', '--output', 'json', ...args]);
  return { code: r.status ?? 1, report: JSON.parse(r.stdout || '{}') as Report, stderr: r.stderr };
};

function plainNamespace(suffix: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): string {
  const ns = `${id}-${suffix}`;
  namespaces.push(ns);
  must(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels, annotations } }));
  return ns;
}

test('objects stored with no webhook installed are reported with their codes, a conflicting pair on both objects', () => {
  if (!hasCrd('serviceentries.networking.istio.io') || !hasCrd('egresses.policy.openservicemesh.io')) return;
  const ns = plainNamespace('stored');
  accepted(
    apply({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'legacy', namespace: ns },
      spec: {
        hosts: ['api.example.com'],
        location: 'MESH_EXTERNAL',
        resolution: 'DNS',
        ports: [{ number: 443, name: 'https_443', protocol: 'HTTPS' }],
      },
    }),
  );
  const egress = (name: string, protocol: string) => ({
    apiVersion: 'policy.openservicemesh.io/v1alpha1',
    kind: 'Egress',
    metadata: { name, namespace: ns },
    spec: {
      sources: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
      hosts: ['db.example.com'],
      ports: [{ number: 5432, protocol }],
    },
  });
  accepted(apply([egress('pg-tcp', 'tcp-server-first'), egress('pg-http', 'http')]));
  const { code, report, stderr } = runAudit('-n', ns);
  assert.is(code, 1, stderr);
  const of = (name: string) => report.findings.filter((f) => f.name === name && f.severity === 'error').map((f) => f.code);
  assert.equal(of('legacy'), ['EW115']);
  assert.ok(
    of('pg-tcp').some((c) => /^EW42\d$/.test(c)),
    JSON.stringify(report.findings),
  );
  assert.ok(
    of('pg-http').some((c) => /^EW42\d$/.test(c)),
    JSON.stringify(report.findings),
  );
});

test('a fixed object disappears from the report', () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const ns = `${id}-stored`;
  must([
    'patch',
    'serviceentry',
    'legacy',
    '-n',
    ns,
    '--type=json',
    '-p',
    '[{"op":"replace","path":"/spec/ports/0/name","value":"https-443"}]',
  ]);
  const { report } = runAudit('-n', ns);
  assert.equal(
    report.findings.filter((f) => f.name === 'legacy'),
    [],
  );
});

onDisposable('a node that joins with a new podCIDR lists exactly the pods in cluster capture mode for a restart', async () => {
  const node = (name: string, cidr: string) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: { podCIDR: cidr, podCIDRs: [cidr] },
  });
  must(['create', '-f', '-'], JSON.stringify(node(nodes[0]!, '10.246.1.0/24')));
  // the dry-run Service probe runs in the server's own namespace: give it one that exists
  hook = await startWebhook({ name: id, serveArgs: ['--namespace', 'default'] });
  const pod = (name: string, ns: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
  });
  const clustered = hook.namespace('cluster', { 'istio-injection': 'enabled' }, { 'egress-warden.io/outbound-capture': 'cluster' });
  const everything = hook.namespace('all', { 'istio-injection': 'enabled' });
  const include = (p: Obj) => p.metadata.annotations?.['traffic.sidecar.istio.io/includeOutboundIPRanges'] as string | undefined;
  await eventually('pods in cluster mode are mutated from the node range', () => {
    const r = create(pod('probe', clustered), '--dry-run=server', '-o', 'json');
    return r.code === 0 && include(JSON.parse(r.stdout) as Obj)?.includes('10.246.1.0/24') ? true : undefined;
  });
  const created = create(pod('web', clustered));
  accepted(created);
  assert.match(created.stderr, /\[EW519\]/, "the pod is warned that its pod range is only the nodes' podCIDRs");
  accepted(create(pod('web', everything)));
  assert.ok(include(getJson(['pod', 'web', '-n', clustered]))?.includes('10.246.1.0/24'));

  const before = runAudit();
  assert.equal(
    before.report.stalePods.filter((p) => p.namespace === clustered || p.namespace === everything),
    [],
    'nothing is stale yet',
  );

  must(['create', '-f', '-'], JSON.stringify(node(nodes[1]!, '10.246.2.0/24')));
  const after = await eventually('the audit sees the new node', () => {
    const r = runAudit();
    return r.report.stalePods.some((p) => p.namespace === clustered) ? r : undefined;
  });
  const mine = after.report.stalePods.filter((p) => p.namespace === clustered || p.namespace === everything);
  assert.equal(
    mine.map((p) => `${p.namespace}/${p.name}`),
    [`${clustered}/web`],
  );
  const change = mine[0]!.changes.find((c) => c.where === 'traffic.sidecar.istio.io/includeOutboundIPRanges')!;
  assert.ok(change.now?.includes('10.246.2.0/24') && !change.was?.includes('10.246.2.0/24'), JSON.stringify(change));
  assert.is(after.code, 1);
  const text = cli(['audit', '-n', clustered]);
  assert.match(text.stdout, /pods to restart/);
  assert.match(text.stdout, new RegExp(`${clustered}/web`));
});

E2E.run();
