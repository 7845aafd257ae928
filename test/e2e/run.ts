/**
 * `npm run test:e2e`: the end-to-end suites (test/e2e/*.e2e.ts) against a real API server.
 *
 * - KUBEBUILDER_ASSETS set (the envtest layout: etcd, kube-apiserver, kube-controller-manager,
 *   kubectl): starts one throw-away control plane for the whole run, shared by every suite, and
 *   stops it afterwards, also when a suite fails, hangs past the run's limit or the run is
 *   interrupted. The API server presents a client certificate to webhooks; its files are in
 *   EW_E2E_WEBHOOK_CLIENT_CA, _CA_KEY, _CERT, _KEY and its CN in EW_E2E_WEBHOOK_CLIENT_NAME.
 * - otherwise KUBECONFIG set: runs against that cluster (kind, a development cluster). Suites create
 *   only labelled namespaces and webhook configurations of their own and remove them; tests that
 *   would change cluster-wide state (Nodes) say that they skipped.
 * - neither: prints why it skipped every suite and exits 0.
 *
 * Arguments are passed to uvu (a file pattern: `npm run test:e2e -- webhook`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CRDS, startControlPlane, type ControlPlane } from '../support/control-plane.ts';

/** Past this, the suites are stopped and the run fails: a hung test must not hang CI. */
const RUN_LIMIT_MS = Number(process.env.EW_E2E_LIMIT_SECONDS ?? 900) * 1000;

const assets = process.env.KUBEBUILDER_ASSETS;
const pattern = process.argv[2] ? `${process.argv[2].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*\\.e2e\\.ts$` : '\\.e2e\\.ts$';

function say(line: string): void {
  process.stdout.write(`e2e: ${line}\n`);
}

let plane: ControlPlane | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    plane?.kill();
    process.exit(130);
  });
}
process.once('exit', () => plane?.kill());

async function main(): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (assets) {
    if (!existsSync(join(assets, 'kube-apiserver'))) {
      say(`FAILED: KUBEBUILDER_ASSETS=${assets} holds no kube-apiserver (get assets with: setup-envtest use 1.32 -p path)`);
      return 1;
    }
    const started = Date.now();
    plane = await startControlPlane({ assets, controllerManager: true, crds: ALL_CRDS() });
    say(
      `control plane ${plane.server} (etcd, kube-apiserver, kube-controller-manager from ${assets}) ready in ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
    env.KUBECONFIG = plane.kubeconfig;
    env.EW_E2E_CLUSTER = 'envtest';
    env.EW_E2E_SERVICE_RANGE = plane.serviceClusterIpRange;
    // the certificate the API server presents to webhooks, for suites that require one (--client-ca)
    env.EW_E2E_WEBHOOK_CLIENT_CA = plane.webhookClient.caFile;
    env.EW_E2E_WEBHOOK_CLIENT_CA_KEY = plane.webhookClient.caKeyFile;
    env.EW_E2E_WEBHOOK_CLIENT_NAME = plane.webhookClient.name;
    env.EW_E2E_WEBHOOK_CLIENT_CERT = plane.webhookClient.certFile;
    env.EW_E2E_WEBHOOK_CLIENT_KEY = plane.webhookClient.keyFile;
    // kubectl from the assets first, as envtest does
    if (existsSync(join(assets, 'kubectl'))) env.PATH = `${assets}:${env.PATH ?? ''}`;
  } else if (process.env.KUBECONFIG) {
    say(`using the cluster in KUBECONFIG=${process.env.KUBECONFIG}`);
    env.EW_E2E_CLUSTER = 'existing';
  } else {
    say('SKIPPED: neither KUBEBUILDER_ASSETS nor KUBECONFIG is set; no end-to-end suite ran');
    say('  envtest assets: export KUBEBUILDER_ASSETS="$(setup-envtest use 1.32 -p path)"');
    say('  or a disposable cluster: KUBECONFIG=~/.kube/kind-e2e npm run test:e2e');
    return 0;
  }

  const uvu = join('node_modules', 'uvu', 'bin.js');
  const child = spawn(process.execPath, [uvu, 'test/e2e', pattern], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  // uvu exits 0 when a suite's before() hook throws and its tests never run: read its totals too.
  let printed = '';
  child.stdout!.on('data', (d: Buffer) => {
    process.stdout.write(d);
    printed += d.toString();
  });
  const limit = setTimeout(() => {
    say(`FAILED: the suites ran past ${RUN_LIMIT_MS / 1000}s; stopping them`);
    child.kill('SIGKILL');
  }, RUN_LIMIT_MS);
  let code = await new Promise<number>((resolve) => child.on('close', (c, s) => resolve(c ?? (s ? 1 : 0))));
  clearTimeout(limit);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colours of uvu's report
  const plain = printed.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  if (code === 0 && passed < total) {
    say(`FAILED: ${total - passed} of ${total} tests did not pass (a suite's set-up failed before its tests ran)`);
    code = 1;
  }
  if (code !== 0 && plane) process.stdout.write(`\ncontrol plane logs (last lines):\n${plane.logs()}\n`);
  return code;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  say(`FAILED: ${(e as Error).message}`);
} finally {
  await plane?.stop();
}
process.exitCode = code;
