import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { incrementalSnapshot } from '../../src/cluster/incremental.ts';
import { compact, rebuildSnapshot, snapshotFromObjects, type Compact } from '../../src/cluster/indexes.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { cidrsOf } from '../support.ts';

const se = (name: string, hosts: string[]): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: 'shop' },
  spec: { hosts, ports: [{ number: 443, name: 'tls', protocol: 'tls' }] },
});
const egress: KubeObject = {
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name: 'db', namespace: 'shop' },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'app', namespace: 'shop' }],
    hosts: ['db.example.com'],
    ports: [{ number: 5432, protocol: 'tcp' }],
  },
};

const Rebuild = suite('cluster/indexes rebuild');

Rebuild('rebuilds only the kinds that changed and shares the other indexes', () => {
  const cidrs = cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']);
  const prev = snapshotFromObjects([se('gh', ['github.com']), egress], cidrs);
  const items: Compact[] = [compact(se('gh', ['api.github.com']))!, compact(se('npm', ['registry.npmjs.org']))!];
  const next = rebuildSnapshot(
    prev,
    ['ServiceEntry'],
    (kind) => items.filter((c) => c.kind === kind),
    cidrsOf(['10.0.0.0/8'], ['10.96.0.0/12']),
  );
  assert.equal([...next.serviceEntriesByHost.keys()], ['api.github.com', 'registry.npmjs.org']);
  assert.equal(
    next.serviceEntriesByPort.get(443)?.map((p) => p.protocol),
    ['TLS', 'TLS'],
  );
  assert.is(next.egressesBySourcePort, prev.egressesBySourcePort);
  assert.is(next.namespaces, prev.namespaces);
  assert.equal(
    next.cidrs.pod.map((r) => r.cidr.text),
    ['10.0.0.0/8'],
  );
  assert.equal([...prev.serviceEntriesByHost.keys()], ['github.com'], 'the previous snapshot is untouched');
});

Rebuild('empties the indexes of a kind whose records are all gone', () => {
  const prev = snapshotFromObjects([egress], cidrsOf([], []));
  const next = rebuildSnapshot(prev, ['Egress'], () => [], prev.cidrs);
  assert.is(next.egressesBySourcePort.size, 0);
});

Rebuild.run();

// ---

const Unaddressed = suite('cluster/indexes ServiceEntry ports on 0.0.0.0');

const entry = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: 'shop' },
  spec: { hosts: [`${name}.example.com`], ...spec },
});
const plain = entry('plain', {
  resolution: 'NONE',
  ports: [
    { number: 5432, name: 'tcp', protocol: 'TCP' },
    { number: 5433, name: 'db' },
    { number: 443, name: 'tls', protocol: 'TLS' },
    { number: 80, name: 'http', protocol: 'HTTP' },
    { number: 27017, name: 'mongo', protocol: 'mongo' },
    { number: 53, name: 'dns', protocol: 'UDP' },
  ],
});
const addressed = entry('addressed', { addresses: ['203.0.113.1'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }] });
const unaddressed = (s: ClusterSnapshot) =>
  [...s.unaddressedTcpServiceEntriesByPort].map(([port, list]) => [port, list.map((p) => `${p.entry.name}/${p.name}`)]);

Unaddressed('indexes only the ports of entries without addresses whose protocol is plain TCP or unset', () => {
  const s = snapshotFromObjects([plain, addressed], cidrsOf([], []));
  assert.equal(unaddressed(s), [
    [5432, ['plain/tcp']],
    [5433, ['plain/db']],
    [27017, ['plain/mongo']],
  ]);
  assert.is(s.serviceEntriesByPort.get(5432)?.length, 2);
});

Unaddressed('rebuilds that index with the other ServiceEntry indexes', () => {
  const prev = snapshotFromObjects([plain, egress], cidrsOf([], []));
  const next = rebuildSnapshot(
    prev,
    ['ServiceEntry'],
    () => [compact(addressed)!, compact(entry('plain', { ports: [{ number: 6379, name: 'redis', protocol: 'REDIS' }] }))!],
    prev.cidrs,
  );
  assert.equal(unaddressed(next), [[6379, ['plain/redis']]]);
  assert.is(
    rebuildSnapshot(next, ['Egress'], () => [], prev.cidrs).unaddressedTcpServiceEntriesByPort,
    next.unaddressedTcpServiceEntriesByPort,
  );
});

Unaddressed('grows that index one object at a time as it is built at once, replacing earlier versions', () => {
  const base = snapshotFromObjects([plain], cidrsOf([], []));
  const grown = incrementalSnapshot(base);
  const later = [
    addressed,
    entry('plain', { addresses: ['203.0.113.2'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }] }),
    entry('mq', { ports: [{ number: 5672, name: 'amqp' }] }),
  ];
  for (const o of later) grown.add(o);
  assert.equal(unaddressed(grown.snapshot), unaddressed(snapshotFromObjects(later, cidrsOf([], []))));
  assert.equal(unaddressed(grown.snapshot), [[5672, ['mq/amqp']]]);
  assert.equal(unaddressed(base).length, 3, 'the base snapshot is untouched');
});

Unaddressed.run();

const Records = suite('cluster/indexes records held for every stored object');

Records('ServiceEntries that export to the same namespaces share one frozen list, and their hosts fit them exactly', () => {
  const withExport = (name: string, exportTo: string[]): KubeObject => {
    const o = se(name, [`${name}.example.com`]);
    return { ...o, spec: { ...(o.spec as object), exportTo } };
  };
  const entryOf = (o: KubeObject) => {
    const c = compact(o);
    if (c?.kind !== 'ServiceEntry') throw new Error('expected a ServiceEntry record');
    return c.ports[0]!.entry;
  };
  const a = entryOf(withExport('a', ['.']));
  const b = entryOf(withExport('b', ['.']));
  assert.is(a.exportTo, b.exportTo);
  assert.equal(a.exportTo, ['.']);
  assert.ok(Object.isFrozen(a.exportTo));
  assert.equal(entryOf(withExport('c', ['.', 'istio-system'])).exportTo, ['.', 'istio-system']);
  assert.equal(a.hosts, ['a.example.com']);
  const mixed = se('d', []);
  assert.equal(entryOf({ ...mixed, spec: { ...(mixed.spec as object), hosts: ['d.example.com', 7, null, 'e.example.com'] } }).hosts, [
    'd.example.com',
    'e.example.com',
  ]);
});

Records.run();
