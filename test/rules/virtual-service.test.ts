import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject, ObjectMeta } from '../../src/admission/types.ts';
import { CODES } from '../../src/catalogue/findings.ts';
import type { Result } from '../../src/catalogue/result.ts';
import { hostSubsetOf, hostsOverlap } from '../../src/rules/fields.ts';
import { validateVirtualService } from '../../src/rules/virtual-service.ts';
import { accepts, clean, denies, fixture, snapshotWith, warns, messageOf, without, ruleCases, type RuleCase } from '../support.ts';

const VS = suite('rules/virtual-service');

const base = (): KubeObject => fixture('objects/virtual-service.valid.json');
function vs(spec: Record<string, unknown>, meta: Partial<ObjectMeta> = {}): KubeObject {
  const o = base();
  return { ...o, metadata: { ...o.metadata, ...meta }, spec: { ...(o.spec as object), ...spec } };
}
const run = (o: KubeObject): Result => validateVirtualService(o, { snapshot: snapshotWith(), namespace: 'shop', operation: 'CREATE' });

const message = messageOf;

const dest = (host = 'httpbin.org', port = 443) => ({ destination: { host, port: { number: port } } });
/** A tls route for httpbin.org:443 with the given match fields. */
const tlsRoute = (match: Record<string, unknown> = {}, route: unknown[] = [dest()]) => ({
  match: [{ port: 443, sniHosts: ['httpbin.org'], ...match }],
  route,
});
const tcpRoute = (match?: Record<string, unknown>, route: unknown[] = [dest('db.example.com', 5432)]) => ({
  ...(match ? { match: [match] } : {}),
  route,
});
const tlsOnly = (...routes: unknown[]) => vs({ http: undefined, tls: routes });

type Case = RuleCase;

