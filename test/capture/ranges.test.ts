import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseIstioRanges, parseRangeList, type MeshValue } from '../../src/capture/annotations.ts';
import { planRanges, type PlanInput, type PlannedSide, type UserValue } from '../../src/capture/ranges.ts';
import { MESH_KEYS } from '../../src/catalogue/keys.ts';
import { cidrsOf, clean, warns } from '../support.ts';

const Ranges = suite('capture/ranges');

const KUBEADM = cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12'], 'kubeadm-config');
const list = (v: string) => parseRangeList(v).ranges.map((r) => r.cidr);
const pod = { kind: 'pod' } as const;
const shop = { kind: 'namespace', name: 'shop' } as const;
const base: PlanInput = { mode: 'all', cluster: KUBEADM, keys: MESH_KEYS.istio, ipv4Only: false };

const value = (side: PlannedSide | undefined): string | undefined =>
  side?.by === 'computed' ? side.cidrs.map((c) => c.text).join(',') : side?.by === 'pod' ? side.user.value : undefined;

function user(v: string, side: 'include' | 'exclude'): UserValue {
  const r = parseIstioRanges(v, side);
  if (!('ok' in r)) throw new Error(r.problem);
  return { ...(r.ok as MeshValue), key: MESH_KEYS.istio[side] };
}

Ranges('all mode with no bypass plans nothing', () => {
  const p = planRanges(base);
  assert.is(p.include, undefined);
  assert.is(p.exclude, undefined);
  clean(p.findings);
});

Ranges('cluster mode captures the cluster CIDRs plus capture-ip-ranges, merged and sorted IPv4 then IPv6', () => {
  const p = planRanges({
    ...base,
    mode: 'cluster',
    cluster: cidrsOf(['fd00:10:244::/56', '10.244.0.0/16'], ['10.96.0.0/12', 'fd00:10:96::/112']),
    capture: { cidrs: list('10.245.0.0/16 2001:db8::/32 10.244.128.0/17'), origin: pod },
  });
  assert.is(value(p.include), '10.96.0.0/12,10.244.0.0/15,2001:db8::/32,fd00:10:96::/112,fd00:10:244::/56');
  clean(p.findings);
});

Ranges('records where every input range came from, naming each source once', () => {
  const p = planRanges({
    ...base,
    mode: 'cluster',
    cluster: { pod: [...KUBEADM.pod, ...cidrsOf(['10.244.0.0/16'], [], 'Node.spec.podCIDRs').pod], service: KUBEADM.service },
    capture: { cidrs: list('192.0.2.0/24'), origin: shop },
    bypass: { cidrs: list('198.51.100.0/24'), origin: pod },
  });
  assert.equal(p.include?.by === 'computed' && p.include.from, {
    '10.96.0.0/12': 'service CIDR (kubeadm-config)',
    '10.244.0.0/16': 'pod CIDR (kubeadm-config), pod CIDR (Node.spec.podCIDRs)',
    '192.0.2.0/24': 'namespace shop',
  });
  assert.equal(p.exclude?.by === 'computed' && p.exclude.from, { '198.51.100.0/24': 'pod' });
});

Ranges('bypass ranges are excluded in both modes', () => {
  for (const mode of ['all', 'cluster'] as const) {
    const p = planRanges({ ...base, mode, bypass: { cidrs: list('203.0.113.0/25,203.0.113.128/25'), origin: pod } });
    assert.is(value(p.exclude), '203.0.113.0/24', mode);
  }
});

Ranges('warns when a bypass range overlaps a cluster CIDR: in-cluster traffic would skip mTLS', () => {
  const p = planRanges({ ...base, bypass: { cidrs: list('10.96.0.10/32'), origin: shop } });
  warns(p.findings, 'EW504', 'metadata.annotations[egress-warden.io/bypass-ip-ranges]');
  assert.match(p.findings.warnings[0]!.message, '10.96.0.10/32 overlaps cluster 10.96.0.0/12: no mTLS');
});

