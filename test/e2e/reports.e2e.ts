/**
 * Left running: three `serve` processes on a real API server elect one writer through a Lease; what
 * the cluster stores lands in PolicyReports (and OpenReports) in each namespace, follows fixes and
 * slips, survives a SIGKILLed leader, shows in /metrics; a mesh ConfigMap switched to REGISTRY_ONLY
 * changes admission within 2 s.
 */
import { performance } from 'node:perf_hooks';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  E2E_LABEL,
  apply,
  eventually,
  getJson,
  hasCrd,
  kubectl,
  must,
  ourWarnings,
  runId,
  startWebhook,
  type Obj,
  type Webhook,
} from '../support/kube.ts';

const E2E = suite('e2e/reports: continuous audit, one elected writer, live mesh settings');
const live = Boolean(process.env.KUBECONFIG);
const test = live ? E2E : E2E.skip;
if (!live) process.stdout.write('e2e/reports: skipped, no cluster (run through npm run test:e2e)\n');

const run = runId('ew-rep');
/** the Lease and the dry-run probe live here, as in the server's own namespace */
const home = `${run}-home`;
/** objects stored while no webhook judged them */
const bank = `${run}-bank`;
/** the newer egress kinds */
const mesh = `${run}-mesh`;
const replicas: Webhook[] = [];

const egress = (name: string, port: number, protocol: string): Obj => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace: bank },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'app', namespace: bank }],
    ...(protocol === 'tcp-server-first' ? { ipAddresses: ['203.0.113.0/24'] } : { hosts: ['api.example.com'] }),
    ports: [{ number: port, protocol }],
  },
});

type Result = { rule: string; result: string; severity: string; resources: { name: string }[]; properties: Record<string, string> };

const report = (kind: string, namespace: string): Obj | undefined => {
  const r = kubectl(['get', kind, 'egress-warden', '-n', namespace, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : undefined;
};
const results = (r: Obj | undefined): Result[] => (r?.results as Result[] | undefined) ?? [];
const flagged = (r: Obj | undefined, code: string) =>
  results(r)
    .filter((x) => x.rule === code)
    .map((x) => x.resources[0]!.name)
    .sort();

async function leaderOf(): Promise<Webhook> {
  return eventually('exactly one replica leads', async () => {
    const leading: Webhook[] = [];
    for (const r of replicas) {
      const m = await r.get('/metrics').catch(() => undefined);
      if (m?.status === 200 && /^egress_warden_leader 1$/m.test(m.body)) leading.push(r);
    }
    return leading.length === 1 ? leading[0] : undefined;
  });
}

E2E.before(async () => {
  if (!live) return;
  for (const ns of [home, bank]) must(['create', 'namespace', ns]);
  must(['label', 'namespace', home, bank, `${E2E_LABEL}=${run}`]);
  // stored while no webhook runs: the pair conflicts (EW420)
  must(
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [egress('pg', 5432, 'tcp-server-first'), egress('web', 5432, 'http')] }),
  );
  const serveArgs = ['--namespace', home, '--reports', 'policyreport,openreports'];
  // the first replica is registered for admission; all three audit, one writes
  for (let i = 0; i < 3; i++) replicas.push(await startWebhook({ name: `${run}-${i}`, serveArgs, register: i === 0 }));
});

E2E.after(async () => {
  if (!live) return;
  await Promise.all(replicas.map((r) => r.dispose()));
  kubectl(['delete', 'configmap', 'istio', '-n', 'istio-system', '--ignore-not-found']);
  kubectl(['delete', 'namespace', home, bank, mesh, '--ignore-not-found', '--wait=false']);
});

