import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { severityOf } from '../../src/catalogue/findings.ts';
import type { Result } from '../../src/catalogue/result.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { validateEgress } from '../../src/rules/egress.ts';
import { egressConflict, egressConflicts, type EgressMatch } from '../../src/rules/tcp-server-first.ts';
import { accepts, clean, denies, fixture, snapshotWith, warns } from '../support.ts';

const m = (protocol: string, ipAddresses: string[] = [], hosts: string[] = []): EgressMatch => ({ protocol, ipAddresses, hosts });

// ---

const Verdicts = suite('rules/tcp-server-first verdict table');

type Row = {
  readonly name: string;
  readonly a: EgressMatch;
  readonly b: EgressMatch;
  readonly verdict: string | undefined;
  readonly severity?: 'error' | 'warning';
};

const rows: readonly Row[] = [
  {
    name: 'denies tcp-server-first with http',
    a: m('tcp-server-first'),
    b: m('http', [], ['api.example.com']),
    verdict: 'EW420',
    severity: 'error',
  },
  {
    name: 'denies tcp-server-first with https that has hosts',
    a: m('tcp-server-first', ['203.0.113.0/24']),
    b: m('https', [], ['api.example.com']),
    verdict: 'EW421',
    severity: 'error',
  },
  {
    name: 'denies tcp-server-first with tcp when neither lists ipAddresses',
    a: m('tcp-server-first'),
    b: m('tcp'),
    verdict: 'EW422',
    severity: 'error',
  },
  {
    name: 'denies tcp-server-first with tcp sharing a CIDR entry',
    a: m('tcp-server-first', ['10.0.0.0/24', '10.9.0.0/16']),
    b: m('tcp', ['10.0.0.0/24']),
    verdict: 'EW422',
    severity: 'error',
  },
  {
    name: 'denies a shared CIDR entry once host bits are cleared',
    a: m('tcp-server-first', ['10.0.0.5/24']),
    b: m('tcp', ['10.0.0.0/24']),
    verdict: 'EW422',
    severity: 'error',
  },
  {
    name: 'denies tcp-server-first with https without hosts and without IPs',
    a: m('tcp-server-first'),
    b: m('https'),
    verdict: 'EW422',
    severity: 'error',
  },
  {
    name: 'treats unparsable entries as dropped, the way OSM opens the port to every IP',
    a: m('tcp-server-first', ['10.0.0.300/24']),
    b: m('tcp'),
    verdict: 'EW422',
    severity: 'error',
  },
  {
    name: 'warns about tcp-server-first with tcp where only one side lists IPs',
    a: m('tcp-server-first', ['10.0.0.0/24']),
    b: m('tcp'),
    verdict: 'EW423',
    severity: 'warning',
  },
  {
    name: 'warns about tcp-server-first with tcp on disjoint IPs',
    a: m('tcp-server-first', ['10.0.0.0/24']),
    b: m('tcp', ['10.1.0.0/24']),
    verdict: 'EW423',
    severity: 'warning',
  },
  {
    name: 'warns about tcp-server-first with tcp on overlapping but distinct CIDRs',
    a: m('tcp-server-first', ['10.0.0.0/8']),
    b: m('tcp', ['10.1.0.0/16']),
    verdict: 'EW423',
    severity: 'warning',
  },
  { name: 'denies tcp and https without hosts and without IPs', a: m('tcp'), b: m('https'), verdict: 'EW424', severity: 'error' },
  {
    name: 'denies two tcp matches that share a CIDR entry but are not identical',
    a: m('tcp', ['10.0.0.0/24']),
    b: m('tcp', ['10.0.0.0/24', '10.1.0.0/24']),
    verdict: 'EW424',
    severity: 'error',
  },
  {
    name: 'denies two https matches that share a host but list different hosts',
    a: m('https', [], ['api.example.com']),
    b: m('https', [], ['api.example.com', 'b.example.com']),
    verdict: 'EW424',
    severity: 'error',
  },
  {
    name: 'allows identical tcp matches, which OSM deduplicates',
    a: m('tcp', ['10.0.0.0/24']),
    b: m('tcp', ['10.0.0.0/24']),
    verdict: undefined,
  },
  {
    name: 'allows two tcp-server-first matches without IPs, which OSM deduplicates',
    a: m('tcp-server-first'),
    b: m('tcp-server-first'),
    verdict: undefined,
  },
  {
    name: 'allows tcp with https that has hosts (SNI tells them apart)',
    a: m('tcp'),
    b: m('https', [], ['api.example.com']),
    verdict: undefined,
  },
  { name: 'allows tcp with http on the same port', a: m('tcp'), b: m('http', [], ['api.example.com']), verdict: undefined },
  { name: 'ignores an upper-case protocol, which builds no chain at all', a: m('tcp-server-first'), b: m('HTTP'), verdict: undefined },
];

