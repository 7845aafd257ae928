/**
 * Who may ask for a review. The API server is the only legitimate caller, and what it is told
 * changes what the webhook believes (read-your-writes), so every admission path is refused before
 * its body is read unless the caller proves itself: the token in the path, which only the webhook
 * configurations carry, and optionally a client certificate from the CA the API server's
 * AdmissionConfiguration presents. Probes and metrics need neither.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { ENDPOINT_NAMES, ENDPOINTS, TOKEN_GRACE_MS, type EndpointPath } from '../catalogue/endpoints.ts';

export type TokenSet = {
  /** constant time in the candidate and in which token matches */
  readonly accepts: (candidate: string) => boolean;
  /** the file's tokens now; tokens that left it stay accepted for the grace period */
  readonly replace: (tokens: readonly string[]) => void;
  /** tokens accepted now, current and in grace */
  readonly count: () => number;
  /**
   * Changes whenever the accepted tokens do (a reload, a retired token's grace ending): a verdict
   * remembered under one epoch holds only while the epoch stays.
   */
  readonly epoch: () => number;
};

const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

export function tokenSet(initial: readonly string[], now: () => number = Date.now, graceMs = TOKEN_GRACE_MS): TokenSet {
  let current = initial.map(digest);
  let retiring: { readonly hash: Buffer; readonly until: number }[] = [];
  let epoch = 0;
  const live = () => {
    if (retiring.length === 0) return current;
    const t = now();
    if (retiring.some((r) => r.until <= t)) {
      retiring = retiring.filter((r) => r.until > t);
      epoch++;
    }
    return retiring.length ? [...current, ...retiring.map((r) => r.hash)] : current;
  };
  return {
    accepts: (candidate) => {
      const hash = digest(candidate);
      let ok = false;
      // every token is compared, so the time taken says nothing about which one matched
      for (const h of live()) ok = timingSafeEqual(hash, h) || ok;
      return ok;
    },
    replace: (tokens) => {
      const next = tokens.map(digest);
      const until = now() + graceMs;
      const gone = current.filter((h) => !next.some((n) => n.equals(h)));
      retiring = [...retiring.filter((r) => !next.some((n) => n.equals(r.hash))), ...gone.map((hash) => ({ hash, until }))];
      current = next;
      epoch++;
    },
    count: () => live().length,
    epoch: () => {
      live();
      return epoch;
    },
  };
}

/**
 * The token each connection last proved, and under which epoch of the set. The API server sends
 * thousands of reviews over one keep-alive connection, all with the same path: hashing the token of
 * each cost more than the rules of a ServiceEntry. A candidate is compared only with what the same
 * connection sent before, so the comparison's time tells a caller nothing it did not send itself.
 */
const provenTokens = new WeakMap<object, { readonly token: string; readonly epoch: number }>();

function tokenAccepted(tokens: TokenSet, candidate: string, connection: object | undefined): boolean {
  const proven = connection && provenTokens.get(connection);
  if (proven && proven.token === candidate && proven.epoch === tokens.epoch()) return true;
  if (!tokens.accepts(candidate)) return false;
  if (connection) provenTokens.set(connection, { token: candidate, epoch: tokens.epoch() });
  return true;
}

export type ClientCertificates = {
  /** CN or DNS names accepted; empty: any certificate the CA signed */
  readonly names: readonly string[];
};

export type CallerAuth = {
  /** undefined: the paths carry no token (serve --insecure-no-token) */
  readonly tokens: TokenSet | undefined;
  /** set when the TLS server asks for client certificates from the configured CA */
  readonly clientCertificates: ClientCertificates | undefined;
};

/** No token and no certificate: anyone who reaches the port is answered, and believed in nothing. */
export const UNAUTHENTICATED: CallerAuth = { tokens: undefined, clientCertificates: undefined };

/** Whether callers prove who they are; read-your-writes is on only then. */
export const authenticates = (auth: CallerAuth): boolean => auth.tokens !== undefined || auth.clientCertificates !== undefined;

export type RefusalReason = 'no-token' | 'wrong-token' | 'no-certificate' | 'certificate-not-accepted';

type Refusal = { readonly status: 401 | 403; readonly reason: RefusalReason; readonly message: string };

const PATHS: readonly EndpointPath[] = ENDPOINT_NAMES.map((n) => ENDPOINTS[n].path);

