import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { collector } from '../../src/catalogue/result.ts';
import {
  isHttp,
  isTcp,
  isTls,
  nameContradictsProtocol,
  parseProtocol,
  protocolFromPortName,
  routeClass,
} from '../../src/catalogue/protocols.ts';
import {
  checkExportTo,
  checkHost,
  checkPortNumber,
  coveringHosts,
  exportToProblems,
  fqdnProblem,
  got,
  hostSubsetOf,
  hostsOverlap,
  ipSubnetProblem,
  isDns1123Label,
  istioMetadataProblem,
  labelProblems,
  partialWildcardProblem,
  portNumberProblem,
  shareAudience,
  visibleFrom,
  wildcardDomainProblem,
} from '../../src/rules/fields.ts';
import { accepts, denies, messageOf } from '../support.ts';

const Fields = suite('rules/fields');

Fields('tells Kubernetes DNS labels from Istio ones, which may be upper case', () => {
  const table: ReadonlyArray<[string, boolean, boolean]> = [
    ['http', true, true],
    ['tcp-db-1', true, true],
    ['HTTP', false, true],
    ['-http', false, false],
    ['http-', false, false],
    ['', false, false],
    ['a_b', false, false],
    ['a.b', false, false],
    ['a'.repeat(63), true, true],
    ['a'.repeat(64), false, false],
  ];
  for (const [label, lower, upper] of table) {
    assert.is(isDns1123Label(label), lower, `kubernetes ${label}`);
    assert.is(isDns1123Label(label, { allowUpper: true }), upper, `istio ${label}`);
  }
});

Fields('checks wildcard domains with the messages istiod uses', () => {
  const table: ReadonlyArray<[string, string | undefined]> = [
    ['httpbin.org', undefined],
    ['*.httpbin.org', undefined],
    ['*', undefined],
    ['reviews', undefined],
    ['istio.io.', undefined],
    ['*foo.example.com', undefined],
    ['', 'empty domain name not allowed'],
    ['foo.*.example.com', 'domain name "*.example.com" invalid (label "*" invalid)'],
    ['foo..com', 'domain name ".com" invalid (label "" invalid)'],
    ['under_score.com', 'domain name "under_score.com" invalid (label "under_score" invalid)'],
    ['10.1.2.3', 'domain name "1.2.3" invalid (top level domain "3" cannot be all-numeric)'],
    [`${'a'.repeat(250)}.com.x`, `domain name "${'a'.repeat(250)}.com.x" too long (max 255)`],
  ];
  for (const [host, problem] of table) assert.is(wildcardDomainProblem(host), problem, host);
});

Fields('rejects any wildcard in an FQDN', () => {
  assert.is(fqdnProblem('api.example.com'), undefined);
  assert.is(fqdnProblem('*.example.com'), 'domain name "*.example.com" invalid (label "*" invalid)');
  assert.is(fqdnProblem('example.123'), 'domain name "example.123" invalid (top level domain "123" cannot be all-numeric)');
});

Fields('flags partial wildcards but not a leading "*." label', () => {
  assert.is(partialWildcardProblem('*.example.com'), undefined);
  assert.is(partialWildcardProblem('*'), undefined);
  assert.is(partialWildcardProblem('*foo.com'), 'partial wildcard "*foo.com" not allowed');
  assert.is(partialWildcardProblem('a.*.com'), 'partial wildcard "a.*.com" not allowed');
});

Fields('checks hosts under the caller code, with or without wildcards', () => {
  accepts(checkHost('*.example.com', 'spec.hosts[0]', { code: 'EW106' }));
  denies(checkHost('*.example.com', 'spec.hosts[0]', { code: 'EW106', wildcard: false }), 'EW106', 'spec.hosts[0]');
  denies(checkHost(42, 'spec.hosts[1]', { code: 'EW106' }), 'EW106', 'spec.hosts[1]');
});

Fields('parses IPs and CIDRs as strictly as Go does', () => {
  const table: ReadonlyArray<[string, string | undefined]> = [
    ['10.0.0.1', undefined],
    ['10.0.0.7/24', undefined],
    ['2001:db8::1', undefined],
    ['2001:db8::/32', undefined],
    ['fe80::1%eth0', undefined],
    ['10.0.0.256', '10.0.0.256 is not a valid IP'],
    ['010.0.0.1', '010.0.0.1 is not a valid IP'],
    ['0x0a.0.0.1', '0x0a.0.0.1 is not a valid IP'],
    ['10.0.0.0/33', '10.0.0.0/33 is not a valid CIDR block'],
    ['10.0.0.0/08', '10.0.0.0/08 is not a valid CIDR block'],
    [' 10.0.0.0/8', ' 10.0.0.0/8 is not a valid CIDR block'],
    ['10.0.0.0/8/8', '10.0.0.0/8/8 is not a valid IP'],
    ['fe80::1%', 'fe80::1% is not a valid IP'],
  ];
  for (const [text, problem] of table) assert.is(ipSubnetProblem(text), problem, text);
});

