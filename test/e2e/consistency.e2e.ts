/**
 * Objects applied together are judged together: a file or kustomization holding two objects that
 * conflict is denied every time, although the second reaches the webhook before any informer has
 * delivered the first (read-your-writes, docs/consistency.md). With two replicas behind one URL,
 * the suite measures how often a pair slips through and prints it, and asserts that every pair that
 * slipped lands in its namespace's PolicyReport, with a warning Event on the later object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBalancer, type Spread } from '../support/balancer.ts';
import { freePort } from '../support/control-plane.ts';
import {
  cli,
  denial,
  E2E_LABEL,
  eventually,
  hasCrd,
  kubectl,
  must,
  ourWarnings,
  runId,
  sleep,
  startWebhook,
  untilCalled,
  type Obj,
  type Run,
  type Webhook,
} from '../support/kube.ts';

const E2E = suite('e2e/consistency: objects applied together are judged together');
const test = process.env.KUBECONFIG ? E2E : E2E.skip;
if (!process.env.KUBECONFIG) process.stdout.write('e2e/consistency: skipped, no cluster (run through npm run test:e2e)\n');

const RUNS = 20;
let hook: Webhook;
let dir: string;
const extraNamespaces: string[] = [];

E2E.before(async () => {
  if (!process.env.KUBECONFIG) return;
  hook = await startWebhook();
  dir = mkdtempSync(join(tmpdir(), 'ew-consistency-'));
});

E2E.after(async () => {
  if (extraNamespaces.length) kubectl(['delete', 'namespace', ...extraNamespaces, '--ignore-not-found', '--wait=false']);
  await hook?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * One file, several objects, as a user writes it. JSON documents are YAML documents; the leading
 * separator keeps kubectl from reading the file as one JSON stream.
 */
function writeFile(path: string, docs: readonly Obj[]): string {
  writeFileSync(path, docs.map((d) => `---\n${JSON.stringify(d)}\n`).join(''));
  return path;
}

const egress = (name: string, ns: string, port: number, protocol: string, extra: Obj = {}) => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace: ns },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
    ...(protocol === 'tcp-server-first' ? { ipAddresses: ['203.0.113.0/24'] } : { hosts: ['api.example.com'] }),
    ports: [{ number: port, protocol }],
    ...extra,
  },
});

/** A tcp-server-first Egress and an http one on the same client and port: the second is EW420. */
const conflictingPair = (ns: string, i: number) => [
  egress(`pg-${i}`, ns, 5000 + i, 'tcp-server-first'),
  egress(`api-${i}`, ns, 5000 + i, 'http'),
];

const stored = (kind: string, name: string, ns: string) => kubectl(['get', kind, name, '-n', ns]).code === 0;

/** The pair was judged together: one of the two denied with a tcp-server-first conflict, the other stored. */
function deniedTogether(r: Run, ns: string, i: number): boolean {
  const both = stored('egress', `pg-${i}`, ns) && stored('egress', `api-${i}`, ns);
  return r.code !== 0 && r.stderr.includes(denial('validate.egress-warden.io')) && /\[EW42\d\]/.test(r.stderr) && !both;
}

test(`a conflicting Egress pair in one kubectl apply -f is denied every time (${RUNS} runs)`, () => {
  if (!hasCrd('egresses.policy.openservicemesh.io')) return;
  const ns = hook.namespace('file');
  const slipped: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = kubectl(['apply', '-f', writeFile(join(dir, `pair-${i}.yaml`), conflictingPair(ns, i))]);
    if (!deniedTogether(r, ns, i)) slipped.push(i);
  }
  assert.equal(slipped, [], `runs where the pair was not denied: ${slipped.join(', ')}`);
});

test(`a conflicting Egress pair in one kustomization (kubectl apply -k) is denied every time (${RUNS} runs)`, () => {
  if (!hasCrd('egresses.policy.openservicemesh.io')) return;
  const ns = hook.namespace('kustomize');
  const slipped: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const k = join(dir, `kustomize-${i}`);
    mkdirSync(k);
    writeFile(join(k, 'pair.yaml'), conflictingPair(ns, i));
    writeFileSync(
      join(k, 'kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- pair.yaml\n',
    );
    const r = kubectl(['apply', '-k', k]);
    if (!deniedTogether(r, ns, i)) slipped.push(i);
  }
  assert.equal(slipped, [], `runs where the pair was not denied: ${slipped.join(', ')}`);
});

