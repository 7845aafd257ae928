/**
 * Builds the Fastify application; listening, certificates and cluster state are the caller's.
 * Tests build it the same way, with tls: null for inject() or with a real pair for HTTPS.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Server as HttpsServer } from 'node:https';
import { admissionRoutes, BODY_LIMIT, type RouteDeps } from './http/routes.ts';

export type TlsPair = { readonly cert: string; readonly key: string };

export type AppOptions = RouteDeps & {
  readonly tls: TlsPair | null;
  readonly logger: FastifyBaseLogger;
  /** released after in-flight requests drain, when the app closes */
  readonly stop?: () => Promise<void>;
};

export function buildApp({ tls, logger, stop, ...deps }: AppOptions): FastifyInstance {
  const app = Fastify({
    ...(tls ? { https: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' as const } } : {}),
    bodyLimit: BODY_LIMIT,
    // The API server reuses connections; outlive its idle timeout so it never writes to a closing socket.
    keepAliveTimeout: 90_000,
    // A client that trickles its request must not hold a connection for ever.
    requestTimeout: 30_000,
    forceCloseConnections: 'idle',
    // One log line per review, written by the route with the review's uid, instead of two generic ones.
    logController: new LogController({ disableRequestLogging: true }),
    loggerInstance: logger,
  });
  // Fastify parses text/plain by default; an AdmissionReview is JSON only, anything else gets a 415.
  app.removeContentTypeParser('text/plain');
  // Plain JSON.parse: a key named __proto__ becomes an ordinary property (no prototype is touched),
  // so an object that legitimately holds one is validated instead of refused, and a syntax error
  // is reported with its position.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => {
    if (body === '') return done(Object.assign(new Error('body is empty: expected an AdmissionReview'), { statusCode: 400 }), undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (e) {
      done(Object.assign(new Error(`body is not valid JSON: ${(e as Error).message}`), { statusCode: 400 }), undefined);
    }
  });
  app.register(admissionRoutes, deps);
  // Answers finished during shutdown close their connection, so keep-alive clients (the API server)
  // reconnect to another replica instead of holding this process open until they idle out.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Callback style: an async hook costs a promise on every answer, this is the hot path.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  if (stop) app.addHook('onClose', stop);
  return app;
}

/** New connections get the new certificate; established keep-alive connections keep theirs. */
export function replaceCertificate(app: FastifyInstance, tls: TlsPair): void {
  (app.server as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' });
}