const cases: Case[] = [
  {
    it: 'denies the istio.io/dry-run annotation',
    code: 'EW201',
    verdict: 'denies',
    path: 'metadata.annotations[istio.io/dry-run]',
    obj: () => vs({}, { annotations: { 'istio.io/dry-run': 'true' } }),
  },
  { it: 'accepts ordinary annotations', code: 'EW201', verdict: 'passes', obj: () => vs({}, { annotations: { team: 'shop' } }) },

  // delegates and gateways
  {
    it: 'denies a tls route on a delegate VirtualService',
    code: 'EW202',
    verdict: 'denies',
    path: 'spec.tls',
    obj: () => vs({ hosts: [] }),
    message: 'delegate virtual service must have no tls route specified',
  },
  {
    it: 'denies gateways on a delegate VirtualService',
    code: 'EW202',
    verdict: 'denies',
    path: 'spec.gateways',
    obj: () => vs({ hosts: [], tls: undefined, gateways: ['istio-system/egress'] }),
  },
  {
    it: 'accepts a delegate VirtualService with http routes only',
    code: 'EW202',
    verdict: 'passes',
    obj: () => vs({ hosts: [], tls: undefined }),
  },
  {
    it: 'denies a gateway reference with an empty name',
    code: 'EW203',
    verdict: 'denies',
    path: 'spec.gateways[0]',
    obj: () => vs({ gateways: ['istio-system/'] }),
    message: 'config namespace and gateway name cannot be empty',
  },
  {
    it: 'denies a gateway reference whose namespace is not a DNS label',
    code: 'EW203',
    verdict: 'denies',
    obj: () => vs({ gateways: ['istio_system/egress'] }),
    message: 'invalid value for namespace: "istio_system"',
  },
  {
    it: 'accepts namespace/name gateway references and mesh',
    code: 'EW203',
    verdict: 'passes',
    obj: () => vs({ gateways: ['istio-system/egressgateway', 'mesh'] }),
  },
  {
    it: 'stops checking gateways after "mesh", like istiod',
    code: 'EW203',
    verdict: 'passes',
    obj: () => vs({ gateways: ['mesh', 'bad_ns/x'] }),
  },
  {
    it: 'warns about a legacy name.namespace gateway reference, suggesting the new form',
    code: 'EW204',
    verdict: 'warns',
    path: 'spec.gateways[0]',
    obj: () => vs({ gateways: ['egressgateway.istio-system'] }),
    message: 'legacy gateway name "egressgateway.istio-system"; prefer "istio-system/egressgateway"',
  },
  {
    it: 'warns about a legacy gateway reference in a tls match (validateTLSMatch keeps the warning)',
    code: 'EW204',
    verdict: 'warns',
    path: 'spec.tls[0].match[0].gateways[0]',
    obj: () => tlsOnly(tlsRoute({ gateways: ['egress.istio-system'] })),
  },
  {
    it: 'does not warn about a legacy gateway reference in a tcp match (validateTCPMatch drops it)',
    code: 'EW204',
    verdict: 'passes',
    obj: () => vs({ tls: undefined, tcp: [tcpRoute({ gateways: ['egress.istio-system'] })] }),
  },
  {
    it: 'does not warn about namespace/name gateway references',
    code: 'EW204',
    verdict: 'passes',
    obj: () => vs({ gateways: ['istio-system/egressgateway'] }),
  },

  // hosts
  {
    it: 'denies a host that is not a domain name',
    code: 'EW205',
    verdict: 'denies',
    path: 'spec.hosts[0]',
    obj: () => vs({ hosts: ['httpbin_org'] }),
    message: 'domain name "httpbin_org" invalid (label "httpbin_org" invalid)',
  },
  {
    it: 'accepts IP addresses and short names as hosts',
    code: 'EW205',
    verdict: 'passes',
    obj: () => vs({ hosts: ['httpbin.org', '10.0.0.1', 'reviews'] }),
  },
  {
    it: 'accepts Envoy auto-passthrough SNI names as hosts of a gateway-bound VirtualService',
    code: 'EW205',
    verdict: 'passes',
    obj: () =>
      vs({
        gateways: ['istio-system/egress'],
        hosts: ['outbound_.443_._.httpbin.org'],
        http: undefined,
        tls: [tlsRoute({ sniHosts: ['outbound_.443_._.httpbin.org'] })],
      }),
  },
  {
    it: 'denies auto-passthrough SNI names as hosts of a mesh VirtualService',
    code: 'EW205',
    verdict: 'denies',
    obj: () =>
      vs({ hosts: ['outbound_.443_._.httpbin.org'], http: undefined, tls: [tlsRoute({ sniHosts: ['outbound_.443_._.httpbin.org'] })] }),
  },
  {
    it: 'denies the host "*" on a mesh VirtualService',
    code: 'EW206',
    verdict: 'denies',
    path: 'spec.hosts[0]',
    obj: () => vs({ hosts: ['*'], tls: undefined }),
    message: 'wildcard host * is not allowed for virtual services bound to the mesh gateway',
  },
  {
    it: 'accepts the host "*" on a gateway-bound VirtualService',
    code: 'EW206',
    verdict: 'passes',
    obj: () => vs({ hosts: ['*'], tls: undefined, gateways: ['istio-system/ingress'] }),
  },
  {
    it: 'denies hosts that overlap through a wildcard',
    code: 'EW207',
    verdict: 'denies',
    path: 'spec.hosts[1]',
    obj: () => vs({ hosts: ['*.example.com', 'api.example.com'], tls: undefined }),
    message: 'duplicate hosts in virtual service: *.example.com & api.example.com',
  },
  {
    it: 'accepts distinct hosts',
    code: 'EW207',
    verdict: 'passes',
    obj: () => vs({ hosts: ['httpbin.org', 'api.example.com'], tls: undefined }),
  },
  {
    it: 'denies a VirtualService without http, tcp or tls',
    code: 'EW208',
    verdict: 'denies',
    path: 'spec',
    obj: () => vs({ http: undefined, tls: undefined }),
    message: 'http, tcp or tls must be provided in virtual service',
  },
  {
    it: 'accepts a VirtualService with only tcp routes',
    code: 'EW208',
    verdict: 'passes',
    obj: () => vs({ http: undefined, tls: undefined, tcp: [tcpRoute()] }),
  },

  // tls routes
  {
    it: 'denies a tls route without match',
    code: 'EW209',
    verdict: 'denies',
    path: 'spec.tls[0].match',
    obj: () => tlsOnly({ route: [dest()] }),
    message: 'TLS route must have at least one match condition',
  },
  { it: 'accepts a tls route with a match', code: 'EW209', verdict: 'passes', obj: () => tlsOnly(tlsRoute()) },
  {
    it: 'denies a null tls match',
    code: 'EW210',
    verdict: 'denies',
    path: 'spec.tls[0].match[0]',
    obj: () => tlsOnly({ match: [null], route: [dest()] }),
    message: 'TLS match may not be null',
  },
  {
    it: 'denies a null tcp match',
    code: 'EW210',
    verdict: 'denies',
    path: 'spec.tcp[0].match[0]',
    obj: () => vs({ tls: undefined, tcp: [{ match: [null], route: [dest('db.example.com', 5432)] }] }),
    message: 'tcp match may not be nil',
  },
  { it: 'accepts a tcp route without match', code: 'EW210', verdict: 'passes', obj: () => vs({ tls: undefined, tcp: [tcpRoute()] }) },
  {
    it: 'denies a tls match without sniHosts',
    code: 'EW211',
    verdict: 'denies',
    path: 'spec.tls[0].match[0].sniHosts',
    obj: () => tlsOnly({ match: [{ port: 443 }], route: [dest()] }),
    message: 'TLS match must have at least one SNI host: add sniHosts with the server names the route is for',
  },
  { it: 'accepts a tls match with sniHosts', code: 'EW211', verdict: 'passes', obj: () => tlsOnly(tlsRoute()) },
  {
    it: 'warns about an IP address as SNI host, without checking it against the hosts',
    code: 'EW212',
    verdict: 'warns',
    path: 'spec.tls[0].match[0].sniHosts[0]',
    obj: () => tlsOnly(tlsRoute({ sniHosts: ['203.0.113.9'] })),
    message: '"203.0.113.9" is an IP address: against the SNI spec, few clients send it',
  },
  { it: 'does not warn about a domain SNI host', code: 'EW212', verdict: 'passes', obj: () => tlsOnly(tlsRoute()) },
  {
    it: 'denies an SNI host that is not a domain name',
    code: 'EW213',
    verdict: 'denies',
    path: 'spec.tls[0].match[0].sniHosts[0]',
    obj: () => tlsOnly(tlsRoute({ sniHosts: ['httpbin_org'] })),
  },
  {
    it: 'accepts a wildcard SNI host under a wildcard host',
    code: 'EW213',
    verdict: 'passes',
    obj: () => vs({ hosts: ['*.httpbin.org'], http: undefined, tls: [tlsRoute({ sniHosts: ['*.eu.httpbin.org'] })] }),
  },
  {
    it: 'denies an SNI host outside the VirtualService hosts',
    code: 'EW214',
    verdict: 'denies',
    path: 'spec.tls[0].match[0].sniHosts[0]',
    obj: () => vs({ hosts: ['httpbin.org', 'api.example.com'], http: undefined, tls: [tlsRoute({ sniHosts: ['www.google.com'] })] }),
    message: 'SNI host "www.google.com" is not a compatible subset of any of the virtual service hosts: [httpbin.org, api.example.com]',
  },
  {
    it: 'denies a wildcard SNI host under a concrete host',
    code: 'EW214',
    verdict: 'denies',
    obj: () => tlsOnly(tlsRoute({ sniHosts: ['*.httpbin.org'] })),
  },
  {
    it: 'denies a short host name that would expand to the SNI host (no expansion, like istiod)',
    code: 'EW214',
    verdict: 'denies',
    obj: () => vs({ hosts: ['reviews'], http: undefined, tls: [tlsRoute({ sniHosts: ['reviews.default.svc.cluster.local'] })] }),
  },
  {
    it: 'accepts an SNI host under a wildcard host',
    code: 'EW214',
    verdict: 'passes',
    obj: () => vs({ hosts: ['*.httpbin.org'], http: undefined, tls: [tlsRoute({ sniHosts: ['eu.httpbin.org'] })] }),
  },
  {
    it: 'denies a destinationSubnets entry that is not a CIDR',
    code: 'EW215',
    verdict: 'denies',
    path: 'spec.tls[0].match[0].destinationSubnets[0]',
    obj: () => tlsOnly(tlsRoute({ destinationSubnets: ['10.0.0.0/33'] })),
    message: '10.0.0.0/33 is not a valid CIDR block',
  },
  {
    it: 'accepts destinationSubnets of CIDRs and IPs',
    code: 'EW215',
    verdict: 'passes',
    obj: () => tlsOnly(tlsRoute({ destinationSubnets: ['10.0.0.0/8', '203.0.113.9'] })),
  },
  {
    it: 'denies a match port out of range',
    code: 'EW216',
    verdict: 'denies',
    path: 'spec.tls[0].match[0].port',
    obj: () => tlsOnly(tlsRoute({ port: 70000 })),
    message: 'port number 70000 must be in the range 1..65535',
  },
  {
    it: 'denies a tcp match port out of range',
    code: 'EW216',
    verdict: 'denies',
    path: 'spec.tcp[0].match[0].port',
    obj: () => vs({ tls: undefined, tcp: [tcpRoute({ port: 65536 })] }),
  },
  { it: 'accepts a match without port', code: 'EW216', verdict: 'passes', obj: () => tlsOnly(tlsRoute({ port: undefined })) },
  {
    it: 'denies invalid match sourceLabels',
    code: 'EW217',
    verdict: 'denies',
    path: 'spec.tls[0].match[0].sourceLabels',
    obj: () => tlsOnly(tlsRoute({ sourceLabels: { app: 'bad value' } })),
    message: 'invalid tag value: "bad value"',
  },
  {
    it: 'denies an invalid gateway reference in a match',
    code: 'EW217',
    verdict: 'denies',
    path: 'spec.tls[0].match[0].gateways[0]',
    obj: () => tlsOnly(tlsRoute({ gateways: ['bad_ns/egress'] })),
  },
  {
    it: 'accepts valid sourceLabels and match gateways',
    code: 'EW217',
    verdict: 'passes',
    obj: () => tlsOnly(tlsRoute({ sourceLabels: { app: 'shop' }, gateways: ['mesh'] })),
  },
  {
    it: 'denies a tls route without destinations',
    code: 'EW218',
    verdict: 'denies',
    path: 'spec.tls[0].route',
    obj: () => tlsOnly(tlsRoute({}, [])),
    message: 'TLS route is required',
  },
  {
    it: 'denies a tcp route without destinations',
    code: 'EW218',
    verdict: 'denies',
    path: 'spec.tcp[0].route',
    obj: () => vs({ tls: undefined, tcp: [{ route: [] }] }),
    message: 'TCP route is required',
  },
  { it: 'accepts tls and tcp routes with destinations', code: 'EW218', verdict: 'passes', obj: () => vs({ tcp: [tcpRoute()] }) },
  {
    it: 'denies a null route destination',
    code: 'EW219',
    verdict: 'denies',
    path: 'spec.tls[0].route[0]',
    obj: () => tlsOnly(tlsRoute({}, [null])),
    message: 'weight may not be nil',
  },
  {
    it: 'denies a route entry without destination',
    code: 'EW219',
    verdict: 'denies',
    path: 'spec.tls[0].route[0].destination',
    obj: () => tlsOnly(tlsRoute({}, [{ weight: 100 }])),
    message: 'destination is required',
  },
  {
    it: 'denies a negative weight',
    code: 'EW219',
    verdict: 'denies',
    path: 'spec.tls[0].route[0].weight',
    obj: () => tlsOnly(tlsRoute({}, [{ ...dest(), weight: -1 }])),
    message: 'weight -1 < 0',
  },
  {
    it: 'denies several destinations that all weigh zero',
    code: 'EW219',
    verdict: 'denies',
    path: 'spec.tls[0].route',
    obj: () => tlsOnly(tlsRoute({}, [dest(), dest('eu.httpbin.org')])),
    message: 'total destination weight = 0',
  },
  {
    it: 'accepts one destination without weight and weighted splits',
    code: 'EW219',
    verdict: 'passes',
    obj: () =>
      vs({
        tls: [tlsRoute({}, [dest()])],
        tcp: [
          tcpRoute(undefined, [
            { ...dest('a.example.com'), weight: 90 },
            { ...dest('b.example.com'), weight: 10 },
          ]),
        ],
      }),
  },
  {
    it: 'denies the destination host "*"',
    code: 'EW220',
    verdict: 'denies',
    path: 'spec.tls[0].route[0].destination.host',
    obj: () => tlsOnly(tlsRoute({}, [{ destination: { host: '*' } }])),
    message: 'invalid destination host *',
  },
  {
    it: 'denies a destination subset that is not a DNS label',
    code: 'EW220',
    verdict: 'denies',
    path: 'spec.tls[0].route[0].destination.subset',
    obj: () => tlsOnly(tlsRoute({}, [{ destination: { host: 'httpbin.org', subset: 'v1_eu' } }])),
    message: 'subset name is invalid: v1_eu',
  },
  {
    it: 'denies a destination port out of range',
    code: 'EW220',
    verdict: 'denies',
    path: 'spec.tls[0].route[0].destination.port.number',
    obj: () => tlsOnly(tlsRoute({}, [{ destination: { host: 'httpbin.org', port: { number: 0 } } }])),
  },
  {
    it: 'accepts a destination with host, subset and port',
    code: 'EW220',
    verdict: 'passes',
    obj: () => tlsOnly(tlsRoute({}, [{ destination: { host: 'httpbin.org', subset: 'v1', port: { number: 443 } } }])),
  },

  // exportTo
  {
    it: 'denies exportTo "~" on a VirtualService',
    code: 'EW221',
    verdict: 'denies',
    path: 'spec.exportTo[0]',
    obj: () => vs({ exportTo: ['~'] }),
    message: 'exportTo ~ (none) is not allowed for Istio configuration objects',
  },
  {
    it: 'denies a repeated exportTo entry',
    code: 'EW221',
    verdict: 'denies',
    obj: () => vs({ exportTo: ['billing', 'billing'] }),
    message: 'duplicate entries in exportTo for entry billing',
  },
  { it: 'accepts exportTo "." and "*"', code: 'EW221', verdict: 'passes', obj: () => vs({ exportTo: ['.'] }) },

  // unreachable rules
  {
    it: 'warns about a tcp rule after a rule without matches',
    code: 'EW222',
    verdict: 'warns',
    path: 'spec.tcp[1]',
    obj: () => vs({ tls: undefined, tcp: [tcpRoute(), tcpRoute()] }),
    message: 'virtualService rule #1 not used (only the last rule can have no matches)',
  },
  {
    it: 'warns about a tls match repeated from an earlier rule',
    code: 'EW222',
    verdict: 'warns',
    path: 'spec.tls[1].match[0]',
    obj: () => tlsOnly(tlsRoute(), tlsRoute()),
    message: 'virtualService rule #1 match #0 is not used (duplicate/overlapping match in rule #0)',
  },
  {
    it: 'warns about a tls rule whose matches all repeat earlier ones',
    code: 'EW222',
    verdict: 'warns',
    path: 'spec.tls[1]',
    obj: () => tlsOnly({ match: [{ sniHosts: ['httpbin.org'], port: 443 }], route: [dest()] }, tlsRoute()),
  },
  {
    it: 'warns about a rule with matches after a rule without matches',
    code: 'EW222',
    verdict: 'warns',
    path: 'spec.tcp[1]',
    obj: () => vs({ tls: undefined, tcp: [tcpRoute(), tcpRoute({ port: 5432 })] }),
    message: 'virtualService rule #1 not used (route without matches defined before)',
  },
  {
    it: 'does not warn about distinct matches',
    code: 'EW222',
    verdict: 'passes',
    obj: () => tlsOnly(tlsRoute(), tlsRoute({ port: 8443 })),
  },
];