test(`a Namespace and a Pod in one file give the pod its namespace's capture settings every time (${RUNS} runs)`, () => {
  const wrong: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ns = `${hook.name}-np-${i}`;
    extraNamespaces.push(ns);
    const r = kubectl([
      'apply',
      '-f',
      writeFile(join(dir, `ns-pod-${i}.yaml`), [
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: {
            name: ns,
            labels: { ...hook.selector, 'istio-injection': 'enabled' },
            annotations: { 'egress-warden.io/outbound-capture': 'cluster', 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24' },
          },
        },
        // no ServiceAccount of its own: the namespace's default one may not exist yet
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'app', namespace: ns },
          spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
        },
      ]),
    ]);
    if (r.code !== 0) {
      wrong.push(`${i}: ${r.stderr.trim()}`);
      continue;
    }
    const pod = JSON.parse(must(['get', 'pod', 'app', '-n', ns, '-o', 'json'])) as Obj;
    const a = (pod.metadata.annotations ?? {}) as Record<string, string>;
    const excluded = (a['traffic.sidecar.istio.io/excludeOutboundIPRanges'] ?? '').split(',');
    if (!a['egress-warden.io/applied'] || !excluded.includes('203.0.113.0/24')) wrong.push(`${i}: ${JSON.stringify(a)}`);
  }
  assert.equal(wrong, [], `pods stored without their namespace's settings:\n${wrong.join('\n')}`);
});

test('a ServiceEntry and a TLS VirtualService in one file get the EW401 warning', () => {
  if (!hasCrd('serviceentries.networking.istio.io') || !hasCrd('virtualservices.networking.istio.io')) return;
  const ns = hook.namespace('istio');
  const r = kubectl([
    'apply',
    '-f',
    writeFile(join(dir, 'se-vs.yaml'), [
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'ServiceEntry',
        metadata: { name: 'api', namespace: ns },
        spec: {
          hosts: ['api.example.com'],
          location: 'MESH_EXTERNAL',
          resolution: 'DNS',
          ports: [{ number: 443, name: 'http', protocol: 'HTTP' }],
        },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'api', namespace: ns },
        spec: {
          hosts: ['api.example.com'],
          tls: [
            {
              match: [{ port: 443, sniHosts: ['api.example.com'] }],
              route: [{ destination: { host: 'api.example.com', port: { number: 443 } } }],
            },
          ],
        },
      },
    ]),
  ]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(
    ourWarnings(r.stderr).some((l) => l.includes('[EW401]')),
    `no EW401 warning:\n${r.stderr}`,
  );
});

test('an object reviewed again and again unchanged follows the cluster: its denial lifts when the object it clashed with goes', async () => {
  if (!hasCrd('egresses.policy.openservicemesh.io')) return;
  const ns = hook.namespace('again');
  const file = writeFile(join(dir, 'again-api.yaml'), [egress('api', ns, 5100, 'http')]);
  const dryRun = () => kubectl(['apply', '--dry-run=server', '-f', file]);
  const denied = (r: Run) => r.code !== 0 && r.stderr.includes(denial('validate.egress-warden.io')) && r.stderr.includes('[EW420]');
  must(['apply', '-f', writeFile(join(dir, 'again-pg.yaml'), [egress('pg', ns, 5100, 'tcp-server-first')])]);
  // the server-side dry run of an unchanged object, as GitOps tools send it on every sync
  for (let i = 0; i < 4; i++) {
    const r = dryRun();
    assert.ok(denied(r), `dry run ${i + 1}: ${r.code} ${r.stderr}`);
  }
  must(['delete', 'egress', 'pg', '-n', ns]);
  await eventually('the dry run is allowed once the informer has the deletion', () => (dryRun().code === 0 ? true : undefined));
  assert.is(dryRun().code, 0, 'and stays allowed');
  must(['apply', '-f', join(dir, 'again-pg.yaml')]);
  await eventually('the dry run is denied again once the informer has the new object', () => (denied(dryRun()) ? true : undefined));
});

