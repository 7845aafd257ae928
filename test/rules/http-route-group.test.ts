import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import type { Result } from '../../src/catalogue/result.ts';
import { checkItems } from '../../src/check/items.ts';
import { judge } from '../../src/review/validate.ts';
import { PATTERNS_COMPILED, validateHttpRouteGroup } from '../../src/rules/http-route-group.ts';
import { re2Problem, TOO_LARGE } from '../../src/rules/re2.ts';
import { accepts, clean, denies, snapshotWith, warns } from '../support.ts';

const group = (matches: unknown): KubeObject => ({
  apiVersion: 'specs.smi-spec.io/v1alpha4',
  kind: 'HTTPRouteGroup',
  metadata: { name: 'status', namespace: 'shop' },
  spec: { matches },
});
const run = (o: KubeObject): Result => validateHttpRouteGroup(o, { snapshot: snapshotWith(), namespace: 'shop', operation: 'CREATE' });
const match = (fields: Record<string, unknown>) => group([{ name: 'm', ...fields }]);

const Rule = suite('rules/http-route-group');

Rule('accepts a group with RE2 paths, HTTP methods and header matches as OSM reads them', () => {
  clean(
    run(
      group([
        { name: 'status', pathRegex: '/status(/.*)?', methods: ['GET', 'HEAD'] },
        { name: 'any', methods: ['*'] },
        { name: 'agent', pathRegex: '/api/v[0-9]+/.*', headers: { 'user-agent': '.*Android.*', host: 'api\\.example\\.com' } },
        { name: 'bare' },
      ]),
    ),
  );
});

type Case = {
  readonly name: string;
  readonly matches: unknown;
  readonly code: string;
  readonly path: string;
  readonly severity?: 'warning';
};

const cases: readonly Case[] = [
  // OSM's route builder sends pathRegex as a google_re2 safe_regex; Envoy NACKs the route configuration
  // with RE2's error when it does not compile (CompiledGoogleReMatcher).
  {
    name: 'denies a pathRegex with an unclosed group, which Envoy rejects',
    matches: [{ name: 'm', pathRegex: '/status(' }],
    code: 'EW352',
    path: 'spec.matches[0].pathRegex',
  },
  {
    name: 'denies lookahead, which JavaScript accepts and RE2 does not',
    matches: [{ name: 'm', pathRegex: '/api(?=/v1)' }],
    code: 'EW352',
    path: 'spec.matches[0].pathRegex',
  },
  {
    name: 'denies a backreference, which RE2 does not support',
    matches: [{ name: 'm', pathRegex: '/(a+)/\\1' }],
    code: 'EW352',
    path: 'spec.matches[0].pathRegex',
  },
  {
    name: "denies a repeat count above RE2's 1000",
    matches: [{ name: 'm', pathRegex: '/a{1001}' }],
    code: 'EW352',
    path: 'spec.matches[0].pathRegex',
  },
  {
    name: 'denies a pathRegex that is not a string',
    matches: [{ name: 'm', pathRegex: 7 }],
    code: 'EW352',
    path: 'spec.matches[0].pathRegex',
  },
  // Header values are safe_regex header matchers too (getHeadersForRoute).
  {
    name: 'denies a header value RE2 rejects',
    matches: [{ name: 'm', headers: { 'x-tenant': '[a-' } }],
    code: 'EW352',
    path: 'spec.matches[0].headers.x-tenant',
  },
  // OSM's CRD enumerates the methods; OSM matches :method with the method as written.
  {
    name: 'denies a lower-case method, which the CRD enum rejects',
    matches: [{ name: 'm', methods: ['get'] }],
    code: 'EW353',
    path: 'spec.matches[0].methods[0]',
  },
  {
    name: 'denies a method that is not an HTTP method',
    matches: [{ name: 'm', methods: ['GET', 'FETCH'] }],
    code: 'EW353',
    path: 'spec.matches[0].methods[1]',
  },
  { name: 'denies methods that are not a list', matches: [{ name: 'm', methods: 'GET' }], code: 'EW353', path: 'spec.matches[0].methods' },
  // smi-sdk-go v1alpha4 HTTPHeaders is map[string]string, while OSM's CRD declares a list of maps.
  {
    name: 'denies headers written as a list, which OSM cannot decode',
    matches: [{ name: 'm', headers: [{ 'user-agent': '.*' }] }],
    code: 'EW354',
    path: 'spec.matches[0].headers',
  },
  // Envoy's HeaderMatcher.name has min_len 1 and no NUL, CR or LF.
  { name: 'denies an empty header name', matches: [{ name: 'm', headers: { '': '.*' } }], code: 'EW355', path: 'spec.matches[0].headers.' },
  {
    name: 'denies a header name with a line break',
    matches: [{ name: 'm', headers: { 'x-a\nb': '.*' } }],
    code: 'EW355',
    path: 'spec.matches[0].headers.x-a\nb',
  },
  {
    name: 'denies a header value that is not a string',
    matches: [{ name: 'm', headers: { 'x-debug': 1 } }],
    code: 'EW355',
    path: 'spec.matches[0].headers.x-debug',
  },
  {
    name: 'denies headers that are neither a map nor a list',
    matches: [{ name: 'm', headers: 'x-debug' }],
    code: 'EW355',
    path: 'spec.matches[0].headers',
  },
  // OSM's CRD: spec.matches is required, and each match requires a name.
  { name: 'denies a group without spec.matches', matches: undefined, code: 'EW350', path: 'spec.matches' },
  { name: 'denies a match without a name', matches: [{ pathRegex: '/a' }], code: 'EW350', path: 'spec.matches[0].name' },
  { name: 'denies a match that is not an object', matches: ['GET /a'], code: 'EW350', path: 'spec.matches[0]' },
  // buildHTTPRouteConfigs: a group reference replaces the wildcard route, and no match adds no route.
  {
    name: 'warns that a group without matches leaves an Egress that uses it answering 404',
    matches: [],
    code: 'EW351',
    path: 'spec.matches',
    severity: 'warning',
  },
];