for (const r of rows) {
  Verdicts(r.name, () => {
    const there = egressConflict(r.a, r.b, 'Egress x/y');
    const back = egressConflict(r.b, r.a, 'Egress x/y');
    assert.is(there?.code, r.verdict);
    assert.is(back?.code, r.verdict, 'the verdict does not depend on which side is validated');
    assert.is(there && severityOf(there.code), r.severity);
  });
}

Verdicts('explains what breaks from the side being validated', () => {
  assert.match(egressConflict(m('http'), m('tcp-server-first'), 'Egress db/pg')!.why, 'Egress db/pg makes the port tcp-server-first');
  assert.match(egressConflict(m('tcp-server-first'), m('http'), 'Egress web/api')!.why, 'turns off the http match of Egress web/api');
  assert.match(egressConflict(m('tcp'), m('tcp-server-first'), 'Egress db/pg')!.why, 'Envoy rejects the listener');
});

Verdicts(
  'EW423 says what OSM does, not that OSM forbids it: lds getEgressFilterChainsForMatches builds a tcp_proxy chain for each, and getFilterMatchPredicateForTrafficMatches turns off only detection neither needs',
  () => {
    for (const [ours, theirs] of [
      [m('tcp', ['10.1.0.0/24']), m('tcp-server-first', ['10.0.0.0/24'])],
      [m('tcp-server-first', ['10.0.0.0/24']), m('https')],
    ] as const) {
      const c = egressConflict(ours, theirs, 'Egress db/pg')!;
      assert.is(c.code, 'EW423');
      assert.not.match(c.why, 'forbid');
      assert.match(c.why, 'works with ');
      assert.match(c.why, 'use separate ports');
    }
  },
);

Verdicts.run();

// ---

const Sets = suite('rules/tcp-server-first across objects');

type Spec = Record<string, unknown>;
const sa = (namespace: string, name: string) => ({ kind: 'ServiceAccount', name, namespace });

function egress(namespace: string, name: string, spec: Spec): KubeObject {
  const o = fixture('objects/egress.valid.json');
  return { ...o, metadata: { ...o.metadata, namespace, name }, spec: { ...(o.spec as Spec), hosts: undefined, ...spec } };
}

function service(namespace: string, name: string, ports: Record<string, unknown>[]): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec: { clusterIP: '10.96.0.20', ports } };
}

const mesh = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'openservicemesh.io/monitored-by': 'osm' } },
});
const outside = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: {} } });

const judgeIn = (o: KubeObject, snapshot: ClusterSnapshot, operation: 'CREATE' | 'UPDATE' = 'CREATE'): Result =>
  validateEgress(o, { snapshot, namespace: o.metadata!.namespace!, operation });

const pgServerFirst = egress('db', 'pg', { sources: [sa('shop', 'curl')], ports: [{ number: 5432, protocol: 'tcp-server-first' }] });

Sets('denies http on a port another namespace made tcp-server-first for the same client', () => {
  const r = judgeIn(
    egress('shop', 'web', { hosts: ['api.example.com'], ports: [{ number: 5432, protocol: 'http' }] }),
    snapshotWith([pgServerFirst]),
  );
  denies(r, 'EW420', 'spec.ports[0]');
  assert.match(r.errors[0]!.message, 'http port 5432 never matches: Egress db/pg makes the port tcp-server-first');
});

