/**
 * The HTTP surface: admission routes, probes and metrics, as one encapsulated plugin. Handlers are
 * glue: decode, ask the injected reviewer, encode, count, log.
 */
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { decodeReview, encodeReview, parseTimeout, type Answer } from '../admission/codec.ts';
import type { AdmissionRequest } from '../admission/types.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import type { Result } from '../catalogue/result.ts';
import type { Metrics, Verdict } from './metrics.ts';
import { problemOut, reviewOut } from './schemas.ts';

/** A reviewer's answer plus what the logs and metrics want to know about it. */
export type Outcome = Answer & { readonly mode?: string; readonly findings?: Result };

export type Reviewer = (req: AdmissionRequest, snapshot: ClusterSnapshot) => Outcome;

export type ClusterSource = {
  readonly current: () => ClusterSnapshot;
  readonly ready: () => boolean;
  /** serialized into the /readyz body */
  readonly status: () => unknown;
};

export type RouteDeps = {
  readonly cluster: ClusterSource;
  readonly validate: Reviewer;
  readonly mutate: Reviewer;
  readonly metrics: Metrics;
  /** false until the serving certificate is loaded */
  readonly certsLoaded?: () => boolean;
};

/** Room for an object and its oldObject at the API server's 3 MiB write limit (controller-runtime's cap). */
export const BODY_LIMIT = 7 * 1024 * 1024;

/** Kinds this webhook is registered for; anything else is counted as "other" so label values stay bounded. */
const KNOWN_KINDS = new Set(['ServiceEntry', 'VirtualService', 'Egress', 'Namespace', 'Pod']);
const kindLabel = (kind: string): string => (KNOWN_KINDS.has(kind) ? kind : 'other');

/** Leave this much of the API server's timeout for the answer to travel back. */
const TIMEOUT_MARGIN_MS = 250;

type Route = '/validate' | '/mutate';

function verdictLabel(o: Outcome): Verdict {
  if (!o.allowed) return o.code !== undefined && o.code >= 500 ? 'error' : 'denied';
  return o.warnings?.length ? 'warned' : 'allowed';
}

/** What to answer when the review cannot be finished: validation fails closed, mutation fails open. */
function fallback(route: Route, why: string): Outcome {
  return route === '/validate'
    ? { allowed: false, code: 500, message: `egress-warden could not validate this object: ${why}` }
    : { allowed: true, warnings: [`egress-warden left this pod unchanged: ${why}`] };
}

export const admissionRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const { cluster, metrics } = deps;
  // Building the log line costs more than the rules do; skip it when it would be dropped anyway.
  const logReviews = ['info', 'debug', 'trace'].includes(app.log.level);

  const review = (route: Route, reviewer: Reviewer) => async (request: FastifyRequest, reply: FastifyReply) => {
    const decoded = decodeReview(request.body);
    if (!decoded.ok) {
      metrics.observe(route, 'unknown', 'unknown', 'invalid', reply.elapsedTime / 1e3);
      request.log.info({ route, problem: decoded.problem }, 'rejected request that is not an AdmissionReview');
      return reply.code(400).type('application/json').send({ statusCode: 400, error: 'Bad Request', message: decoded.problem });
    }
    const req = decoded.request;
    const timeoutMs = parseTimeout((request.query as Record<string, unknown> | undefined)?.timeout);
    const waitedMs = reply.elapsedTime; // since the request arrived, before any work on it
    let outcome: Outcome;
    if (timeoutMs !== undefined && waitedMs > timeoutMs - TIMEOUT_MARGIN_MS) {
      // The API server stops waiting at its timeout; an answer after that is wasted work.
      outcome = fallback(route, `the request waited ${Math.round(waitedMs)} ms of its ${timeoutMs} ms timeout`);
    } else {
      try {
        outcome = reviewer(req, cluster.current());
      } catch (e) {
        request.log.error({ err: e, uid: req.uid }, 'reviewer failed');
        outcome = fallback(route, `internal error: ${(e as Error).message}`);
      }
    }
    const seconds = reply.elapsedTime / 1e3;
    const verdict = verdictLabel(outcome);
    metrics.observe(route, kindLabel(req.kind.kind), req.operation, verdict, seconds);
    for (const i of outcome.findings?.errors ?? []) metrics.findings(route, 'error', i.code, outcome.mode ?? 'enforce');
    for (const i of outcome.findings?.warnings ?? []) metrics.findings(route, 'warning', i.code, outcome.mode ?? 'enforce');
    if (logReviews) request.log.info({
      uid: req.uid, kind: req.kind.kind, namespace: req.namespace ?? '', name: req.name ?? req.object?.metadata?.name ?? req.object?.metadata?.generateName ?? '',
      operation: req.operation, dryRun: req.dryRun === true, verdict, mode: outcome.mode, ms: Math.round(seconds * 1e6) / 1e3,
      ...(outcome.findings && (outcome.findings.errors.length || outcome.findings.warnings.length)
        ? { findings: [...outcome.findings.errors, ...outcome.findings.warnings].map((i) => i.code) } : {}),
      ...(outcome.patch?.length ? { patched: outcome.patch.length } : {}),
    }, 'admission review');
    return encodeReview(decoded.apiVersion, req.uid, outcome);
  };

  // Bad input is the client's problem, said plainly: never a 500, never a stack trace.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'unexpected error');
    else request.log.info({ url: request.url, status, problem: error.message }, 'rejected request');
    if (request.url.startsWith('/validate') || request.url.startsWith('/mutate')) {
      metrics.observe(request.routeOptions.url ?? request.url, 'unknown', 'unknown', 'invalid', reply.elapsedTime / 1e3);
    }
    const message = status === 415
      ? `unsupported content type ${JSON.stringify(request.headers['content-type'] ?? '')}: send application/json`
      : status === 413 ? `body larger than ${BODY_LIMIT} bytes` : error.message;
    return reply.code(status).type('application/json').send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message });
  });

  const schema = { response: { 200: reviewOut, '4xx': problemOut } };
  app.post('/validate', { schema }, review('/validate', deps.validate));
  app.post('/mutate', { schema }, review('/mutate', deps.mutate));

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const certs = deps.certsLoaded?.() ?? true;
    const ready = certs && cluster.ready();
    return reply.code(ready ? 200 : 503).send({ ready, certificates: certs, cluster: cluster.status() });
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()));
};