Fields('checks port numbers in 1..65535', () => {
  accepts(checkPortNumber(1, 'p', 'EW113'));
  accepts(checkPortNumber(65535, 'p', 'EW113'));
  for (const bad of [0, 65536, -1, 1.5, '80', undefined]) denies(checkPortNumber(bad, 'p', 'EW113'), 'EW113', 'p');
});

Fields('says what type a port number has when it is not an integer', () => {
  const table: ReadonlyArray<[unknown, string | undefined]> = [
    [443, undefined],
    [0, 'port number 0 must be in the range 1..65535'],
    ['443', 'port number must be an integer, got string "443"'],
    [1.5, 'port number must be an integer, got number 1.5'],
    [null, 'port number must be an integer, got null'],
    [[443], 'port number must be an integer, got a list of 1'],
    [JSON.parse('{"toString":1}'), 'port number must be an integer, got an object'],
  ];
  for (const [n, problem] of table) assert.is(portNumberProblem(n), problem, JSON.stringify(n));
});

Fields('names the type of a value that should have been a string', () => {
  assert.is(messageOf(checkHost(42, 'spec.hosts[1]', { code: 'EW106' }), 'EW106'), 'host must be a string, got number 42');
  assert.equal(labelProblems({ app: JSON.parse('{"toString":1}'), tier: 'web' }), [
    'invalid tag value for "app": must be a string, got an object',
  ]);
  assert.is(got('x'.repeat(100)), `string "${'x'.repeat(64)}…"`);
});

Fields("collects each finding once, files it by its code's severity, and counts those past the limit in one last finding", () => {
  const c = collector(2);
  c.add('EW401', 'a', 'm');
  c.add('EW401', 'a', 'm');
  c.add('EW402', 'b', 'm');
  c.add('EW403', 'c', 'm');
  c.add('EW420', 'd', 'm');
  c.skip(5, 'EW422');
  assert.ok(c.full());
  const r = c.result((more) => ['spec', `${more} more`]);
  assert.equal(
    r.warnings.map((i) => i.code),
    ['EW401', 'EW402'],
  );
  assert.equal(r.errors, [{ code: 'EW420', path: 'spec', message: '7 more' }]);
  assert.equal(collector().result(), { errors: [], warnings: [] });
});

Fields('validates exportTo like istiod, entry by entry', () => {
  const table: ReadonlyArray<[readonly string[], boolean, Array<[number | undefined, string]>]> = [
    [[], false, []],
    [['.'], false, []],
    [['*'], false, []],
    [['.', 'billing'], false, []],
    [['~'], true, []],
    [['~'], false, [[0, 'exportTo ~ (none) is not allowed for Istio configuration objects']]],
    [['billing', 'billing'], false, [[1, 'duplicate entries in exportTo for entry billing']]],
    [['shop', '.'], false, [[1, 'duplicate entries in exportTo: . and current namespace shop']]],
    [['.', 'shop'], false, [[1, 'duplicate entries in exportTo for entry shop']]],
    [['*', 'billing'], false, [[undefined, 'cannot have both public (*) and non-public exportTo values for a resource']]],
    [['~', 'billing'], true, [[undefined, 'cannot export service entry to no one (~) and someone']]],
    [['Bad_ns'], false, [[0, 'only .,*, or a valid DNS 1123 label is allowed as exportTo entry']]],
  ];
  for (const [exportTo, allowNone, problems] of table) {
    assert.equal(exportToProblems(exportTo, 'shop', { allowNone }), problems, JSON.stringify(exportTo));
  }
  denies(checkExportTo(['*', 'billing'], 'shop', 'spec.exportTo', 'EW134'), 'EW134', 'spec.exportTo');
  denies(checkExportTo(['x_y'], 'shop', 'spec.exportTo', 'EW134'), 'EW134', 'spec.exportTo[0]');
});

Fields('decides exportTo visibility per namespace', () => {
  assert.ok(visibleFrom([], 'shop', 'billing'));
  assert.ok(visibleFrom(['*'], 'shop', 'billing'));
  assert.ok(visibleFrom(['.'], 'shop', 'shop'));
  assert.not.ok(visibleFrom(['.'], 'shop', 'billing'));
  assert.ok(visibleFrom(['billing'], 'shop', 'billing'));
  assert.not.ok(visibleFrom(['~'], 'shop', 'shop'));
});

