/**
 * `egress-warden serve`: certificates, cluster state, the HTTPS server, and a graceful exit.
 * The wiring lives here so that everything it wires stays free of I/O.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp, replaceCertificate } from '../app.ts';
import { readServeConfig, SERVE_USAGE, type ServeConfig } from '../config.ts';
import { ensureServingPair, watchServingPair } from '../tls.ts';
import { createMetrics } from '../http/metrics.ts';
import type { ClusterSource, Reviewer } from '../http/routes.ts';
import { judge } from '../rules/registry.ts';
import '../rules/table.ts';
import { admitPod } from '../mutate/admit-pod.ts';
import { snapshotFromObjects } from '../cluster/indexes.ts';
import { parseCidr } from '../net/cidr.ts';
import { USAGE, type Command } from './io.ts';

/** How long in-flight reviews get to finish after SIGTERM before the process exits anyway. */
export const DRAIN_LIMIT_MS = 25_000;

export type Server = {
  readonly app: FastifyInstance;
  /** https://host:port actually bound */
  readonly url: string;
  readonly close: () => Promise<void>;
};

const validate: Reviewer = (req, snapshot) => judge(req, snapshot);
const mutate: Reviewer = (req, snapshot) => admitPod(req, snapshot);

function staticCluster(config: ServeConfig): ClusterSource {
  const ranges = (list: readonly string[], fallback: string, origin: string) =>
    (list.length ? list : [fallback]).map((t) => ({ cidr: parseCidr(t)!, origin: list.length ? 'config' : origin }));
  const snapshot = snapshotFromObjects([], {
    pod: ranges(config.podCidrs, '10.244.0.0/16', 'default (kubeadm)'),
    service: ranges(config.serviceCidrs, '10.96.0.0/12', 'default (kubeadm)'),
  });
  return { current: () => snapshot, ready: () => true, status: () => ({ mode: 'no cluster' }) };
}

export async function startServer(config: ServeConfig, logLevel: string | false = config.logLevel): Promise<Server> {
  const { pair, generated } = await ensureServingPair(config.certDir, { service: config.service, namespace: config.namespace, days: 365 });
  const cluster = staticCluster(config);
  const metrics = createMetrics(() => ({ ready: cluster.ready(), informers: [] }));
  let stopWatching = () => {};
  const app = buildApp({
    tls: pair, logLevel, cluster, validate, mutate, metrics,
    stop: async () => stopWatching(),
  });
  if (generated) app.log.warn({ dir: config.certDir }, 'generated a development CA and serving certificate; use real certificates in a cluster');
  await app.listen({ host: config.host, port: config.port });
  stopWatching = watchServingPair(config.certDir, pair,
    (next) => {
      replaceCertificate(app, next);
      app.log.info({ fingerprint: next.fingerprint, notAfter: next.notAfter }, 'serving certificate reloaded');
    },
    (e) => app.log.warn({ err: e }, 'certificate files changed but could not be loaded; keeping the current certificate'));
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return { app, url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, close: () => app.close() };
}

export const runServe: Command = async (argv, io) => {
  let config: ServeConfig;
  try {
    config = readServeConfig(argv, io.env);
  } catch (e) {
    io.err(`serve: ${(e as Error).message}\n${SERVE_USAGE}\n`);
    return USAGE;
  }
  const server = await startServer(config);
  server.app.log.info({ url: server.url }, 'egress-warden is serving');
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      server.app.log.info({ signal }, 'shutting down: finishing in-flight reviews');
      const deadline = setTimeout(() => {
        server.app.log.error({ limitMs: DRAIN_LIMIT_MS }, 'in-flight reviews did not finish in time; exiting');
        resolve(1);
      }, DRAIN_LIMIT_MS);
      deadline.unref();
      server.close().then(() => { clearTimeout(deadline); resolve(0); }, () => resolve(1));
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
};
