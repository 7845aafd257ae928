/**
 * http routes of a VirtualService, case by case from istiod's pkg/config/validation (validation.go,
 * virtualservice.go, agent/validation.go); each group names the Istio function it follows.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { CODES } from '../../src/catalogue/findings.ts';
import type { Result } from '../../src/catalogue/result.ts';
import { goFloat, goParseDuration, headerValueProblem, re2Problem } from '../../src/rules/http-fields.ts';
import { validateVirtualService } from '../../src/rules/virtual-service.ts';
import { accepts, clean, fixture, snapshotWith, warns, ruleCases, type RuleCase } from '../support.ts';

const HTTP = suite('rules/http-route');

const base = (): KubeObject => fixture('objects/virtual-service.valid.json');
function vs(spec: Record<string, unknown>): KubeObject {
  const o = base();
  return { ...o, spec: { ...(o.spec as object), tls: undefined, ...spec } };
}
const run = (o: KubeObject): Result => validateVirtualService(o, { snapshot: snapshotWith(), namespace: 'shop', operation: 'CREATE' });

const to = (host = 'httpbin.org') => [{ destination: { host } }];
/** A VirtualService with one http route: a route to httpbin.org plus `fields`. */
const route = (fields: Record<string, unknown>) => vs({ http: [{ route: to(), ...fields }] });
/** One http route made of exactly `fields`. */
const only = (fields: Record<string, unknown>) => vs({ http: [fields] });
/** One http route with one match. */
const match = (m: Record<string, unknown>) => route({ match: [m] });
const atGateway = (spec: Record<string, unknown>) => vs({ gateways: ['istio-system/ingress'], ...spec });