for (const c of cases) {
  Rule(c.name, () => {
    const r = run(group(c.matches));
    if (c.severity === 'warning') {
      warns(r, c.code, c.path);
      accepts(r);
    } else {
      denies(r, c.code, c.path);
    }
  });
}

Rule("quotes RE2's own error, the one Envoy reports", () => {
  const r = run(match({ pathRegex: '/status(' }));
  assert.match(r.errors[0]!.message, 'pathRegex "/status(" is not valid RE2 (missing ): /status()');
  assert.match(run(match({ pathRegex: '/x(?=y)' })).errors[0]!.message, 'invalid perl operator: (?=');
});

Rule("accepts RE2 syntax that JavaScript's RegExp rejects or reads differently", () => {
  // \C (any byte), a leading (?i) flag group, \z and POSIX classes are RE2's; RegExp with the u flag
  // rejects all four, and without it reads them as other patterns.
  for (const pathRegex of ['/raw/\\C+', '(?i)/Status', '/end\\z', '/[[:alpha:]]+']) clean(run(match({ pathRegex })));
});

Rule('denies a pattern too large for RE2 and keeps compiling the next ones', () => {
  assert.is(re2Problem('\\pL{1000}'), TOO_LARGE);
  assert.is(re2Problem('/after(/.*)?'), undefined);
  denies(run(match({ pathRegex: '[\\pL\\pN]{1000}' })), 'EW352', 'spec.matches[0].pathRegex');
});

Rule('compiles a bounded number of patterns per object and says how many were left out', () => {
  const matches = Array.from({ length: PATTERNS_COMPILED + 2 }, (_, i) => ({ name: `m${i}`, pathRegex: `/budget/${i}(/.*)?` }));
  const r = run(group(matches));
  assert.is(r.errors.length, 0);
  warns(r, 'EW356', 'spec.matches');
  assert.match(r.warnings[0]!.message, '2 more patterns not compiled');
});

Rule('does not compile a pattern of plain literals', () => {
  const matches = Array.from({ length: PATTERNS_COMPILED + 5 }, (_, i) => ({ name: `m${i}`, pathRegex: `/plain/${i}.html` }));
  clean(run(group(matches)));
});

Rule.run();

// ---

const Engine = suite('rules/http-route-group through the engine and check');

const request = (o: KubeObject): AdmissionRequest =>
  ({
    uid: 'hrg-1',
    kind: { group: 'specs.smi-spec.io', version: 'v1alpha4', kind: 'HTTPRouteGroup' },
    resource: { group: 'specs.smi-spec.io', version: 'v1alpha4', resource: 'httproutegroups' },
    operation: 'CREATE',
    namespace: 'shop',
    name: 'status',
    object: o,
  }) as AdmissionRequest;

Engine('denies an HTTPRouteGroup at admission with the RE2 error', () => {
  const v = judge(request(match({ pathRegex: '/status(' })), snapshotWith());
  assert.not.ok(v.allowed);
  assert.match(v.message!, '[EW352] spec.matches[0].pathRegex: pathRegex "/status(" is not valid RE2 (missing ): /status()');
});

Engine('is judged by check, which used to skip HTTPRouteGroups', () => {
  const item = { object: match({ pathRegex: '/status(' }), file: 'routes.yaml', line: 1, lineOf: () => 1 };
  const report = checkItems([item], snapshotWith(), { namespace: 'default', mode: 'enforce' });
  assert.is(report.summary.objects, 1);
  assert.is(report.summary.skipped, 0);
  assert.equal(
    report.findings.map((f) => [f.kind, f.code, f.path]),
    [['HTTPRouteGroup', 'EW352', 'spec.matches[0].pathRegex']],
  );
});

Engine.run();
