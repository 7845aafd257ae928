/**
 * The HTTP surface: admission routes, probes and metrics, as one encapsulated plugin. Handlers are
 * glue: decode, ask the injected reviewer, encode, count, log.
 */
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { decodeReview, encodeReview, parseTimeout } from '../admission/codec.ts';
import type { Decision } from '../admission/decision.ts';
import type { AdmissionRequest } from '../admission/types.ts';
import { ENDPOINTS, type EndpointName } from '../catalogue/endpoints.ts';
import { JUDGED_KINDS } from '../catalogue/kinds.ts';
import { DEFAULT_MODE } from '../catalogue/modes.ts';
import type { ClusterSnapshot } from '../cluster/snapshot.ts';
import { fallback } from '../review/enforce.ts';
import { admissionTarget, type CallerAuth } from './caller.ts';
import type { Metrics, ReviewLabel } from './metrics.ts';
import { DEFAULT_REVIEW_LOG_POLICY, plainLineWriter } from '../log.ts';
import { reviewLog, SUMMARY_EVERY_MS, type ReviewLogOptions } from './review-log.ts';
import { problemOut, reviewOut } from './schemas.ts';
import { errorText } from '../json.ts';

/** Synchronous except where a review must first read something from the API server (mutate.ts). */
export type Reviewer = (req: AdmissionRequest, snapshot: ClusterSnapshot) => Decision | Promise<Decision>;

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
  /** who may call the admission paths (caller.ts); the paths carry the token when there is one */
  readonly auth: CallerAuth;
  /**
   * Told of every /validate decision of an authenticated caller, for read-your-writes
   * (commands/serve.ts); true when it changed what later reviews see (an object written again
   * unchanged by the same caller does not).
   */
  readonly validated?: (req: AdmissionRequest, decision: Decision) => boolean;
  /** which reviews get a log line (default: changes, summary every minute) */
  readonly reviewLog?: Partial<ReviewLogOptions>;
};

/** Room for an object and its oldObject at the API server's 3 MiB write limit (controller-runtime's cap). */
export const BODY_LIMIT = 7 * 1024 * 1024;

/** Kinds this webhook is registered for; anything else is counted as "other" so label values stay bounded. */
const KNOWN_KINDS: ReadonlySet<string> = new Set(JUDGED_KINDS.map((k) => k.kind));
const kindLabel = (kind: string): string => (KNOWN_KINDS.has(kind) ? kind : 'other');

/** Leave this much of the API server's timeout for the answer to travel back. */
const TIMEOUT_MARGIN_MS = 250;

function reviewLabel(d: Decision): Extract<ReviewLabel, 'allowed' | 'warned' | 'denied' | 'error'> {
  if (!d.allowed) return d.code !== undefined && d.code >= 500 ? 'error' : 'denied';
  return d.warnings.length ? 'warned' : 'allowed';
}

/**
 * The one line a review writes. Absent fields are undefined rather than spread in: pino leaves
 * undefined out, and this object is built for every logged review.
 */
function reviewLine(
  req: AdmissionRequest,
  peer: string,
  d: Decision,
  verdict: ReviewLabel,
  seconds: number,
  remembered: boolean,
  err: unknown,
) {
  const { errors, warnings } = d.findings;
  return {
    uid: req.uid,
    user: typeof req.userInfo?.username === 'string' ? req.userInfo.username : undefined,
    peer,
    kind: req.kind.kind,
    namespace: req.namespace ?? '',
    name: req.name ?? req.object?.metadata?.name ?? req.object?.metadata?.generateName ?? '',
    operation: req.operation,
    dryRun: req.dryRun === true,
    verdict,
    mode: d.mode,
    ms: Math.round(seconds * 1e6) / 1e3,
    findings: errors.length || warnings.length ? errors.concat(warnings).map((i) => i.code) : undefined,
    patched: d.patch.length || undefined,
    remembered: remembered || undefined,
    err,
  };
}

