/**
 * `egress-warden serve`: certificates, cluster state, the HTTPS server, and a graceful exit.
 * The wiring lives here so that everything it wires stays free of I/O.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp, replaceCertificate } from '../app.ts';
import { DEFAULT_CERT_NAMESPACE, SERVE_OPTIONS, SERVE_USAGE, serveConfig, type ServeConfig } from '../config.ts';
import { ensureServingPair, watchServingPair } from '../tls.ts';
import { createMetrics } from '../http/metrics.ts';
import type { Reviewer } from '../http/routes.ts';
import type { Decision } from '../admission/decision.ts';
import type { AdmissionRequest } from '../admission/types.ts';
import { RULES } from '../review/rules.ts';
import { judgeWith } from '../review/validate.ts';
import { admitPodReadingThrough } from '../review/mutate.ts';
import { notingPendingWrites } from '../review/consistency.ts';
import { overlay, type Overlay } from '../cluster/overlay.ts';
import { startClusterView } from '../cluster/view.ts';
import { createLogger, flushLog } from '../log.ts';
import { parseCommand } from './flags.ts';
import { USAGE, type Command } from './io.ts';

/** How long in-flight reviews get to finish after SIGTERM before the process exits anyway. */
export const DRAIN_LIMIT_MS = 25_000;

export type Server = {
  readonly app: FastifyInstance;
  /** https://host:port actually bound */
  readonly url: string;
  readonly close: () => Promise<void>;
};

/** What this webhook allowed joins the overlay (a dry run stores nothing, so it does not). */
function remember(pending: Overlay, req: AdmissionRequest, decision: Decision): void {
  if (req.dryRun === true || !decision.allowed || req.subResource) return;
  const obj = req.operation === 'DELETE' ? req.oldObject : req.object;
  if (!obj || typeof obj !== 'object') return;
  const namespace = req.namespace || obj.metadata?.namespace;
  const named = namespace && !obj.metadata?.namespace ? { ...obj, metadata: { ...obj.metadata, namespace } } : obj;
  if (req.operation === 'CREATE' || req.operation === 'UPDATE') pending.admitted(named);
  else if (req.operation === 'DELETE') pending.admitted(named, true);
}

export type StartOptions = {
  /** environment for cluster selection (KUBECONFIG, in-cluster service variables) */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logLevel?: string | false;
};

export async function startServer(config: ServeConfig, { env, logLevel = config.logLevel }: StartOptions): Promise<Server> {
  const { pair, generated } = await ensureServingPair(config.certDir, { service: config.service, namespace: config.namespace ?? DEFAULT_CERT_NAMESPACE, days: 365 });
  const logger = createLogger(logLevel);
  // Read-your-writes (docs/consistency.md): what this replica admitted, over what the informers show.
  const pending = overlay();
  const view = await startClusterView({
    env, log: logger, kubeconfig: config.kubeconfig, noCluster: config.noCluster, namespace: config.namespace,
    cidrs: config.cidrs, stateDir: config.stateDir,
    observer: { delivered: pending.delivered, published: pending.published },
  });
  const cluster = { ...view, current: () => pending.layer(view.current()) };
  const validate: Reviewer = notingPendingWrites(judgeWith(RULES, { strictUpdates: config.strictUpdates }));
  const mutate = admitPodReadingThrough(view.readNamespace ? { read: view.readNamespace, remember: pending.stored } : undefined);
  const metrics = createMetrics(() => cluster.status());
  let stopWatching = () => {};
  const app = buildApp({
    tls: pair, logger, cluster, validate, mutate, metrics, validated: (req, decision) => remember(pending, req, decision),
    reviewLog: { policy: config.logReviews },
    stop: async () => {
      stopWatching();
      await view.stop();
    },
  });
  try {
    await listen(app, config);
  } catch (e) {
    await app.close();
    throw e;
  }
  if (generated) app.log.warn({ dir: config.certDir }, 'generated a development CA and serving certificate; use real certificates in a cluster');
  stopWatching = watchServingPair(config.certDir, pair,
    (next) => {
      replaceCertificate(app, next);
      app.log.info({ fingerprint: next.fingerprint, notAfter: next.notAfter }, 'serving certificate reloaded');
    },
    (e) => app.log.warn({ err: e }, 'certificate files changed but could not be loaded; keeping the current certificate'));
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const close = async () => {
    await app.close();
    await flushLog(logger);
  };
  return { app, url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, close };
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
    return /^(config|state|tls):/.test(message) ? USAGE : 1;
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
      server.close().then(() => { clearTimeout(deadline); resolve(0); }, () => resolve(1));
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
};