Ranges('warns when a bypass range overlaps an included capture range', () => {
  const p = planRanges({
    ...base,
    mode: 'cluster',
    capture: { cidrs: list('192.0.2.0/24'), origin: pod },
    bypass: { cidrs: list('192.0.2.8/29'), origin: pod },
  });
  warns(p.findings, 'EW506', 'metadata.annotations[egress-warden.io/bypass-ip-ranges]');
});

Ranges('warns that capture-ip-ranges does nothing outside cluster mode', () => {
  const p = planRanges({ ...base, capture: { cidrs: list('192.0.2.0/24'), origin: pod } });
  warns(p.findings, 'EW510');
  assert.is(p.include, undefined);
});

Ranges('cluster mode without known cluster CIDRs leaves the include list alone instead of capturing only the extras', () => {
  const p = planRanges({
    ...base,
    mode: 'cluster',
    cluster: { pod: [], service: [] },
    capture: { cidrs: list('192.0.2.0/24'), origin: pod },
  });
  warns(p.findings, 'EW511');
  assert.is(p.include, undefined);
});

Ranges('OSM gets IPv4 only, with a warning naming what was left out', () => {
  const p = planRanges({
    ...base,
    mode: 'cluster',
    keys: MESH_KEYS.osm,
    ipv4Only: true,
    cluster: cidrsOf(['10.244.0.0/16', 'fd00:10:244::/56'], ['10.96.0.0/12']),
    bypass: { cidrs: list('2001:db8::/32'), origin: pod },
  });
  assert.is(value(p.include), '10.96.0.0/12,10.244.0.0/16');
  assert.is(p.exclude, undefined);
  warns(p.findings, 'EW509', 'metadata.annotations[openservicemesh.io/outbound-ip-range-inclusion-list]');
  warns(p.findings, 'EW509', 'metadata.annotations[openservicemesh.io/outbound-ip-range-exclusion-list]');
});

Ranges('an IPv6-only cluster under OSM has nothing to include', () => {
  const p = planRanges({
    ...base,
    mode: 'cluster',
    keys: MESH_KEYS.osm,
    ipv4Only: true,
    cluster: cidrsOf(['fd00:10:244::/56'], ['fd00:10:96::/112']),
  });
  assert.is(p.include, undefined);
  warns(p.findings, 'EW511');
});

Ranges('a mesh annotation set on the pod wins, with a warning when it differs from the computed value', () => {
  const p = planRanges({ ...base, mode: 'cluster', user: { include: user('10.0.0.0/8', 'include') } });
  assert.equal(p.include?.by, 'pod');
  assert.is(value(p.include), '10.0.0.0/8');
  warns(p.findings, 'EW513', 'metadata.annotations[traffic.sidecar.istio.io/includeOutboundIPRanges]');
  const same = planRanges({ ...base, mode: 'cluster', user: { include: user('10.96.0.0/12,10.244.0.0/16', 'include') } });
  clean(same.findings);
});

Ranges('checks user-set exclusions like computed ones: host bits, everything, overlaps', () => {
  const p = planRanges({ ...base, mode: 'cluster', user: { exclude: user('10.244.1.7/24,0.0.0.0/0', 'exclude') } });
  const at = 'metadata.annotations[traffic.sidecar.istio.io/excludeOutboundIPRanges]';
  warns(p.findings, 'EW503', at);
  warns(p.findings, 'EW505', at);
  warns(p.findings, 'EW504', at);
  const inc = planRanges({
    ...base,
    user: { include: user('192.0.2.0/24', 'include') },
    bypass: { cidrs: list('192.0.2.0/28'), origin: pod },
  });
  warns(inc.findings, 'EW506', 'metadata.annotations[egress-warden.io/bypass-ip-ranges]');
  const star = planRanges({ ...base, user: { include: user('*', 'include') }, bypass: { cidrs: list('192.0.2.0/28'), origin: pod } });
  clean(star.findings);
});

Ranges.run();