test('objects stored while no webhook ran appear in a PolicyReport and a Report in their namespace within 30 s', async () => {
  if (!hasCrd('policyreports.wgpolicyk8s.io') || !hasCrd('reports.openreports.io')) return;
  const polr = await eventually('the PolicyReport names the pair', () => {
    const r = report('policyreports.wgpolicyk8s.io', bank);
    return flagged(r, 'EW420').length ? r : undefined;
  });
  const web = results(polr).find((x) => x.rule === 'EW420' && x.resources[0]!.name === 'web')!;
  assert.is(web.result, 'fail');
  assert.is(web.severity, 'high');
  assert.match(web.properties.docs!, /codes\.md#ew420$/);
  assert.ok(web.properties.fix);
  assert.is((polr.summary as { fail: number }).fail, results(polr).filter((x) => x.result === 'fail').length);
  const rep = await eventually('the OpenReports Report holds the same results', () => {
    const r = report('reports.openreports.io', bank);
    return results(r).length === results(polr).length ? r : undefined;
  });
  assert.equal(flagged(rep, 'EW420'), flagged(polr, 'EW420'));
});

test('exactly one replica leads and holds the Lease, and its /metrics carries the stored findings by code', async () => {
  const leader = await leaderOf();
  const lease = getJson(['lease', 'egress-warden', '-n', home]);
  assert.ok(String(lease.spec.holderIdentity).length > 0);
  assert.is(lease.spec.leaseDurationSeconds, 15);
  const metrics = (await leader.get('/metrics')).body;
  assert.match(
    metrics,
    new RegExp(`egress_warden_audit_findings\\{code="EW420",severity="error",kind="Egress",namespace="${bank}"\\} [1-9]`),
  );
  assert.match(metrics, /^egress_warden_audit_last_run_end_time \d/m);
  assert.match(metrics, /egress_warden_report_writes_total\{format="policyreport",outcome="created"\} [1-9]/);
  for (const r of replicas.filter((x) => x !== leader)) {
    const body = (await r.get('/metrics')).body;
    assert.match(body, /^egress_warden_leader 0$/m);
    assert.not.match(body, /egress_warden_audit_findings\{/, 'a follower reports no stored findings, so they are counted once');
  }
});

test('each finding is reported once across the replicas', async () => {
  if (!hasCrd('policyreports.wgpolicyk8s.io')) return;
  const r = report('policyreports.wgpolicyk8s.io', bank);
  const keys = results(r).map((x) => `${x.rule} ${x.resources[0]!.name} ${x.properties.path ?? ''}`);
  assert.equal(keys.length, new Set(keys).size, keys.join('\n'));
});

test('a fixed object leaves the report within 30 s, and the report goes with its last finding', async () => {
  if (!hasCrd('policyreports.wgpolicyk8s.io')) return;
  must(['apply', '-f', '-'], JSON.stringify(egress('web', 8080, 'http')));
  await eventually('the report is gone', () => (report('policyreports.wgpolicyk8s.io', bank) ? undefined : true));
  await eventually('the Report is gone', () => (report('reports.openreports.io', bank) ? undefined : true));
});

test('a conflicting object that slipped in is reported within 5 s, with a warning Event on it', async () => {
  if (!hasCrd('policyreports.wgpolicyk8s.io')) return;
  const t0 = performance.now();
  must(['apply', '-f', '-'], JSON.stringify(egress('late', 5432, 'http')));
  await eventually(
    'the slipped object in the report',
    () => (flagged(report('policyreports.wgpolicyk8s.io', bank), 'EW420').includes('late') ? true : undefined),
    10,
  );
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`  reports: a slipped object was in the PolicyReport ${seconds.toFixed(1)} s after its write\n`);
  assert.ok(seconds < 5, `${seconds.toFixed(1)} s`);
  const event = await eventually('the warning Event on the later object', () => {
    const events = getJson(['events.events.k8s.io', '-n', bank]).items as Obj[];
    return events.find((e) => e.regarding?.name === 'late' && e.reason === 'AdmittedWithErrors');
  });
  assert.is(event.type, 'Warning');
  assert.match(event.note, /\[EW420\]/);
});

test('a route without its EgressNetwork and an entry without its waypoint are reported, and leave the report once those are created', async () => {
  if (!hasCrd('policyreports.wgpolicyk8s.io') || !hasCrd('tcproutes.gateway.networking.k8s.io')) return;
  if (!hasCrd('egressnetworks.policy.linkerd.io') || !hasCrd('gateways.gateway.networking.k8s.io')) return;
  must(['create', 'namespace', mesh]);
  must(['label', 'namespace', mesh, `${E2E_LABEL}=${run}`]);
  const objects = [
    {
      apiVersion: 'gateway.networking.k8s.io/v1alpha2',
      kind: 'TCPRoute',
      metadata: { name: 'db', namespace: mesh },
      spec: {
        parentRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'partners', port: 5432 }],
        rules: [{ backendRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'partners' }] }],
      },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'partner', namespace: mesh, labels: { 'istio.io/use-waypoint': 'egress-waypoint' } },
      spec: {
        hosts: ['partner.example.com'],
        addresses: ['203.0.113.50'],
        location: 'MESH_EXTERNAL',
        resolution: 'STATIC',
        endpoints: [{ address: '203.0.113.50' }],
        ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
      },
    },
  ];
  must(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  await eventually('EW645 and EW625 in the PolicyReport', () => {
    const r = report('policyreports.wgpolicyk8s.io', mesh);
    return flagged(r, 'EW645').includes('db') && flagged(r, 'EW625').includes('partner') ? true : undefined;
  });
  // neither the EgressNetwork's write nor the Gateway's changes the route or the entry: the audit
  // judges them again because they read what was created
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'policy.linkerd.io/v1alpha1',
          kind: 'EgressNetwork',
          metadata: { name: 'partners', namespace: mesh },
          spec: { trafficPolicy: 'Allow', networks: [{ cidr: '203.0.113.0/24' }] },
        },
        {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'Gateway',
          metadata: { name: 'egress-waypoint', namespace: mesh, labels: { 'istio.io/waypoint-for': 'service' } },
          spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
        },
      ],
    }),
  );
  await eventually('EW645 and EW625 gone from the report', () => {
    const r = report('policyreports.wgpolicyk8s.io', mesh);
    return flagged(r, 'EW645').length === 0 && flagged(r, 'EW625').length === 0 ? true : undefined;
  });
});

