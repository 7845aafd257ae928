/**
 * One http route of a VirtualService, as istiod's validateHTTPRoute judges it: which actions it
 * combines (route, redirect, directResponse, delegate), its matches, header operations, CORS,
 * fault injection, mirrors, redirect, direct response, retries, rewrite and timeout.
 */
import { DIRECT_RESPONSE_BODY_BYTES_MAX } from '../catalogue/budget.ts';
import { collector, finding, mergeAll, ok, type Result } from '../catalogue/result.ts';
import { asArr, asObj, asStr, isObj, q, type Obj } from '../json.ts';
import { destination, routeDestinations } from './destination.ts';
import { got, isDns1123Label, labelProblems, portNumberProblem } from './fields.ts';
import { gatewayNames } from './gateway-names.ts';
import {
  corsHeaderNameProblem,
  durationProblem,
  enumProblem,
  goFixed,
  goFloat,
  hasSubSecond,
  headerOperationNameProblem,
  headerValueProblem,
  isAuthorityHeader,
  isJwtClaimRoute,
  matchHeaderNameProblem,
  regexProblem,
  setRequestHeaderNameProblem,
  stringMatchProblem,
  stringMatchValue,
  uint32Problem,
} from './http-fields.ts';

/** Past this, istiod warns that a direct response body may slow the control plane. */
const BODY_WARN_BYTES = 100 * 1024;

/** Methods a CORS policy may allow (the ones Go's net/http names, and "*"). */
const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', '*']);

/** gRPC status names istiod accepts for an abort. */
const GRPC_STATUS = new Set([
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
]);

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies. */
const RETRY_ON = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'envoy-ratelimited',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

/** Status codes Go's net/http has a text for: a retryOn entry may be one of them. */
const HTTP_STATUS_CODES = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404,
  405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502,
  503, 504, 505, 506, 507, 508, 510, 511,
]);

/** HTTPRedirect.derive_port's values. */
const REDIRECT_PORT_SELECTION = ['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'];

/** Set in the proto sense: present and not null (an empty object or list counts). */
const present = (v: unknown): boolean => v !== undefined && v !== null;
/** A repeated field that holds entries (Go sees an empty JSON list as nil). */
const nonEmpty = (v: unknown): boolean => asArr(v).length > 0;

/** Collects findings of one route in istiod's order. */
type Findings = ReturnType<typeof collector>;

export type HttpRouteOptions = {
  /** the VirtualService is a delegate (no hosts) */
  readonly delegate: boolean;
};

/** An http route (validateHTTPRoute). */
export function httpRoute(raw: unknown, at: string, opts: HttpRouteOptions): Result {
  if (!isObj(raw)) return finding('EW223', at, 'http route may not be null');
  const f = collector();
  conflicts(raw, at, opts.delegate, f);
  matchRequests(asArr(raw.match), `${at}.match`, f);
  headerOperations(asObj(raw.headers), `${at}.headers`, f);
  if (present(raw.corsPolicy)) corsPolicy(asObj(raw.corsPolicy), `${at}.corsPolicy`, f);
  if (present(raw.fault)) fault(asObj(raw.fault), `${at}.fault`, f);
  mirrorPercents(raw, at, f);
  if (isObj(raw.mirror)) f.push(destination(raw.mirror, `${at}.mirror`));
  mirrors(asArr(raw.mirrors), `${at}.mirrors`, f);
  if (present(raw.redirect)) f.add('EW236', `${at}.redirect`, redirectProblem(asObj(raw.redirect), asArr(raw.match)));
  if (present(raw.directResponse)) directResponse(asObj(raw.directResponse), `${at}.directResponse`, f);
  if (present(raw.retries)) retries(asObj(raw.retries), `${at}.retries`, f);
  if (present(raw.rewrite)) f.add('EW240', `${at}.rewrite`, rewriteProblem(asObj(raw.rewrite)));
  f.add('EW230', at, authorityRewriteProblem(raw));
  f.push(
    routeDestinations(asArr(raw.route), `${at}.route`, (d, dat) => {
      const g = collector();
      headerOperations(asObj(d.headers), `${dat}.headers`, g);
      return g.result();
    }),
  );
  if (present(raw.timeout)) f.add('EW241', `${at}.timeout`, durationProblem(raw.timeout));
  return f.result();
}

