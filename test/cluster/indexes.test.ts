import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { compact, rebuildSnapshot, snapshotFromObjects, type Compact } from '../../src/cluster/indexes.ts';
import { cidrsOf } from '../support.ts';

const se = (name: string, hosts: string[]): KubeObject => ({
  apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name, namespace: 'shop' },
  spec: { hosts, ports: [{ number: 443, name: 'tls', protocol: 'tls' }] },
});
const egress: KubeObject = {
  apiVersion: 'policy.openservicemesh.io/v1alpha1', kind: 'Egress', metadata: { name: 'db', namespace: 'shop' },
  spec: { sources: [{ kind: 'ServiceAccount', name: 'app', namespace: 'shop' }], hosts: ['db.example.com'], ports: [{ number: 5432, protocol: 'tcp' }] },
};

const Rebuild = suite('cluster/indexes rebuild');

Rebuild('rebuilds only the kinds that changed and shares the other indexes', () => {
  const cidrs = cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']);
  const prev = snapshotFromObjects([se('gh', ['github.com']), egress], cidrs);
  const items: Compact[] = [compact(se('gh', ['api.github.com']))!, compact(se('npm', ['registry.npmjs.org']))!];
  const next = rebuildSnapshot(prev, ['ServiceEntry'], (kind) => items.filter((c) => c.kind === kind), cidrsOf(['10.0.0.0/8'], ['10.96.0.0/12']));
  assert.equal([...next.serviceEntriesByHost.keys()], ['api.github.com', 'registry.npmjs.org']);
  assert.equal(next.serviceEntriesByPort.get(443)?.map((p) => p.protocol), ['TLS', 'TLS']);
  assert.is(next.egressesBySourcePort, prev.egressesBySourcePort);
  assert.is(next.namespaces, prev.namespaces);
  assert.equal(next.cidrs.pod.map((r) => r.cidr.text), ['10.0.0.0/8']);
  assert.equal([...prev.serviceEntriesByHost.keys()], ['github.com'], 'the previous snapshot is untouched');
});

Rebuild('empties the indexes of a kind whose records are all gone', () => {
  const prev = snapshotFromObjects([egress], cidrsOf([], []));
  const next = rebuildSnapshot(prev, ['Egress'], () => [], prev.cidrs);
  assert.is(next.egressesBySourcePort.size, 0);
});

Rebuild.run();
