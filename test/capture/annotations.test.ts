import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  effectiveSettings,
  formatApplied,
  parseApplied,
  parseIstioRanges,
  parseOsmRanges,
  parseRangeList,
  readCaptureAnnotations,
  writtenByUs,
} from '../../src/capture/annotations.ts';
import { BYPASS, CAPTURE, CAPTURE_RANGES } from '../../src/catalogue/keys.ts';
import { accepts, clean, denies, warns } from '../support.ts';

const Annotations = suite('capture/annotations');

const pod = { kind: 'pod' } as const;
const shop = { kind: 'namespace', name: 'shop' } as const;

Annotations('reads a list separated by commas and spaces, bare addresses as single hosts', () => {
  const { ranges, bad } = parseRangeList(' 10.0.0.0/8, 192.0.2.1  2001:db8::1,,');
  assert.equal(bad, []);
  assert.equal(
    ranges.map((r) => r.cidr.text),
    ['10.0.0.0/8', '192.0.2.1/32', '2001:db8::1/128'],
  );
});

Annotations('rejects the address forms Go rejects (inet_aton, leading zeros, prefix out of range)', () => {
  for (const v of ['0x0a.0.0.0/8', '010.0.0.0/8', '10.0.0.0/33', '10.0.0.0/08', '10.0.0/8', 'fd00::/129', '*', 'example.com']) {
    assert.equal(parseRangeList(v).bad, [v], v);
  }
});

Annotations('denies an outbound-capture value that is not all, cluster or off, naming value and source', () => {
  const r = readCaptureAnnotations({ [CAPTURE]: 'Cluster' }, shop);
  denies(r.findings, 'EW501', `metadata.annotations[${CAPTURE}]`);
  assert.match(r.findings.errors[0]!.message, '"Cluster" on namespace shop');
  assert.is(r.settings.mode.state, 'invalid');
  for (const v of ['all', 'cluster', 'off', ' cluster ']) clean(readCaptureAnnotations({ [CAPTURE]: v }, pod).findings);
});

Annotations('denies a CIDR list with a bad entry, naming the entry, the whole value and the source', () => {
  const r = readCaptureAnnotations({ [BYPASS]: '203.0.113.0/24,10.0.0.0/33' }, pod);
  denies(r.findings, 'EW502', `metadata.annotations[${BYPASS}]`);
  assert.match(r.findings.errors[0]!.message, '"10.0.0.0/33" is not an IP or CIDR in "203.0.113.0/24,10.0.0.0/33" on pod');
});

Annotations('warns about host bits and about bypassing everything', () => {
  const r = readCaptureAnnotations({ [BYPASS]: '10.1.2.3/8,0.0.0.0/0', [CAPTURE_RANGES]: '192.168.1.1/16' }, pod);
  accepts(r.findings);
  warns(r.findings, 'EW503', `metadata.annotations[${BYPASS}]`);
  warns(r.findings, 'EW503', `metadata.annotations[${CAPTURE_RANGES}]`);
  warns(r.findings, 'EW505', `metadata.annotations[${BYPASS}]`);
});

Annotations('warns about an unknown egress-warden.io key and about the mode set as an annotation', () => {
  const r = readCaptureAnnotations(
    { 'egress-warden.io/bypass-ip-range': '10.0.0.0/8', 'egress-warden.io/mode': 'warn', 'other.io/x': 'y' },
    shop,
  );
  warns(r.findings, 'EW512', 'metadata.annotations[egress-warden.io/bypass-ip-range]');
  warns(r.findings, 'EW512', 'metadata.annotations[egress-warden.io/mode]');
  assert.is(r.findings.warnings.length, 2);
  clean(readCaptureAnnotations({ 'egress-warden.io/applied': '{}' }, pod).findings);
});

Annotations('reports a capture annotation written as YAML null or a number, saying it must be a string, instead of failing', () => {
  const cases: readonly [Record<string, unknown>, string, string][] = [
    [{ [CAPTURE]: null }, CAPTURE, 'got null: give it a value, or "" for an empty one'],
    [{ [CAPTURE]: 7 }, CAPTURE, 'got number 7: quote it in YAML'],
    [{ [BYPASS]: null }, BYPASS, 'got null'],
    [{ [CAPTURE_RANGES]: ['10.0.0.0/8'] }, CAPTURE_RANGES, 'got a list of 1: write it as one string'],
  ];
  for (const [annotations, key, words] of cases) {
    const r = readCaptureAnnotations(annotations, shop);
    denies(r.findings, 'EW518', `metadata.annotations[${key}]`);
    assert.is(r.findings.errors.length, 1, JSON.stringify(r.findings));
    assert.match(r.findings.errors[0]!.message, `value on namespace shop must be a string, ${words}`);
  }
  const eff = effectiveSettings(
    readCaptureAnnotations({ [BYPASS]: '10.0.0.0/8' }, shop).settings,
    readCaptureAnnotations({ [BYPASS]: null }, pod).settings,
  );
  assert.is(eff.bypass.state, 'invalid', 'an unreadable pod value still replaces the namespace value');
});

Annotations('ignores annotations it does not read, whatever their value, and still flags unknown egress-warden.io keys', () => {
  clean(readCaptureAnnotations({ 'example.com/x': null, 'example.com/n': 3 }, pod).findings);
  const r = readCaptureAnnotations({ 'egress-warden.io/bypass-ranges': 5 }, pod);
  warns(r.findings, 'EW512', 'metadata.annotations[egress-warden.io/bypass-ranges]');
  accepts(r.findings);
  clean(readCaptureAnnotations('not a map', pod).findings);
});