/** validateHTTPRouteConflict: what a root, delegate or ordinary route may combine. */
function conflicts(r: Obj, at: string, delegate: boolean, f: Findings): void {
  const name = asStr(r.name);
  const root = !delegate && present(r.delegate);
  if (root) {
    const rule = name ? `root HTTP route ${name}` : 'root HTTP route';
    if (present(r.redirect)) f.add('EW224', `${at}.redirect`, `${rule} must not specify redirect`);
    if (nonEmpty(r.route)) f.add('EW224', `${at}.route`, `${rule} must not specify route`);
    return;
  }
  if (delegate && present(r.delegate)) f.add('EW224', `${at}.delegate`, 'delegate HTTP route cannot contain delegate');
  const hasRoute = nonEmpty(r.route);
  if (present(r.redirect)) {
    if (hasRoute) f.add('EW225', at, 'HTTP route cannot contain both route and redirect');
    if (present(r.fault)) f.add('EW225', at, 'HTTP route cannot contain both fault and redirect');
    if (present(r.rewrite)) f.add('EW225', at, 'HTTP route rule cannot contain both rewrite and redirect');
    if (present(r.directResponse)) f.add('EW225', at, 'HTTP route rule cannot contain both direct_response and redirect');
  } else if (present(r.directResponse)) {
    if (hasRoute) f.add('EW225', at, 'HTTP route cannot contain both route and direct_response');
    if (present(r.fault)) f.add('EW225', at, 'HTTP route cannot contain both fault and direct_response');
    if (present(r.rewrite)) f.add('EW225', at, 'HTTP route rule cannot contain both rewrite and direct_response');
  } else if (!hasRoute) {
    f.add('EW226', at, 'HTTP route, redirect or direct_response is required');
  }
  if (present(r.mirror) && nonEmpty(r.mirrors)) f.add('EW225', at, 'HTTP route cannot contain both mirror and mirrors');
}

/** validateHTTPRouteMatchRequest: the string matches first, then port, labels, gateways and namespace. */
function matchRequests(matches: readonly unknown[], at: string, f: Findings): void {
  matches.forEach((raw, j) => {
    if (!isObj(raw)) return;
    const mat = `${at}[${j}]`;
    for (const [name, header] of Object.entries(asObj(raw.headers))) {
      const hat = `${mat}.headers[${name}]`;
      if (!present(header)) f.add('EW227', hat, `header match ${name} cannot be null`);
      f.add('EW227', hat, matchHeaderNameProblem(name));
      f.add('EW227', hat, stringMatchProblem(header, 'headers'));
    }
    for (const [name, header] of Object.entries(asObj(raw.withoutHeaders))) {
      const hat = `${mat}.withoutHeaders[${name}]`;
      f.add('EW227', hat, matchHeaderNameProblem(name));
      // "*" is not a regex here: it means "header present"
      if (present(header) && asObj(header).regex !== '*') f.add('EW227', hat, stringMatchProblem(header, 'withoutHeaders'));
    }
    f.add('EW227', `${mat}.uri`, stringMatchProblem(raw.uri, 'uri', true));
    for (const field of ['scheme', 'method', 'authority'] as const)
      f.add('EW227', `${mat}.${field}`, stringMatchProblem(raw[field], field));
    for (const [name, qp] of Object.entries(asObj(raw.queryParams)))
      f.add('EW227', `${mat}.queryParams[${name}]`, stringMatchProblem(qp, 'queryParams'));
  });
  matches.forEach((raw, j) => {
    if (!isObj(raw)) return;
    const mat = `${at}[${j}]`;
    if (present(raw.port) && raw.port !== 0) f.add('EW227', `${mat}.port`, portNumberProblem(raw.port));
    for (const l of labelProblems(asObj(raw.sourceLabels))) f.add('EW227', `${mat}.sourceLabels`, l);
    // istiod collects these as plain errors, so the legacy gateway name warning is dropped here
    const gw = gatewayNames(asArr(raw.gateways), `${mat}.gateways`);
    f.push({ errors: gw.errors.map((e) => ({ ...e, code: 'EW227' })), warnings: [] });
    if (present(raw.sourceNamespace) && raw.sourceNamespace !== '') {
      const ns = raw.sourceNamespace;
      if (typeof ns !== 'string') f.add('EW227', `${mat}.sourceNamespace`, `sourceNamespace must be a string, got ${got(ns)}`);
      else if (!isDns1123Label(ns, { allowUpper: true }))
        f.add('EW227', `${mat}.sourceNamespace`, `sourceNamespace match ${ns} is invalid`);
    }
  });
}