ruleCases(VS, cases, run);

VS('accepts the canonical fixture with no findings', () => {
  clean(run(base()));
});

VS('accepts the VirtualService the API server sent in the recorded review', () => {
  const review = fixture<{ review: { request: { object: KubeObject } } }>('reviews/008-validate-create-virtualservice.review-v1.json');
  clean(run(review.review.request.object));
});

VS('stops at a rejected annotation, reporting nothing else', () => {
  const r = run(vs({ hosts: [], tls: undefined, http: undefined }, { annotations: { 'internal.istio.io/parent-namespace': 'x' } }));
  assert.equal(
    r.errors.map((e) => e.code),
    ['EW201'],
  );
});

VS('skips the duplicate-host check when a host is invalid, like istiod', () => {
  const r = run(vs({ hosts: ['*', '*.example.com'], tls: undefined }));
  denies(r, 'EW206');
  without(r, 'EW207');
});

VS('survives malformed specs without throwing', () => {
  for (const spec of [
    null,
    7,
    { hosts: 'x', tls: 'y' },
    { hosts: [null], tls: [1, { match: 'x', route: [7] }], tcp: [null, { match: [1] }] },
  ]) {
    const r = run({ ...base(), spec });
    assert.ok(r.errors.length > 0);
  }
});

/** What the API server sends for `{"toString": 1}`: String() and template literals throw on it. */
const odd = (): unknown => JSON.parse('{"toString":1,"valueOf":1}');

