/**
 * What an end-to-end test does as a user would: kubectl against the cluster in KUBECONFIG (the
 * control plane that test/e2e/run.ts started, or a real cluster), one namespace per test, and
 * egress-warden run from this checkout and registered with `egress-warden manifests --url`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort, httpsGet } from './control-plane.ts';

export type Obj = Record<string, any>;
export type Run = { readonly code: number; readonly stdout: string; readonly stderr: string };

/** Label on everything a run creates, so a failed run can be cleaned up by hand: kubectl delete ns -l egress-warden.io/e2e */
export const E2E_LABEL = 'egress-warden.io/e2e';

/** true when test/e2e/run.ts started a throw-away control plane: tests may create Nodes and other cluster-wide objects */
export const disposable = process.env.EW_E2E_CLUSTER === 'envtest';

const KUBECTL_TIMEOUT_MS = 90_000;

export function kubectl(args: readonly string[], input?: string): Run {
  const r = spawnSync('kubectl', ['--request-timeout=30s', ...args], {
    input,
    encoding: 'utf8',
    timeout: KUBECTL_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** kubectl that must succeed; returns stdout */
export function must(args: readonly string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

export const apply = (obj: Obj | readonly Obj[], ...flags: string[]): Run =>
  kubectl(['apply', '-f', '-', ...flags], JSON.stringify(Array.isArray(obj) ? { apiVersion: 'v1', kind: 'List', items: obj } : obj));

export const create = (obj: Obj, ...flags: string[]): Run => kubectl(['create', '-f', '-', ...flags], JSON.stringify(obj));

export const getJson = (args: readonly string[]): Obj => JSON.parse(must(['get', ...args, '-o', 'json'])) as Obj;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries `probe` until it returns a value; informers and webhook registration are eventually consistent. */
export async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${seconds}s waiting until ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(250);
  }
}

export const runId = (prefix = 'ew-e2e') => `${prefix}-${randomBytes(3).toString('hex')}`;

/**
 * Keeps `kubectl create --dry-run=server` of `obj` going, one at a time, until stopped; counts what
 * failed. A child process per write: the test process must stay free to run the server's peers.
 */
export function keepWriting(obj: Obj) {
  let running = true;
  let sent = 0;
  const failures: string[] = [];
  const body = JSON.stringify(obj);
  const loop = (async () => {
    while (running) {
      const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
        const c = spawn('kubectl', ['create', '--dry-run=server', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        c.stderr.setEncoding('utf8');
        c.stderr.on('data', (d: string) => {
          stderr += d;
        });
        c.on('close', (code) => resolve({ code: code ?? 1, stderr }));
        c.stdin.end(body);
      });
      sent++;
      if (r.code !== 0) failures.push(r.stderr.trim());
    }
  })();
  return {
    /** resolves once `n` more writes have been answered: each step of a rollout is crossed by writes, however slow the machine */
    writes: (n: number) => {
      const target = sent + n;
      return eventually(`${n} more writes through the webhook`, () => (sent >= target ? true : undefined), 120);
    },
    stop: async () => {
      running = false;
      await loop;
      return { sent, failures };
    },
  };
}

// -- kubectl's own words --------------------------------------------------------------------------

export const denial = (webhook: string) => `admission webhook "${webhook}" denied the request`;
/** The warnings kubectl printed that carry one of our finding codes. */
export const ourWarnings = (stderr: string) => stderr.split('\n').filter((l) => /^Warning: .*\[EW\d{3}\]/.test(l));

export function denied(r: Run, webhook: string, finding: RegExp): void {
  assert.is.not(r.code, 0, `expected a denial, kubectl succeeded:\n${r.stdout}${r.stderr}`);
  assert.ok(r.stderr.includes(denial(webhook)), `expected "${denial(webhook)}", got:\n${r.stderr}`);
  assert.match(r.stderr, finding);
}

export function acceptedCleanly(r: Run): void {
  assert.is(r.code, 0, `expected success, got:\n${r.stderr}`);
  assert.equal(ourWarnings(r.stderr), [], 'expected no egress-warden warnings');
}

export function accepted(r: Run): void {
  assert.is(r.code, 0, `expected success, got:\n${r.stderr}`);
}

// -- the webhook ----------------------------------------------------------------------------------

const node = process.execPath;
export const cli = (args: readonly string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(node, ['src/cli.ts', ...args], { encoding: 'utf8', timeout: KUBECTL_TIMEOUT_MS, env });

export type WebhookOptions = {
  /** names both webhook configurations; must sort before a sidecar injector's */
  readonly name?: string;
  readonly failurePolicy?: 'Fail' | 'Ignore';
  /** extra `serve` flags */
  readonly serveArgs?: readonly string[];
  /** do not register the configurations (the test renders its own) */
  readonly register?: boolean;
};

export type Webhook = {
  readonly name: string;
  /** the namespace label that selects namespaces for this webhook: { [E2E_LABEL]: name } */
  readonly selector: Readonly<Record<string, string>>;
  readonly port: number;
  readonly url: string;
  readonly certDir: string;
  readonly ca: () => Buffer;
  readonly logs: () => string;
  /** GET a path of the running server: status code and body */
  readonly get: (path: string) => Promise<{ status: number; body: string }>;
  /** `egress-warden manifests --url` for this server */
  readonly render: (failurePolicy?: 'Fail' | 'Ignore') => string;
  readonly start: () => Promise<void>;
  readonly stop: () => Promise<void>;
  /** kills the server with SIGKILL, as a crash or an OOM kill would: no shutdown, nothing released */
  readonly crash: () => Promise<void>;
  /** stops the server, removes the configurations and namespaces it selected, deletes its certificates */
  readonly dispose: () => Promise<void>;
  /** a namespace selected by this webhook, removed by dispose() */
  readonly namespace: (suffix: string, labels?: Record<string, string>, annotations?: Record<string, string>) => string;
};

const host = '127.0.0.1';

/** Starts `egress-warden serve` from this checkout against KUBECONFIG and registers it by URL. */
export async function startWebhook(opts: WebhookOptions = {}): Promise<Webhook> {
  const name = opts.name ?? runId();
  const certDir = mkdtempSync(join(tmpdir(), `${name}-`));
  const certs = cli(['certs', '--dir', certDir, '--san', host]);
  if (certs.status !== 0) throw new Error(`certs failed: ${certs.stderr}`);
  const port = await freePort(host);
  const url = `https://${host}:${port}`;
  const selector = { [E2E_LABEL]: name };
  const namespaces: string[] = [];
  let child: ChildProcess | undefined;
  let output = '';

  const ca = () => readFileSync(join(certDir, 'ca.crt'));
  const get = (path: string) => httpsGet(`${url}${path}`, { ca: ca() });

  const start = async () => {
    output = '';
    const c = spawn(node, ['src/cli.ts', 'serve', '--port', String(port), '--certs', certDir, '--host', host, ...(opts.serveArgs ?? [])], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    c.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    c.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const deadline = Date.now() + 60_000;
    while ((await get('/readyz')).status !== 200) {
      if (c.exitCode !== null) throw new Error(`the server exited with ${c.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the server was not ready after 60s:\n${output}`);
      await sleep(200);
    }
  };

  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) {
      c.kill('SIGKILL');
      await exited;
    }
  };

  const crash = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await exited;
  };

  const render = (failurePolicy = opts.failurePolicy ?? 'Fail') => {
    // `certs --dir` wrote the token beside the certificates, where `serve --certs` reads it
    const r = cli([
      'manifests',
      '--name',
      name,
      '--url',
      url,
      '--ca',
      join(certDir, 'ca.crt'),
      '--token-file',
      join(certDir, 'token'),
      '--namespace-label',
      `${E2E_LABEL}=${name}`,
      '--failure-policy',
      failurePolicy,
    ]);
    if (r.status !== 0) throw new Error(`manifests failed: ${r.stderr}`);
    return r.stdout;
  };

  const namespace = (suffix: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => {
    const ns = `${name}-${suffix}`;
    namespaces.push(ns);
    must(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: { ...selector, ...labels }, annotations },
      }),
    );
    return ns;
  };

  const dispose = async () => {
    kubectl(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', name, '--ignore-not-found']);
    if (namespaces.length) kubectl(['delete', 'namespace', ...namespaces, '--ignore-not-found', '--wait=false']);
    await stop();
    rmSync(certDir, { recursive: true, force: true });
  };

  try {
    await start();
    if (opts.register !== false) {
      must(['apply', '-f', '-'], render());
      await untilCalled(name);
    }
  } catch (e) {
    await dispose();
    throw e;
  }
  return { name, selector, port, url, certDir, ca, logs: () => output, get, render, start, stop, crash, dispose, namespace };
}

