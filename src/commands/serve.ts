/**
 * `egress-warden serve`: certificates, cluster state, the HTTPS server, and a graceful exit.
 * The wiring lives here so that everything it wires stays free of I/O.
 */
import { offlinePointer, urlPointer } from '../catalogue/docs.ts';
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { buildApp, replaceCertificate, type TlsPolicy } from '../app.ts';
import { callerPath, TOKEN_FILE_NAME, TOKEN_GRACE_MS, type EndpointName } from '../catalogue/endpoints.ts';
import { DEFAULT_CERT_NAMESPACE, SERVE_OPTIONS, SERVE_USAGE, serveConfig, type ServeConfig } from '../config.ts';
import { ensureServingPair, loadClientCa, watchServingPair } from '../tls.ts';
import { ensureTokens, watchTokens, tokenProblem } from '../token.ts';
import { authenticates, tokenSet, UNAUTHENTICATED, type CallerAuth } from '../http/caller.ts';
import { createMetrics, type Metrics } from '../http/metrics.ts';
import type { Reviewer } from '../http/routes.ts';
import { admittedWrite, callerOf } from '../review/remember.ts';
import { RULES } from '../review/rules.ts';
import { judgeWith } from '../review/validate.ts';
import { admitPodReadingThrough } from '../review/mutate.ts';
import { notingPendingWrites } from '../review/consistency.ts';
import { overlay } from '../cluster/overlay.ts';
import { startClusterView } from '../cluster/view.ts';
import { createLogger, flushLog } from '../log.ts';
import { parseCommand } from './flags.ts';
import { startAudit, type RunningAudit } from './serve-audit.ts';
import { USAGE, type Command } from './io.ts';

/** How long in-flight reviews get to finish after SIGTERM before the process exits anyway. */
export const DRAIN_LIMIT_MS = 25_000;

export type Server = {
  readonly app: FastifyInstance;
  /** https://host:port actually bound */
  readonly url: string;
  /** the admission paths as the webhook configurations must call them (with the caller token, when there is one) */
  readonly paths: Readonly<Record<EndpointName, string>>;
  readonly close: () => Promise<void>;
};

type Callers = { readonly auth: CallerAuth; readonly tokenFile?: string; readonly tokens?: readonly string[]; readonly generated: boolean };

/** The caller token (and client CA names) the admission paths require, from the settings. */
async function readCallers(config: ServeConfig, hasClientCa: boolean): Promise<Callers> {
  const clientCertificates = hasClientCa ? { names: config.clientNames } : undefined;
  if (config.insecureNoToken) return { auth: { ...UNAUTHENTICATED, clientCertificates }, generated: false };
  const tokenFile = config.tokenFile ?? join(config.certDir, TOKEN_FILE_NAME);
  let read: { tokens: string[]; generated: boolean };
  try {
    // only the development default is generated: a named file that is missing is a broken mount
    read = await ensureTokens(tokenFile, config.tokenFile === undefined);
  } catch (e) {
    throw new Error(
      `token: ${tokenProblem(e)}; pass --token-file with the file the webhook configurations' token came from, or --insecure-no-token`,
    );
  }
  return { auth: { tokens: tokenSet(read.tokens), clientCertificates }, tokenFile, tokens: read.tokens, generated: read.generated };
}

export type StartOptions = {
  /** environment for cluster selection (KUBECONFIG, in-cluster service variables) */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logLevel?: string | false;
};