VS('reports fields holding objects, even ones with their own toString, instead of failing', () => {
  const r = run(
    vs({
      hosts: ['httpbin.org', odd()],
      gateways: [odd()],
      http: undefined,
      tls: [
        {
          match: [{ port: odd(), sniHosts: [odd()], destinationSubnets: [odd()], sourceLabels: { app: odd() }, gateways: [odd()] }],
          route: [{ destination: { host: odd(), subset: odd(), port: { number: odd() } }, weight: odd() }],
        },
      ],
    }),
  );
  const says = (path: string) => r.errors.filter((e) => e.path === path).map((e) => `[${e.code}] ${e.message}`);
  assert.equal(says('spec.hosts[1]'), ['[EW205] host must be a string, got an object']);
  assert.equal(says('spec.gateways[0]'), ['[EW203] gateway must be a string, got an object']);
  const m = 'spec.tls[0].match[0]';
  assert.equal(says(`${m}.port`), ['[EW216] port number must be an integer, got an object']);
  assert.equal(says(`${m}.sniHosts[0]`), ['[EW213] SNI host must be a string, got an object']);
  assert.equal(says(`${m}.destinationSubnets[0]`), ['[EW215] destination subnet must be a string, got an object']);
  assert.equal(says(`${m}.sourceLabels`), ['[EW217] invalid tag value for "app": must be a string, got an object']);
  assert.equal(says(`${m}.gateways[0]`), ['[EW217] gateway must be a string, got an object']);
  const d = 'spec.tls[0].route[0]';
  assert.equal(says(`${d}.destination.host`), ['[EW220] destination host must be a string, got an object']);
  assert.equal(says(`${d}.destination.subset`), ['[EW220] subset name must be a string, got an object']);
  assert.equal(says(`${d}.destination.port.number`), ['[EW220] port number must be an integer, got an object']);
  assert.equal(says(`${d}.weight`), ['[EW219] weight must be an integer, got an object']);
});