/** A header operation map/list: names, and values where there are values. */
function headerOperations(headers: Obj, at: string, f: Findings): void {
  for (const side of ['request', 'response'] as const) {
    const ops = asObj(headers[side]);
    for (const op of ['add', 'set'] as const) {
      for (const [name, value] of Object.entries(asObj(ops[op]))) {
        const hat = `${at}.${side}.${op}[${name}]`;
        f.add('EW229', hat, side === 'request' ? setRequestHeaderNameProblem(name) : headerOperationNameProblem(name));
        f.add('EW229', hat, typeof value === 'string' ? headerValueProblem(value) : `header value must be a string, got ${got(value)}`);
      }
    }
    asArr(ops.remove).forEach((name, i) => {
      f.add(
        'EW229',
        `${at}.${side}.remove[${i}]`,
        typeof name === 'string' ? headerOperationNameProblem(name) : `header name must be a string, got ${got(name)}`,
      );
    });
  }
}

/** validateAuthorityRewrite: the authority is rewritten in one place only. */
function authorityRewriteProblem(r: Obj): string | undefined {
  let current = asStr(asObj(r.rewrite).authority);
  const request = asObj(asObj(r.headers).request);
  for (const op of ['set', 'add'] as const) {
    for (const [name, value] of Object.entries(asObj(request[op]))) {
      if (!isAuthorityHeader(name)) continue;
      const v = asStr(value);
      if (current !== '') return `authority header cannot be set multiple times: have ${q(current)}, attempting to set ${q(v)}`;
      current = v;
    }
  }
  return undefined;
}

function corsPolicy(p: Obj, at: string, f: Findings): void {
  asArr(p.allowOrigins).forEach((o, i) => {
    const oat = `${at}.allowOrigins[${i}]`;
    const value = stringMatchValue(o);
    if (value === '') f.add('EW231', oat, `'${value}' is not a valid match type for CORS allow origins`);
    else f.add('EW231', oat, stringMatchProblem(o, 'corsPolicy.allowOrigins', true));
  });
  asArr(p.allowMethods).forEach((m, i) => {
    if (typeof m !== 'string' || !CORS_METHODS.has(m))
      f.add('EW231', `${at}.allowMethods[${i}]`, `${typeof m === 'string' ? q(m) : got(m)} is not a supported HTTP method`);
  });
  for (const list of ['allowHeaders', 'exposeHeaders'] as const) {
    asArr(p[list]).forEach((h, i) => {
      f.add(
        'EW231',
        `${at}.${list}[${i}]`,
        typeof h === 'string' ? corsHeaderNameProblem(h) : `header name must be a string, got ${got(h)}`,
      );
    });
  }
  if (present(p.maxAge)) {
    f.add('EW231', `${at}.maxAge`, durationProblem(p.maxAge));
    if (hasSubSecond(p.maxAge)) f.add('EW231', `${at}.maxAge`, 'max_age duration is accurate only to seconds precision');
  }
}

/** validatePercentage: 0, or 0.0001 to 100. */
function percentageProblem(p: unknown): string | undefined {
  if (!isObj(p)) return undefined;
  const v = typeof p.value === 'number' ? p.value : 0;
  if (v < 0 || v > 100 || (v > 0 && v < 0.0001)) return `percentage ${goFloat(v)} is neither 0.0, nor in range [0.0001, 100.0]`;
  return undefined;
}

const httpStatusProblem = (status: unknown): string | undefined => {
  const s = typeof status === 'number' ? status : 0;
  return s < 200 || s > 600 || !Number.isInteger(s) ? `HTTP status ${s} is not in range 200-599` : undefined;
};

function fault(fl: Obj, at: string, f: Findings): void {
  if (!present(fl.abort) && !present(fl.delay)) f.add('EW232', at, 'HTTP fault injection must have an abort and/or a delay');
  if (present(fl.abort)) {
    const abort = asObj(fl.abort);
    const aat = `${at}.abort`;
    f.add('EW232', `${aat}.percentage`, percentageProblem(abort.percentage));
    if (present(abort.grpcStatus)) {
      const s = abort.grpcStatus;
      if (typeof s !== 'string' || !GRPC_STATUS.has(s)) {
        f.add(
          'EW232',
          `${aat}.grpcStatus`,
          `gRPC status ${typeof s === 'string' ? q(s) : got(s)} is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'`,
        );
      }
    } else if (present(abort.http2Error)) f.add('EW232', `${aat}.http2Error`, 'HTTP/2 abort fault injection not supported yet');
    else if (present(abort.httpStatus)) f.add('EW232', `${aat}.httpStatus`, httpStatusProblem(abort.httpStatus));
    else f.add('EW233', aat, 'abort configured, but error type not set');
  }
  if (present(fl.delay)) {
    const delay = asObj(fl.delay);
    const dat = `${at}.delay`;
    f.add('EW232', `${dat}.percentage`, percentageProblem(delay.percentage));
    if (present(delay.fixedDelay)) f.add('EW232', `${dat}.fixedDelay`, durationProblem(delay.fixedDelay));
    else if (present(delay.exponentialDelay)) {
      f.add('EW232', `${dat}.exponentialDelay`, durationProblem(delay.exponentialDelay));
      f.add('EW232', `${dat}.exponentialDelay`, 'exponentialDelay not supported yet');
    }
  }
}

