/**
 * Istio's own HTTP-route test tables (pkg/config/validation/validation_test.go and
 * virtualservice_test.go at istio 86c9f01, and the agent/validation_test.go tables of the shared
 * checks a VirtualService reaches), row for row, judged through validateVirtualService:
 * each Go input is written as the stored VirtualService that carries it, and the row's verdict
 * (valid, invalid, and the warning where the Istio row states one) must be istiod's.
 *
 * A Go nil pointer is an absent field; a nil element of a list is a JSON null; a oneof set to
 * its zero value is the field written with that value. Rows a VirtualService never reaches are
 * listed in NOT_REACHED with the reason instead of being dropped.
 *
 * The 17 rows with a null list item or map value (`match: [null]`, `headers: {header: null}`) are
 * what `check` and `audit` read from a file; the API server's schema for the Istio CRD refuses such
 * a null before any validating webhook sees it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import type { Result } from '../../src/catalogue/result.ts';
import { validateVirtualService } from '../../src/rules/virtual-service.ts';
import { fixture, snapshotWith } from '../support.ts';

const Tables = suite('rules/istio-http-tables');

type Spec = Record<string, unknown>;
type Row = {
  /** the Istio test function and row name */
  readonly table: string;
  readonly name: string;
  readonly valid: boolean;
  /** only where the Istio row asserts the warning */
  readonly warning?: boolean;
  readonly obj: () => KubeObject;
};

const base = (): KubeObject => fixture('objects/virtual-service.valid.json');
/** A VirtualService for the mesh (so validateHTTPRoute runs without gateway semantics). */
function vs(spec: Spec): KubeObject {
  const o = base();
  return { ...o, spec: { ...(o.spec as object), http: undefined, tls: undefined, ...spec } };
}
/** validateHTTPRoute(route, false, false): one route of an ordinary VirtualService. */
const http = (route: Spec | null) => vs({ http: [route] });
/** validateHTTPRoute(route, true, false): one route of a delegate VirtualService (no hosts). */
const delegated = (route: Spec) => vs({ hosts: [], http: [route] });
const dest = (host: string, more: Spec = {}) => ({ destination: { host }, ...more });
/** A route to foo.baz carrying `fields`: how a helper's input reaches validateHTTPRoute. */
const routed = (fields: Spec) => http({ route: [dest('foo.baz')], ...fields });

const rows: Row[] = [];
function table(name: string, list: Array<[string, boolean, () => KubeObject, boolean?]>): void {
  for (const [row, valid, obj, warning] of list) rows.push({ table: name, name: row, valid, obj, warning });
}

/** Rows whose function a VirtualService never reaches: they have no stored form to judge. */
const NOT_REACHED: ReadonlyArray<{ table: string; rows: number; why: string }> = [
  {
    table: 'TestStrictValidateHTTPHeaderName',
    rows: 5,
    why: 'ValidateStrictHTTPHeaderName checks RequestAuthentication outputClaimToHeaders only',
  },
  { table: 'TestValidatePortName', rows: 4, why: 'ValidatePortName checks ServiceEntry, Gateway and Sidecar port names only' },
  {
    table: 'TestValidateWildcardDomain',
    rows: 1,
    why: '"*" alone: a VirtualService reaches the function only where another check refuses "*" first (a mesh host, a destination host)',
  },
  {
    table: 'TestValidateWildcardDomainForVirtualServiceBoundToGateway',
    rows: 1,
    why: '"1.1.1.1": an IP is accepted as a host and warned about as an SNI host before the domain check can refuse it',
  },
];

const headerName = (name: string) => routed({ match: [{ headers: { [name]: { exact: 'v' } } }] });
table('TestValidateHTTPHeaderName', [
  ['header1', true, () => headerName('header1')],
  ['X-Requested-With', true, () => headerName('X-Requested-With')],
  [':authority', true, () => headerName(':authority')],
  ['funky!$#_', true, () => headerName('funky!$#_')],
  ['(empty)', false, () => headerName('')],
  ['::', false, () => headerName('::')],
  ['illegal"char', false, () => headerName('illegal"char')],
]);

const cors = (p: Spec) =>
  routed({ corsPolicy: { allowMethods: ['GET', 'POST'], allowHeaders: ['header1', 'header2'], maxAge: '2s', ...p } });
table('TestValidateCORSPolicy', [
  ['valid', true, () => cors({ exposeHeaders: ['header3'] })],
  ['bad method', false, () => cors({ allowMethods: ['GET', 'PUTT'], exposeHeaders: ['header3'] })],
  ['bad header', false, () => cors({ exposeHeaders: [''] })],
  ['bad max age', false, () => cors({ exposeHeaders: ['header3'], maxAge: '2.000000042s' })],
  [
    'empty matchType AllowOrigins',
    false,
    () => cors({ allowOrigins: [{ exact: '' }, { prefix: '' }, { regex: '' }], exposeHeaders: ['header3'] }),
  ],
  [
    'non empty matchType AllowOrigins',
    true,
    () => cors({ allowOrigins: [{ exact: 'exact' }, { prefix: 'prefix' }, { regex: 'regex' }], exposeHeaders: ['header3'] }),
  ],
]);