VS('denies a rejected annotation when metadata.namespace is not a string', () => {
  const r = run(vs({}, { namespace: odd() as string, annotations: { 'istio.io/dry-run': 'true' } }));
  assert.is(message(r, 'EW201'), 'unsupported annotation istio.io/dry-run, please remove the annotation');
});

const nested = (depth: number, leaf: unknown): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

VS('compares tcp matches nested 3,000 levels deep instead of failing', () => {
  const deep = () => ({ port: 5432, extra: nested(3_000, 'x') });
  const r = run(vs({ http: undefined, tls: undefined, tcp: [tcpRoute(deep()), tcpRoute(deep())] }));
  accepts(r);
  warns(r, 'EW222', 'spec.tcp[1].match[0]');
});

VS('still tells apart matches that differ within the first levels of nesting', () => {
  const r = run(
    vs({
      http: undefined,
      tls: undefined,
      tcp: [tcpRoute({ port: 5432, extra: nested(20, 'x') }), tcpRoute({ port: 5432, extra: nested(20, 'y') })],
    }),
  );
  clean(r);
});

VS('judges 20,000 hosts, finding the one duplicate and the one host under a wildcard', () => {
  const hosts = ['*.w.example.com', ...Array.from({ length: 20_000 }, (_, i) => `h${i}.example.com`), 'h7.example.com', 'x.w.example.com'];
  const r = run(vs({ hosts, tls: undefined }));
  assert.equal(
    r.errors.filter((e) => e.code === 'EW207').map((e) => [e.path, e.message]),
    [
      ['spec.hosts[20002]', 'duplicate hosts in virtual service: *.w.example.com & x.w.example.com'],
      ['spec.hosts[20001]', 'duplicate hosts in virtual service: h7.example.com & h7.example.com'],
    ],
  );
});