Sets('denies a new tcp-server-first Egress that would break an existing https Egress', () => {
  const https = egress('shop', 'api', { hosts: ['api.example.com'], ports: [{ number: 443, protocol: 'https' }] });
  const r = judgeIn(
    egress('db', 'odd', { sources: [sa('shop', 'curl')], ports: [{ number: 443, protocol: 'tcp-server-first' }] }),
    snapshotWith([https]),
  );
  denies(r, 'EW421', 'spec.ports[0]');
  assert.match(r.errors[0]!.message, 'Egress shop/api');
});

Sets('denies tcp next to tcp-server-first with neither listing ipAddresses', () => {
  const r = judgeIn(egress('shop', 'pg-raw', { ports: [{ number: 5432, protocol: 'tcp' }] }), snapshotWith([pgServerFirst]));
  denies(r, 'EW422', 'spec.ports[0]');
});

Sets('warns only when tcp and tcp-server-first use disjoint ipAddresses', () => {
  const a = egress('db', 'pg', {
    sources: [sa('shop', 'curl')],
    ports: [{ number: 5432, protocol: 'tcp-server-first' }],
    ipAddresses: ['203.0.113.0/24'],
  });
  const r = judgeIn(
    egress('shop', 'pg-b', { ports: [{ number: 5432, protocol: 'tcp' }], ipAddresses: ['198.51.100.0/24'] }),
    snapshotWith([a]),
  );
  accepts(r);
  warns(r, 'EW423', 'spec.ports[0]');
});

Sets('denies tcp and https with no hosts and no IPs on the same port', () => {
  const a = egress('shop', 'raw', { ports: [{ number: 8443, protocol: 'tcp' }] });
  denies(judgeIn(egress('shop', 'tls', { ports: [{ number: 8443, protocol: 'https' }] }), snapshotWith([a])), 'EW424', 'spec.ports[0]');
});

Sets('finds the conflict through any of several sources', () => {
  const r = judgeIn(
    egress('shop', 'web', {
      hosts: ['api.example.com'],
      sources: [sa('shop', 'other'), sa('shop', 'curl')],
      ports: [
        { number: 80, protocol: 'http' },
        { number: 5432, protocol: 'http' },
      ],
    }),
    snapshotWith([pgServerFirst]),
  );
  denies(r, 'EW420', 'spec.ports[1]');
  assert.is(r.errors.length, 1);
  assert.match(r.errors[0]!.message, 'for shop/curl');
});

Sets('allows the same port for a different client', () => {
  clean(
    judgeIn(
      egress('shop', 'web', { hosts: ['api.example.com'], sources: [sa('shop', 'other')], ports: [{ number: 5432, protocol: 'http' }] }),
      snapshotWith([pgServerFirst]),
    ),
  );
});

Sets('allows a different port for the same client', () => {
  clean(
    judgeIn(
      egress('shop', 'web', { hosts: ['api.example.com'], ports: [{ number: 5433, protocol: 'http' }] }),
      snapshotWith([pgServerFirst]),
    ),
  );
});

Sets('does not count the previous version of the object on UPDATE', () => {
  const updated = egress('db', 'pg', { sources: [sa('shop', 'curl')], ports: [{ number: 5432, protocol: 'tcp' }] });
  clean(judgeIn(updated, snapshotWith([pgServerFirst]), 'UPDATE'));
});

Sets('still sees a third object when updating one of two', () => {
  const raw = egress('shop', 'raw', { ports: [{ number: 5432, protocol: 'tcp' }] });
  const updated = egress('db', 'pg', {
    sources: [sa('shop', 'curl')],
    ports: [{ number: 5432, protocol: 'tcp-server-first' }],
    ipAddresses: ['10.0.0.0/8'],
  });
  const r = judgeIn(updated, snapshotWith([pgServerFirst, raw]), 'UPDATE');
  accepts(r);
  warns(r, 'EW423', 'spec.ports[0]');
});

Sets('ignores an existing Egress whose protocol OSM would not apply', () => {
  const upper = egress('db', 'pg', { sources: [sa('shop', 'curl')], ports: [{ number: 5432, protocol: 'TCP-SERVER-FIRST' }] });
  clean(judgeIn(egress('shop', 'web', { hosts: ['api.example.com'], ports: [{ number: 5432, protocol: 'http' }] }), snapshotWith([upper])));
});