Annotations('a pod value replaces the namespace value, even an invalid one', () => {
  const ns = readCaptureAnnotations({ [CAPTURE]: 'cluster', [BYPASS]: '10.0.0.0/8' }, shop).settings;
  const p = readCaptureAnnotations({ [BYPASS]: 'nope' }, pod).settings;
  const eff = effectiveSettings(ns, p);
  assert.is(eff.bypass.state, 'invalid');
  assert.equal(eff.mode, { state: 'valid', value: 'cluster', origin: shop });
});

const ISTIO_REJECTS: readonly [string, 'include' | 'exclude', string][] = [
  ['10.0.0.1', 'include', `failed parsing cidr '10.0.0.1': netip.ParsePrefix("10.0.0.1"): no '/'`],
  ['10.0.0.0/8, 192.168.0.0/16', 'include', `failed parsing cidr ' 192.168.0.0/16'`],
  ['10.0.0.0/8,', 'include', `failed parsing cidr ''`],
  ['10.0.0.0/33', 'exclude', 'prefix length out of range'],
  ['*', 'exclude', `excludeIPRanges invalid: failed parsing cidr '*'`],
  ['fe80::1%eth0/64', 'include', 'IPv6 zones cannot be present in a prefix'],
];

Annotations("parses Istio's annotations with Istio's strict rules and words", () => {
  for (const [value, side, words] of ISTIO_REJECTS) {
    const r = parseIstioRanges(value, side);
    assert.ok('problem' in r && r.problem.includes(words), `${value}: ${'problem' in r ? r.problem : 'accepted'}`);
    assert.ok('problem' in r && r.problem.startsWith(`${side}IPRanges invalid: failed parsing cidr '`));
  }
  const ok = (v: string, side: 'include' | 'exclude') => {
    const r = parseIstioRanges(v, side);
    assert.ok('ok' in r, `${v}: ${'problem' in r ? r.problem : ''}`);
    return 'ok' in r ? r.ok : undefined;
  };
  assert.is(ok('*', 'include')?.all, true);
  assert.equal(ok('', 'exclude')?.cidrs, []);
  assert.equal(
    ok('10.96.0.2/24,fd00::/64', 'exclude')?.hostBits.map((h) => h.cidr.text),
    ['10.96.0.0/24'],
  );
});

Annotations("parses OSM's annotations with OSM's trimming rules and words", () => {
  const r = parseOsmRanges(' 10.0.0.0/8 , 192.168.1.1/16,10.1.0.0/016', 'exclude');
  assert.ok('ok' in r);
  assert.equal('ok' in r && r.ok.cidrs.map((c) => c.text), ['10.0.0.0/8', '192.168.0.0/16', '10.1.0.0/16']);
  for (const bad of ['', '10.0.0.0/8,', '10.0.0.1', '*', '10.0.0.0/33']) {
    const b = parseOsmRanges(bad, 'include');
    assert.ok('problem' in b && b.problem.startsWith('Invalid IP range'), bad);
    assert.ok('problem' in b && b.problem.endsWith(`specified for annotation 'openservicemesh.io/outbound-ip-range-inclusion-list'`));
  }
});

Annotations('the applied record round-trips and tells values this webhook wrote from kept ones', () => {
  const text = formatApplied({
    mesh: 'istio',
    mode: 'cluster',
    modeFrom: 'pod',
    include: { value: '10.0.0.0/8', from: { '10.0.0.0/8': 'pod' } },
    exclude: { value: '192.0.2.0/24', from: 'pod traffic.sidecar.istio.io/excludeOutboundIPRanges' },
  });
  const a = parseApplied(text);
  assert.ok(writtenByUs(a, 'include', '10.0.0.0/8'));
  assert.not.ok(writtenByUs(a, 'include', '10.0.0.0/9'));
  assert.not.ok(writtenByUs(a, 'exclude', '192.0.2.0/24'));
  for (const junk of [undefined, '', 'not json', '{"mesh":"linkerd"}', 'null']) assert.is(parseApplied(junk), undefined);
});

Annotations('an applied record of any other shape counts as not written by egress-warden', () => {
  const malformed = [
    '{"mesh":"istio","include":null}',
    '{"mesh":"istio","mode":"cluster","modeFrom":"pod","include":null}',
    '{"mesh":"istio","mode":"cluster","modeFrom":"pod","include":{"value":"10.0.0.0/8","from":null}}',
    '{"mesh":"istio","mode":"cluster","modeFrom":"pod","include":{"value":"10.0.0.0/8","from":{"10.0.0.0/8":1}}}',
    '{"mesh":"osm","mode":"cluster","modeFrom":"pod","exclude":{"value":8,"from":"pod"}}',
    '{"mesh":"osm","mode":"sometimes","modeFrom":"pod"}',
    '{"mesh":"osm","mode":"all"}',
    '[]',
  ];
  for (const text of malformed) {
    assert.is(parseApplied(text), undefined, text);
    assert.not.ok(writtenByUs(parseApplied(text), 'include', '10.0.0.0/8'), text);
  }
  assert.is(parseApplied(42), undefined);
  assert.ok(parseApplied('{"mesh":"osm","mode":"all","modeFrom":"default"}'), 'a record with neither side is well formed');
});

Annotations.run();
