/**
 * Builds the Fastify application; listening, certificates and cluster state are the caller's.
 * Tests build it the same way, with tls: null for inject() or with a real pair for HTTPS.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Server as HttpsServer } from 'node:https';
import { callerGate, refusalLog } from './http/caller.ts';
import { admissionGate, GATE_LIMITS, type GateLimits } from './http/gate.ts';
import { admissionRoutes, BODY_LIMIT, type RouteDeps } from './http/routes.ts';

export type TlsPair = { readonly cert: string; readonly key: string };

/** How the HTTPS server negotiates, beyond its certificate. */
export type TlsPolicy = {
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** PEM of the CA whose client certificates are accepted on the admission paths (caller.ts checks them) */
  readonly clientCa?: string;
};

export const TLS_POLICY: TlsPolicy = { minVersion: 'TLSv1.2' };

/**
 * Forward secrecy and authenticated encryption only: ECDHE key exchange with AES-GCM or
 * ChaCha20-Poly1305 under TLS 1.2 (no CBC, no SHA-1 MACs, no static RSA), and TLS 1.3's suites.
 * The API server's Go client offers all of these.
 */
export const CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** The secure-context options of the server, for the first certificate and every reload. */
export function secureOptions(tls: TlsPair, policy: TlsPolicy = TLS_POLICY) {
  return {
    cert: tls.cert,
    key: tls.key,
    minVersion: policy.minVersion,
    ciphers: CIPHERS,
    honorCipherOrder: true,
    // Probes and scrapes come without a certificate, so the handshake asks but does not insist;
    // the admission paths refuse a missing or unverified one (http/caller.ts).
    ...(policy.clientCa ? { ca: policy.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
  };
}

/** How long a connection may take at each stage, and how many the process holds. */
export type ConnectionLimits = {
  /** from accepting the TCP connection to a finished TLS handshake */
  readonly handshakeMs: number;
  /** from the connection (or the end of the previous request) to the last request header */
  readonly headersMs: number;
  /** from the first byte of a request to its last body byte */
  readonly requestMs: number;
  /** an idle keep-alive connection between requests */
  readonly keepAliveMs: number;
  /** how often Node looks for connections past headersMs or requestMs: the slack on both */
  readonly checkEveryMs: number;
  /** requests one connection may carry before the answer closes it */
  readonly requestsPerConnection: number;
  /** open connections; more are closed as soon as they are accepted */
  readonly connections: number;
};

export const CONNECTION_LIMITS: ConnectionLimits = {
  // A TCP connection that never starts TLS holds a socket and a file descriptor for nothing.
  handshakeMs: 10_000,
  headersMs: 10_000,
  // A client that trickles its request must not hold a connection for ever; 30 s is ten times the
  // webhook's timeoutSeconds, so the API server gave up on such a request long before.
  requestMs: 30_000,
  // The API server reuses connections; outlive its idle timeout so it never writes to a closing socket.
  keepAliveMs: 90_000,
  // Node checks the two deadlines above every 30 s by default, which let a request live 60 s.
  checkEveryMs: 1_000,
  // Each connection ends now and then, so the API server's connections spread over new replicas
  // after a scale-up or a rollout instead of staying pinned to the first one.
  requestsPerConnection: 1_000,
  // The API servers hold a few dozen connections; far more is a flood, refused before TLS costs anything.
  connections: 1_000,
};

export type AppOptions = RouteDeps & {
  readonly tls: TlsPair | null;
  readonly logger: FastifyBaseLogger;
  /** released after in-flight requests drain, when the app closes */
  readonly stop?: () => Promise<void>;
  /** defaults: CONNECTION_LIMITS; tests shorten them */
  readonly connections?: Partial<ConnectionLimits>;
  /** defaults: GATE_LIMITS */
  readonly gate?: Partial<GateLimits>;
  /** defaults: TLS_POLICY */
  readonly tlsPolicy?: TlsPolicy;
};

export function buildApp({ tls, logger, stop, connections, gate, tlsPolicy, ...deps }: AppOptions): FastifyInstance {
  const limits = { ...CONNECTION_LIMITS, ...connections };
  const server = { headersTimeout: limits.headersMs, requestTimeout: limits.requestMs, connectionsCheckingInterval: limits.checkEveryMs };
  const app = Fastify({
    ...(tls ? { https: { ...secureOptions(tls, tlsPolicy), handshakeTimeout: limits.handshakeMs, ...server } } : { http: server }),
    bodyLimit: BODY_LIMIT,
    // A token of any length reaches the caller gate and is refused there (403, counted): the
    // router's default of 100 would answer a longer one itself, echoing the URL.
    routerOptions: { maxParamLength: 16_384 },
    keepAliveTimeout: limits.keepAliveMs,
    requestTimeout: limits.requestMs,
    forceCloseConnections: 'idle',
    // One log line per review, written by the route with the review's uid, instead of two generic ones.
    logController: new LogController({ disableRequestLogging: true }),
    loggerInstance: logger,
    // Fastify would make a child logger per request only to bind its request counter; a review's
    // line names its uid instead, so requests share the process logger.
    childLoggerFactory: (parent) => parent,
  });
  app.server.maxConnections = limits.connections;
  const logRefusal = refusalLog((fields, message) => app.log.warn(fields, message));
  callerGate(app, deps.auth, (route, reason, peer) => {
    deps.metrics.refused(route, reason);
    logRefusal(route, reason, peer);
  });
  admissionGate(app, { ...GATE_LIMITS, ...gate }, (route, why) => {
    deps.metrics.observe(route, 'unknown', 'unknown', 'shed', 0);
    app.log.warn({ route, problem: why }, 'review refused: too many in flight');
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
  // Each connection's share of answers is counted here rather than by Node's maxRequestsPerSocket,
  // which only announces the close: a client that sends again on the connection is answered 503
  // from then on. An answer that carries `connection: close` makes Node end the connection after it.
  const answered = new WeakMap<object, number>();
  // Callback style: an async hook costs a promise on every answer, this is the hot path.
  app.addHook('onSend', (request, reply, payload, done) => {
    const socket = request.raw.socket;
    const count = (answered.get(socket) ?? 0) + 1;
    answered.set(socket, count);
    if (closing || count >= limits.requestsPerConnection) reply.header('connection', 'close');
    done(null, payload);
  });
  if (stop) app.addHook('onClose', stop);
  return app;
}

/** New connections get the new certificate; established keep-alive connections keep theirs. */
export function replaceCertificate(app: FastifyInstance, tls: TlsPair, policy: TlsPolicy = TLS_POLICY): void {
  (app.server as HttpsServer).setSecureContext(secureOptions(tls, policy));
}