/** The admission endpoint a URL asks for, and the rest of its path ('' for none); undefined for other paths. */
export function admissionTarget(url: string): { readonly path: EndpointPath; readonly rest: string } | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  for (const p of PATHS) {
    if (path === p) return { path: p, rest: '' };
    if (path.startsWith(p) && path.charCodeAt(p.length) === 47 /* / */) return { path: p, rest: path.slice(p.length + 1) };
  }
  return undefined;
}

/** CN and DNS subject alternative names of a peer certificate. */
function namesOf(socket: TLSSocket): string[] {
  const cert = socket.getPeerCertificate();
  const names: string[] = [];
  const cn = cert.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  else if (Array.isArray(cn)) names.push(...(cn as string[]));
  for (const part of (cert.subjectaltname ?? '').split(', ')) if (part.startsWith('DNS:')) names.push(part.slice(4));
  return names;
}

/** The verdict on a connection's client certificate, once per connection (a handshake does not change). */
const certificateVerdicts = new WeakMap<TLSSocket, Refusal | null>();

function checkCertificate(socket: TLSSocket | undefined, accepted: ClientCertificates): Refusal | undefined {
  if (!socket || typeof socket.getPeerCertificate !== 'function') {
    return { status: 401, reason: 'no-certificate', message: 'a client certificate is required on this path' };
  }
  let verdict = certificateVerdicts.get(socket);
  if (verdict === undefined) {
    const presented = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
    if (!presented) verdict = { status: 401, reason: 'no-certificate', message: 'a client certificate is required on this path' };
    else if (!socket.authorized)
      verdict = {
        status: 403,
        reason: 'certificate-not-accepted',
        message: 'client certificate not accepted: not signed by the configured client CA',
      };
    else if (accepted.names.length && !namesOf(socket).some((n) => accepted.names.includes(n))) {
      verdict = {
        status: 403,
        reason: 'certificate-not-accepted',
        message: 'client certificate not accepted: its names are not among the accepted client names',
      };
    } else verdict = null;
    certificateVerdicts.set(socket, verdict);
  }
  return verdict ?? undefined;
}

/** What is wrong with a caller of an admission path; undefined when it may be reviewed. */
export function refusal(auth: CallerAuth, rest: string, socket: TLSSocket | undefined): Refusal | undefined {
  if (auth.tokens) {
    if (rest === '')
      return {
        status: 401,
        reason: 'no-token',
        message: 'this path needs the caller token: register the webhook with its path followed by /<token>',
      };
    if (rest.includes('/') || !tokenAccepted(auth.tokens, rest, socket))
      return { status: 403, reason: 'wrong-token', message: 'caller token not accepted' };
  }
  return auth.clientCertificates ? checkCertificate(socket, auth.clientCertificates) : undefined;
}

export type Refused = (route: EndpointPath, reason: RefusalReason, peer: string) => void;

/**
 * Refuses unauthenticated callers of the admission paths before anything else runs: no body is
 * read, nothing is counted as a review, nothing is remembered. Registered before the gate, so a
 * flood of refused calls takes no room from the API server's reviews.
 */
export function callerGate(app: FastifyInstance, auth: CallerAuth, refused: Refused): void {
  if (!authenticates(auth)) return;
  app.addHook('onRequest', (request, reply, done) => {
    const target = admissionTarget(request.url);
    if (!target) return done();
    const no = refusal(auth, target.rest, request.raw.socket as TLSSocket);
    if (!no) return done();
    refused(target.path, no.reason, request.ip);
    reply
      .code(no.status)
      .type('application/json')
      .send({ statusCode: no.status, error: no.status === 401 ? 'Unauthorized' : 'Forbidden', message: no.message });
  });
}

/** At most one log line per reason in this period, counting the refusals since the last: a flood must not flood the log. */
export const REFUSAL_LOG_EVERY_MS = 10_000;

/**
 * Logs refused callers with their peer address, once per reason and period. The URL is never
 * logged: a wrong token may be a real one sent to the wrong server.
 */
export function refusalLog(warn: (fields: Record<string, unknown>, message: string) => void, now: () => number = Date.now) {
  const last = new Map<RefusalReason, { at: number; since: number }>();
  return (route: EndpointPath, reason: RefusalReason, peer: string) => {
    const t = now();
    const seen = last.get(reason);
    if (seen && t - seen.at < REFUSAL_LOG_EVERY_MS) {
      seen.since++;
      return;
    }
    last.set(reason, { at: t, since: 0 });
    warn({ route, reason, peer, ...(seen?.since ? { refusedSinceLastLine: seen.since } : {}) }, 'caller refused');
  };
}