function mirrorPercents(r: Obj, at: string, f: Findings): void {
  if (present(r.mirrorPercent)) {
    const v = r.mirrorPercent;
    // a UInt32Value: what jsonpb cannot decode, istiod refuses before any check
    const undecodable =
      typeof v === 'number'
        ? uint32Problem(v)
        : typeof v === 'string'
          ? undefined
          : `mirrorPercent must be a whole number from 0 to 100, got ${got(v)}`;
    if (undecodable) f.add('EW234', `${at}.mirrorPercent`, undecodable);
    else if (typeof v === 'number' && v > 100)
      f.add('EW234', `${at}.mirrorPercent`, `mirror_percent must have a max value of 100 (it has ${v})`);
    f.add('EW235', `${at}.mirrorPercent`, 'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead');
  }
  if (isObj(r.mirrorPercentage)) {
    const v = typeof r.mirrorPercentage.value === 'number' ? r.mirrorPercentage.value : 0;
    if (v > 100) f.add('EW234', `${at}.mirrorPercentage`, `mirror_percentage must have a max value of 100 (it has ${goFixed(v)})`);
    if (v < 0) f.add('EW234', `${at}.mirrorPercentage`, `mirror_percentage must have a min value of 0 (it has ${goFixed(v)})`);
  }
}

/** validateHTTPMirrors. */
function mirrors(list: readonly unknown[], at: string, f: Findings): void {
  list.forEach((m, i) => {
    const mat = `${at}[${i}]`;
    if (!isObj(m)) return f.add('EW234', mat, 'mirror cannot be null');
    if (!isObj(m.destination)) return f.add('EW234', `${mat}.destination`, 'destination is required for mirrors');
    f.push(destination(m.destination, `${mat}.destination`));
    if (isObj(m.percentage)) {
      const v = typeof m.percentage.value === 'number' ? m.percentage.value : 0;
      if (v > 100) f.add('EW234', `${mat}.percentage`, `mirror percentage must have a max value of 100 (it has ${goFixed(v)})`);
      if (v < 0) f.add('EW234', `${mat}.percentage`, `mirror percentage must have a min value of 0 (it has ${goFixed(v)})`);
    }
  });
}

/**
 * validateHTTPRedirect: the first problem only, as istiod reports it. A port or derivePort jsonpb
 * cannot decode comes first: istiod refuses the spec before validating it.
 */
function redirectProblem(rd: Obj, matches: readonly unknown[]): string | undefined {
  if (typeof rd.port === 'number' && rd.port < 0) return uint32Problem(rd.port);
  if (present(rd.derivePort)) {
    const p = enumProblem(rd.derivePort, REDIRECT_PORT_SELECTION, 'istio.networking.v1alpha3.HTTPRedirect.RedirectPortSelection');
    if (p) return p;
  }
  const uri = asStr(rd.uri);
  const prefixRewrite = asStr(rd.prefixRewrite);
  if (uri && prefixRewrite) return 'redirect may only specify one of uri or prefix_rewrite';
  if (prefixRewrite) {
    for (const m of matches) {
      const u = asObj(m).uri;
      if (present(u) && !present(asObj(u).prefix)) return 'redirect prefix_rewrite requires all URI matches to use prefix match type';
    }
  }
  const hasPort = present(rd.port) || present(rd.derivePort);
  if (!uri && !prefixRewrite && !asStr(rd.authority) && !hasPort && !asStr(rd.scheme))
    return 'redirect must specify URI, authority, scheme, or port';
  const code = typeof rd.redirectCode === 'number' ? rd.redirectCode : 0;
  if (code !== 0 && (code < 300 || code > 399)) return `${code} is not a valid redirect code, must be 3xx`;
  const scheme = asStr(rd.scheme);
  if (scheme && scheme !== 'http' && scheme !== 'https') return 'invalid redirect scheme, must be "http" or "https"';
  if (typeof rd.port === 'number' && rd.port > 0) return portNumberProblem(rd.port);
  return undefined;
}

