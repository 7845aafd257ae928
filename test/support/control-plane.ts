/**
 * A real Kubernetes control plane for end-to-end tests, started the way controller-runtime's envtest
 * does it: etcd and kube-apiserver (and kube-controller-manager when asked) from the binaries in
 * KUBEBUILDER_ASSETS, on free loopback ports, with generated certificates, token authentication and
 * RBAC on. The API server presents a client certificate to every admission webhook it calls (an
 * AdmissionConfiguration for the webhook plugins), as a production API server can be told to, so a
 * webhook may require one; a webhook that asks for none is not shown it. Everything lives in one
 * temporary folder; `stop()` ends exactly the processes it started, by PID, and removes the folder.
 * A run that was killed before it could stop leaves a pid file that the next start reaps.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCertificates } from '../../src/tls.ts';
import { clientCertificates } from './client-certs.ts';

export type ControlPlaneOptions = {
  /** folder with etcd, kube-apiserver, kube-controller-manager (and kubectl): the envtest layout */
  readonly assets: string;
  /** also run kube-controller-manager: default ServiceAccounts, namespace deletion, Deployments */
  readonly controllerManager?: boolean;
  /** serve networking.k8s.io/v1beta1 ServiceCIDR objects (MultiCIDRServiceAllocator) */
  readonly serviceCidrs?: boolean;
  readonly serviceClusterIpRange?: string;
  /** CRD manifests to install and wait for (files) */
  readonly crds?: readonly string[];
  /** seconds to wait for /readyz */
  readonly startTimeoutSeconds?: number;
};

/** The certificate kube-apiserver presents when it calls an admission webhook, as files. */
export type WebhookClient = {
  /** the CA that signed the certificate: what a webhook trusts with --client-ca */
  readonly caFile: string;
  /** the CA's key: a test signs a certificate the webhook must refuse for its name with it */
  readonly caKeyFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** the certificate's CN: what a webhook accepts with --client-names */
  readonly name: string;
};

/** The CN of the certificate kube-apiserver presents to webhooks. */
export const WEBHOOK_CLIENT_NAME = 'kube-apiserver-webhook-client';

export type ControlPlane = {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** a kubeconfig with cluster-admin rights (group system:masters) */
  readonly kubeconfig: string;
  readonly dir: string;
  readonly serviceClusterIpRange: string;
  readonly webhookClient: WebhookClient;
  /** installs CRD manifests and waits until each is Established */
  readonly installCrds: (files: readonly string[]) => void;
  /** the last lines each component wrote, for failure messages */
  readonly logs: () => string;
  readonly stop: () => Promise<void>;
  /** SIGKILLs kube-apiserver (etcd keeps running) and waits for it to exit: an outage */
  readonly killApiServer: () => Promise<void>;
  /** starts kube-apiserver again, same port, certificates and etcd, and waits until /readyz is 200 */
  readonly startApiServer: () => Promise<void>;
  /** synchronous last resort for exit handlers: SIGKILL by PID, remove the folder */
  readonly kill: () => void;
};

/** The folder holding the stand-in Istio, OSM and SMI CRDs this project's tests install. */
export const CRD_DIR = join(import.meta.dirname, '..', 'fixtures', 'crds');
export const ALL_CRDS = (): string[] =>
  readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(CRD_DIR, f));

const PID_FILE = 'pids';
const STOP_GRACE_MS = 2_000;
/** etcd 3.4 has no watch progress notifications, so the controller manager's clients fall back to LIST, loudly */
const NOISE = /watchlist request/i;
const RUN_PREFIX = 'egress-warden-cp-';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A runner killed with SIGKILL cannot stop its children. Its folder still names them: end the
 * processes of folders whose runner is gone, and only those (by PID, checked against the command
 * line so a reused PID is left alone).
 */