test('a mesh ConfigMap switched to REGISTRY_ONLY changes admission within 2 s, without a restart', async () => {
  if (!hasCrd('virtualservices.networking.istio.io')) return;
  const hook = replicas[0]!;
  const shop = hook.namespace('shop');
  kubectl(['create', 'namespace', 'istio-system']);
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: 'istio-system' },
      data: { mesh: 'outboundTrafficPolicy:\n  mode: ALLOW_ANY\n' },
    }),
  );
  const vs = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'api', namespace: shop },
    spec: { hosts: ['api.example.com'], http: [{ route: [{ destination: { host: 'api.example.com' } }] }] },
  };
  const warned = () => ourWarnings(apply(vs, '--dry-run=server').stderr).some((w) => w.includes('[EW407]'));
  await eventually('ALLOW_ANY is read', async () => {
    const m = await hook.get('/readyz');
    return m.status === 200 && !warned() ? true : undefined;
  });
  must(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: 'istio-system' },
      data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' },
    }),
  );
  const t0 = performance.now();
  await eventually('admission warns with EW407', () => (warned() ? true : undefined), 10);
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`  reports: REGISTRY_ONLY reached admission ${seconds.toFixed(2)} s after the ConfigMap changed\n`);
  assert.ok(seconds < 2, `${seconds.toFixed(2)} s`);
});

test('a SIGKILLed leader is replaced within the lease duration, and the reports keep changing', async () => {
  if (!hasCrd('policyreports.wgpolicyk8s.io')) return;
  const old = await leaderOf();
  const t0 = performance.now();
  await old.crash();
  const next = await leaderOf();
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`  reports: a new leader ${seconds.toFixed(1)} s after the old one was SIGKILLed\n`);
  assert.ok(next !== old);
  assert.ok(seconds < 15 + 2 + 5, `${seconds.toFixed(1)} s`);
  must(['apply', '-f', '-'], JSON.stringify(egress('later', 5432, 'http')));
  await eventually('the new leader reports the next slip', () =>
    flagged(report('policyreports.wgpolicyk8s.io', bank), 'EW420').includes('later') ? true : undefined,
  );
});

E2E.run();