// validateHTTPStatus is reached through an abort's httpStatus (an int32, so -100 decodes)
const abortStatus = (httpStatus: number) => routed({ fault: { abort: { httpStatus } } });
table('TestValidateHTTPStatus', [
  ['-100', false, () => abortStatus(-100)],
  ['0', false, () => abortStatus(0)],
  ['200', true, () => abortStatus(200)],
  ['600', true, () => abortStatus(600)],
  ['601', false, () => abortStatus(601)],
]);

const abort = (a: Spec | undefined) => routed({ fault: a ? { abort: a } : { delay: { fixedDelay: '1s' } } });
table('TestValidateHTTPFaultInjectionAbort', [
  ['nil', true, () => abort(undefined)],
  ['valid', true, () => abort({ percentage: { value: 20 }, httpStatus: 200 })],
  ['valid default', true, () => abort({ httpStatus: 200 })],
  ['invalid http status', false, () => abort({ percentage: { value: 20 }, httpStatus: 9000 })],
  ['invalid low http status', false, () => abort({ percentage: { value: 20 }, httpStatus: 100 })],
  ['valid percentage', true, () => abort({ percentage: { value: 0.001 }, httpStatus: 200 })],
  ['invalid fractional percent', false, () => abort({ percentage: { value: -10.0 }, httpStatus: 200 })],
  ['grpc: nil', true, () => abort(undefined)],
  ['grpc: valid', true, () => abort({ percentage: { value: 20 }, grpcStatus: 'DEADLINE_EXCEEDED' })],
  ['grpc: valid default percentage', true, () => abort({ grpcStatus: 'DEADLINE_EXCEEDED' })],
  ['grpc: invalid status', false, () => abort({ percentage: { value: 20 }, grpcStatus: 'BAD_STATUS' })],
  ['grpc: valid percentage', true, () => abort({ percentage: { value: 0.001 }, grpcStatus: 'INTERNAL' })],
  ['grpc: invalid fractional percent', false, () => abort({ percentage: { value: -10.0 }, grpcStatus: 'DEADLINE_EXCEEDED' })],
]);

const delay = (d: Spec | undefined) => routed({ fault: d ? { delay: d } : { abort: { httpStatus: 503 } } });
table('TestValidateHTTPFaultInjectionDelay', [
  ['nil', true, () => delay(undefined)],
  ['valid fixed', true, () => delay({ percentage: { value: 20 }, fixedDelay: '3s' })],
  ['valid default', true, () => delay({ fixedDelay: '3s' })],
  ['invalid percent', false, () => delay({ percentage: { value: 101 }, fixedDelay: '3s' })],
  ['invalid delay', false, () => delay({ percentage: { value: 20 }, fixedDelay: '3.000000042s' })],
  ['valid fractional percentage', true, () => delay({ percentage: { value: 0.001 }, fixedDelay: '3s' })],
  ['invalid fractional percentage', false, () => delay({ percentage: { value: -10.0 }, fixedDelay: '3s' })],
]);

const retries = (r: Spec) => routed({ retries: r });
table('TestValidateHTTPRetry', [
  ['valid', true, () => retries({ attempts: 10, perTryTimeout: '2s', retryOn: '5xx,gateway-error' })],
  ['disable retries', true, () => retries({ attempts: 0 })],
  [
    'invalid, retry policy configured but attempts set to zero',
    false,
    () => retries({ attempts: 0, perTryTimeout: '2s', retryOn: '5xx,gateway-error' }),
  ],
  ['valid default', true, () => retries({ attempts: 10 })],
  ['valid http status retryOn', true, () => retries({ attempts: 10, perTryTimeout: '2s', retryOn: '503,connect-failure' })],
  ['invalid attempts', false, () => retries({ attempts: -1, perTryTimeout: '2s' })],
  ['invalid timeout', false, () => retries({ attempts: 10, perTryTimeout: '2.000000001s' })],
  ['timeout too small', false, () => retries({ attempts: 10, perTryTimeout: '0.000000999s' })],
  ['invalid backoff', false, () => retries({ attempts: 10, backoff: '0.000000999s' })],
  ['invalid policy retryOn', false, () => retries({ attempts: 10, perTryTimeout: '2s', retryOn: '5xx,invalid policy' })],
  ['invalid http status retryOn', false, () => retries({ attempts: 10, perTryTimeout: '2s', retryOn: '600,connect-failure' })],
  [
    'invalid, retryRemoteLocalities configured but attempts set to zero',
    false,
    () => retries({ attempts: 0, retryRemoteLocalities: false }),
  ],
]);