export function reapAbandoned(root = tmpdir()): string[] {
  const reaped: string[] = [];
  for (const name of readdirSync(root)) {
    if (!name.startsWith(RUN_PREFIX)) continue;
    const dir = join(root, name);
    const file = join(dir, PID_FILE);
    if (!existsSync(file)) continue;
    const lines = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
    const owner = Number(lines[0]?.split(' ')[1]);
    if (Number.isInteger(owner) && alive(owner)) continue;
    for (const line of lines.slice(1)) {
      const [what, pidText] = line.split(' ');
      const pid = Number(pidText);
      if (!Number.isInteger(pid) || !alive(pid)) continue;
      const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
      if (!cmdline.includes(dir)) continue;
      process.kill(pid, 'SIGKILL');
      reaped.push(`${what} ${pid}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return reaped;
}

/** GET over HTTPS that never throws: status 0 and the error's message when the request failed. */
export function httpsGet(
  url: string,
  opts: { readonly ca: string | Buffer; readonly token?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const headers = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
    const req = request(url, { ca: opts.ca, headers, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
}

type Component = { readonly name: string; readonly child: ChildProcess; readonly tail: string[] };

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  for (const bin of ['etcd', 'kube-apiserver', ...(opts.controllerManager ? ['kube-controller-manager'] : [])]) {
    if (!existsSync(join(opts.assets, bin))) throw new Error(`control plane: ${bin} is missing from KUBEBUILDER_ASSETS=${opts.assets}`);
  }
  reapAbandoned();
  // /dev/shm keeps etcd's fsyncs off the disk: a test cluster needs no durability.
  const root = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(root, RUN_PREFIX));
  writeFileSync(join(dir, PID_FILE), `runner ${process.pid}\n`);
  const components: Component[] = [];
  let stopped = false;

  const run = (name: string, args: readonly string[]): Component => {
    const child = spawn(join(opts.assets, name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const keep = (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line && !NOISE.test(line)) tail.push(line);
      if (tail.length > 200) tail.splice(0, tail.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (e) => tail.push(`spawn failed: ${e.message}`));
    if (child.pid) appendFileSync(join(dir, PID_FILE), `${name} ${child.pid}\n`);
    const c = { name, child, tail };
    components.push(c);
    return c;
  };

  const logs = () =>
    components
      .map(
        (c) =>
          `--- ${c.name} (pid ${c.child.pid}, exit ${c.child.exitCode ?? c.child.signalCode ?? 'running'})\n${c.tail.slice(-40).join('\n')}`,
      )
      .join('\n');

  const kill = () => {
    if (stopped) return;
    stopped = true;
    for (const c of [...components].reverse()) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  const stop = async () => {
    if (stopped) return;
    // Dependants first: the controller manager, then the API server, then etcd. A throw-away
    // cluster needs no graceful shutdown; the API server would otherwise wait for its watches.
    for (const c of [...components].reverse()) {
      if (c.child.exitCode !== null || c.child.signalCode !== null) continue;
      const exited = new Promise<void>((r) => c.child.once('exit', () => r()));
      c.child.kill('SIGTERM');
      if (!(await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]))) {
        c.child.kill('SIGKILL');
        await exited;
      }
    }
    stopped = true;
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const pki = join(dir, 'pki');
    mkdirSync(pki);
    const pems = await generateCertificates({ service: 'kubernetes', namespace: 'default', days: 2, sans: ['kubernetes.default.svc'] });
    writeFileSync(join(pki, 'ca.crt'), pems.caCert);
    writeFileSync(join(pki, 'apiserver.crt'), pems.cert);
    writeFileSync(join(pki, 'apiserver.key'), pems.key, { mode: 0o600 });
    const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(pki, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(pki, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));

    // The API server authenticates to webhooks only as an AdmissionConfiguration tells it: the
    // webhook plugins' kubeconfig, whose user "*" is used for every webhook host it calls.
    const client = await clientCertificates(WEBHOOK_CLIENT_NAME);
    const webhookClient: WebhookClient = {
      caFile: join(pki, 'webhook-client-ca.crt'),
      caKeyFile: join(pki, 'webhook-client-ca.key'),
      certFile: join(pki, 'webhook-client.crt'),
      keyFile: join(pki, 'webhook-client.key'),
      name: client.name,
    };
    writeFileSync(webhookClient.caFile, client.caCert);
    writeFileSync(webhookClient.caKeyFile, client.caKey, { mode: 0o600 });
    writeFileSync(webhookClient.certFile, client.cert);
    writeFileSync(webhookClient.keyFile, client.key, { mode: 0o600 });
    const webhookKubeconfig = join(pki, 'webhook-client.kubeconfig');
    writeFileSync(
      webhookKubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'users:',
        "- name: '*'",
        '  user:',
        `    client-certificate-data: ${Buffer.from(client.cert).toString('base64')}`,
        `    client-key-data: ${Buffer.from(client.key).toString('base64')}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const admissionConfig = join(pki, 'admission.yaml');
    writeFileSync(
      admissionConfig,
      [
        'apiVersion: apiserver.config.k8s.io/v1',
        'kind: AdmissionConfiguration',
        'plugins:',
        ...['ValidatingAdmissionWebhook', 'MutatingAdmissionWebhook'].flatMap((plugin) => [
          `- name: ${plugin}`,
          '  configuration:',
          '    apiVersion: apiserver.config.k8s.io/v1',
          '    kind: WebhookAdmissionConfiguration',
          `    kubeConfigFile: ${webhookKubeconfig}`,
        ]),
        '',
      ].join('\n'),
    );

    const adminToken = randomBytes(24).toString('hex');
    const kcmToken = randomBytes(24).toString('hex');
    writeFileSync(
      join(pki, 'tokens.csv'),
      `${[`${adminToken},admin,admin,"system:masters"`, `${kcmToken},system:kube-controller-manager,kcm,"system:authenticated"`].join(
        '\n',
      )}\n`,
      { mode: 0o600 },
    );

    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = run('etcd', [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      '--log-level=warn',
    ]);

    const serviceClusterIpRange = opts.serviceClusterIpRange ?? '10.112.0.0/16';
    const server = `https://127.0.0.1:${apiPort}`;
    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${pki}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
      `--token-auth-file=${join(pki, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-cluster-ip-range=${serviceClusterIpRange}`,
      '--allow-privileged=true',
      '--v=1',
      `--admission-control-config-file=${admissionConfig}`,
      // the Endpoints of Service kubernetes cannot hold a loopback address: do not maintain them
      '--endpoint-reconciler-type=none',
      ...(opts.serviceCidrs ? ['--runtime-config=networking.k8s.io/v1beta1=true', '--feature-gates=MultiCIDRServiceAllocator=true'] : []),
    ];
    let apiserver = run('kube-apiserver', apiserverArgs);

    const ca = pems.caCert;
    const apiserverReady = async () => {
      const deadline = Date.now() + (opts.startTimeoutSeconds ?? 90) * 1000;
      for (;;) {
        const r = await httpsGet(`${server}/readyz`, { ca, token: adminToken });
        if (r.status === 200) break;
        for (const c of [etcd, apiserver]) {
          if (c.child.exitCode !== null) throw new Error(`control plane: ${c.name} exited with ${c.child.exitCode}\n${logs()}`);
        }
        if (Date.now() > deadline)
          throw new Error(
            `control plane: kube-apiserver not ready after ${opts.startTimeoutSeconds ?? 90}s (last: ${r.status} ${r.body.slice(0, 300)})\n${logs()}`,
          );
        await sleep(100);
      }
    };
    await apiserverReady();
    const killApiServer = async () => {
      if (apiserver.child.exitCode !== null || apiserver.child.signalCode !== null) return;
      const exited = new Promise<void>((r) => apiserver.child.once('exit', () => r()));
      apiserver.child.kill('SIGKILL');
      await exited;
    };
    const startApiServer = async () => {
      apiserver = run('kube-apiserver', apiserverArgs);
      await apiserverReady();
    };

    const kubeconfigFor = (user: string, token: string) =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: envtest',
        '  cluster:',
        `    server: ${server}`,
        `    certificate-authority-data: ${Buffer.from(ca).toString('base64')}`,
        'users:',
        `- name: ${user}`,
        '  user:',
        `    token: ${token}`,
        'contexts:',
        '- name: envtest',
        '  context:',
        '    cluster: envtest',
        `    user: ${user}`,
        'current-context: envtest',
        '',
      ].join('\n');
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor('admin', adminToken), { mode: 0o600 });

    const kubectl = (args: readonly string[]) => {
      const r = spawnSync(
        existsSync(join(opts.assets, 'kubectl')) ? join(opts.assets, 'kubectl') : 'kubectl',
        ['--kubeconfig', kubeconfig, '--request-timeout=30s', ...args],
        { encoding: 'utf8', timeout: 90_000 },
      );
      if (r.error) throw r.error;
      if (r.status !== 0) throw new Error(`control plane: kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const installCrds = (files: readonly string[]) => {
      if (!files.length) return;
      const applied = kubectl(['apply', ...files.flatMap((f) => ['-f', f]), '-o', 'name']);
      const names = applied.split('\n').filter(Boolean);
      kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...names]);
    };

    if (opts.controllerManager) {
      const kcmConfig = join(dir, 'kcm.kubeconfig');
      writeFileSync(kcmConfig, kubeconfigFor('kcm', adminToken), { mode: 0o600 });
      run('kube-controller-manager', [
        `--kubeconfig=${kcmConfig}`,
        `--authentication-kubeconfig=${kcmConfig}`,
        `--authorization-kubeconfig=${kcmConfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
        `--cert-dir=${join(dir, 'kcm')}`,
        `--service-account-private-key-file=${join(pki, 'sa.key')}`,
        `--root-ca-file=${join(pki, 'ca.crt')}`,
        `--service-cluster-ip-range=${serviceClusterIpRange}`,
        '--leader-elect=false',
        '--use-service-account-credentials=false',
        '--controllers=*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service,-route,-persistentvolume-binder,-attachdetach',
        '--v=1',
      ]);
      // The default ServiceAccount appears once its controller runs; pods are refused until then.
      const until = Date.now() + 60_000;
      while (
        spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'get', 'serviceaccount', 'default', '-n', 'default'], { encoding: 'utf8' })
          .status !== 0
      ) {
        const kcm = components.at(-1)!;
        if (kcm.child.exitCode !== null)
          throw new Error(`control plane: kube-controller-manager exited with ${kcm.child.exitCode}\n${logs()}`);
        if (Date.now() > until) throw new Error(`control plane: no default ServiceAccount after 60s\n${logs()}`);
        await sleep(250);
      }
    }
    installCrds(opts.crds ?? []);
    return { server, kubeconfig, dir, serviceClusterIpRange, webhookClient, installCrds, logs, stop, kill, killApiServer, startApiServer };
  } catch (e) {
    kill();
    throw e;
  }
}