VS('reports the same overlapping hosts as comparing every pair, partial wildcards included', () => {
  const hosts = [
    '*foo.com',
    'barfoo.com',
    '*.com',
    'a.b.com',
    '*.b.com',
    '*.a.b.com',
    'a.b.com',
    'foo.com',
    '*',
    'x.y',
    '*.a.b.com',
    'b.com',
  ];
  const expected: string[][] = [];
  for (let i = 0; i < hosts.length; i++) {
    for (let j = i + 1; j < hosts.length; j++) {
      if (hostsOverlap(hosts[i]!, hosts[j]!))
        expected.push([`spec.hosts[${j}]`, `duplicate hosts in virtual service: ${hosts[i]} & ${hosts[j]}`]);
    }
  }
  const r = run(vs({ hosts, gateways: ['istio-system/egressgateway'], tls: undefined }));
  assert.equal(
    r.errors.filter((e) => e.code === 'EW207').map((e) => [e.path, e.message]),
    expected,
  );
  assert.ok(expected.length > 20);
});

VS('lists 50 overlapping host pairs and says there are more', () => {
  const r = run(vs({ hosts: Array.from({ length: 5_000 }, () => 'api.example.com'), tls: undefined }));
  const found = r.errors.filter((e) => e.code === 'EW207');
  assert.is(found.length, 51);
  assert.equal(found[50], {
    code: 'EW207',
    path: 'spec.hosts',
    message: 'more duplicate hosts in virtual service not listed (first 50 shown)',
  });
});