const cases: RuleCase[] = [
  // ValidateVirtualService: nil http routes
  {
    it: 'ValidateVirtualService: denies a null http route',
    code: 'EW223',
    verdict: 'denies',
    path: 'spec.http[0]',
    obj: () => vs({ http: [null] }),
    message: 'http route may not be null',
  },

  // validateHTTPRouteConflict: delegates
  {
    it: 'validateHTTPRouteConflict: denies a root route with both delegate and route',
    code: 'EW224',
    verdict: 'denies',
    path: 'spec.http[0].route',
    obj: () => route({ name: 'reviews', delegate: { name: 'reviews', namespace: 'shop' } }),
    message: 'root HTTP route reviews must not specify route',
  },
  {
    it: 'validateHTTPRouteConflict: denies a root route with both delegate and redirect',
    code: 'EW224',
    verdict: 'denies',
    path: 'spec.http[0].redirect',
    obj: () => only({ delegate: { name: 'reviews' }, redirect: { uri: '/v2' } }),
    message: 'root HTTP route must not specify redirect',
  },
  {
    it: 'validateHTTPRouteConflict: denies a route that delegates inside a delegate VirtualService',
    code: 'EW224',
    verdict: 'denies',
    path: 'spec.http[0].delegate',
    obj: () => vs({ hosts: [], http: [{ route: to(), delegate: { name: 'again' } }] }),
    message: 'delegate HTTP route cannot contain delegate',
  },
  {
    it: 'validateHTTPRouteConflict: accepts a root route that only delegates',
    code: 'EW224',
    verdict: 'passes',
    obj: () => only({ match: [{ uri: { prefix: '/reviews' } }], delegate: { name: 'reviews', namespace: 'shop' } }),
  },
  {
    it: 'validateHTTPRouteConflict: a root route that only delegates needs no route',
    code: 'EW226',
    verdict: 'passes',
    obj: () => only({ delegate: { name: 'reviews' } }),
  },

  // validateHTTPRouteConflict: actions
  {
    it: 'validateHTTPRouteConflict: denies route and redirect together',
    code: 'EW225',
    verdict: 'denies',
    path: 'spec.http[0]',
    obj: () => route({ redirect: { uri: '/v2' } }),
    message: 'HTTP route cannot contain both route and redirect',
  },
  {
    it: 'validateHTTPRouteConflict: denies redirect and directResponse together',
    code: 'EW225',
    verdict: 'denies',
    obj: () => only({ redirect: { uri: '/v2' }, directResponse: { status: 200 } }),
    message: 'HTTP route rule cannot contain both direct_response and redirect',
  },
  {
    it: 'validateHTTPRouteConflict: denies fault with a redirect',
    code: 'EW225',
    verdict: 'denies',
    obj: () => only({ redirect: { uri: '/v2' }, fault: { abort: { httpStatus: 500 } } }),
    message: 'HTTP route cannot contain both fault and redirect',
  },
  {
    it: 'validateHTTPRouteConflict: denies rewrite with a directResponse',
    code: 'EW225',
    verdict: 'denies',
    obj: () => only({ directResponse: { status: 200 }, rewrite: { uri: '/' } }),
    message: 'HTTP route rule cannot contain both rewrite and direct_response',
  },
  {
    it: 'validateHTTPRouteConflict: denies route with a directResponse',
    code: 'EW225',
    verdict: 'denies',
    obj: () => route({ directResponse: { status: 503 } }),
    message: 'HTTP route cannot contain both route and direct_response',
  },
  {
    it: 'validateHTTPRouteConflict: denies mirror and mirrors together',
    code: 'EW225',
    verdict: 'denies',
    obj: () => route({ mirror: { host: 'shadow' }, mirrors: [{ destination: { host: 'shadow2' } }] }),
    message: 'HTTP route cannot contain both mirror and mirrors',
  },
  {
    it: 'validateHTTPRouteConflict: accepts a redirect alone and a directResponse alone',
    code: 'EW225',
    verdict: 'passes',
    obj: () => vs({ http: [{ match: [{ uri: { exact: '/old' } }], redirect: { uri: '/new' } }, { directResponse: { status: 404 } }] }),
  },
  {
    it: 'validateHTTPRouteConflict: denies a route without route, redirect or directResponse',
    code: 'EW226',
    verdict: 'denies',
    path: 'spec.http[0]',
    obj: () => only({ match: [{ uri: { prefix: '/' } }] }),
    message: 'HTTP route, redirect or direct_response is required',
  },
  {
    it: 'validateHTTPRouteConflict: an empty route list counts as no route',
    code: 'EW226',
    verdict: 'denies',
    obj: () => only({ route: [] }),
  },

  // validateHTTPRouteMatchRequest
  {
    it: 'validateStringMatch: denies an empty header prefix',
    code: 'EW227',
    verdict: 'denies',
    path: 'spec.http[0].match[0].headers[x-user]',
    obj: () => match({ headers: { 'x-user': { prefix: '' } } }),
    message: '"headers": prefix string match should not be empty',
  },
  {
    it: 'validateStringMatchRegexp: accepts an empty uri prefix, which Envoy allows',
    code: 'EW227',
    verdict: 'passes',
    obj: () => match({ uri: { prefix: '' } }),
  },
  {
    it: 'validateStringMatch: denies an empty method prefix',
    code: 'EW227',
    verdict: 'denies',
    path: 'spec.http[0].match[0].method',
    obj: () => match({ method: { prefix: '' } }),
    message: '"method": prefix string match should not be empty',
  },
  {
    it: 'validateStringMatchRegexp: denies an empty uri regex',
    code: 'EW227',
    verdict: 'denies',
    path: 'spec.http[0].match[0].uri',
    obj: () => match({ uri: { regex: '' } }),
    message: '"uri": regex string match should not be empty',
  },
  {
    it: 'validateStringRegexp: denies a regex longer than 1024 characters',
    code: 'EW227',
    verdict: 'denies',
    obj: () => match({ uri: { regex: 'a'.repeat(1025) } }),
    message: '"uri": regex is too large, max length allowed is 1024',
  },
  {
    it: 'validateStringRegexp: denies a regex that does not compile',
    code: 'EW227',
    verdict: 'denies',
    path: 'spec.http[0].match[0].authority',
    obj: () => match({ authority: { regex: '(api' } }),
  },
  {
    it: 'validateStringRegexp: denies a lookahead, which RE2 does not support',
    code: 'EW227',
    verdict: 'denies',
    path: 'spec.http[0].match[0].queryParams[v]',
    obj: () => match({ queryParams: { v: { regex: 'a(?=b)' } } }),
    message:
      '"queryParams": error parsing regexp: invalid or unsupported Perl syntax: `(?=`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)',
  },
  {
    it: 'validateStringRegexp: accepts RE2-only syntax such as inline flags and (?P<name>)',
    code: 'EW227',
    verdict: 'passes',
    obj: () => match({ uri: { regex: '(?i)/api/(?P<version>v[0-9]+)/\\Qa.b\\E[[:alpha:]]+\\z' } }),
  },
  {
    it: 'the CRD schema: denies a string match with both exact and prefix',
    code: 'EW227',
    verdict: 'denies',
    path: 'spec.http[0].match[0].uri',
    obj: () => match({ uri: { exact: '/a', prefix: '/' } }),
    message: '"uri": only one of exact, prefix or regex may be set, got exact, prefix',
  },
  {
    it: 'ValidateHTTPHeaderNameOrJwtClaimRoute: denies a header name with a space',
    code: 'EW227',
    verdict: 'denies',
    obj: () => match({ headers: { 'x user': { exact: 'a' } } }),
    message: 'header name x user is not a valid header name',
  },
  {
    it: 'ValidateHTTPHeaderNameOrJwtClaimRoute: accepts pseudo headers',
    code: 'EW227',
    verdict: 'passes',
    obj: () => match({ headers: { ':authority': { exact: 'a' }, ':method': { exact: 'GET' } } }),
  },
  {
    it: 'validateHTTPRouteMatchRequest: denies a null header match',
    code: 'EW227',
    verdict: 'denies',
    obj: () => match({ headers: { 'x-user': null } }),
    message: 'header match x-user cannot be null',
  },
  {
    it: 'validateHTTPRouteMatchRequest: accepts withoutHeaders regex "*" (header present)',
    code: 'EW227',
    verdict: 'passes',
    obj: () => match({ withoutHeaders: { 'x-debug': { regex: '*' } } }),
  },
  {
    it: 'validateHTTPRouteMatchRequest: denies a match port out of range',
    code: 'EW227',
    verdict: 'denies',
    path: 'spec.http[0].match[0].port',
    obj: () => match({ port: 70000 }),
    message: 'port number 70000 must be in the range 1..65535',
  },
  {
    it: 'validateHTTPRouteMatchRequest: denies invalid sourceLabels',
    code: 'EW227',
    verdict: 'denies',
    obj: () => match({ sourceLabels: { app: 'a b' } }),
  },
  {
    it: 'validateHTTPRouteMatchRequest: denies an invalid match gateway',
    code: 'EW227',
    verdict: 'denies',
    obj: () => match({ gateways: ['bad_ns/gw'] }),
  },
  {
    it: 'validateHTTPRouteMatchRequest: no legacy gateway warning in a match (istiod keeps only the errors there)',
    code: 'EW204',
    verdict: 'passes',
    obj: () => match({ gateways: ['ingress.istio-system'] }),
  },
  {
    it: 'validateHTTPRouteMatchRequest: denies a sourceNamespace that is not a DNS label',
    code: 'EW227',
    verdict: 'denies',
    obj: () => match({ sourceNamespace: 'shop_eu' }),
    message: 'sourceNamespace match shop_eu is invalid',
  },
  {
    it: 'validateHTTPRouteMatchRequest: accepts a full valid match',
    code: 'EW227',
    verdict: 'passes',
    obj: () =>
      match({
        uri: { prefix: '/api' },
        scheme: { exact: 'https' },
        method: { exact: 'GET' },
        authority: { prefix: 'api' },
        headers: { 'x-user': { regex: 'a.*' } },
        queryParams: { v: { exact: '1' } },
        port: 80,
        sourceLabels: { app: 'web' },
        gateways: ['mesh'],
        sourceNamespace: 'shop',
      }),
  },

  // ValidateVirtualService: JWT claim routing
  {
    it: 'ValidateVirtualService: denies JWT claim routing in a VirtualService without gateways',
    code: 'EW228',
    verdict: 'denies',
    path: 'spec.http[0].match[0].headers[@request.auth.claims.group]',
    obj: () => match({ headers: { '@request.auth.claims.group': { exact: 'admin' } } }),
    message: 'JWT claim based routing (key: @request.auth.claims.group) is only supported for gateway, found no gateways: []',
  },
  {
    it: 'ValidateVirtualService: denies JWT claim routing when the gateways include mesh',
    code: 'EW228',
    verdict: 'denies',
    obj: () =>
      vs({
        gateways: ['mesh', 'istio-system/ingress'],
        http: [{ match: [{ withoutHeaders: { '@request.auth.claims[group]': { exact: 'a' } } }], route: to() }],
      }),
    message:
      'JWT claim based routing (key: @request.auth.claims[group]) is only supported for gateway, found no gateways: [mesh istio-system/ingress]',
  },
  {
    it: 'ValidateVirtualService: accepts JWT claim routing on a gateway-bound VirtualService',
    code: 'EW228',
    verdict: 'passes',
    obj: () => atGateway({ http: [{ match: [{ headers: { '@request.auth.claims.group': { exact: 'admin' } } }], route: to() }] }),
  },

  // header operations: ValidateHTTPHeaderWithAuthorityOperationName, ValidateHTTPHeaderOperationName, ValidateHTTPHeaderValue
  {
    it: 'ValidateHTTPHeaderWithAuthorityOperationName: denies setting a pseudo header other than :authority',
    code: 'EW229',
    verdict: 'denies',
    path: 'spec.http[0].headers.request.set[:path]',
    obj: () => route({ headers: { request: { set: { ':path': '/x' } } } }),
    message: 'invalid header ":path": header cannot have ":" prefix',
  },
  {
    it: 'ValidateHTTPHeaderOperationName: denies removing the host header',
    code: 'EW229',
    verdict: 'denies',
    path: 'spec.http[0].headers.request.remove[0]',
    obj: () => route({ headers: { request: { remove: ['Host'] } } }),
    message: 'invalid header "Host": cannot set Host header',
  },
  {
    it: 'ValidateHTTPHeaderOperationName: denies setting :authority on the response',
    code: 'EW229',
    verdict: 'denies',
    obj: () => route({ headers: { response: { add: { ':authority': 'x' } } } }),
  },
  {
    it: 'ValidateHTTPHeaderValue: denies an un-escaped % at the end of a value',
    code: 'EW229',
    verdict: 'denies',
    obj: () => route({ headers: { response: { set: { 'x-rate': '100%' } } } }),
    message: 'header value configuration: invalid header configuration. Un-escaped %',
  },
  {
    it: 'ValidateHTTPHeaderValue: denies an unterminated variable',
    code: 'EW229',
    verdict: 'denies',
    obj: () => route({ headers: { request: { add: { 'x-start': '%START_TIME' } } } }),
    message: "header value configuration: invalid header configuration. Un-terminated variable expression '%START_TIME'",
  },
  {
    it: 'ValidateHTTPHeaderValue: denies control characters',
    code: 'EW229',
    verdict: 'denies',
    obj: () => route({ headers: { request: { set: { 'x-a': 'a\nb' } } } }),
  },
  {
    it: 'validateHTTPRouteDestinations: denies an invalid header operation on a destination',
    code: 'EW229',
    verdict: 'denies',
    path: 'spec.http[0].route[0].headers.request.set[:method]',
    obj: () => only({ route: [{ destination: { host: 'httpbin.org' }, headers: { request: { set: { ':method': 'GET' } } } }] }),
  },
  {
    it: 'ValidateHTTPHeaderValue: accepts %% and Envoy variables, and :authority on the request',
    code: 'EW229',
    verdict: 'passes',
    obj: () =>
      route({
        headers: {
          request: { set: { ':authority': 'api.example.com', 'x-host': '%HOSTNAME%', 'x-pct': '100%%' } },
          response: { add: { 'x-env': '%ENVIRONMENT(POD_NAME)%', 'x-t': '%START_TIME(["%s"])%' }, remove: ['server'] },
        },
      }),
  },

  // validateAuthorityRewrite
  {
    it: 'validateAuthorityRewrite: denies rewriting :authority in both rewrite and a header operation',
    code: 'EW230',
    verdict: 'denies',
    path: 'spec.http[0]',
    obj: () => route({ rewrite: { authority: 'a.example.com' }, headers: { request: { set: { ':authority': 'b.example.com' } } } }),
    message: 'authority header cannot be set multiple times: have "a.example.com", attempting to set "b.example.com"',
  },
  {
    it: 'validateAuthorityRewrite: denies setting host and adding :authority',
    code: 'EW230',
    verdict: 'denies',
    obj: () => route({ headers: { request: { set: { host: 'a' }, add: { ':Authority': 'b' } } } }),
  },
  {
    it: 'validateAuthorityRewrite: accepts the authority rewritten once',
    code: 'EW230',
    verdict: 'passes',
    obj: () => route({ rewrite: { authority: 'a.example.com' } }),
  },

  // validateCORSPolicy
  {
    it: 'validateAllowOrigins: denies an allowed origin without a value',
    code: 'EW231',
    verdict: 'denies',
    path: 'spec.http[0].corsPolicy.allowOrigins[0]',
    obj: () => route({ corsPolicy: { allowOrigins: [{ exact: '' }] } }),
    message: "'' is not a valid match type for CORS allow origins",
  },
  {
    it: 'validateCORSHTTPMethod: denies a lower-case method',
    code: 'EW231',
    verdict: 'denies',
    obj: () => route({ corsPolicy: { allowMethods: ['get'] } }),
    message: '"get" is not a supported HTTP method',
  },
  {
    it: 'ValidateCORSHTTPHeaderName: denies a header name with a space',
    code: 'EW231',
    verdict: 'denies',
    obj: () => route({ corsPolicy: { exposeHeaders: ['x a'] } }),
    message: 'header name x a is not a valid header name',
  },
  {
    it: 'validateCORSPolicy: denies a maxAge below one second precision',
    code: 'EW231',
    verdict: 'denies',
    obj: () => route({ corsPolicy: { maxAge: '1.5s' } }),
    message: 'max_age duration is accurate only to seconds precision',
  },
  {
    it: 'validateCORSPolicy: accepts maxAge "24h", the example of the VirtualService reference (jsonpb reads Go durations)',
    code: 'EW231',
    verdict: 'passes',
    obj: () => route({ corsPolicy: { allowOrigins: [{ exact: 'https://example.com' }], allowMethods: ['POST', 'GET'], maxAge: '24h' } }),
  },
  {
    it: 'validateCORSPolicy: denies a maxAge of 1h30m0.5s, which has nanos past the second',
    code: 'EW231',
    verdict: 'denies',
    path: 'spec.http[0].corsPolicy.maxAge',
    obj: () => route({ corsPolicy: { maxAge: '1h30m0.5s' } }),
    message: 'max_age duration is accurate only to seconds precision',
  },
  {
    it: 'validateCORSPolicy: denies a maxAge written as a number of seconds, which jsonpb cannot read as a Duration',
    code: 'EW231',
    verdict: 'denies',
    obj: () => route({ corsPolicy: { maxAge: 86400 } }),
    message: 'duration must be a string such as "30s" or "1m", got number 86400',
  },
  {
    it: 'validateCORSPolicy: accepts a full policy',
    code: 'EW231',
    verdict: 'passes',
    obj: () =>
      route({
        corsPolicy: {
          allowOrigins: [{ exact: 'https://a.example.com' }, { regex: 'https://.*\\.example\\.com' }],
          allowMethods: ['GET', 'POST', '*'],
          allowHeaders: ['*', 'x-user'],
          exposeHeaders: ['x-id'],
          maxAge: '86400s',
          allowCredentials: true,
        },
      }),
  },

  // validateHTTPFaultInjection
  {
    it: 'validateHTTPFaultInjection: denies a fault with neither abort nor delay',
    code: 'EW232',
    verdict: 'denies',
    path: 'spec.http[0].fault',
    obj: () => route({ fault: {} }),
    message: 'HTTP fault injection must have an abort and/or a delay',
  },
  {
    it: 'validateHTTPStatus: denies an abort status below 200',
    code: 'EW232',
    verdict: 'denies',
    path: 'spec.http[0].fault.abort.httpStatus',
    obj: () => route({ fault: { abort: { httpStatus: 100 } } }),
    message: 'HTTP status 100 is not in range 200-599',
  },
  {
    it: 'validateGRPCStatus: denies an unknown gRPC status',
    code: 'EW232',
    verdict: 'denies',
    obj: () => route({ fault: { abort: { grpcStatus: 'NOPE' } } }),
  },
  {
    it: 'validateHTTPFaultInjectionAbort: denies an http2Error abort',
    code: 'EW232',
    verdict: 'denies',
    obj: () => route({ fault: { abort: { http2Error: 'x' } } }),
    message: 'HTTP/2 abort fault injection not supported yet',
  },
  {
    it: 'validatePercentage: denies a percentage above 100',
    code: 'EW232',
    verdict: 'denies',
    path: 'spec.http[0].fault.delay.percentage',
    obj: () => route({ fault: { delay: { percentage: { value: 150 }, fixedDelay: '5s' } } }),
    message: 'percentage 150 is neither 0.0, nor in range [0.0001, 100.0]',
  },
  {
    it: 'validatePercentage: denies a percentage between 0 and 0.0001',
    code: 'EW232',
    verdict: 'denies',
    obj: () => route({ fault: { abort: { percentage: { value: 0.00001 }, httpStatus: 503 } } }),
    message: 'percentage 1e-05 is neither 0.0, nor in range [0.0001, 100.0]',
  },
  {
    it: 'validateHTTPFaultInjectionDelay: denies an exponentialDelay',
    code: 'EW232',
    verdict: 'denies',
    obj: () => route({ fault: { delay: { exponentialDelay: '1s' } } }),
    message: 'exponentialDelay not supported yet',
  },
  {
    it: 'ValidateDuration: denies a fixedDelay under 1ms',
    code: 'EW232',
    verdict: 'denies',
    obj: () => route({ fault: { delay: { fixedDelay: '0.0001s' } } }),
    message: 'duration must be greater than 1ms',
  },
  {
    it: 'validateHTTPFaultInjectionDelay: accepts a fixedDelay of "100ms"',
    code: 'EW232',
    verdict: 'passes',
    obj: () => route({ fault: { delay: { percentage: { value: 10 }, fixedDelay: '100ms' } } }),
  },
  {
    it: 'validateHTTPFaultInjectionDelay: denies a fixedDelay without a unit, which time.ParseDuration refuses',
    code: 'EW232',
    verdict: 'denies',
    path: 'spec.http[0].fault.delay.fixedDelay',
    obj: () => route({ fault: { delay: { fixedDelay: '5' } } }),
    message: 'bad Duration: time: missing unit in duration "5"',
  },
  {
    it: 'validateHTTPFaultInjection: accepts an abort and a delay',
    code: 'EW232',
    verdict: 'passes',
    obj: () =>
      route({ fault: { abort: { percentage: { value: 10 }, httpStatus: 503 }, delay: { percentage: { value: 0.5 }, fixedDelay: '2s' } } }),
  },
  {
    it: 'validateHTTPFaultInjectionAbort: warns about an abort without an error type',
    code: 'EW233',
    verdict: 'warns',
    path: 'spec.http[0].fault.abort',
    obj: () => route({ fault: { abort: { percentage: { value: 10 } } } }),
    message: 'abort configured, but error type not set',
  },
  {
    it: 'validateHTTPFaultInjectionAbort: no warning when the abort has a status',
    code: 'EW233',
    verdict: 'passes',
    obj: () => route({ fault: { abort: { httpStatus: 503 } } }),
  },

  // mirrors: validateHTTPRoute (mirrorPercent, mirrorPercentage) and validateHTTPMirrors
  {
    it: 'validateHTTPRoute: denies mirrorPercent above 100',
    code: 'EW234',
    verdict: 'denies',
    path: 'spec.http[0].mirrorPercent',
    obj: () => route({ mirror: { host: 'shadow' }, mirrorPercent: 101 }),
    message: 'mirror_percent must have a max value of 100 (it has 101)',
  },
  {
    it: 'jsonpb (UInt32Value): denies a negative mirrorPercent, which istiod cannot decode',
    code: 'EW234',
    verdict: 'denies',
    path: 'spec.http[0].mirrorPercent',
    obj: () => route({ mirror: { host: 'shadow' }, mirrorPercent: -5 }),
    message: 'json: cannot unmarshal number -5 into Go value of type uint32',
  },
  {
    it: 'jsonpb (UInt32Value): denies a mirrorPercent with a fraction, which istiod cannot decode',
    code: 'EW234',
    verdict: 'denies',
    obj: () => route({ mirror: { host: 'shadow' }, mirrorPercent: 12.5 }),
    message: 'json: cannot unmarshal number 12.5 into Go value of type uint32',
  },
  {
    it: 'jsonpb (UInt32Value): denies a mirrorPercent written as an object, the way mirrorPercentage is',
    code: 'EW234',
    verdict: 'denies',
    obj: () => route({ mirror: { host: 'shadow' }, mirrorPercent: { value: 50 } }),
    message: 'mirrorPercent must be a whole number from 0 to 100, got an object',
  },
  {
    it: 'validateHTTPRoute: denies a negative mirrorPercentage',
    code: 'EW234',
    verdict: 'denies',
    obj: () => route({ mirror: { host: 'shadow' }, mirrorPercentage: { value: -1 } }),
    message: 'mirror_percentage must have a min value of 0 (it has -1.000000)',
  },
  {
    it: 'validateHTTPMirrors: denies a mirror without destination',
    code: 'EW234',
    verdict: 'denies',
    path: 'spec.http[0].mirrors[0].destination',
    obj: () => route({ mirrors: [{ percentage: { value: 5 } }] }),
    message: 'destination is required for mirrors',
  },
  {
    it: 'validateHTTPMirrors: denies a null mirror',
    code: 'EW234',
    verdict: 'denies',
    obj: () => route({ mirrors: [null] }),
    message: 'mirror cannot be null',
  },
  {
    it: 'validateHTTPMirrors: denies a mirror percentage above 100',
    code: 'EW234',
    verdict: 'denies',
    obj: () => route({ mirrors: [{ destination: { host: 'shadow' }, percentage: { value: 100.5 } }] }),
    message: 'mirror percentage must have a max value of 100 (it has 100.500000)',
  },
  {
    it: 'validateDestination: denies a mirror destination "*"',
    code: 'EW220',
    verdict: 'denies',
    path: 'spec.http[0].mirror.host',
    obj: () => route({ mirror: { host: '*' } }),
    message: 'invalid destination host *',
  },
  {
    it: 'validateHTTPMirrors: accepts mirrors with destinations and percentages',
    code: 'EW234',
    verdict: 'passes',
    obj: () => route({ mirrors: [{ destination: { host: 'shadow' }, percentage: { value: 50 } }] }),
  },
  {
    it: 'validateHTTPRoute: warns that mirrorPercent is deprecated',
    code: 'EW235',
    verdict: 'warns',
    path: 'spec.http[0].mirrorPercent',
    obj: () => route({ mirror: { host: 'shadow' }, mirrorPercent: 50 }),
    message: 'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead',
  },
  {
    it: 'validateHTTPRoute: does not warn about mirrorPercentage',
    code: 'EW235',
    verdict: 'passes',
    obj: () => route({ mirror: { host: 'shadow' }, mirrorPercentage: { value: 50 } }),
  },

  // validateHTTPRedirect
  {
    it: 'validateHTTPRedirect: denies uri and prefixRewrite together',
    code: 'EW236',
    verdict: 'denies',
    path: 'spec.http[0].redirect',
    obj: () => only({ redirect: { uri: '/a', prefixRewrite: '/b' } }),
    message: 'redirect may only specify one of uri or prefix_rewrite',
  },
  {
    it: 'validateHTTPRedirect: denies prefixRewrite with an exact uri match',
    code: 'EW236',
    verdict: 'denies',
    obj: () => only({ match: [{ uri: { exact: '/a' } }], redirect: { prefixRewrite: '/b' } }),
    message: 'redirect prefix_rewrite requires all URI matches to use prefix match type',
  },
  {
    it: 'validateHTTPRedirect: denies an empty redirect',
    code: 'EW236',
    verdict: 'denies',
    obj: () => only({ redirect: {} }),
    message: 'redirect must specify URI, authority, scheme, or port',
  },
  {
    it: 'validateHTTPRedirect: denies a redirect code that is not 3xx',
    code: 'EW236',
    verdict: 'denies',
    obj: () => only({ redirect: { uri: '/a', redirectCode: 200 } }),
    message: '200 is not a valid redirect code, must be 3xx',
  },
  {
    it: 'validateHTTPRedirect: denies a scheme other than http and https',
    code: 'EW236',
    verdict: 'denies',
    obj: () => only({ redirect: { scheme: 'ftp' } }),
    message: 'invalid redirect scheme, must be "http" or "https"',
  },
  {
    it: 'validateHTTPRedirect: denies a redirect port out of range',
    code: 'EW236',
    verdict: 'denies',
    obj: () => only({ redirect: { port: 70000 } }),
  },
  {
    it: 'jsonpb (uint32): denies a negative redirect port, which istiod cannot decode',
    code: 'EW236',
    verdict: 'denies',
    path: 'spec.http[0].redirect',
    obj: () => only({ redirect: { port: -1 } }),
    message: 'json: cannot unmarshal number -1 into Go value of type uint32',
  },
  {
    it: 'jsonpb (enum): denies a derivePort that is not a RedirectPortSelection name',
    code: 'EW236',
    verdict: 'denies',
    obj: () => only({ redirect: { derivePort: 'FROM_REQUEST' } }),
    message: 'unknown value "\\"FROM_REQUEST\\"" for enum istio.networking.v1alpha3.HTTPRedirect.RedirectPortSelection',
  },
  {
    it: 'jsonpb (enum): accepts derivePort FROM_REQUEST_PORT by name and by number, as proto3 enums are open',
    code: 'EW236',
    verdict: 'passes',
    obj: () => vs({ http: [{ redirect: { derivePort: 'FROM_REQUEST_PORT' } }, { redirect: { derivePort: 1 } }] }),
  },
  {
    it: 'validateHTTPRedirect: accepts a scheme and port redirect, and derivePort alone',
    code: 'EW236',
    verdict: 'passes',
    obj: () =>
      vs({
        http: [
          { match: [{ port: 80 }], redirect: { scheme: 'https', port: 443, redirectCode: 308 } },
          { redirect: { derivePort: 'FROM_PROTOCOL_DEFAULT' } },
        ],
      }),
  },

  // validateHTTPDirectResponse
  {
    it: 'validateHTTPDirectResponse: denies a status outside 200-600',
    code: 'EW237',
    verdict: 'denies',
    path: 'spec.http[0].directResponse.status',
    obj: () => only({ directResponse: { status: 700 } }),
    message: 'HTTP status 700 is not in range 200-599',
  },
  {
    it: 'validateHTTPDirectResponse: denies a directResponse without status',
    code: 'EW237',
    verdict: 'denies',
    obj: () => only({ directResponse: { body: { string: 'hi' } } }),
    message: 'HTTP status 0 is not in range 200-599',
  },
  {
    it: 'validateHTTPDirectResponse: denies a body over 1 MiB',
    code: 'EW237',
    verdict: 'denies',
    path: 'spec.http[0].directResponse.body',
    obj: () => only({ directResponse: { status: 200, body: { string: 'x'.repeat(1024 * 1024 + 1) } } }),
    message: 'large direct_responses may impact control plane performance, must be less than 1MB',
  },
  {
    it: 'validateHTTPDirectResponse: accepts a small body',
    code: 'EW237',
    verdict: 'passes',
    obj: () => only({ directResponse: { status: 200, body: { string: 'ok' } } }),
  },
  {
    it: 'validateHTTPDirectResponse: warns about a body over 100 KiB',
    code: 'EW238',
    verdict: 'warns',
    obj: () => only({ directResponse: { status: 200, body: { bytes: Buffer.alloc(101 * 1024).toString('base64') } } }),
    message: 'large direct_responses may impact control plane performance',
  },
  {
    it: 'validateHTTPDirectResponse: no warning at 100 KiB',
    code: 'EW238',
    verdict: 'passes',
    obj: () => only({ directResponse: { status: 200, body: { string: 'x'.repeat(100 * 1024) } } }),
  },

  // ValidateHTTPRetry
  {
    it: 'ValidateHTTPRetry: denies negative attempts',
    code: 'EW239',
    verdict: 'denies',
    path: 'spec.http[0].retries.attempts',
    obj: () => route({ retries: { attempts: -1 } }),
    message: 'attempts cannot be negative',
  },
  {
    it: 'ValidateHTTPRetry: denies retry settings with attempts 0',
    code: 'EW239',
    verdict: 'denies',
    obj: () => route({ retries: { perTryTimeout: '2s' } }),
    message: 'http retry policy configured when attempts are set to 0 (disabled)',
  },
  {
    it: 'ValidateHTTPRetry: denies an unknown retryOn policy, spaces included',
    code: 'EW239',
    verdict: 'denies',
    path: 'spec.http[0].retries.retryOn',
    obj: () => route({ retries: { attempts: 3, retryOn: '5xx, reset' } }),
    message: '" reset" is not a valid retryOn policy',
  },
  {
    it: 'ValidateHTTPRetry: accepts a perTryTimeout in minutes and a backoff in ms, which jsonpb reads with time.ParseDuration',
    code: 'EW239',
    verdict: 'passes',
    obj: () => route({ retries: { attempts: 3, perTryTimeout: '1m', backoff: '25ms' } }),
  },
  {
    it: 'ValidateHTTPRetry: denies a perTryTimeout in days, a unit time.ParseDuration does not know',
    code: 'EW239',
    verdict: 'denies',
    path: 'spec.http[0].retries.perTryTimeout',
    obj: () => route({ retries: { attempts: 3, perTryTimeout: '1d' } }),
    message: 'bad Duration: time: unknown unit "d" in duration "1d"',
  },
  {
    it: 'ValidateHTTPRetry: accepts policies and status codes',
    code: 'EW239',
    verdict: 'passes',
    obj: () =>
      route({
        retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure,503,retriable-4xx', backoff: '0.025s' },
      }),
  },
  {
    it: 'ValidateHTTPRetry: accepts attempts 0 alone (retries off)',
    code: 'EW239',
    verdict: 'passes',
    obj: () => route({ retries: { attempts: 0 } }),
  },

  // validateHTTPRewrite
  {
    it: 'validateHTTPRewrite: denies uri and uriRegexRewrite together',
    code: 'EW240',
    verdict: 'denies',
    path: 'spec.http[0].rewrite',
    obj: () => route({ rewrite: { uri: '/a', uriRegexRewrite: { match: 'a', rewrite: 'b' } } }),
    message: 'rewrite may only contain one of URI or UriRegexRewrite',
  },
  { it: 'validateHTTPRewrite: denies an empty rewrite', code: 'EW240', verdict: 'denies', obj: () => route({ rewrite: {} }) },
  {
    it: 'validateURIRegexRewrite: denies a uriRegexRewrite without rewrite',
    code: 'EW240',
    verdict: 'denies',
    obj: () => route({ rewrite: { uriRegexRewrite: { match: '^/a' } } }),
    message: 'UriRegexRewrite has errors: UriRegexRewrite requires both Rewrite and Match fields to be specified',
  },
  {
    it: 'validateURIRegexRewrite: denies a backreference in the match',
    code: 'EW240',
    verdict: 'denies',
    obj: () => route({ rewrite: { uriRegexRewrite: { match: '(a)\\1', rewrite: '/' } } }),
  },
  {
    it: 'validateHTTPRewrite: accepts a uri rewrite and a regex rewrite',
    code: 'EW240',
    verdict: 'passes',
    obj: () =>
      vs({
        http: [
          { match: [{ port: 80 }], rewrite: { uri: '/v2' }, route: to() },
          { rewrite: { uriRegexRewrite: { match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1' } }, route: to() },
        ],
      }),
  },

  // timeout: ValidateDuration
  {
    it: 'ValidateDuration: denies a timeout under 1ms',
    code: 'EW241',
    verdict: 'denies',
    path: 'spec.http[0].timeout',
    obj: () => route({ timeout: '0s' }),
    message: 'duration must be greater than 1ms',
  },
  {
    it: 'ValidateDuration: denies a timeout finer than milliseconds',
    code: 'EW241',
    verdict: 'denies',
    obj: () => route({ timeout: '1.0005s' }),
    message: 'only durations to ms precision are supported',
  },
  { it: 'ValidateDuration: accepts seconds with a fraction', code: 'EW241', verdict: 'passes', obj: () => route({ timeout: '0.5s' }) },
  {
    it: 'ValidateDuration: accepts a timeout of "1h30m" and of "1m", as jsonpb reads them',
    code: 'EW241',
    verdict: 'passes',
    obj: () =>
      vs({
        http: [
          { route: to(), timeout: '1h30m' },
          { route: to(), timeout: '1m' },
        ],
      }),
  },
  {
    it: 'ValidateDuration: denies a timeout of "1500us", finer than milliseconds',
    code: 'EW241',
    verdict: 'denies',
    obj: () => route({ timeout: '1500us' }),
    message: 'only durations to ms precision are supported',
  },
  {
    it: 'ValidateDuration: denies a negative timeout that time.ParseDuration reads',
    code: 'EW241',
    verdict: 'denies',
    obj: () => route({ timeout: '-1m' }),
    message: 'duration must be greater than 1ms',
  },
  {
    it: 'ValidateDuration: denies a timeout past the int64 nanoseconds time.ParseDuration can hold',
    code: 'EW241',
    verdict: 'denies',
    obj: () => route({ timeout: '3000000h' }),
    message: 'bad Duration: time: invalid duration "3000000h"',
  },

  // validateHTTPRouteDestinations
  {
    it: 'validateHTTPRouteDestinations: denies an http destination without destination',
    code: 'EW219',
    verdict: 'denies',
    path: 'spec.http[0].route[0].destination',
    obj: () => only({ route: [{ weight: 100 }] }),
    message: 'destination is required',
  },
  {
    it: 'validateHTTPRouteDestinations: denies an http destination host that is not a domain',
    code: 'EW220',
    verdict: 'denies',
    obj: () => only({ route: [{ destination: { host: 'a_b' } }] }),
  },

  // analyzeUnreachableHTTPRules
  {
    it: 'analyzeUnreachableHTTPRules: warns about an http rule after a catch-all rule',
    code: 'EW222',
    verdict: 'warns',
    path: 'spec.http[1]',
    obj: () => vs({ http: [{ route: to() }, { name: 'late', match: [{ uri: { prefix: '/a' } }], route: to() }] }),
    message: 'virtualService rule "late" not used (route without matches defined before)',
  },
  {
    it: 'analyzeUnreachableHTTPRules: a repeated match counts even when only its name differs',
    code: 'EW222',
    verdict: 'warns',
    path: 'spec.http[1].match[0]',
    obj: () =>
      vs({
        http: [
          { match: [{ name: 'a', uri: { exact: '/x' } }], route: to() },
          { match: [{ name: 'b', uri: { exact: '/x' } }], route: to() },
        ],
      }),
    message: 'virtualService rule #1 match "b" is not used (duplicate/overlapping match in rule #0)',
  },
  {
    it: 'analyzeUnreachableHTTPRules: warns about a prefix covered by an earlier, shorter prefix',
    code: 'EW222',
    verdict: 'warns',
    path: 'spec.http[1].match[0]',
    obj: () =>
      vs({
        http: [
          { match: [{ uri: { prefix: '/api' } }], route: to() },
          { match: [{ uri: { prefix: '/api/v2' } }], route: to('v2') },
        ],
      }),
    message: 'virtualService rule #1 match #0 of prefix /api/v2 is not used (duplicate/overlapping match in rule #0 of prefix /api on #0)',
  },
  {
    it: 'analyzeUnreachableHTTPRules: no warning when the longer prefix comes first',
    code: 'EW222',
    verdict: 'passes',
    obj: () =>
      vs({
        http: [
          { match: [{ uri: { prefix: '/api/v2' } }], route: to('v2') },
          { match: [{ uri: { prefix: '/api' } }], route: to() },
        ],
      }),
  },
  {
    it: 'coveredValidation: no warning when the later match adds a header condition',
    code: 'EW222',
    verdict: 'passes',
    obj: () =>
      vs({
        http: [
          { match: [{ uri: { prefix: '/api' } }], route: to() },
          { match: [{ uri: { prefix: '/api/v2' }, headers: { 'x-v': { exact: '2' } } }], route: to('v2') },
        ],
      }),
  },
];

ruleCases(HTTP, cases, run);

HTTP('has a test case for every http route code, EW222 to EW241', () => {
  const tested = new Set(cases.map((c) => c.code));
  for (const code of CODES.filter((c) => c >= 'EW222' && c <= 'EW241')) assert.ok(tested.has(code), `no test for ${code}`);
});

HTTP('accepts the Bookinfo reviews VirtualService with its usual http features', () => {
  clean(
    run(
      vs({
        hosts: ['reviews'],
        http: [
          {
            name: 'jason',
            match: [{ headers: { 'end-user': { exact: 'jason' } } }],
            route: [{ destination: { host: 'reviews', subset: 'v2' } }],
            fault: { delay: { percentage: { value: 100 }, fixedDelay: '7s' } },
          },
          {
            name: 'canary',
            route: [
              { destination: { host: 'reviews', subset: 'v1' }, weight: 90 },
              { destination: { host: 'reviews', subset: 'v3' }, weight: 10 },
            ],
            retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure,refused-stream' },
            timeout: '10s',
            mirror: { host: 'reviews', subset: 'v4' },
            mirrorPercentage: { value: 20 },
          },
        ],
      }),
    ),
  );
});

HTTP('a redirect route with a prefix uri match and prefixRewrite is accepted', () => {
  accepts(run(only({ match: [{ uri: { prefix: '/old' } }], redirect: { prefixRewrite: '/new', authority: 'new.example.com' } })));
});

HTTP('reports one finding per route for a VirtualService with thousands of overlapping prefixes, at most 50', () => {
  const http = Array.from({ length: 5_000 }, (_, i) => ({ match: [{ uri: { prefix: `/p/${'x'.repeat(i % 50)}${i}` } }], route: to() }));
  http.unshift({ match: [{ uri: { prefix: '/p' } }], route: to() });
  const r = run(vs({ http }));
  const overlaps = r.warnings.filter((w) => w.code === 'EW222');
  assert.is(overlaps.length, 50);
});

HTTP("accepts 15,000 prefix matches of 200 different lengths (3 MiB, the API server's limit) that cover none of each other", () => {
  const http = Array.from({ length: 15_000 }, (_, i) => ({
    match: [{ uri: { prefix: `/${'a'.repeat(i % 200)}${i}` }, headers: { n: { exact: String(i) } } }],
    route: to(),
  }));
  accepts(run(vs({ http })));
});

HTTP('finds the same covered prefixes as comparing every pair, as analyzeUnreachableHTTPRules does', () => {
  let seed = 7;
  let total = 0;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let round = 0; round < 20; round++) {
    const prefixes = Array.from({ length: 25 }, () => `/${'ab'.slice(0, 1 + rand(2)).repeat(1 + rand(3))}${rand(3) ? '' : 'x'}`);
    const http = prefixes.map((p, i) => ({
      match: [{ uri: { prefix: p }, ...(rand(4) ? {} : { method: { exact: 'POST' } }) }],
      route: to(),
      name: `r${i}`,
    }));
    const expected = new Set<string>();
    const key = (m: (typeof http)[number]) => JSON.stringify(m.match[0]);
    const firstSeen = new Map<string, number>();
    http.forEach((r, j) => {
      if (!firstSeen.has(key(r))) firstSeen.set(key(r), j);
    });
    const kept = http.filter((r, j) => firstSeen.get(key(r)) === j);
    kept.forEach((b, j) =>
      kept.slice(0, j).forEach((a) => {
        const pa = a.match[0]!.uri.prefix;
        const pb = b.match[0]!.uri.prefix;
        const ma = a.match[0]!.method?.exact ?? 'GET';
        const mb = b.match[0]!.method?.exact ?? 'GET';
        if (pa !== pb && pb.startsWith(pa) && (ma === mb || ma.startsWith(mb))) expected.add(`"${b.name}" ${pb} < ${pa} "${a.name}"`);
      }),
    );
    const found = new Set(
      run(vs({ http }))
        .warnings.filter((w) => w.message.includes(' of prefix '))
        .map((w) =>
          w.message.replace(
            /^virtualService rule ("r\d+") match #0 of prefix (\S+) is not used \(duplicate\/overlapping match in rule #0 of prefix (\S+) on ("r\d+")\)$/,
            '$1 $2 < $3 $4',
          ),
        ),
    );
    assert.equal([...found].sort(), [...expected].sort());
    total += expected.size;
  }
  assert.ok(total > 20, `only ${total} covered prefixes generated`);
});

HTTP("ValidateHTTPHeaderValue: agrees with Istio's TestValidateHTTPHeaderValue table", () => {
  for (const v of [
    'foo',
    '%HOSTNAME%',
    '100%%',
    'prefix %HOSTNAME% suffix',
    '%DOWNSTREAM_PEER_CERT_V_END(%b %d %H:%M:%S %Y %Z)%',
    '%DYNAMIC_METADATA(com.test.my_filter)%',
  ]) {
    assert.is(headerValueProblem(v), undefined, v);
  }
  for (const v of ['%START_TIME%%', 'abc%123']) assert.ok(headerValueProblem(v), v);
});

HTTP("ValidateHTTPRetry: agrees with Istio's TestValidateHTTPRetry table", () => {
  const table: Array<[Record<string, unknown>, boolean]> = [
    [{ attempts: 10, perTryTimeout: '2s', retryOn: '5xx,gateway-error' }, true],
    [{ attempts: 0 }, true],
    [{ attempts: 0, perTryTimeout: '2s', retryOn: '5xx,gateway-error' }, false],
    [{ attempts: 10 }, true],
    [{ attempts: 10, perTryTimeout: '2s', retryOn: '503,connect-failure' }, true],
    [{ attempts: -1, perTryTimeout: '2s' }, false],
    [{ attempts: 10, perTryTimeout: '2.000000001s' }, false],
    [{ attempts: 10, perTryTimeout: '0.000000999s' }, false],
    [{ attempts: 10, backoff: '0.000000999s' }, false],
    [{ attempts: 10, perTryTimeout: '2s', retryOn: '5xx,invalid policy' }, false],
    [{ attempts: 10, perTryTimeout: '2s', retryOn: '600,connect-failure' }, false],
    [{ attempts: 0, retryRemoteLocalities: false }, false],
  ];
  for (const [retries, valid] of table) {
    const r = run(route({ retries }));
    assert.is(
      r.errors.every((e) => e.code !== 'EW239'),
      valid,
      JSON.stringify(retries),
    );
  }
});

const NS = 1n;
const US = 1_000n * NS;
const MS = 1_000n * US;
const SEC = 1_000n * MS;
const MIN = 60n * SEC;
const HOUR = 60n * MIN;
const MAX_NS = (1n << 63n) - 1n;
const MIN_NS = -(1n << 63n);

HTTP("time.ParseDuration: agrees with Go's TestParseDuration table (src/time/time_test.go)", () => {
  const table: Array<[string, bigint]> = [
    ['0', 0n],
    ['5s', 5n * SEC],
    ['30s', 30n * SEC],
    ['1478s', 1478n * SEC],
    ['-5s', -5n * SEC],
    ['+5s', 5n * SEC],
    ['-0', 0n],
    ['+0', 0n],
    ['5.0s', 5n * SEC],
    ['5.6s', 5n * SEC + 600n * MS],
    ['5.s', 5n * SEC],
    ['.5s', 500n * MS],
    ['1.0s', SEC],
    ['1.00s', SEC],
    ['1.004s', SEC + 4n * MS],
    ['1.0040s', SEC + 4n * MS],
    ['100.00100s', 100n * SEC + MS],
    ['10ns', 10n * NS],
    ['11us', 11n * US],
    ['12\u00b5s', 12n * US],
    ['12\u03bcs', 12n * US],
    ['13ms', 13n * MS],
    ['14s', 14n * SEC],
    ['15m', 15n * MIN],
    ['16h', 16n * HOUR],
    ['3h30m', 3n * HOUR + 30n * MIN],
    ['10.5s4m', 4n * MIN + 10n * SEC + 500n * MS],
    ['-2m3.4s', -(2n * MIN + 3n * SEC + 400n * MS)],
    ['1h2m3s4ms5us6ns', HOUR + 2n * MIN + 3n * SEC + 4n * MS + 5n * US + 6n * NS],
    ['39h9m14.425s', 39n * HOUR + 9n * MIN + 14n * SEC + 425n * MS],
    ['52763797000ns', 52763797000n * NS],
    ['0.3333333333333333333h', 20n * MIN],
    ['9007199254740993ns', (1n << 53n) + 1n],
    ['9223372036854775807ns', MAX_NS],
    ['9223372036854775.807us', MAX_NS],
    ['9223372036s854ms775us807ns', MAX_NS],
    ['-9223372036854775808ns', MIN_NS],
    ['-9223372036854775.808us', MIN_NS],
    ['-9223372036s854ms775us808ns', MIN_NS],
    ['-2562047h47m16.854775808s', MIN_NS],
    ['0.100000000000000000000h', 6n * MIN],
    ['0.830103483285477580700h', 49n * MIN + 48n * SEC + 372539827n * NS],
    // Go sums in uint64, so two halves of 2^64 wrap to 0 and the rest still counts
    ['9223372036854775808ns9223372036854775808ns1s', SEC],
  ];
  for (const [text, nanos] of table) assert.is(goParseDuration(text), nanos, text);
});

HTTP("time.ParseDuration: agrees with Go's TestParseDurationErrors table, with Go's messages", () => {
  const table: Array<[string, string]> = [
    ['', 'time: invalid duration ""'],
    ['3', 'time: missing unit in duration "3"'],
    ['-', 'time: invalid duration "-"'],
    ['s', 'time: invalid duration "s"'],
    ['.', 'time: invalid duration "."'],
    ['-.', 'time: invalid duration "-."'],
    ['.s', 'time: invalid duration ".s"'],
    ['+.s', 'time: invalid duration "+.s"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['\uFFFD', 'time: invalid duration "\\xef\\xbf\\xbd"'],
    ['\uFFFD hello \uFFFD world', 'time: invalid duration "\\xef\\xbf\\xbd hello \\xef\\xbf\\xbd world"'],
    ['9223372036854775810ns', 'time: invalid duration "9223372036854775810ns"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['-9223372036854775809ns', 'time: invalid duration "-9223372036854775809ns"'],
    ['9223372036854776us', 'time: invalid duration "9223372036854776us"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
    ['9223372036854775.808us', 'time: invalid duration "9223372036854775.808us"'],
    ['9223372036854ms775us808ns', 'time: invalid duration "9223372036854ms775us808ns"'],
    [' 5s', 'time: invalid duration " 5s"'],
    ['5S', 'time: unknown unit "S" in duration "5S"'],
  ];
  for (const [text, error] of table) assert.is(goParseDuration(text), error, text);
});

HTTP('ValidateDuration: every duration field istiod decodes with jsonpb takes Go durations such as "24h", "1m" and "250ms"', () => {
  clean(
    run(
      vs({
        http: [
          {
            route: to(),
            timeout: '1m',
            retries: { attempts: 2, perTryTimeout: '30s', backoff: '250ms' },
            corsPolicy: { allowOrigins: [{ exact: 'https://example.com' }], maxAge: '24h' },
            fault: { delay: { percentage: { value: 1 }, fixedDelay: '1.5s' } },
          },
        ],
      }),
    ),
  );
});

HTTP('validateCORSPolicy: a negative maxAge is only too short, as jsonpb gives it no positive nanos (MaxAge.Nanos > 0)', () => {
  const r = run(route({ corsPolicy: { maxAge: '-1.5s' } }));
  assert.equal(
    r.errors.filter((e) => e.code === 'EW231').map((e) => e.message),
    ['duration must be greater than 1ms'],
  );
});

HTTP('RE2 checks: rejects what Go rejects and accepts what Go accepts', () => {
  for (const re of ['a(?!b)', '(?<=a)b', '(a)\\1', '\\8', '\\q', '\\u0041', 'a{1001}', '(', '[a', 'a**']) assert.ok(re2Problem(re), re);
  for (const re of [
    '^/api/v[0-9]+$',
    '(?i)abc',
    '(?P<x>a)',
    '\\pL',
    '[[:digit:]]+',
    '\\\\1',
    '\\12',
    '\\(?=',
    '\\Q\\1\\E',
    'a{2,1000}',
    '.*\\.example\\.com',
    '\\-\\#',
  ])
    assert.is(re2Problem(re), undefined, re);
});

HTTP("formats floats as Go's %v does", () => {
  assert.is(goFloat(150), '150');
  assert.is(goFloat(0.5), '0.5');
  assert.is(goFloat(0.00001), '1e-05');
  assert.is(goFloat(1e6), '1e+06');
  assert.is(goFloat(123456), '123456');
});

HTTP('warnings about http routes fit on one line of 120 characters', () => {
  const r = run(
    vs({
      http: [
        { route: to(), fault: { abort: {} }, mirror: { host: 'm' }, mirrorPercent: 5 },
        { match: [{ uri: { prefix: '/a' } }], directResponse: { status: 200, body: { string: 'x'.repeat(200 * 1024) } } },
      ],
    }),
  );
  warns(r, 'EW233');
  for (const w of r.warnings) assert.ok(`[${w.code}] ${w.path}: ${w.message}`.length <= 120, w.message);
});

HTTP.run();