Sets('denies two ports of one Egress that break each other', () => {
  const r = judgeIn(
    egress('shop', 'both', {
      hosts: ['api.example.com'],
      ports: [
        { number: 5432, protocol: 'http' },
        { number: 5432, protocol: 'tcp-server-first' },
      ],
    }),
    snapshotWith(),
  );
  denies(r, 'EW420', 'spec.ports[1]');
  assert.match(r.errors.find((e) => e.code === 'EW420')!.message, 'turns off the http match of spec.ports[0]');
});

Sets('denies tcp and tcp-server-first on one port of one Egress without IPs', () => {
  denies(
    judgeIn(
      egress('shop', 'both', {
        ports: [
          { number: 3306, protocol: 'tcp' },
          { number: 3306, protocol: 'tcp-server-first' },
        ],
      }),
      snapshotWith(),
    ),
    'EW422',
    'spec.ports[1]',
  );
});

Sets('warns about http on a port that an in-mesh Service declares tcp-server-first', () => {
  const svc = service('db', 'mysql', [{ name: 'mysql', port: 3306, appProtocol: 'tcp-server-first' }]);
  const r = judgeIn(
    egress('shop', 'web', { hosts: ['api.example.com'], ports: [{ number: 3306, protocol: 'http' }] }),
    snapshotWith([mesh('db'), svc]),
  );
  accepts(r);
  warns(r, 'EW425', 'spec.ports[0]');
  assert.match(r.warnings[0]!.message, 'Service db/mysql');
});

Sets('reads a tcp-server-first Service port from its name prefix', () => {
  const svc = service('db', 'mysql', [{ name: 'tcp-server-first-mysql', port: 3306 }]);
  warns(judgeIn(egress('shop', 'raw', { ports: [{ number: 3306, protocol: 'tcp' }] }), snapshotWith([svc])), 'EW425', 'spec.ports[0]');
});

Sets(
  "warns about tcp next to an in-mesh tcp-server-first Service port as working, as OSM's getFilterMatchPredicateForTrafficMatches only turns detection off",
  () => {
    const svc = service('db', 'mysql', [{ name: 'mysql', port: 3306, appProtocol: 'tcp-server-first' }]);
    const r = judgeIn(egress('shop', 'raw', { ports: [{ number: 3306, protocol: 'tcp' }] }), snapshotWith([mesh('db'), svc]));
    warns(r, 'EW425', 'spec.ports[0]');
    assert.is(r.warnings[0]!.message, 'Service db/mysql makes port 3306 tcp-server-first: it still works');
  },
);

Sets('ignores tcp-server-first Services in namespaces outside the mesh', () => {
  const svc = service('legacy', 'mysql', [{ name: 'mysql', port: 3306, appProtocol: 'tcp-server-first' }]);
  clean(
    judgeIn(
      egress('shop', 'web', { hosts: ['api.example.com'], ports: [{ number: 3306, protocol: 'http' }] }),
      snapshotWith([outside('legacy'), svc]),
    ),
  );
});

Sets('does not warn when the Egress port is itself tcp-server-first like the Service', () => {
  const svc = service('db', 'mysql', [{ name: 'mysql', port: 3306, appProtocol: 'tcp-server-first' }]);
  clean(judgeIn(egress('shop', 'raw', { ports: [{ number: 3306, protocol: 'tcp-server-first' }] }), snapshotWith([svc])));
});

Sets('reports one finding per conflict even when the other object lists the client twice', () => {
  const twice = egress('db', 'pg', {
    sources: [sa('shop', 'curl'), sa('shop', 'curl')],
    ports: [{ number: 5432, protocol: 'tcp-server-first' }],
  });
  const r = egressConflicts(
    egress('shop', 'web', { hosts: ['api.example.com'], ports: [{ number: 5432, protocol: 'http' }] }),
    snapshotWith([twice]),
    'shop',
  );
  assert.is(r.errors.length, 1);
});