VS('accepts an SNI host exactly when some host covers it, as comparing every host does', () => {
  const hosts = ['*foo.com', 'a.b.com', '*.c.com', 'd.com'];
  for (const sni of [
    'barfoo.com',
    '*.xfoo.com',
    'a.b.com',
    'b.com',
    '*.b.com',
    'x.c.com',
    '*.x.c.com',
    '*.c.com',
    'c.com',
    'd.com',
    'e.com',
  ]) {
    const covered = hosts.some((h) => hostSubsetOf(sni, h));
    const r = run(vs({ hosts, gateways: ['istio-system/egressgateway'], http: undefined, tls: [tlsRoute({ sniHosts: [sni] })] }));
    assert.is(
      r.errors.every((e) => e.code !== 'EW214'),
      covered,
      sni,
    );
  }
});

VS('names at most ten hosts when an SNI host is outside all of them', () => {
  const hosts = Array.from({ length: 30 }, (_, i) => `h${i}.example.com`);
  const r = run(vs({ hosts, http: undefined, tls: [tlsRoute({ sniHosts: ['other.example.org'] })] }));
  assert.match(message(r, 'EW214'), /\[h0\.example\.com, .*, h9\.example\.com, …\]$/);
});

VS('has a test case for every EW2xx code up to EW222 (http routes: http-route.test.ts)', () => {
  const tested = new Set(cases.map((c) => c.code));
  for (const code of CODES.filter((c) => c.startsWith('EW2') && c <= 'EW222')) assert.ok(tested.has(code), `no test for ${code}`);
});

VS('accepts a VirtualService that routes egress through a gateway', () => {
  accepts(
    run(
      vs({
        gateways: ['mesh', 'istio-system/egressgateway'],
        http: undefined,
        tls: [
          {
            match: [{ gateways: ['mesh'], port: 443, sniHosts: ['httpbin.org'] }],
            route: [{ destination: { host: 'istio-egressgateway.istio-system.svc.cluster.local', port: { number: 443 } } }],
          },
          { match: [{ gateways: ['istio-system/egressgateway'], port: 443, sniHosts: ['httpbin.org'] }], route: [dest()] },
        ],
      }),
    ),
  );
});

VS.run();
