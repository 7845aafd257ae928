/**
 * An API server outage as the webhook sees it: kube-apiserver is killed (SIGKILL) for 22 s and
 * started again on the same port and etcd. The webhook must stay ready on its last snapshot, report
 * the snapshot's age, and be ready with a fresh snapshot soon after the API server returns. The
 * suite starts a control plane of its own (it kills the API server), so it needs KUBEBUILDER_ASSETS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ALL_CRDS, freePort, startControlPlane, type ControlPlane } from '../support/control-plane.ts';

const E2E = suite('e2e/outage: readiness through a 22 s API server outage');
const assets = process.env.KUBEBUILDER_ASSETS;
const test = assets ? E2E : E2E.skip;
if (!assets) process.stdout.write('e2e/outage: skipped, it kills its own API server and needs KUBEBUILDER_ASSETS\n');

const OUTAGE_MS = 22_000;
const RECOVERY_LIMIT_MS = 10_000;

let plane: ControlPlane | undefined;
let server: ChildProcess | undefined;
let certDir = '';
let port = 0;
let output = '';

type Probe = { at: number; status: number; stale: number; reason: string };

function readyz(): Promise<Probe> {
  const at = performance.now();
  if (!existsSync(join(certDir, 'ca.crt'))) return Promise.resolve({ at, status: 0, stale: -1, reason: 'no certificate yet' });
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', ca: readFileSync(join(certDir, 'ca.crt')), timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => {
        const cluster = (JSON.parse(body) as { cluster?: { staleSeconds?: number; reason?: string } }).cluster ?? {};
        resolve({ at, status: res.statusCode ?? 0, stale: cluster.staleSeconds ?? -1, reason: cluster.reason ?? '' });
      });
    });
    req.on('error', (e) => resolve({ at, status: 0, stale: -1, reason: e.message }));
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

E2E.before(async () => {
  if (!assets) return;
  try {
    await setUp(assets);
  } catch (e) {
    // uvu reports a failing hook without its message
    process.stdout.write(`e2e/outage: setup failed: ${(e as Error).message}\n`);
    throw e;
  }
});

async function setUp(assets: string): Promise<void> {
  plane = await startControlPlane({ assets, crds: ALL_CRDS() });
  certDir = mkdtempSync(join(tmpdir(), 'ew-outage-'));
  port = await freePort();
  server = spawn(
    process.execPath,
    ['src/cli.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', '--certs', certDir, '--kubeconfig', plane.kubeconfig],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  server.stderr!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const deadline = Date.now() + 60_000;
  while ((await readyz()).status !== 200) {
    if (Date.now() > deadline) throw new Error(`the webhook never became ready\n${output.slice(-3000)}`);
    await sleep(200);
  }
}

E2E.after(async () => {
  server?.kill('SIGKILL');
  await plane?.stop();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

test("stays ready on its snapshot through a 22 s outage, shows its age, and is ready on a fresh snapshot within 10 s of the API server's return", async () => {
  const probes: Probe[] = [];
  let probing = true;
  const prober = (async () => {
    while (probing) {
      probes.push(await readyz());
      await sleep(200);
    }
  })();
  try {
    await sleep(1_000);
    const killedAt = performance.now();
    await plane!.killApiServer();
    await sleep(OUTAGE_MS);
    await plane!.startApiServer();
    const backAt = performance.now();
    // Ready with every informer listed anew: 200 and a snapshot age of 0.
    const deadline = backAt + 60_000;
    let fresh: Probe | undefined;
    while (!fresh && performance.now() < deadline) {
      await sleep(200);
      fresh = probes.find((p) => p.at > backAt && p.status === 200 && p.stale === 0);
    }
    probing = false;
    await prober;
    const during = probes.filter((p) => p.at > killedAt + 2_000 && p.at < backAt);
    const firstReady = probes.find((p) => p.at >= backAt && p.status === 200);
    const maxStale = Math.max(...during.map((p) => p.stale));
    const figures =
      `outage ${((backAt - killedAt) / 1000).toFixed(1)} s (API server ready again after the restart); ` +
      `${during.filter((p) => p.status === 200).length} of ${during.length} probes during it were 200, snapshot age up to ${maxStale} s; ` +
      `first 200 after the return ${firstReady ? `${Math.round(firstReady.at - backAt)} ms` : 'never'}; ` +
      `fresh snapshot (staleSeconds 0) ${fresh ? `${((fresh.at - backAt) / 1000).toFixed(1)} s` : 'not within 60 s'} after the return`;
    process.stdout.write(`  outage: ${figures}\n`);
    assert.ok(during.length >= 50, figures);
    assert.ok(
      during.every((p) => p.status === 200),
      `${figures}\n${JSON.stringify(during.filter((p) => p.status !== 200).slice(0, 3))}`,
    );
    assert.ok(maxStale >= 15, figures);
    assert.ok(firstReady && firstReady.at - backAt <= RECOVERY_LIMIT_MS, figures);
    assert.ok(fresh, `${figures}\n${output.slice(-2000)}`);
  } finally {
    probing = false;
    await prober;
  }
});

E2E.run();