export async function startServer(config: ServeConfig, { env, logLevel = config.logLevel }: StartOptions): Promise<Server> {
  const { pair, generated } = await ensureServingPair(config.certDir, {
    service: config.service,
    namespace: config.namespace ?? DEFAULT_CERT_NAMESPACE,
    days: 365,
  });
  const clientCa = config.clientCa === undefined ? undefined : await loadClientCa(config.clientCa);
  const callers = await readCallers(config, clientCa !== undefined);
  const tlsPolicy: TlsPolicy = { minVersion: config.tlsMinVersion, ...(clientCa ? { clientCa } : {}) };
  const logger = createLogger(logLevel, config.logFormat);
  // Read-your-writes (docs/consistency.md): what this replica admitted, over what the informers show.
  const pending = overlay();
  // The audit needs the view, and the view tells the audit what changed: it is bound once both exist.
  let running: RunningAudit | undefined;
  const view = await startClusterView({
    env,
    log: logger,
    kubeconfig: config.kubeconfig,
    noCluster: config.noCluster,
    namespace: config.namespace,
    cidrs: config.cidrs,
    stateDir: config.stateDir,
    observer: {
      delivered: (kind, namespace, name, resourceVersion) => {
        pending.delivered(kind, namespace, name, resourceVersion);
        running?.background.auditor.changed(kind, namespace, name);
      },
      published: () => {
        pending.published();
        running?.background.auditor.published();
      },
      replaced: (kind) => running?.background.auditor.replaced(kind),
    },
  });
  let metrics: Metrics | undefined;
  running = await startAudit(config, env, view, logger, () => metrics);
  const pointer = config.docsUrl ? urlPointer(config.docsUrl) : offlinePointer;
  const validate: Reviewer = notingPendingWrites(judgeWith(RULES, { strictUpdates: config.strictUpdates, pointer }), pending);
  const readThrough = admitPodReadingThrough(
    view.readNamespace ? { read: view.readNamespace, remember: pending.stored } : undefined,
    pointer,
  );
  const mutate: Reviewer = (req, snapshot) => readThrough(req, pending.layer(snapshot));
  metrics = createMetrics(
    () => view.status(),
    true,
    () => ({ pending: pending.size(), callers: pending.callers() }),
    running ? () => running?.background.sample() : undefined,
  );
  // Only an authenticated caller's writes are remembered: anyone else could make the webhook believe anything.
  const validated = authenticates(callers.auth)
    ? (req: Parameters<typeof admittedWrite>[0], decision: Parameters<typeof admittedWrite>[1]) => {
        const obj = admittedWrite(req, decision);
        return obj !== undefined && pending.admitted(obj, callerOf(req));
      }
    : undefined;
  let stopWatching = () => {};
  let stopTokens = () => {};
  const app = buildApp({
    tls: pair,
    tlsPolicy,
    logger,
    cluster: view,
    validate,
    mutate,
    metrics,
    auth: callers.auth,
    ...(validated ? { validated } : {}),
    reviewLog: { policy: config.logReviews },
    stop: async () => {
      stopWatching();
      stopTokens();
      await running?.stop();
      await view.stop();
    },
  });
  try {
    await listen(app, config);
  } catch (e) {
    await app.close();
    throw e;
  }
  if (generated)
    app.log.warn({ dir: config.certDir }, 'generated a development CA and serving certificate; use real certificates in a cluster');
  announceCallers(app, config, callers);
  const { tokens, tokenFile } = callers;
  if (tokenFile && tokens && callers.auth.tokens) {
    const set = callers.auth.tokens;
    stopTokens = watchTokens(
      tokenFile,
      tokens,
      (next) => {
        set.replace(next);
        app.log.info(
          { file: tokenFile, tokens: next.length, accepted: set.count() },
          `caller tokens reloaded; tokens no longer in the file are accepted for ${TOKEN_GRACE_MS / 60_000} minutes more`,
        );
      },
      (e) => app.log.warn({ err: e }, 'the caller token file changed but could not be read; keeping the tokens we have'),
    );
  }
  stopWatching = watchServingPair(
    config.certDir,
    pair,
    (next) => {
      replaceCertificate(app, next, tlsPolicy);
      app.log.info({ fingerprint: next.fingerprint, notAfter: next.notAfter }, 'serving certificate reloaded');
    },
    (e) => app.log.warn({ err: e }, 'certificate files changed but could not be loaded; keeping the current certificate'),
  );
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const close = async () => {
    // the Lease is released at once, not after the in-flight reviews drained: another replica takes over meanwhile
    await Promise.all([running?.stop(), app.close()]);
    await flushLog(logger);
  };
  const token = callers.auth.tokens ? callers.tokens?.[0] : undefined;
  const paths = { validate: callerPath('validate', token), mutate: callerPath('mutate', token) };
  return { app, url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, paths, close };
}

/** Says at start who may call the admission paths, loudly when anyone may. */
function announceCallers(app: FastifyInstance, config: ServeConfig, callers: Callers): void {
  const { auth, tokenFile, generated } = callers;
  if (!authenticates(auth)) {
    app.log.warn(
      'AUTHENTICATION IS OFF (--insecure-no-token): anyone who reaches this port gets verdicts on /validate and /mutate; read-your-writes is off, so objects applied together are judged apart',
    );
    return;
  }
  if (generated)
    app.log.warn(
      { file: tokenFile },
      'generated a caller token; register the webhooks with `egress-warden manifests --token-file` so the API server calls /validate/<token>',
    );
  app.log.info(
    {
      token: tokenFile ?? 'none (--insecure-no-token)',
      clientCertificate: auth.clientCertificates
        ? { ca: config.clientCa, names: auth.clientCertificates.names.length ? auth.clientCertificates.names : 'any' }
        : 'not required',
      tlsMinVersion: config.tlsMinVersion,
    },
    'admission callers must authenticate',
  );
}

/** Listen, naming the address in the error (EADDRINUSE alone does not say which). */
async function listen(app: FastifyInstance, config: ServeConfig): Promise<void> {
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    throw new Error(`cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`);
  }
}

export const runServe: Command = async (argv, io) => {
  const run = parseCommand(argv, io, { name: 'serve', help: SERVE_USAGE, options: SERVE_OPTIONS, positionals: false });
  if (typeof run === 'number') return run;
  let config: ServeConfig;
  try {
    config = serveConfig(run.values, io.env);
  } catch (e) {
    return run.usage((e as Error).message);
  }
  let server: Server;
  try {
    server = await startServer(config, { env: io.env });
  } catch (e) {
    const message = (e as Error).message;
    io.err(`serve: ${message}\n`);
    return /^(config|state|tls|token):/.test(message) ? USAGE : 1;
  }
  server.app.log.info({ url: server.url }, 'egress-warden is serving');
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      server.app.log.info({ signal }, 'shutting down: finishing in-flight reviews');
      const deadline = setTimeout(() => {
        server.app.log.error({ limitMs: DRAIN_LIMIT_MS }, 'in-flight reviews did not finish in time; exiting');
        // Once closing, Node no longer times out a client that trickles its body; cut it off.
        server.app.server.closeAllConnections();
        resolve(1);
      }, DRAIN_LIMIT_MS);
      deadline.unref();
      server.close().then(
        () => {
          clearTimeout(deadline);
          resolve(0);
        },
        () => resolve(1),
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
};