const regexRewrite = { match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1' };
const rewrite = (rw: Spec | undefined) => routed(rw ? { rewrite: rw } : {});
table('TestValidateHTTPRewrite', [
  ['nil in', true, () => rewrite(undefined)],
  ['uri and authority', true, () => rewrite({ uri: '/path/to/resource', authority: 'foobar.org' })],
  ['uri', true, () => rewrite({ uri: '/path/to/resource' })],
  ['authority', true, () => rewrite({ authority: 'foobar.org' })],
  ['uriRegexRewrite', true, () => rewrite({ uriRegexRewrite: regexRewrite })],
  ['uriRegexRewrite and authority', true, () => rewrite({ authority: 'foobar.org', uriRegexRewrite: regexRewrite })],
  ['uriRegexRewrite and uri', false, () => rewrite({ uri: '/path/to/resource', uriRegexRewrite: regexRewrite })],
  ['no uri, uriRegexRewrite, or authority', false, () => rewrite({})],
]);

const uriRegexRewrite = (r: Spec | undefined) => rewrite(r ? { uriRegexRewrite: r } : { authority: 'foobar.org' });
table('TestValidateUriRegexRewrite', [
  ['uriRegexRewrite nil', true, () => uriRegexRewrite(undefined)],
  ['uriRegexRewrite happy path', true, () => uriRegexRewrite(regexRewrite)],
  ['uriRegexRewrite missing match', false, () => uriRegexRewrite({ rewrite: '\\2/instance/\\1' })],
  ['uriRegexRewrite missing rewrite', false, () => uriRegexRewrite({ match: '^/service/([^/]+)(/.*)$' })],
  ['uriRegexRewrite invalid regex patterns', false, () => uriRegexRewrite({ match: '[', rewrite: '[' })],
]);

// validateHTTPRedirect(redirect, nil): a redirect route without matches
const redirect = (rd: Spec | undefined) => (rd ? http({ redirect: rd }) : routed({}));
table('TestValidateHTTPRedirect', [
  ['nil redirect', true, () => redirect(undefined)],
  ['empty uri and authority', false, () => redirect({ uri: '', authority: '' })],
  ['too small redirect code', false, () => redirect({ uri: 't', authority: '', redirectCode: 299 })],
  ['too large redirect code', false, () => redirect({ uri: 't', authority: '', redirectCode: 400 })],
  ['empty authority', true, () => redirect({ uri: 't', authority: '' })],
  ['empty uri', true, () => redirect({ uri: '', authority: 't' })],
  ['empty redirect code', true, () => redirect({ uri: 't', authority: 't', redirectCode: 0 })],
  ['normal redirect', true, () => redirect({ uri: 't', authority: 't', redirectCode: 308 })],
  ['prefix_rewrite alone', true, () => redirect({ prefixRewrite: '/bar' })],
  ['prefix_rewrite with authority', true, () => redirect({ authority: 'foo.example.com', prefixRewrite: '/' })],
  ['uri and prefix_rewrite mutually exclusive', false, () => redirect({ uri: '/old', prefixRewrite: '/new' })],
]);

const KB = 1024;
const MB = 1024 * KB;
const directResponse = (dr: Spec | undefined) => (dr ? http({ directResponse: dr }) : routed({}));
const bytes = (n: number) => Buffer.alloc(n, 'a').toString('base64');
table('TestValidateHTTPDirectResponse', [
  ['nil redirect', true, () => directResponse(undefined), false],
  ['status 200', true, () => directResponse({ status: 200 }), false],
  ['status 100', false, () => directResponse({ status: 199 }), false],
  ['status 600', false, () => directResponse({ status: 601 }), false],
  ['with string body', true, () => directResponse({ status: 200, body: { string: 'hello' } }), false],
  ['with string body over 100kb', true, () => directResponse({ status: 200, body: { string: 'a'.repeat(101 * KB) } }), true],
  ['with string body over 1mb', false, () => directResponse({ status: 200, body: { string: 'a'.repeat(2 * MB) } }), false],
  ['with bytes body', true, () => directResponse({ status: 200, body: { bytes: Buffer.from('hello').toString('base64') } }), false],
  ['with bytes body over 100kb', true, () => directResponse({ status: 200, body: { bytes: bytes(100 * KB + 1) } }), true],
  ['with bytes body over 1mb', false, () => directResponse({ status: 200, body: { bytes: bytes(MB + 1) } }), false],
]);

// validateDestination is reached through a route's destination
const destination = (d: Spec) => http({ route: [{ destination: d }] });
table('TestValidateDestination', [
  ['empty', false, () => destination({})],
  ['simple', true, () => destination({ host: 'foo.bar' })],
  ['full', true, () => destination({ host: 'foo.bar', subset: 'shiny', port: { number: 5000 } })],
  ['unnumbered-selector', false, () => destination({ host: 'foo.bar', subset: 'shiny', port: {} })],
]);

const weighted = (a: number, b: number) => [dest('foo.baz.south', { weight: a }), dest('foo.baz.east', { weight: b })];
const headerOps = (side: 'request' | 'response', ops: Spec) => http({ route: [dest('foo.baz', { headers: { [side]: ops } })] });
const allOps = { add: { name: '' }, set: { name: '' }, remove: ['name'] };
const toFooBar = [dest('foo.bar')];
const prefixRedirect = (uri: Spec) => http({ match: [uri], redirect: { prefixRewrite: '/bar' } });
table('TestValidateHTTPRoute', [
  ['empty', false, () => http({})],
  ['simple', true, () => http({ route: [dest('foo.baz')] })],
  ['no destination', false, () => http({ route: [{}] })],
  ['weighted', true, () => http({ route: weighted(25, 75) })],
  ['total weight > 100', true, () => http({ route: weighted(550, 500) })],
  ['total weight < 100', true, () => http({ route: weighted(49, 50) })],
  ['simple redirect', true, () => http({ redirect: { uri: '/lerp', authority: 'foo.biz' } })],
  ['prefix_rewrite redirect with prefix URI match', true, () => prefixRedirect({ uri: { prefix: '/foo' } })],
  ['prefix_rewrite redirect with exact URI match is invalid', false, () => prefixRedirect({ uri: { exact: '/foo' } })],
  ['prefix_rewrite redirect with regex URI match is invalid', false, () => prefixRedirect({ uri: { regex: '/foo.*' } })],
  ['prefix_rewrite redirect with no URI match (wildcard) is valid', true, () => prefixRedirect({ headers: { 'x-foo': { exact: 'bar' } } })],
  ['conflicting redirect and route', false, () => http({ route: [dest('foo.baz')], redirect: { uri: '/lerp', authority: 'foo.biz' } })],
  ['request response headers', true, () => http({ route: [dest('foo.baz')] })],
  ['valid headers', true, () => http({ route: [dest('foo.baz', { headers: { request: allOps, response: allOps } })] })],
  ['empty header name - request add', false, () => headerOps('request', { add: { '': 'value' } })],
  ['empty header name - request set', false, () => headerOps('request', { set: { '': 'value' } })],
  ['empty header name - request remove', false, () => headerOps('request', { remove: [''] })],
  ['empty header name - response add', false, () => headerOps('response', { add: { '': 'value' } })],
  ['empty header name - response set', false, () => headerOps('response', { set: { '': 'value' } })],
  ['empty header name - response remove', false, () => headerOps('response', { remove: [''] })],
  ['envoy escaped % set', true, () => headerOps('response', { set: { 'i-love-istio': '100%%' } })],
  ['envoy variable set', true, () => headerOps('response', { set: { name: '%HOSTNAME%' } })],
  ['envoy unescaped % set', false, () => headerOps('response', { set: { name: 'abcd%oijasodifj' } })],
  ['envoy escaped % add', true, () => headerOps('response', { add: { 'i-love-istio': '100%% and more' } })],
  ['envoy variable add', true, () => headerOps('response', { add: { name: 'hello %HOSTNAME%' } })],
  ['envoy unescaped % add', false, () => headerOps('response', { add: { name: 'abcd%oijasodifj' } })],
  ['null header match', false, () => http({ route: toFooBar, match: [{ headers: { header: null } }] })],
  ['empty prefix header match', false, () => http({ route: toFooBar, match: [{ headers: { emptyprefix: { prefix: '' } } }] })],
  ['nil match', true, () => http({ route: toFooBar })],
  ['match with nil element', true, () => http({ route: toFooBar, match: [null] })],
  ['invalid mirror percent', false, () => http({ mirrorPercent: 101, route: toFooBar, match: [null] })],
  ['invalid mirror percentage', false, () => http({ mirrorPercentage: { value: 101 }, route: toFooBar, match: [null] })],
  ['valid mirror percentage', true, () => http({ mirrorPercentage: { value: 1 }, route: toFooBar, match: [null] })],
  ['negative mirror percentage', false, () => http({ mirrorPercentage: { value: -1 }, route: toFooBar, match: [null] })],
  ['mirrors without destination', false, () => http({ mirrors: [{}], route: toFooBar, match: [null] })],
  [
    'mirrors invalid mirror percentage',
    false,
    () => http({ mirrors: [dest('foo.baz'), dest('foo.baz', { percentage: { value: 101 } })], route: toFooBar, match: [null] }),
  ],
  [
    'mirrors valid mirror percentage',
    true,
    () =>
      http({
        mirrors: [dest('foo.baz', { percentage: { value: 1 } }), dest('foo.baz', { percentage: { value: 50 } })],
        route: toFooBar,
        match: [null],
      }),
  ],
  [
    'mirrors negative mirror percentage',
    false,
    () => http({ mirrors: [dest('foo.baz', { percentage: { value: -1 } })], route: toFooBar, match: [null] }),
  ],
  [
    'conflicting mirror and mirrors',
    false,
    () => http({ mirror: { host: 'foo.baz' }, mirrors: [dest('foo.bar')], route: [dest('foo.baz')] }),
  ],
]);

// validateRouteDestinations is reached through a tcp route
const tcp = (route: unknown[]) => vs({ tcp: [{ route }] });
table('TestValidateRouteDestination', [
  ['simple', true, () => tcp([dest('foo.baz')])],
  ['wildcard dash', true, () => tcp([dest('*-foo.baz')])],
  ['wildcard prefix', true, () => tcp([dest('*foo.baz')])],
  ['wildcard', false, () => tcp([dest('*')])],
  ['bad wildcard', false, () => tcp([dest('foo.*')])],
  ['bad fqdn', false, () => tcp([dest('default/baz')])],
  ['no destination', false, () => tcp([{}])],
  ['weighted', true, () => tcp(weighted(25, 75))],
  ['weight < 0', false, () => tcp(weighted(5, -1))],
  ['total weight > 100', true, () => tcp(weighted(550, 500))],
  ['total weight < 100', true, () => tcp(weighted(49, 50))],
  ['total weight = 100', true, () => tcp(weighted(100, 0))],
  ['weight = 0', true, () => tcp([dest('foo.baz.south', { weight: 0 })])],
  ['total weight = 0 with multi RouteDestination', false, () => tcp(weighted(0, 0))],
]);

// ValidateHTTPHeaderValue is reached through a route's request header operations
const headerValue = (v: string) => routed({ headers: { request: { set: { 'x-value': v } } } });
table('TestValidateHTTPHeaderValue', [
  ['foo', true, () => headerValue('foo')],
  ['%HOSTNAME%', true, () => headerValue('%HOSTNAME%')],
  ['100%%', true, () => headerValue('100%%')],
  ['prefix %HOSTNAME% suffix', true, () => headerValue('prefix %HOSTNAME% suffix')],
  ['%DOWNSTREAM_PEER_CERT_V_END(%b %d %H:%M:%S %Y %Z)%', true, () => headerValue('%DOWNSTREAM_PEER_CERT_V_END(%b %d %H:%M:%S %Y %Z)%')],
  ['%DYNAMIC_METADATA(com.test.my_filter)%', true, () => headerValue('%DYNAMIC_METADATA(com.test.my_filter)%')],
  ['%START_TIME%%', false, () => headerValue('%START_TIME%%')],
  ['abc%123', false, () => headerValue('abc%123')],
]);

const toTest = { name: 'test', namespace: 'test' };
const root = (fields: Spec) => http({ delegate: toTest, ...fields });
const rootMatch = (m: Spec) => root({ match: [m] });
const redirectMatch = (m: Spec) => http({ redirect: { uri: '/', authority: 'foo.biz' }, match: [m] });
table('TestValidateRootHTTPRoute', [
  ['simple', true, () => root({})],
  ['route and delegate conflict', false, () => root({ route: [dest('foo.baz')] })],
  ['redirect and delegate conflict', false, () => root({ redirect: { uri: '/lerp', authority: 'foo.biz' } })],
  ['null header match', false, () => rootMatch({ headers: { header: null } })],
  ['prefix header match', true, () => rootMatch({ headers: { header: { prefix: 'test' } } })],
  ['empty prefix header match (delegate)', false, () => rootMatch({ headers: { header: { prefix: '' } } })],
  ['exact header match', true, () => rootMatch({ headers: { header: { exact: 'test' } } })],
  ['regex header match', true, () => rootMatch({ headers: { header: { regex: 'test' } } })],
  ['exact without headers match', true, () => redirectMatch({ withoutHeaders: { header: { exact: 'test' } } })],
  ['regex without headers match', true, () => redirectMatch({ withoutHeaders: { header: { regex: 'test' } } })],
  ['regex without headers match ?', false, () => redirectMatch({ withoutHeaders: { header: { regex: '?' } } })],
  ['regex without headers match *', true, () => redirectMatch({ withoutHeaders: { header: { regex: '*' } } })],
  ['regex uri match', true, () => rootMatch({ uri: { regex: 'test' } })],
  ['prefix uri match', true, () => rootMatch({ uri: { prefix: 'test' } })],
  ['exact uri match', true, () => rootMatch({ uri: { exact: 'test' } })],
  ['prefix queryParams match', true, () => rootMatch({ queryParams: { q: { prefix: 'test' } } })],
  ['exact queryParams match', true, () => rootMatch({ queryParams: { q: { exact: 'test' } } })],
  ['regex queryParams match', true, () => rootMatch({ headers: { q: { regex: 'test' } } })],
  ['empty prefix match in method', false, () => redirectMatch({ method: { prefix: '' } })],
  ['empty regex match in method', false, () => redirectMatch({ method: { regex: '' } })],
  ['empty prefix match in uri', true, () => redirectMatch({ uri: { prefix: '' } })],
  ['empty regex match in uri', false, () => redirectMatch({ uri: { regex: '' } })],
  ['empty regex match in query', false, () => redirectMatch({ queryParams: { q: { regex: '' } } })],
  ['empty regex match in scheme', false, () => redirectMatch({ scheme: { regex: '' } })],
  ['empty prefix match in scheme', false, () => redirectMatch({ scheme: { prefix: '' } })],
  ['empty prefix header match', false, () => http({ match: [{ headers: { header: { prefix: '' } } }] })],
]);

const delegateOps = (side: 'request' | 'response', ops: Spec) => delegated({ route: [dest('foo.baz', { headers: { [side]: ops } })] });
table('TestValidateDelegateHTTPRoute', [
  ['empty', false, () => delegated({})],
  ['simple', true, () => delegated({ route: [dest('foo.baz')] })],
  ['no destination', false, () => delegated({ route: [{}] })],
  ['weighted', true, () => delegated({ route: weighted(25, 75) })],
  ['total weight > 100', true, () => delegated({ route: weighted(55, 50) })],
  ['total weight < 100', true, () => delegated({ route: weighted(49, 50) })],
  ['simple redirect', true, () => delegated({ redirect: { uri: '/lerp', authority: 'foo.biz' } })],
  [
    'conflicting redirect and route',
    false,
    () => delegated({ route: [dest('foo.baz')], redirect: { uri: '/lerp', authority: 'foo.biz' } }),
  ],
  ['request response headers', true, () => delegated({ route: [dest('foo.baz')] })],
  ['valid headers', true, () => delegated({ route: [dest('foo.baz', { headers: { request: allOps, response: allOps } })] })],
  ['empty header name - request add', false, () => delegateOps('request', { add: { '': 'value' } })],
  ['empty header name - request set', false, () => delegateOps('request', { set: { '': 'value' } })],
  ['empty header name - request remove', false, () => delegateOps('request', { remove: [''] })],
  ['empty header name - response add', false, () => delegateOps('response', { add: { '': 'value' } })],
  ['empty header name - response set', false, () => delegateOps('response', { set: { '': 'value' } })],
  ['empty header name - response remove', false, () => delegateOps('response', { remove: [''] })],
  ['null header match', false, () => delegated({ route: toFooBar, match: [{ headers: { header: null } }] })],
  ['nil match', true, () => delegated({ route: toFooBar })],
  ['match with nil element', true, () => delegated({ route: toFooBar, match: [null] })],
  ['invalid mirror percent', false, () => delegated({ mirrorPercent: 101, route: toFooBar, match: [null] })],
  ['invalid mirror percentage', false, () => delegated({ mirrorPercentage: { value: 101 }, route: toFooBar, match: [null] })],
  ['valid mirror percentage', true, () => delegated({ mirrorPercentage: { value: 1 }, route: toFooBar, match: [null] })],
  ['negative mirror percentage', false, () => delegated({ mirrorPercentage: { value: -1 }, route: toFooBar, match: [null] })],
  ['delegate route with delegate', false, () => delegated({ delegate: toTest })],
]);

table('TestValidateChainingVirtualService', [
  ['root simple', true, () => vs({ hosts: ['foo.bar'], gateways: ['test-gateway'], http: [{ delegate: toTest }] })],
  ['root applies to sidecar with delegate', true, () => vs({ hosts: ['foo.bar'], http: [{ delegate: toTest }] })],
  [
    'root with delegate and destination in one route',
    false,
    () => vs({ hosts: ['foo.bar'], http: [{ delegate: toTest, route: [dest('foo.baz')] }] }),
  ],
  ['delegate with no destination', false, () => vs({ hosts: [], http: [{}] })],
  ['delegate with delegate', false, () => vs({ hosts: [], http: [{ delegate: toTest }] })],
  ['delegate with TCP route', false, () => vs({ hosts: [], tcp: [{ route: [dest('foo.baz')] }] })],
  ['delegate with gateway', false, () => vs({ hosts: [], gateways: ['test'], http: [{ route: [dest('foo.baz')] }] })],
  [
    'delegate with sourceNamespace',
    true,
    () => vs({ hosts: [], http: [{ match: [{ sourceNamespace: 'test' }], route: [dest('foo.baz')] }] }),
  ],
]);

// the whole VirtualService, where istiod's checkValidation asserts the warning of every row
const toFooBaz = [dest('foo.baz')];
const whole = (spec: Spec) => vs({ hosts: ['foo.bar'], ...spec });
const sni = (host: string) => whole({ tls: [{ route: toFooBaz, match: [{ port: 999, sniHosts: [host] }] }] });
table('TestValidateVirtualService', [
  ['simple', true, () => whole({ http: [{ route: toFooBaz }] }), false],
  [
    'allow sni based domains',
    true,
    () =>
      vs({
        hosts: ['outbound_.15010_._.istiod.istio-system.svc.cluster.local'],
        gateways: ['ns1/gateway'],
        tls: [
          {
            match: [{ sniHosts: ['outbound_.15010_._.istiod.istio-system.svc.cluster.local'] }],
            route: [dest('istio.istio-system.svc.cluster.local')],
          },
        ],
      }),
    false,
  ],
  ['duplicate hosts', false, () => whole({ hosts: ['*.foo.bar', '*.bar'], http: [{ route: toFooBaz }] }), false],
  ['with no destination', false, () => whole({ hosts: ['*.foo.bar', '*.bar'], http: [{ route: [{}] }] }), false],
  ['destination with out hosts', false, () => whole({ hosts: ['*.foo.bar', '*.bar'], http: [{ route: [{ destination: {} }] }] }), false],
  ['delegate with no hosts', true, () => vs({ hosts: undefined, http: [{ route: toFooBaz }] }), false],
  ['bad host', false, () => whole({ hosts: ['foo.ba!r'], http: [{ route: toFooBaz }] }), false],
  ['no tcp or http routing', false, () => whole({}), false],
  ['bad gateway', false, () => whole({ gateways: ['b@dgateway'], http: [{ route: toFooBaz }] }), false],
  ['FQDN for gateway', true, () => whole({ gateways: ['gateway.example.com'], http: [{ route: toFooBaz }] }), true],
  ['namespace/name for gateway', true, () => whole({ gateways: ['ns1/gateway'], http: [{ route: toFooBaz }] }), false],
  ['namespace/* for gateway', false, () => whole({ gateways: ['ns1/*'], http: [{ route: toFooBaz }] }), false],
  ['*/name for gateway', false, () => whole({ gateways: ['*/gateway'], http: [{ route: toFooBaz }] }), false],
  ['wildcard for mesh gateway', false, () => whole({ hosts: ['*'], http: [{ route: toFooBaz }] }), false],
  ['wildcard for non-mesh gateway', true, () => whole({ hosts: ['*'], gateways: ['somegateway'], http: [{ route: toFooBaz }] }), false],
  ['missing tcp route', false, () => whole({ tcp: [{ match: [{ port: 999 }] }] }), false],
  ['missing tls route', false, () => whole({ tls: [{ match: [{ port: 999, sniHosts: ['foo.bar'] }] }] }), false],
  ['deprecated mirror', true, () => whole({ gateways: ['ns1/gateway'], http: [{ mirrorPercent: 5, route: toFooBaz }] }), true],
  ['set authority', true, () => whole({ http: [{ headers: { request: { set: { ':authority': 'foo' } } }, route: toFooBaz }] }), false],
  [
    'set authority in destination',
    true,
    () => whole({ http: [{ route: [dest('foo.baz', { headers: { request: { set: { ':authority': 'foo' } } } })] }] }),
    false,
  ],
  [
    'set authority in rewrite and header',
    false,
    () => whole({ http: [{ headers: { request: { set: { ':authority': 'foo' } } }, rewrite: { authority: 'bar' }, route: toFooBaz }] }),
    false,
  ],
  [
    'non-method-get',
    true,
    () =>
      whole({
        http: [
          {
            route: toFooBaz,
            match: [{ uri: { prefix: '/api/v1/product' } }, { uri: { prefix: '/api/v1/products' }, method: { exact: 'GET' } }],
          },
        ],
      }),
    true,
  ],
  [
    'uri-with-prefix-exact',
    true,
    () => whole({ http: [{ route: toFooBaz, match: [{ uri: { prefix: '/' } }, { uri: { exact: '/' }, method: { exact: 'GET' } }] }] }),
    false,
  ],
  [
    'jwt claim route without gateway',
    false,
    () =>
      whole({
        gateways: ['mesh'],
        http: [{ route: toFooBaz, match: [{ uri: { prefix: '/' }, headers: { '@request.auth.claims.foo': { exact: 'bar' } } }] }],
      }),
    false,
  ],
  ['ip address as sni host', true, () => sni('1.1.1.1'), true],
  ['invalid wildcard as sni host', false, () => sni('foo.*.com'), false],
]);

// agent/validation_test.go: the shared checks a VirtualService reaches

// agent.ValidatePort is reached through a destination's port selector (validatePortSelector)
const destPort = (number: number) => http({ route: [{ destination: { host: 'foo.bar', port: { number } } }] });
table('TestValidatePort', [
  ['0', false, () => destPort(0)],
  ['65536', false, () => destPort(65536)],
  ['-1', false, () => destPort(-1)],
  ['100', true, () => destPort(100)],
  ['1000', true, () => destPort(1000)],
  ['65535', true, () => destPort(65535)],
]);

// agent.ValidateDuration is reached through the route timeout; a Go Duration whose seconds and
// nanos differ in sign is written as the length AsDuration makes of it
const timeout = (t: string) => routed({ timeout: t });
table('TestValidateDuration', [
  ['{Seconds: 1}', true, () => timeout('1s')],
  ['{Seconds: 1, Nanos: -1}', false, () => timeout('0.999999999s')],
  ['{Seconds: -11, Nanos: -1}', false, () => timeout('-11.000000001s')],
  ['{Nanos: 1}', false, () => timeout('0.000000001s')],
  ['{Seconds: 1, Nanos: 1}', false, () => timeout('1.000000001s')],
]);

// agent.ValidateFQDN is reached through a gateway named without a namespace (validateGatewayNames)
const gateway = (name: string) => vs({ gateways: [name], http: [{ route: [dest('foo.baz')] }] });
table('TestValidateFQDN', [
  ['long FQDN', false, () => gateway('x'.repeat(256))],
  ['empty FQDN', false, () => gateway('')],
  ['standard FQDN', true, () => gateway('istio.io')],
  ['unambiguous FQDN', true, () => gateway('istio.io.')],
  ['standard kubernetes FQDN', true, () => gateway('istio-pilot.istio-system.svc.cluster.local')],
  ['unambiguous kubernetes FQDN', true, () => gateway('istio-pilot.istio-system.svc.cluster.local.')],
]);

// agent.ValidateWildcardDomain is reached through a destination host (validateDestination)
const destHost = (host: string) => http({ route: [dest(host)] });
table('TestValidateWildcardDomain', [
  ['empty', false, () => destHost('')],
  ['too long', false, () => destHost('x'.repeat(256))],
  ['happy', true, () => destHost('x'.repeat(63))],
  ['wildcard multi-segment', true, () => destHost('*.bar.com')],
  ['wildcard single segment', true, () => destHost('*foo')],
  ['wildcard prefix', true, () => destHost('*foo.bar.com')],
  ['wildcard prefix dash', true, () => destHost('*-foo.bar.com')],
  ['bad wildcard foo.*.com', false, () => destHost('foo.*.com')],
  ['bad wildcard foo*.bar.com', false, () => destHost('foo*.bar.com')],
  ['IP address', false, () => destHost('1.1.1.1')],
]);

// agent.ValidateWildcardDomainForVirtualServiceBoundToGateway is reached through the hosts of a
// VirtualService bound to a gateway; `sni` adds a tls route that matches the host by SNI
const bound = (host: string, sni: boolean) =>
  vs({
    hosts: [host],
    gateways: ['ns1/gateway'],
    ...(sni ? { tls: [{ match: [{ sniHosts: [host] }], route: [dest('foo.baz')] }] } : { http: [{ route: [dest('foo.baz')] }] }),
  });
table('TestValidateWildcardDomainForVirtualServiceBoundToGateway', [
  ['empty', false, () => bound('', false)],
  ['too long', false, () => bound('x'.repeat(256), false)],
  ['happy', true, () => bound('x'.repeat(63), false)],
  ['wildcard', true, () => bound('*', false)],
  ['wildcard multi-segment', true, () => bound('*.bar.com', false)],
  ['wildcard single segment', true, () => bound('*foo', false)],
  ['wildcard prefix', true, () => bound('*foo.bar.com', false)],
  ['wildcard prefix dash', true, () => bound('*-foo.bar.com', false)],
  ['bad wildcard foo.*.com', false, () => bound('foo.*.com', false)],
  ['bad wildcard foo*.bar.com', false, () => bound('foo*.bar.com', false)],
  ['SNI domain', true, () => bound('outbound_.80_._.e2e.foobar.mesh', true)],
  ['happy outbound.com', true, () => bound('outbound.com', true)],
  ['invalid SNI domain neverbound_', false, () => bound('neverbound_.80_._.e2e.foobar.mesh', true)],
  ['invalid SNI domain thisIsNotAPort', false, () => bound('outbound_.thisIsNotAPort_._.e2e.foobar.mesh', true)],
  ['invalid SNI domain outbound_.80_._', false, () => bound('outbound_.80_._', true)],
]);

// agent.ValidateIPSubnet, and ValidateIPAddress under it, are reached through a tcp match's destinationSubnets
const subnet = (s: string) => vs({ tcp: [{ match: [{ destinationSubnets: [s] }], route: [dest('foo.baz')] }] });
table('TestValidationIPSubnet', [
  ['valid ipv4 subnet', true, () => subnet('1.1.1.1/24')],
  ['invalid ipv4 subnet', false, () => subnet('1.1.1.1/48')],
  ['valid ipv6 subnet', true, () => subnet('2001:1::1/64')],
  ['invalid ipv6 subnet', false, () => subnet('2001:1::1/132')],
]);
table('TestValidationIPAddress', [
  ['valid ipv4 address', true, () => subnet('1.1.1.1')],
  ['invalid ipv4 address', false, () => subnet('1.1.A.1')],
  ['valid ipv6 subnet', true, () => subnet('2001:1::1')],
  ['invalid ipv6 address', false, () => subnet('2001:1:G::1')],
]);

const run = (o: KubeObject): Result => validateVirtualService(o, { snapshot: snapshotWith(), namespace: 'shop', operation: 'CREATE' });
const show = (r: Result) => JSON.stringify([...r.errors, ...r.warnings].map((i) => `[${i.code}] ${i.path}: ${i.message}`));
/** istiod's warnings are the VirtualService's own codes; EW4xx are this project's cross-object checks. */
const istioWarning = (r: Result) => r.warnings.some((w) => w.code.startsWith('EW2'));

for (const row of rows) {
  const verdict = row.valid ? (row.warning ? 'accepts with a warning' : 'accepts') : 'denies';
  Tables(`${row.table}: ${verdict} "${row.name}" as istiod does`, () => {
    const r = run(row.obj());
    assert.is(r.errors.length === 0, row.valid, show(r));
    if (row.warning !== undefined) assert.is(istioWarning(r), row.warning, show(r));
  });
}

Tables('every row of the tables is ported or listed as not reached by a VirtualService', () => {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.table, (counts.get(row.table) ?? 0) + 1);
  assert.equal(Object.fromEntries(counts), {
    TestValidateHTTPHeaderName: 7,
    TestValidateCORSPolicy: 6,
    TestValidateHTTPStatus: 5,
    TestValidateHTTPFaultInjectionAbort: 13,
    TestValidateHTTPFaultInjectionDelay: 7,
    TestValidateHTTPRetry: 12,
    TestValidateHTTPRewrite: 8,
    TestValidateUriRegexRewrite: 5,
    TestValidateHTTPRedirect: 11,
    TestValidateHTTPDirectResponse: 10,
    TestValidateDestination: 4,
    TestValidateHTTPRoute: 39,
    TestValidateRouteDestination: 14,
    TestValidateHTTPHeaderValue: 8,
    TestValidateRootHTTPRoute: 26,
    TestValidateDelegateHTTPRoute: 24,
    TestValidateChainingVirtualService: 8,
    TestValidateVirtualService: 26,
    TestValidatePort: 6,
    TestValidateDuration: 5,
    TestValidateFQDN: 6,
    TestValidateWildcardDomain: 10,
    TestValidateWildcardDomainForVirtualServiceBoundToGateway: 15,
    TestValidationIPSubnet: 4,
    TestValidationIPAddress: 4,
  });
  assert.is(
    NOT_REACHED.reduce((n, t) => n + t.rows, 0),
    11,
  );
});

Tables.run();