Sets('judges a set of objects: only the ones in conflict are flagged', () => {
  const objects = [
    pgServerFirst,
    egress('shop', 'api', { hosts: ['api.example.com'], ports: [{ number: 443, protocol: 'https' }] }),
    egress('batch', 'pg', { sources: [sa('batch', 'worker')], ports: [{ number: 5432, protocol: 'tcp' }] }),
    egress('shop', 'redis', { ports: [{ number: 6379, protocol: 'tcp-server-first' }], ipAddresses: ['203.0.113.9/32'] }),
  ];
  const snapshot = snapshotWith(objects);
  for (const o of objects) clean(judgeIn(o, snapshot, 'UPDATE'));
  const newcomer = egress('shop', 'mixed', {
    hosts: ['api.example.com'],
    ports: [
      { number: 443, protocol: 'https' },
      { number: 5432, protocol: 'http' },
      { number: 6379, protocol: 'tcp' },
    ],
    ipAddresses: ['203.0.113.9/32'],
  });
  const r = judgeIn(newcomer, snapshot);
  denies(r, 'EW420', 'spec.ports[1]');
  denies(r, 'EW422', 'spec.ports[2]');
  assert.is(r.errors.length, 2);
});

Sets.run();

// ---

const Scale = suite('rules/tcp-server-first at scale');

const repeated = (n: number, port: Record<string, unknown>) => Array.from({ length: n }, () => ({ ...port }));
/** The listener conflicts of a result, without the findings about the same http port listed twice (EW325). */
const listenerOnly = (r: Result): Result => ({ ...r, errors: r.errors.filter((e) => e.code !== 'EW325') });

Scale('finds through the per-snapshot index of a long list exactly what a scan of the whole list finds', () => {
  // one client and port, every protocol, shared and distinct hosts and ranges, an Egress repeated
  const shapes: Spec[] = [
    { ports: [{ number: 443, protocol: 'https' }], hosts: ['a.example.com'] },
    { ports: [{ number: 443, protocol: 'https' }], hosts: ['b.example.com', 'a.example.com'] },
    { ports: [{ number: 443, protocol: 'https' }], hosts: [] },
    { ports: [{ number: 443, protocol: 'tcp' }], ipAddresses: ['203.0.113.0/24'] },
    { ports: [{ number: 443, protocol: 'tcp' }], ipAddresses: ['203.0.113.7/32', '198.51.100.0/24'] },
    { ports: [{ number: 443, protocol: 'tcp' }] },
    { ports: [{ number: 443, protocol: 'http' }], hosts: ['c.example.com'] },
    { ports: [{ number: 443, protocol: 'tcp-server-first' }], ipAddresses: ['198.51.100.0/24'] },
    { ports: [{ number: 443, protocol: 'tcp-server-first' }] },
    { ports: [{ number: 443, protocol: 'tls' }], hosts: ['d.example.com'] },
  ];
  const stored = Array.from({ length: 60 }, (_, i) =>
    egress('shop', `e-${i}`, { sources: [sa('shop', 'curl')], ...shapes[i % shapes.length]! }),
  );
  const frozen = snapshotWith(stored);
  const bucket = [...frozen.egressesBySourcePort.values()][0]!;
  assert.ok(Object.isFrozen(bucket) && bucket.length === 60);
  // the same records in lists that are not frozen: scanned whole
  const thawed: ClusterSnapshot = {
    ...frozen,
    egressesBySourcePort: new Map([...frozen.egressesBySourcePort].map(([k, v]) => [k, [...v]])),
  };
  for (const shape of shapes) {
    const o = egress('shop', 'new', { sources: [sa('shop', 'curl')], ...shape });
    assert.equal(judgeIn(o, frozen), judgeIn(o, thawed), JSON.stringify(shape));
    assert.equal(egressConflicts(stored[3]!, frozen, 'shop'), egressConflicts(stored[3]!, thawed, 'shop'));
  }
});

Scale('names only the first earlier port of each protocol when ports repeat', () => {
  const r = judgeIn(
    egress('shop', 'dup', {
      hosts: ['api.example.com'],
      ports: [
        { number: 80, protocol: 'http' },
        { number: 80, protocol: 'http' },
        { number: 80, protocol: 'tcp-server-first' },
      ],
    }),
    snapshotWith(),
  );
  assert.equal(
    r.errors.map((e) => [e.code, e.path]),
    [
      ['EW325', 'spec.ports[1]'],
      ['EW420', 'spec.ports[2]'],
    ],
  );
  assert.match(r.errors[1]!.message, 'turns off the http match of spec.ports[0]');
});

