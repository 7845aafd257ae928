import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import type { Result } from '../../src/catalogue/result.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { judge } from '../../src/review/validate.ts';
import { validateEgress } from '../../src/rules/egress.ts';
import { accepts, clean, denies, fixture, snapshotWith, warns } from '../support.ts';

const base = (): KubeObject => fixture('objects/egress.valid.json');
type Spec = Record<string, unknown>;
const withSpec = (patch: Spec): KubeObject => {
  const o = base();
  return { ...o, spec: { ...(o.spec as Spec), ...patch } };
};
const run = (o: KubeObject, snapshot: ClusterSnapshot = snapshotWith()): Result =>
  validateEgress(o, { snapshot, namespace: 'shop', operation: 'CREATE' });

const tcp = (ipAddresses: unknown[]) => withSpec({ hosts: undefined, ports: [{ number: 5432, protocol: 'tcp' }], ipAddresses });
const smi = (name: string) => ({ apiGroup: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', name });
const uts = (name: string) => ({ apiGroup: 'policy.openservicemesh.io/v1alpha1', kind: 'UpstreamTrafficSetting', name });
const routeGroup = (name: string, matches: unknown[] = [{ name: 'all' }]): KubeObject => ({
  apiVersion: 'specs.smi-spec.io/v1alpha4',
  kind: 'HTTPRouteGroup',
  metadata: { name, namespace: 'shop' },
  spec: { matches },
});

// ---

const Egress = suite('rules/egress');

Egress('accepts the Egress of the real review fixture without findings', () => {
  clean(run(base()));
});

type Case = {
  readonly name: string;
  readonly spec: Spec;
  readonly code: string;
  readonly path?: string;
  readonly severity?: 'error' | 'warning';
};

const cases: readonly Case[] = [
  // OSM's own checks on spec.matches
  {
    name: 'denies a match apiGroup without its version, as OSM does',
    spec: { matches: [{ apiGroup: 'specs.smi-spec.io', kind: 'HTTPRouteGroup', name: 'r' }] },
    code: 'EW301',
    path: 'spec.matches[0].apiGroup',
  },
  {
    name: 'denies an SMI match of another kind than HTTPRouteGroup',
    spec: { matches: [{ ...smi('r'), kind: 'TCPRoute' }] },
    code: 'EW302',
    path: 'spec.matches[0].kind',
  },
  {
    name: 'denies a policy match of another kind than UpstreamTrafficSetting',
    spec: { matches: [{ ...uts('u'), kind: 'Egress' }] },
    code: 'EW303',
    path: 'spec.matches[0].kind',
  },
  { name: 'denies a second UpstreamTrafficSetting match', spec: { matches: [uts('a'), uts('b')] }, code: 'EW304', path: 'spec.matches[1]' },
  {
    name: 'denies a match without a name',
    spec: { matches: [{ apiGroup: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup' }] },
    code: 'EW305',
    path: 'spec.matches[0]',
  },
  // sources
  // The CRD requires sources but sets no minItems; OSM selects Egress policies by source ServiceAccount
  // (ListEgressPoliciesForServiceAccount), so an empty list is legal and selects no client.
  {
    name: 'warns that an Egress with an empty sources list applies to no client, which OSM allows',
    spec: { sources: [] },
    code: 'EW314',
    path: 'spec.sources',
    severity: 'warning',
  },
  {
    name: 'denies an Egress whose sources field is missing, which the CRD requires',
    spec: { sources: undefined },
    code: 'EW310',
    path: 'spec.sources',
  },
  {
    name: 'denies an Egress whose sources field is not a list',
    spec: { sources: { kind: 'ServiceAccount' } },
    code: 'EW310',
    path: 'spec.sources',
  },
  {
    name: 'denies a source that is not a ServiceAccount',
    spec: { sources: [{ kind: 'Service', name: 'curl', namespace: 'shop' }] },
    code: 'EW311',
    path: 'spec.sources[0].kind',
  },
  {
    name: 'denies a source without a name',
    spec: { sources: [{ kind: 'ServiceAccount', namespace: 'shop' }] },
    code: 'EW312',
    path: 'spec.sources[0].name',
  },
  {
    name: 'denies a source name that is not a Kubernetes name',
    spec: { sources: [{ kind: 'ServiceAccount', name: 'Curl_SA', namespace: 'shop' }] },
    code: 'EW312',
    path: 'spec.sources[0].name',
  },
  {
    name: 'denies a source without a namespace',
    spec: { sources: [{ kind: 'ServiceAccount', name: 'curl' }] },
    code: 'EW313',
    path: 'spec.sources[0].namespace',
  },
  // ports and protocols
  // The CRD requires ports but sets no minItems; OSM builds filter chains, clusters and routes per
  // port (GetEgressTrafficMatches), so an empty list is legal and opens nothing.
  {
    name: 'warns that an Egress with an empty ports list opens nothing, which OSM allows',
    spec: { ports: [] },
    code: 'EW324',
    path: 'spec.ports',
    severity: 'warning',
  },
  {
    name: 'denies an Egress whose ports field is missing, which the CRD requires',
    spec: { ports: undefined },
    code: 'EW320',
    path: 'spec.ports',
  },
  { name: 'denies port number 0', spec: { ports: [{ number: 0, protocol: 'http' }] }, code: 'EW321', path: 'spec.ports[0].number' },
  { name: 'denies port number 65536', spec: { ports: [{ number: 65536, protocol: 'http' }] }, code: 'EW321', path: 'spec.ports[0].number' },
  {
    name: 'denies a port number written as a string',
    spec: { ports: [{ number: '80', protocol: 'http' }] },
    code: 'EW321',
    path: 'spec.ports[0].number',
  },
  {
    name: 'denies an upper-case protocol that OSM would silently ignore',
    spec: { ports: [{ number: 80, protocol: 'HTTP' }] },
    code: 'EW322',
    path: 'spec.ports[0].protocol',
  },
  {
    name: 'denies a mixed-case tcp-server-first',
    spec: { hosts: undefined, ports: [{ number: 5432, protocol: 'TCP-Server-First' }] },
    code: 'EW322',
    path: 'spec.ports[0].protocol',
  },
  {
    name: 'denies grpc, which OSM Egress ignores',
    spec: { ports: [{ number: 80, protocol: 'grpc' }] },
    code: 'EW323',
    path: 'spec.ports[0].protocol',
  },
  { name: 'denies a port without a protocol', spec: { ports: [{ number: 80 }] }, code: 'EW323', path: 'spec.ports[0].protocol' },
  // ipAddresses
  { name: 'denies an IPv6 CIDR', spec: { ipAddresses: ['2001:db8::/32'] }, code: 'EW330', path: 'spec.ipAddresses[0]' },
  { name: 'denies a bare IPv6 address', spec: { ipAddresses: ['2001:db8::1'] }, code: 'EW330', path: 'spec.ipAddresses[0]' },
  {
    name: 'denies an octet above 255, which the CRD pattern lets through',
    spec: { ipAddresses: ['10.0.0.300/24'] },
    code: 'EW331',
    path: 'spec.ipAddresses[0]',
  },
  {
    name: 'denies a prefix the unanchored CRD pattern lets through',
    spec: { ipAddresses: ['x10.0.0.0/8'] },
    code: 'EW331',
    path: 'spec.ipAddresses[0]',
  },
  { name: 'denies a prefix length above 32', spec: { ipAddresses: ['10.0.0.0/33'] }, code: 'EW331', path: 'spec.ipAddresses[0]' },
  {
    name: 'denies a bare IPv4 address without a prefix length',
    spec: { ipAddresses: ['10.0.0.1'] },
    code: 'EW331',
    path: 'spec.ipAddresses[0]',
  },
  { name: 'denies leading zeros, which Go rejects', spec: { ipAddresses: ['010.0.0.0/8'] }, code: 'EW331', path: 'spec.ipAddresses[0]' },
  {
    name: 'denies surrounding spaces, which Go rejects',
    spec: { ipAddresses: [' 10.0.0.0/8'] },
    code: 'EW331',
    path: 'spec.ipAddresses[0]',
  },
  {
    name: 'warns about a CIDR with host bits set',
    spec: { ipAddresses: ['10.1.2.3/8'] },
    code: 'EW332',
    path: 'spec.ipAddresses[0]',
    severity: 'warning',
  },
  // hosts
  { name: 'denies a host that is not a DNS name', spec: { hosts: ['bad_host.example.com'] }, code: 'EW340', path: 'spec.hosts[0]' },
  { name: 'denies a wildcard in the middle of a host', spec: { hosts: ['api.*.example.com'] }, code: 'EW340', path: 'spec.hosts[0]' },
  {
    name: 'denies an https host with a partial wildcard that Envoy rejects',
    spec: { hosts: ['api*.example.com'], ports: [{ number: 443, protocol: 'https' }] },
    code: 'EW341',
    path: 'spec.hosts[0]',
  },
  {
    name: 'warns that an http port without hosts answers 404',
    spec: { hosts: [] },
    code: 'EW342',
    path: 'spec.hosts',
    severity: 'warning',
  },
  {
    name: 'warns that an HTTPRouteGroup match is ignored on an https port',
    spec: { hosts: ['api.example.com'], ports: [{ number: 443, protocol: 'https' }], matches: [smi('r')] },
    code: 'EW343',
    path: 'spec.matches[0]',
    severity: 'warning',
  },
  // buildHTTPRouteConfigs logs a missing group (ErrEgressSMIHTTPRouteGroupNotFound) and adds no match for it;
  // any group reference turns off the wildcard route, and an empty group adds no match back either.
  {
    name: 'warns about a referenced HTTPRouteGroup that does not exist',
    spec: { matches: [smi('missing')] },
    code: 'EW344',
    path: 'spec.matches[0].name',
    severity: 'warning',
  },
  {
    name: 'warns that a referenced HTTPRouteGroup without matches leaves the http ports answering 404',
    spec: { matches: [smi('empty')] },
    code: 'EW346',
    path: 'spec.matches[0].name',
    severity: 'warning',
  },
  {
    name: 'warns that hosts do nothing on tcp ports',
    spec: { hosts: ['db.example.com'], ports: [{ number: 5432, protocol: 'tcp' }] },
    code: 'EW345',
    path: 'spec.hosts',
    severity: 'warning',
  },
];

for (const c of cases) {
  Egress(c.name, () => {
    const r = run(withSpec(c.spec), snapshotWith([routeGroup('r'), routeGroup('empty', [])]));
    if (c.severity === 'warning') {
      warns(r, c.code, c.path);
      accepts(r);
    } else {
      denies(r, c.code, c.path);
    }
  });
}

type Good = { readonly name: string; readonly spec: Spec };

const good: readonly Good[] = [
  {
    name: 'accepts an https Egress with a whole-label wildcard host',
    spec: { hosts: ['*.example.com'], ports: [{ number: 443, protocol: 'https' }] },
  },
  {
    name: 'accepts tcp-server-first with IPv4 CIDRs',
    spec: { hosts: undefined, ports: [{ number: 3306, protocol: 'tcp-server-first' }], ipAddresses: ['203.0.113.0/24', '198.51.100.7/32'] },
  },
  { name: 'accepts an existing HTTPRouteGroup on an http-only Egress', spec: { matches: [smi('r')] } },
  { name: 'accepts one UpstreamTrafficSetting match next to an HTTPRouteGroup', spec: { matches: [smi('r'), uts('u')] } },
  { name: 'accepts an IP address as an http host, which a Host header may carry', spec: { hosts: ['203.0.113.10'] } },
  {
    name: 'accepts several ports and sources',
    spec: {
      hosts: ['api.example.com'],
      ports: [
        { number: 80, protocol: 'http' },
        { number: 443, protocol: 'https' },
        { number: 5432, protocol: 'tcp' },
      ],
      sources: [
        { kind: 'ServiceAccount', name: 'curl', namespace: 'shop' },
        { kind: 'ServiceAccount', name: 'worker.v2', namespace: 'batch' },
      ],
    },
  },
];

for (const g of good) {
  Egress(g.name, () => clean(run(withSpec(g.spec), snapshotWith([routeGroup('r')]))));
}

Egress('names the right spelling in the message of a wrong-case protocol', () => {
  const r = run(withSpec({ ports: [{ number: 80, protocol: 'Http' }] }));
  assert.match(r.errors[0]!.message, 'must be written "http"');
});

Egress('points at the widening in the message of an unparsable ipAddresses entry', () => {
  const r = run(tcp(['10.0.0.300/24']));
  assert.match(r.errors[0]!.message, 'open to every IP');
});

Egress('reports every bad ipAddresses entry at its own index', () => {
  const r = run(tcp(['10.0.0.0/8', 'nope', '10.0.0.1/8', 'fd00::/8']));
  denies(r, 'EW331', 'spec.ipAddresses[1]');
  warns(r, 'EW332', 'spec.ipAddresses[2]');
  denies(r, 'EW330', 'spec.ipAddresses[3]');
  assert.is(r.errors.length, 2);
});

Egress('reports OSM match errors with OSM words', () => {
  const r = run(withSpec({ matches: [{ apiGroup: 'example.com/v1', kind: 'X', name: 'r' }] }));
  assert.is(
    r.errors[0]!.message,
    "expected 'matches.apiGroup' to be one of [specs.smi-spec.io/v1alpha4 policy.openservicemesh.io/v1alpha1], got: example.com/v1",
  );
});

Egress('reports fields holding objects, even ones with their own toString, instead of failing', () => {
  const odd = JSON.parse('{"toString":1,"valueOf":1}') as unknown;
  const r = run(
    withSpec({
      sources: [{ kind: odd, name: odd, namespace: odd }],
      ports: [{ number: odd, protocol: odd }],
      ipAddresses: [odd],
      hosts: [odd],
    }),
  );
  denies(r, 'EW311', 'spec.sources[0].kind');
  denies(r, 'EW312', 'spec.sources[0].name');
  denies(r, 'EW313', 'spec.sources[0].namespace');
  denies(r, 'EW321', 'spec.ports[0].number');
  denies(r, 'EW323', 'spec.ports[0].protocol');
  denies(r, 'EW331', 'spec.ipAddresses[0]');
  denies(r, 'EW340', 'spec.hosts[0]');
  const says = (code: string) => r.errors.find((e) => e.code === code)!.message;
  assert.is(says('EW321'), 'port number must be an integer, got an object');
  assert.match(says('EW331'), 'an ipAddresses entry must be a string, got an object');
  assert.is(says('EW340'), 'host must be a string, got an object');
});

Egress('says a port number written as a string must be an integer', () => {
  const r = run(withSpec({ ports: [{ number: '80', protocol: 'http' }] }));
  assert.is(r.errors.find((e) => e.code === 'EW321')?.message, 'port number must be an integer, got string "80"');
});

Egress('looks up route groups in the request namespace when metadata.namespace is empty', () => {
  const o = withSpec({ matches: [smi('r')] });
  const r = run({ ...o, metadata: { ...o.metadata, namespace: '' } }, snapshotWith([routeGroup('r')]));
  clean(r);
});

Egress('names at most ten ports in one message', () => {
  const ports = Array.from({ length: 30 }, (_, i) => ({ number: 1000 + i, protocol: 'tcp' }));
  const r = run(
    withSpec({ hosts: undefined, ports: [{ number: 80, protocol: 'http' }, ...ports], matches: [smi('r')] }),
    snapshotWith([routeGroup('r')]),
  );
  const w = r.warnings.find((i) => i.code === 'EW343')!;
  assert.ok(w.message.endsWith('ignored on ports 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, …'), w.message);
});

Egress('does not throw on a spec of the wrong shape', () => {
  for (const spec of [null, 'x', 42, [], { ports: 'x', sources: {}, hosts: 'h', ipAddresses: 7, matches: [null] }]) {
    const r = run({ ...base(), spec });
    assert.ok(r.errors.length > 0);
  }
});

// --- The same port number twice in one Egress, decided by what OSM builds from it.

const ports = (...list: Array<[number, string]>) => list.map(([number, protocol]) => ({ number, protocol }));

Egress('denies an http port listed twice with hosts: Envoy rejects the route configuration for duplicate domains', () => {
  // GetEgressHTTPRouteConfigsPerPort appends buildHTTPRouteConfigs once per listing, so rds-egress.80
  // gets two virtual hosts with domains [httpbin.org, httpbin.org:80]; Envoy's route matcher refuses
  // duplicate domains ("Only unique values for domains are permitted") and NACKs the update.
  const r = run(withSpec({ ports: ports([80, 'http'], [443, 'https'], [80, 'http']) }));
  denies(r, 'EW325', 'spec.ports[2]');
  assert.match(r.errors[0]!.message, 'first at spec.ports[0]');
  assert.is(r.errors.length, 1);
});

Egress('reports each repeated http port once, and at most ten of them', () => {
  const list = Array.from({ length: 30 }, (_, i) => [8000 + i, 'http'] as [number, string]);
  const r = run(withSpec({ ports: ports(...list, ...list, ...list) }));
  assert.is(r.errors.length, 11);
  assert.equal(r.errors[10], { code: 'EW325', path: 'spec.ports', message: '20 more http ports listed twice' });
});

Egress('denies http and HTTP on one port: the routes are built for both, though only http gets a listener', () => {
  // The route side lower-cases the protocol (strings.ToLower), the listener side does not (EW322).
  const r = run(withSpec({ ports: ports([80, 'http'], [80, 'HTTP']) }));
  denies(r, 'EW325', 'spec.ports[1]');
  denies(r, 'EW322', 'spec.ports[1].protocol');
  // HTTP alone builds routes no listener chain asks for, so Envoy never sees the duplicate
  const upper = run(withSpec({ ports: ports([80, 'HTTP'], [80, 'HTTP']) }));
  assert.not.ok(upper.errors.some((e) => e.code === 'EW325'));
});

Egress('does not call an http port listed twice without hosts a duplicate: OSM builds no routes for it', () => {
  const r = run(withSpec({ hosts: undefined, ports: ports([80, 'http'], [80, 'http']) }));
  assert.not.ok(r.errors.some((e) => e.code === 'EW325'));
  warns(r, 'EW342', 'spec.hosts');
});

Egress('accepts the same tcp or https port twice: OSM deduplicates identical traffic matches and clusters', () => {
  // DeduplicateTrafficMatches and DeduplicateClusterConfigs drop the second, identical entry, so
  // Envoy sees one filter chain and one cluster.
  clean(run(withSpec({ hosts: undefined, ports: ports([5432, 'tcp'], [5432, 'tcp']), ipAddresses: ['203.0.113.0/24'] })));
  clean(run(withSpec({ ports: ports([443, 'https'], [443, 'https']) })));
});

Egress('accepts http and tcp on one port: the chains differ in application_protocols', () => {
  // The http chain matches application_protocols [http/1.0, http/1.1, h2c]; the tcp chain does not
  // set them, so Envoy accepts both.
  clean(run(withSpec({ ports: ports([8080, 'http'], [8080, 'tcp']), ipAddresses: ['203.0.113.0/24'] })));
});

Egress('accepts https with hosts and tcp on one port: the chains differ in server_names', () => {
  const r = run(withSpec({ ports: ports([443, 'https'], [443, 'tcp']), ipAddresses: ['203.0.113.0/24'] }));
  assert.is(r.errors.length, 0);
});

Egress('denies tcp and https without hosts on one port: identical filter chain matches make Envoy reject the listener', () => {
  // Both chains match {destination_port, prefix_ranges}; Envoy refuses a listener with two chains that
  // share every match field ("multiple filter chains with the same matching rules"), for the whole proxy.
  denies(run(withSpec({ hosts: undefined, ports: ports([443, 'tcp'], [443, 'https']) })), 'EW424', 'spec.ports[1]');
  denies(run(withSpec({ hosts: undefined, ports: ports([5432, 'tcp'], [5432, 'tcp-server-first']) })), 'EW422', 'spec.ports[1]');
});

Egress.run();

// ---

const Engine = suite('rules/egress through the engine');

const review = fixture<{ review: { request: AdmissionRequest } }>('reviews/009-validate-create-egress.review-v1.json').review.request;
const requestWith = (spec: Spec): AdmissionRequest => ({
  ...review,
  object: { ...review.object, spec: { ...(review.object!.spec as Spec), ...spec } },
});
const namespace = (mode?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'shop', labels: mode ? { 'egress-warden.io/mode': mode } : {} },
});

Engine('allows the real Egress review', () => {
  const v = judge(review, snapshotWith());
  assert.ok(v.allowed);
  assert.equal(v.warnings, []);
});

Engine('denies a bad Egress with one [CODE] path: message line per error', () => {
  const v = judge(requestWith({ ports: [{ number: 80, protocol: 'HTTP' }], ipAddresses: ['10.0.0.300/24'] }), snapshotWith());
  assert.not.ok(v.allowed);
  assert.is(v.code, 403);
  const lines = v.message!.split('\n');
  assert.is(lines.length, 2);
  assert.match(lines[0]!, /^\[EW322\] spec\.ports\[0\]\.protocol: /);
  assert.match(lines[1]!, /^\[EW331\] spec\.ipAddresses\[0\]: /);
});

Engine('only warns in a namespace in warn mode', () => {
  const v = judge(requestWith({ ports: [{ number: 80, protocol: 'HTTP' }] }), snapshotWith([namespace('warn')]));
  assert.ok(v.allowed);
  assert.match(v.warnings[0]!, /^\[EW322\] /);
});

Engine('shows nothing in a namespace in audit mode but records the findings', () => {
  const v = judge(requestWith({ ports: [{ number: 80, protocol: 'HTTP' }] }), snapshotWith([namespace('audit')]));
  assert.ok(v.allowed);
  assert.equal(v.warnings, []);
  assert.match(v.auditAnnotations!.findings!, 'EW322');
});

Engine("keeps every warning within the API server's 256 characters, naming the route group whole", () => {
  const group = 'a-rather-long-route-group-name-that-does-not-exist-anywhere-in-this-cluster';
  const v = judge(requestWith({ hosts: [], matches: [smi(group)] }), snapshotWith());
  assert.ok(v.allowed);
  assert.ok(v.warnings.length >= 2);
  for (const w of v.warnings) assert.ok(w.length <= 256 && !w.includes('…'), w);
  assert.ok(
    v.warnings.some((w) => w.includes(group)),
    v.warnings.join('\n'),
  );
});

Engine('judges an Egress with 4,096 ipAddresses, and refuses one with 200,000 before the rules run', () => {
  const addresses = (n: number) => Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`);
  const within = judge(
    requestWith({ hosts: [], ipAddresses: addresses(4_096), ports: [{ number: 5432, protocol: 'tcp' }] }),
    snapshotWith(),
  );
  assert.ok(within.allowed, within.message);
  const beyond = judge(
    requestWith({ hosts: [], ipAddresses: addresses(200_000), ports: [{ number: 5432, protocol: 'tcp' }] }),
    snapshotWith(),
  );
  assert.match(beyond.message ?? '', /^\[EW001\] spec\.ipAddresses: a list of 200,000 items/);
});

Engine.run();