test('an HTTPRouteGroup and the Egress that references it in one file get no "not found" warning', () => {
  if (!hasCrd('egresses.policy.openservicemesh.io') || !hasCrd('httproutegroups.specs.smi-spec.io')) return;
  const ns = hook.namespace('routes');
  const r = kubectl([
    'apply',
    '-f',
    writeFile(join(dir, 'routes.yaml'), [
      {
        apiVersion: 'specs.smi-spec.io/v1alpha4',
        kind: 'HTTPRouteGroup',
        metadata: { name: 'routes', namespace: ns },
        spec: { matches: [{ name: 'all', pathRegex: '.*', methods: ['*'] }] },
      },
      egress('web', ns, 80, 'http', { matches: [{ apiGroup: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', name: 'routes' }] }),
    ]),
  ]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(ourWarnings(r.stderr), []);
});

// ---- several replicas: the slips are measured; that each is reported is asserted

type Server = { readonly port: number; readonly child: ChildProcess };

async function serveReplica(certDir: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['src/cli.ts', 'serve', '--port', String(port), '--certs', certDir, '--host', '127.0.0.1', '--log-level', 'warn'],
    { env: process.env, stdio: 'ignore' },
  );
  const ready = () =>
    new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/readyz', ca: readFileSync(join(certDir, 'ca.crt')), timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  const deadline = Date.now() + 60_000;
  while (!(await ready())) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`replica on ${port} did not become ready`);
    await sleep(200);
  }
  return { port, child };
}

test(`two replicas behind one URL: how often a conflicting pair slips through (${RUNS} runs per balancing), and every pair that slips is reported`, async () => {
  if (!hasCrd('egresses.policy.openservicemesh.io')) return;
  const name = runId('ew-replicas');
  const certDir = mkdtempSync(join(tmpdir(), `${name}-`));
  const servers: Server[] = [];
  const report: string[] = [];
  try {
    const certs = cli(['certs', '--dir', certDir, '--san', '127.0.0.1']);
    assert.is(certs.status, 0, certs.stderr);
    servers.push(await serveReplica(certDir), await serveReplica(certDir));
    for (const spread of ['connection', 'request'] as Spread[]) {
      const balancer = await startBalancer(
        spread,
        certDir,
        servers.map((s) => s.port),
      );
      const config = `${name}-${spread}`;
      try {
        const manifests = cli([
          'manifests',
          '--name',
          config,
          '--url',
          `https://127.0.0.1:${balancer.port}`,
          '--ca',
          join(certDir, 'ca.crt'),
          '--token-file',
          join(certDir, 'token'),
          '--namespace-label',
          `${E2E_LABEL}=${config}`,
          '--failure-policy',
          'Fail',
        ]);
        assert.is(manifests.status, 0, manifests.stderr);
        must(['apply', '-f', '-'], manifests.stdout);
        await untilCalled(config);
        const ns = `${config}-pairs`;
        extraNamespaces.push(ns);
        must(
          ['apply', '-f', '-'],
          JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [E2E_LABEL]: config } } }),
        );
        const slipped: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const r = kubectl(['apply', '-f', writeFile(join(dir, `replicas-${spread}-${i}.yaml`), conflictingPair(ns, i))]);
          if (!deniedTogether(r, ns, i)) slipped.push(i);
        }
        const t0 = performance.now();
        report.push(
          `${spread} balancing: ${slipped.length}/${RUNS} pairs slipped through (backend calls ${(await balancer.counts()).join('/')})`,
        );
        if (slipped.length && hasCrd('policyreports.wgpolicyk8s.io')) {
          await eventually('every slipped pair in the PolicyReport', () => {
            const got = kubectl(['get', 'policyreports.wgpolicyk8s.io', 'egress-warden', '-n', ns, '-o', 'json']);
            if (got.code !== 0) return undefined;
            const named = new Set(
              ((JSON.parse(got.stdout) as Obj).results as Obj[]).filter((x) => x.rule === 'EW420').map((x) => x.resources[0].name),
            );
            return slipped.every((i) => named.has(`pg-${i}`) && named.has(`api-${i}`)) ? true : undefined;
          });
          report.push(
            `  every slipped pair was in the PolicyReport ${((performance.now() - t0) / 1000).toFixed(1)} s after the last write`,
          );
          const warned = await eventually('a warning Event on the later object of each slipped pair', () => {
            const events = (JSON.parse(must(['get', 'events.events.k8s.io', '-n', ns, '-o', 'json'])) as Obj).items as Obj[];
            const on = new Set(events.filter((e) => e.reason === 'AdmittedWithErrors').map((e) => e.regarding.name));
            return slipped.every((i) => on.has(`api-${i}`)) ? on : undefined;
          });
          assert.not.ok(
            slipped.some((i) => warned.has(`pg-${i}`)),
            'the earlier object of a pair gets no Event: it was admitted cleanly',
          );
        }
      } finally {
        kubectl(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', config, '--ignore-not-found']);
        await balancer.close();
      }
    }
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    rmSync(certDir, { recursive: true, force: true });
  }
  process.stdout.write(`\n  two replicas, one kubectl apply -f per conflicting pair:\n${report.map((l) => `    ${l}`).join('\n')}\n`);
});

E2E.run();