/** The size of a direct response body as istiod counts it: UTF-8 bytes of `string`, decoded `bytes`. */
function bodySize(body: Obj): number {
  if (typeof body.string === 'string') return Buffer.byteLength(body.string, 'utf8');
  if (typeof body.bytes === 'string') return Buffer.from(body.bytes, 'base64').length;
  return 0;
}

function directResponse(dr: Obj, at: string, f: Findings): void {
  if (isObj(dr.body)) {
    const size = bodySize(dr.body);
    if (size > DIRECT_RESPONSE_BODY_BYTES_MAX)
      f.add('EW237', `${at}.body`, 'large direct_responses may impact control plane performance, must be less than 1MB');
    else if (size > BODY_WARN_BYTES) f.add('EW238', `${at}.body`, 'large direct_responses may impact control plane performance');
  }
  f.add('EW237', `${at}.status`, httpStatusProblem(dr.status));
}

/** Go's strconv.Atoi on a retryOn entry: a decimal integer, or 0. */
const atoi = (s: string): number => (/^[+-]?\d+$/.test(s) ? Number(s) : 0);

/** agent.ValidateHTTPRetry. */
function retries(rt: Obj, at: string, f: Findings): void {
  const attempts = typeof rt.attempts === 'number' ? rt.attempts : 0;
  if (attempts < 0) f.add('EW239', `${at}.attempts`, 'attempts cannot be negative');
  const retryOn = asStr(rt.retryOn);
  if (attempts === 0 && (present(rt.perTryTimeout) || retryOn !== '' || present(rt.retryRemoteLocalities))) {
    f.add('EW239', `${at}.attempts`, 'http retry policy configured when attempts are set to 0 (disabled)');
  }
  if (present(rt.perTryTimeout)) f.add('EW239', `${at}.perTryTimeout`, durationProblem(rt.perTryTimeout));
  if (retryOn !== '') {
    for (const policy of retryOn.split(',')) {
      if (!HTTP_STATUS_CODES.has(atoi(policy)) && !RETRY_ON.has(policy))
        f.add('EW239', `${at}.retryOn`, `${q(policy)} is not a valid retryOn policy`);
    }
  }
  if (present(rt.backoff)) f.add('EW239', `${at}.backoff`, durationProblem(rt.backoff));
}

/** validateHTTPRewrite: the first problem only. */
function rewriteProblem(rw: Obj): string | undefined {
  const uri = asStr(rw.uri);
  const regex = rw.uriRegexRewrite;
  if (uri && present(regex)) return 'rewrite may only contain one of URI or UriRegexRewrite';
  if (!uri && !present(regex) && !asStr(rw.authority)) {
    return 'rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified';
  }
  if (!present(regex)) return undefined;
  const match = asStr(asObj(regex).match);
  const rewrite = asStr(asObj(regex).rewrite);
  const p =
    !match || !rewrite
      ? 'UriRegexRewrite requires both Rewrite and Match fields to be specified'
      : regexProblem(match, 'HTTPRewrite.UriRegexRewrite.Match');
  return p ? `UriRegexRewrite has errors: ${p}` : undefined;
}

/**
 * JWT claim routing (`@request.auth.claims…` header matches) works only on gateways: istiod
 * refuses it in a VirtualService that is not bound to gateways only.
 */
export function jwtClaimRoutes(http: readonly unknown[], gateways: readonly string[], boundToGateway: boolean): Result {
  if (boundToGateway) return ok;
  const out: Result[] = [];
  http.forEach((r, i) => {
    asArr(asObj(r).match).forEach((m, j) => {
      for (const field of ['headers', 'withoutHeaders'] as const) {
        for (const key of Object.keys(asObj(asObj(m)[field]))) {
          if (!isJwtClaimRoute(key)) continue;
          out.push(
            finding(
              'EW228',
              `spec.http[${i}].match[${j}].${field}[${key}]`,
              `JWT claim based routing (key: ${key}) is only supported for gateway, found no gateways: [${gateways.join(' ')}]`,
            ),
          );
        }
      }
    });
  });
  return mergeAll(out);
}