/**
 * The API server picks up a new webhook configuration asynchronously: probe with a dry-run
 * annotation that only this webhook denies until it does.
 */
export async function untilCalled(name: string): Promise<void> {
  // a name of its own each time: the probe of an earlier call may still be terminating, and would
  // vanish under this one's feet
  const probe = `${name}-probe-${randomBytes(2).toString('hex')}`;
  must(
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: probe, labels: { [E2E_LABEL]: name } } }),
  );
  try {
    await eventually(
      `the API server calls webhook ${name}`,
      () => {
        const r = kubectl([
          'annotate',
          '--dry-run=server',
          '--overwrite',
          'namespace',
          probe,
          'egress-warden.io/bypass-ip-ranges=not-a-cidr',
        ]);
        return r.code !== 0 && r.stderr.includes(denial('namespaces.egress-warden.io')) ? true : undefined;
      },
      60,
    );
  } finally {
    kubectl(['delete', 'namespace', probe, '--ignore-not-found', '--wait=false']);
  }
}

/** On the throw-away control plane every stand-in CRD is installed; on a real cluster a missing one skips the test, saying so. */
export function hasCrd(name: string): boolean {
  if (kubectl(['get', 'crd', name]).code === 0) return true;
  if (disposable) throw new Error(`CRD ${name} is not installed on the test control plane`);
  process.stdout.write(`  (skipped: CRD ${name} is not installed on this cluster)\n`);
  return false;
}

/**
 * An e2e suite with a webhook of its own, started before its tests and removed after them; without
 * a cluster the suite says that it skipped. `ctx.hook` is the running webhook.
 */
export function webhookSuite(title: string, opts: WebhookOptions = {}) {
  const E2E = suite(title);
  const live = Boolean(process.env.KUBECONFIG);
  if (!live) process.stdout.write(`${title.split(':')[0]}: skipped, no cluster (run through npm run test:e2e)\n`);
  const ctx = {} as { hook: Webhook };
  E2E.before(async () => {
    if (live) ctx.hook = await startWebhook(opts);
  });
  E2E.after(async () => {
    await ctx.hook?.dispose();
  });
  return { E2E, test: live ? E2E : E2E.skip, ctx };
}

/** The fingerprint of the certificate a new TLS connection to the server is given. */
export function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.end();
      resolve(fp);
    });
    socket.once('error', reject);
  });
}