Scale('judges an Egress with 20,000 ports numbered 80, listing 50 conflicts and counting the rest', () => {
  const ports = [{ number: 80, protocol: 'tcp-server-first' }, ...repeated(19_999, { number: 80, protocol: 'http' })];
  // the repeated http port is also one EW325 (routes built twice), left out here
  const r = listenerOnly(judgeIn(egress('shop', 'huge', { hosts: ['api.example.com'], ports }), snapshotWith()));
  assert.is(r.errors.length, 51);
  assert.equal(
    r.errors.slice(0, 50).map((e) => e.path),
    Array.from({ length: 50 }, (_, i) => `spec.ports[${i + 1}]`),
  );
  assert.ok(r.errors.slice(0, 50).every((e) => e.code === 'EW420'));
  assert.equal(r.errors[50], { code: 'EW420', path: 'spec.ports', message: '19949 more listener conflicts not listed' });
});

Scale('judges 5,000 ports against 1,000 conflicting Egresses of the same client with bounded findings', () => {
  const others = Array.from({ length: 1_000 }, (_, i) =>
    egress('db', `pg-${i}`, { sources: [sa('shop', 'curl')], ports: [{ number: 5432, protocol: 'tcp-server-first' }] }),
  );
  const r = listenerOnly(
    judgeIn(
      egress('shop', 'web', { hosts: ['api.example.com'], ports: repeated(5_000, { number: 5432, protocol: 'http' }) }),
      snapshotWith(others),
    ),
  );
  assert.is(r.errors.length, 51);
  assert.match(r.errors[0]!.message, 'http port 5432 never matches: Egress db/pg-0 makes the port tcp-server-first');
  assert.equal(r.errors[50], { code: 'EW420', path: 'spec.ports', message: `${5_000 * 1_000 - 50} more listener conflicts not listed` });
});

Scale('keeps the summary an error when only warnings fit in the list', () => {
  const svc = service('db', 'mysql', [{ name: 'mysql', port: 3306, appProtocol: 'tcp-server-first' }]);
  const ports = [...repeated(60, { number: 3306, protocol: 'tcp' }), { number: 3306, protocol: 'tcp-server-first' }];
  const r = judgeIn(egress('shop', 'raw', { ports }), snapshotWith([svc]));
  assert.is(r.warnings.length, 50);
  assert.equal(r.errors, [{ code: 'EW422', path: 'spec.ports', message: '11 more listener conflicts not listed' }]);
});

Scale('tells overlapping from disjoint IP lists without comparing every pair', () => {
  const ips = (n: number, third: number) => Array.from({ length: n }, (_, i) => `10.${third}.${i >> 8}.${i & 255}/32`);
  assert.match(
    egressConflict(m('tcp-server-first', ips(5_000, 1)), m('tcp', [...ips(5_000, 2), '10.1.0.0/16']), 'Egress x/y')!.why,
    'overlapping IPs',
  );
  assert.match(egressConflict(m('tcp-server-first', ips(5_000, 1)), m('tcp', ips(5_000, 2)), 'Egress x/y')!.why, 'disjoint IPs');
  assert.match(
    egressConflict(m('tcp-server-first', ['10.0.0.0/8']), m('tcp', ['10.255.255.255/32']), 'Egress x/y')!.why,
    'overlapping IPs',
  );
  assert.match(egressConflict(m('tcp-server-first', ['10.0.0.0/8']), m('tcp', ['::a00:0/104']), 'Egress x/y')!.why, 'disjoint IPs');
});

Scale('does not count the previous version on UPDATE when metadata.namespace is empty', () => {
  const updated = egress('', 'pg', { sources: [sa('shop', 'curl')], ports: [{ number: 5432, protocol: 'tcp' }] });
  clean(validateEgress(updated, { snapshot: snapshotWith([pgServerFirst]), namespace: 'db', operation: 'UPDATE' }));
});

Scale.run();
