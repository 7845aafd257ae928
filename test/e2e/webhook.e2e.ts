/**
 * End to end against a real API server: egress-warden runs locally, the cluster calls it by URL.
 * Opt-in: runs only when KUBECONFIG is set (point it at a disposable cluster) and kubectl is on
 * PATH; otherwise it says it skipped and exits 0.
 *
 *   KUBECONFIG=~/.kube/kind-e2e npm run test:e2e
 *
 * EW_E2E_HOST (default 127.0.0.1) is the address the server listens on and the API server dials;
 * it must be reachable from the API server (for kind, the host's address on the docker network).
 * Everything created is labelled with a run id and removed at the end, also on failure or Ctrl-C.
 * Cases for Istio or OSM kinds are skipped when their CRDs are not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';

type Obj = Record<string, any>;
type Run = { readonly code: number; readonly stdout: string; readonly stderr: string };

const KUBECTL_TIMEOUT_MS = 90_000;
const E2E_LABEL = 'egress-warden.io/e2e';

function kubectl(args: readonly string[], input?: string): Run {
  const r = spawnSync('kubectl', ['--request-timeout=30s', ...args], {
    input, encoding: 'utf8', timeout: KUBECTL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function skip(reason: string): never {
  console.log(`e2e: skipped: ${reason}`);
  process.exit(0);
}

if (!process.env.KUBECONFIG) skip('KUBECONFIG is not set (set it to a disposable cluster to run the end-to-end test)');
if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).error) skip('kubectl is not on PATH');

const host = process.env.EW_E2E_HOST ?? '127.0.0.1';
const id = `ew-e2e-${randomBytes(3).toString('hex')}`;
const namespaces = { enforce: `${id}-enforce`, warn: `${id}-warn`, istio: `${id}-istio` } as const;
const dir = mkdtempSync(join(tmpdir(), `${id}-`));
const cli = (args: readonly string[]) =>
  spawnSync(process.execPath, ['src/cli.ts', ...args], { encoding: 'utf8', timeout: KUBECTL_TIMEOUT_MS });

let server: ChildProcess | undefined;
let serverLog = '';
let cleaned = false;

/** Synchronous, idempotent: also runs from signal handlers. Webhooks go first so nothing calls a dead server. */
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  const steps: [string, () => unknown][] = [
    ['webhook configurations', () => kubectl(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', id, '--ignore-not-found'])],
    ['namespaces', () => kubectl(['delete', 'namespace', ...Object.values(namespaces), '--ignore-not-found', '--wait=false'])],
    ['server', () => server?.exitCode === null && server.signalCode === null && server.kill('SIGTERM')],
    ['certificates', () => rmSync(dir, { recursive: true, force: true })],
  ];
  for (const [what, step] of steps) {
    try {
      step();
    } catch (e) {
      console.error(`e2e: cleanup of ${what} failed: ${(e as Error).message}`);
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries `probe` until it returns a value or the deadline passes (informers and webhook registration are eventually consistent). */
async function eventually<T>(what: string, probe: () => T | undefined, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting until ${what}`);
    await sleep(1000);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function get(port: number, path: string, ca: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

const apply = (obj: Obj, ...flags: string[]) => kubectl(['apply', '-f', '-', ...flags], JSON.stringify(obj));

const denial = (webhook: string) => `admission webhook "${webhook}" denied the request`;
const ourWarnings = (stderr: string) => stderr.split('\n').filter((l) => /^Warning: .*\[EW\d{3}\]/.test(l));

function denied(r: Run, webhook: string, finding: RegExp): void {
  assert.is.not(r.code, 0, `expected a denial, kubectl succeeded:\n${r.stdout}${r.stderr}`);
  assert.ok(r.stderr.includes(denial(webhook)), `expected "${denial(webhook)}", got:\n${r.stderr}`);
  assert.match(r.stderr, finding);
}

function acceptedCleanly(r: Run): void {
  assert.is(r.code, 0, `expected success, got:\n${r.stderr}`);
  assert.equal(ourWarnings(r.stderr), [], 'expected no egress-warden warnings');
}

// -- objects -----------------------------------------------------------------------------------

const namespace = (name: string, labels: Record<string, string>) =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [E2E_LABEL]: id, ...labels } } });

const serviceEntry = (name: string, ns: string, protocol: string) => ({
  apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name, namespace: ns },
  spec: {
    hosts: ['api.example.com'], location: 'MESH_EXTERNAL', resolution: 'DNS',
    ports: [{ number: 443, name: 'tls', protocol }],
  },
});

const virtualService = (name: string, ns: string, sniHost: string) => ({
  apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace: ns },
  spec: {
    hosts: ['api.example.com'],
    tls: [{ match: [{ port: 443, sniHosts: [sniHost] }], route: [{ destination: { host: 'api.example.com', port: { number: 443 } } }] }],
  },
});

const egress = (name: string, ns: string, protocol: string) => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1', kind: 'Egress', metadata: { name, namespace: ns },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
    hosts: ['httpbin.org'], ports: [{ number: 80, protocol }],
  },
});

const pod = (name: string, annotations: Record<string, string>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: namespaces.istio, annotations },
  spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
});

// -- runner ------------------------------------------------------------------------------------

let failures = 0;
async function check(name: string, fn: () => unknown, skipWhy?: string): Promise<void> {
  if (skipWhy) {
    console.log(`  - ${name} (skipped: ${skipWhy})`);
    return;
  }
  try {
    await fn();
    console.log(`  ✓ ${name}`);
  } catch (e) {
    failures++;
    console.log(`  ✗ ${name}\n    ${String((e as Error).message).split('\n').join('\n    ')}`);
  }
}

async function setUp(): Promise<void> {
  assert.is(kubectl(['get', '--raw', '/readyz']).code, 0, 'the cluster in KUBECONFIG does not answer /readyz');

  const certs = cli(['certs', '--dir', dir, '--san', host]);
  assert.is(certs.status, 0, `certs failed: ${certs.stderr}`);
  const ca = readFileSync(join(dir, 'ca.crt'));

  const port = await freePort();
  server = spawn(process.execPath, ['src/cli.ts', 'serve', '--port', String(port), '--certs', dir, '--host', host], {
    env: process.env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.on('data', (d: Buffer) => { serverLog += d.toString(); });
  server.stderr?.on('data', (d: Buffer) => { serverLog += d.toString(); });
  const deadline = Date.now() + 90_000;
  while ((await get(port, '/readyz', ca)) !== 200) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}:\n${serverLog}`);
    if (Date.now() > deadline) throw new Error(`the server was not ready after 90s:\n${serverLog}`);
    await sleep(500);
  }

  const rendered = cli(['manifests', '--name', id, '--url', `https://${host}:${port}`, '--ca', join(dir, 'ca.crt'),
    '--namespace-label', `${E2E_LABEL}=${id}`]);
  assert.is(rendered.status, 0, `manifests failed: ${rendered.stderr}`);
  const registered = kubectl(['apply', '-f', '-'], rendered.stdout);
  assert.is(registered.code, 0, `registering the webhooks failed: ${registered.stderr}`);

  for (const ns of [
    namespace(namespaces.enforce, {}),
    namespace(namespaces.warn, { 'egress-warden.io/mode': 'warn' }),
    namespace(namespaces.istio, { 'istio-injection': 'enabled' }),
  ]) {
    const r = apply(ns);
    assert.is(r.code, 0, `creating namespace ${ns.metadata.name} failed: ${r.stderr}`);
  }

  // the API server picks up new webhook configurations asynchronously
  await eventually('the API server calls the webhook', () => {
    const r = kubectl(['annotate', '--dry-run=server', 'namespace', namespaces.enforce, 'egress-warden.io/bypass-ip-ranges=not-a-cidr']);
    return r.code !== 0 && r.stderr.includes(denial('namespaces.egress-warden.io')) ? true : undefined;
  });
}

const crd = (name: string) => kubectl(['get', 'crd', name]).code === 0;

async function main(): Promise<void> {
  console.log(`e2e: run ${id} against ${kubectl(['config', 'current-context']).stdout.trim()}`);
  try {
    await setUp();
  } catch (e) {
    console.log(`  ✗ set-up\n    ${String((e as Error).message).split('\n').join('\n    ')}`);
    failures++;
    return;
  }

  const istio = crd('serviceentries.networking.istio.io') && crd('virtualservices.networking.istio.io')
    ? undefined : 'the Istio CRDs are not installed';
  const osm = crd('egresses.policy.openservicemesh.io') ? undefined : 'the OSM Egress CRD is not installed';

  await check('a namespace annotated with a bypass list that is not CIDRs is denied at kubectl annotate time', () => {
    const r = kubectl(['annotate', 'namespace', namespaces.enforce, 'egress-warden.io/bypass-ip-ranges=not-a-cidr']);
    denied(r, 'namespaces.egress-warden.io', /\[EW5\d\d\].*not-a-cidr/);
  });

  await check('a namespace annotated with a valid bypass list is accepted', () => {
    acceptedCleanly(kubectl(['annotate', '--overwrite', 'namespace', namespaces.enforce, 'egress-warden.io/bypass-ip-ranges=203.0.113.0/24']));
  });

  await check('a well-formed ServiceEntry is accepted without warnings', () => {
    acceptedCleanly(apply(serviceEntry('good', namespaces.enforce, 'TLS')));
  }, istio);

  await check('a ServiceEntry port with an unknown protocol is denied with its code and field path', () => {
    denied(apply(serviceEntry('bad', namespaces.enforce, 'FOO')), 'validate.egress-warden.io', /\[EW1\d\d\] spec\.ports\[0\]\.protocol/);
  }, istio);

  await check('a TLS VirtualService whose SNI host matches its hosts is accepted without warnings', () => {
    acceptedCleanly(apply(virtualService('good', namespaces.enforce, 'api.example.com')));
  }, istio);

  await check('a TLS VirtualService whose SNI host is not one of its hosts is denied', () => {
    denied(apply(virtualService('bad', namespaces.enforce, 'other.example.com')), 'validate.egress-warden.io', /\[EW2\d\d\] spec\.tls\[0\]/);
  }, istio);

  await check('in a warn-mode namespace the same VirtualService is stored and kubectl shows the finding as a warning', async () => {
    // the server learns the namespace's mode from its informer; dry-run until it has
    await eventually('the warn mode applies', () => {
      const r = apply(virtualService('bad', namespaces.warn, 'other.example.com'), '--dry-run=server');
      return r.code === 0 ? true : undefined;
    });
    const r = apply(virtualService('bad', namespaces.warn, 'other.example.com'));
    assert.is(r.code, 0, r.stderr);
    assert.ok(ourWarnings(r.stderr).some((l) => /\[EW2\d\d\] spec\.tls\[0\]/.test(l)), `expected a warning, got:\n${r.stderr}`);
    assert.is(kubectl(['get', 'virtualservice', 'bad', '-n', namespaces.warn]).code, 0, 'the object was not stored');
  }, istio);

  await check('a well-formed OSM Egress is accepted without warnings', () => {
    acceptedCleanly(apply(egress('good', namespaces.enforce, 'http')));
  }, osm);

  await check('an OSM Egress with an upper-case protocol, which OSM silently ignores, is denied', () => {
    denied(apply(egress('bad', namespaces.enforce, 'HTTP')), 'validate.egress-warden.io', /\[EW3\d\d\] spec\.ports\[0\]/);
  }, osm);

  await check('a pod in an Istio namespace is stored with its bypass ranges excluded from capture and the provenance recorded', async () => {
    const annotations = { 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24' };
    // the server learns the namespace's Istio label from its informer; dry-run until it has
    await eventually('the pod is mutated', () => {
      const r = kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(pod('bypass', annotations)));
      return r.code === 0 && (JSON.parse(r.stdout) as Obj).metadata?.annotations?.['egress-warden.io/applied'] ? true : undefined;
    });
    const created = kubectl(['create', '-f', '-'], JSON.stringify(pod('bypass', annotations)));
    assert.is(created.code, 0, created.stderr);
    const stored = JSON.parse(kubectl(['get', 'pod', 'bypass', '-n', namespaces.istio, '-o', 'json']).stdout) as Obj;
    const a = (stored.metadata.annotations ?? {}) as Record<string, string>;
    assert.ok(a['egress-warden.io/applied'], `no egress-warden.io/applied annotation: ${JSON.stringify(a)}`);
    const exclude = (a['traffic.sidecar.istio.io/excludeOutboundIPRanges'] ?? '').split(',').map((s) => s.trim());
    assert.ok(exclude.includes('203.0.113.0/24'), `excludeOutboundIPRanges does not hold the bypass range: ${JSON.stringify(a)}`);
    // with Istio's injector present (it runs after us), the range must also reach istio-init's -x
    const init = (stored.spec.initContainers ?? []).find((c: Obj) => c.name === 'istio-init' || c.name === 'istio-validation') as Obj | undefined;
    if (init) {
      const args = init.args as string[];
      const x = args[args.indexOf('-x') + 1] ?? '';
      assert.ok(args.includes('-x') && x.split(',').includes('203.0.113.0/24'), `istio-init -x lacks the range: ${JSON.stringify(args)}`);
    }
  });

  await check('a pod whose bypass annotation is not a CIDR list is denied with the key and the value', () => {
    const r = kubectl(['create', '-f', '-'], JSON.stringify(pod('bad-bypass', { 'egress-warden.io/bypass-ip-ranges': 'not-a-cidr' })));
    denied(r, 'mutate.egress-warden.io', /\[EW5\d\d\][^\n]*not-a-cidr/);
  });
}

/** Cleans up, then gives the server 10 s to drain before killing it. */
async function finish(): Promise<void> {
  cleanup();
  const child = server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  if (!(await Promise.race([exited, sleep(10_000).then(() => false)]))) child.kill('SIGKILL');
}

try {
  await main();
} finally {
  await finish();
}
if (failures > 0 && serverLog) console.log(`\nserver log:\n${serverLog.split('\n').slice(-60).join('\n')}`);
console.log(failures ? `e2e: ${failures} failed` : 'e2e: all passed');
process.exitCode = failures ? 1 : 0;