Fields('tells whether two objects are ever seen by the same namespace', () => {
  const at = (namespace: string, exportTo: string[]) => ({ namespace, exportTo });
  assert.ok(shareAudience(at('shop', []), at('billing', ['.'])));
  assert.ok(shareAudience(at('shop', ['.']), at('billing', ['shop'])));
  assert.not.ok(shareAudience(at('shop', ['.']), at('billing', ['.'])));
  assert.not.ok(shareAudience(at('shop', ['~']), at('billing', [])));
  assert.ok(shareAudience(at('shop', ['*']), at('billing', ['ops'])));
});

Fields('matches hosts with wildcards as Istio does', () => {
  assert.ok(hostsOverlap('*.example.com', 'api.example.com'));
  assert.ok(hostsOverlap('*.com', '*.example.com'));
  assert.ok(hostsOverlap('*', 'anything.org'));
  assert.not.ok(hostsOverlap('api.example.com', 'www.example.com'));
  assert.ok(hostSubsetOf('api.example.com', '*.example.com'));
  assert.ok(hostSubsetOf('*.eu.example.com', '*.example.com'));
  assert.not.ok(hostSubsetOf('*.example.com', 'api.example.com'));
  assert.not.ok(hostSubsetOf('*.com', '*.example.com'));
  assert.not.ok(hostSubsetOf('reviews', 'reviews.default.svc.cluster.local'));
});

Fields('lists the index keys that can cover a host', () => {
  assert.equal(coveringHosts('api.example.com'), ['api.example.com', '*.example.com', '*.com', '*']);
  assert.equal(coveringHosts('*.example.com'), ['*.example.com', '*.com', '*']);
  assert.equal(coveringHosts('reviews'), ['reviews', '*']);
});

Fields('validates label keys and values like Kubernetes', () => {
  assert.equal(labelProblems({ app: 'db', 'topology.kubernetes.io/zone': 'eu-1a', empty: '' }), []);
  assert.equal(labelProblems({ 'bad key': 'x', app: 'bad value' }), ['invalid tag key: "bad key"', 'invalid tag value: "bad value"']);
  assert.equal(labelProblems({ [`${'a'.repeat(64)}`]: 'x' }), [`invalid tag key: "${'a'.repeat(64)}" (name is too long)`]);
});

Fields('finds the first annotation istiod rejects', () => {
  assert.is(istioMetadataProblem({ annotations: { team: 'a' } }), undefined);
  assert.equal(istioMetadataProblem({ annotations: { 'istio.io/dry-run': 'true' } }), [
    'istio.io/dry-run',
    'unsupported annotation istio.io/dry-run, please remove the annotation',
  ]);
});

Fields.run();

const Protocol = suite('catalogue/protocols');

Protocol('parses protocol names case-insensitively and rejects the rest', () => {
  assert.is(parseProtocol('https'), 'HTTPS');
  assert.is(parseProtocol('Grpc-Web'), 'GRPC-Web');
  assert.is(parseProtocol('MONGO'), 'Mongo');
  assert.is(parseProtocol('http_proxy'), 'HTTP_PROXY');
  for (const bad of ['', 'HBONE', 'DoubleHBONE', 'h2', undefined, 7]) assert.is(parseProtocol(bad), undefined, String(bad));
});

Protocol('classifies protocols as Istio does', () => {
  assert.ok(isHttp('GRPC') && isHttp('HTTP_PROXY') && !isHttp('HTTPS'));
  assert.ok(isTls('HTTPS') && isTls('TLS') && !isTls('TCP'));
  assert.ok(isTcp('TLS') && isTcp('MySQL') && !isTcp('UDP') && !isTcp(undefined));
  assert.equal(
    ['HTTP2', 'TLS', 'Redis', 'UDP', undefined].map((p) => routeClass(p as never)),
    ['http', 'tls', 'tcp', 'udp', 'sniffed'],
  );
});

Protocol('reads the protocol a port name announces', () => {
  assert.is(protocolFromPortName('http-api'), 'HTTP');
  assert.is(protocolFromPortName('HTTPS'), 'HTTPS');
  assert.is(protocolFromPortName('grpc-web-public'), 'GRPC-Web');
  assert.is(protocolFromPortName('grpc-internal'), 'GRPC');
  assert.is(protocolFromPortName('postgres'), undefined);
});

Protocol('lets names agree with protocols of the same class', () => {
  assert.not.ok(nameContradictsProtocol('HTTP', 'GRPC'));
  assert.not.ok(nameContradictsProtocol('TCP', 'TLS'));
  assert.ok(nameContradictsProtocol('HTTP', 'TLS'));
  assert.ok(nameContradictsProtocol('TLS', 'HTTP'));
});

Protocol.run();