export const admissionRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const { cluster, metrics } = deps;
  const reviews = reviewLog(app.log, { policy: DEFAULT_REVIEW_LOG_POLICY, summaryMs: SUMMARY_EVERY_MS, ...deps.reviewLog });
  // requests share the process logger (app.ts), so one writer serves every review's line
  const writeLine = plainLineWriter(app.log);
  app.addHook('onClose', (_app, done) => {
    reviews.stop();
    done();
  });

  const review = (endpoint: EndpointName, reviewer: Reviewer) => async (request: FastifyRequest, reply: FastifyReply) => {
    const { path: route, failClosed } = ENDPOINTS[endpoint];
    const decoded = decodeReview(request.body);
    if (!decoded.ok) {
      metrics.observe(route, 'unknown', 'unknown', 'invalid', reply.elapsedTime / 1e3);
      reviews.count('invalid', false);
      request.log.info({ route, problem: decoded.problem }, 'rejected request that is not an AdmissionReview');
      return reply.code(400).type('application/json').send({ statusCode: 400, error: 'Bad Request', message: decoded.problem });
    }
    const req = decoded.request;
    const timeoutMs = parseTimeout((request.query as Record<string, unknown> | undefined)?.timeout);
    const waitedMs = reply.elapsedTime; // since the request arrived, before any work on it
    let decision: Decision;
    // a reviewer that throws is told in the review's own line, at error
    let failure: unknown;
    if (timeoutMs !== undefined && waitedMs > timeoutMs - TIMEOUT_MARGIN_MS) {
      // The API server stops waiting at its timeout; an answer after that is wasted work.
      decision = fallback(failClosed, `the request waited ${Math.round(waitedMs)} ms of its ${timeoutMs} ms timeout`);
    } else {
      try {
        const d = reviewer(req, cluster.current());
        decision = d instanceof Promise ? await d : d;
      } catch (e) {
        failure = e;
        decision = fallback(failClosed, `internal error: ${errorText(e)}`);
      }
    }
    let remembered = false;
    if (endpoint === 'validate' && deps.validated) {
      try {
        remembered = deps.validated(req, decision);
      } catch (e) {
        // what the hook remembers only sharpens later reviews; this answer stands
        request.log.error({ err: e, uid: req.uid }, 'recording the decision failed');
      }
    }
    const seconds = reply.elapsedTime / 1e3;
    const verdict = reviewLabel(decision);
    const mode = decision.mode ?? DEFAULT_MODE;
    metrics.observe(route, kindLabel(req.kind.kind), req.operation, verdict, seconds);
    for (const i of decision.findings.errors) metrics.findings(route, 'error', i.code, mode, req.operation);
    for (const i of decision.findings.warnings) metrics.findings(route, 'warning', i.code, mode, req.operation);
    const patched = decision.patch.length > 0;
    reviews.count(verdict, patched);
    if (failure !== undefined) {
      request.log.error(reviewLine(req, request.ip, decision, verdict, seconds, remembered, failure), 'admission review failed');
    } else {
      // Nothing is built for a line the policy drops: most reviews are allowed unchanged.
      // A review that changed what later reviews see is always worth its line: it names who and from where.
      const notable = patched || remembered || decision.findings.errors.length > 0 || decision.findings.warnings.length > 0;
      const level = reviews.level(verdict, notable);
      if (level !== undefined)
        writeLine(level, reviewLine(req, request.ip, decision, verdict, seconds, remembered, undefined), 'admission review');
    }
    return encodeReview(decoded.apiVersion, req.uid, decision);
  };

  // Bad input is the client's problem, said plainly: never a 500, never a stack trace.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    // the path of an admission call carries the caller token: logs and labels name the route only
    const target = admissionTarget(request.url);
    const where = target?.path ?? request.routeOptions.url ?? 'unknown';
    if (status === 500) request.log.error({ route: where, err: error }, 'unexpected error');
    else request.log.info({ route: where, status, problem: error.message }, 'rejected request');
    if (target) {
      metrics.observe(target.path, 'unknown', 'unknown', 'invalid', reply.elapsedTime / 1e3);
      reviews.count('invalid', false);
    }
    const message =
      status === 415
        ? `unsupported content type ${JSON.stringify(request.headers['content-type'] ?? '')}: send application/json`
        : status === 413
          ? `body larger than ${BODY_LIMIT} bytes`
          : error.message;
    return reply
      .code(status)
      .type('application/json')
      .send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message });
  });

  const schema = { response: { 200: reviewOut, '4xx': problemOut } };
  // With a token, only /<path>/<token> exists; the caller gate has refused every other token by now.
  const suffix = deps.auth.tokens ? '/:token' : '';
  app.post(`${ENDPOINTS.validate.path}${suffix}`, { schema }, review('validate', deps.validate));
  app.post(`${ENDPOINTS.mutate.path}${suffix}`, { schema }, review('mutate', deps.mutate));
  // A URL under an admission path may carry a token, right or wrong: it is never echoed or logged.
  app.setNotFoundHandler((request, reply) => {
    const target = admissionTarget(request.url);
    if (target) metrics.observe(target.path, 'unknown', 'unknown', 'invalid', reply.elapsedTime / 1e3);
    const what = target ? `${target.path}/…` : request.url.split('?')[0];
    return reply
      .code(404)
      .type('application/json')
      .send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${what}` });
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const certs = deps.certsLoaded?.() ?? true;
    const ready = certs && cluster.ready();
    return reply.code(ready ? 200 : 503).send({ ready, certificates: certs, cluster: cluster.status() });
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()));
};
