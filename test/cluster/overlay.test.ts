import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { layeringOf, overlay } from '../../src/cluster/overlay.ts';
import { egressKey } from '../../src/cluster/snapshot.ts';
import { judge } from '../../src/review/validate.ts';
import { snapshotWith } from '../support.ts';

const Overlay = suite('cluster/overlay: writes this webhook admitted, over the published snapshot');

const egress = (name: string, protocol: string, rv = ''): KubeObject => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1', kind: 'Egress',
  metadata: { name, namespace: 'db', ...(rv ? { resourceVersion: rv } : {}) },
  spec: { sources: [{ kind: 'ServiceAccount', name: 'app', namespace: 'db' }], ports: [{ number: 5432, protocol }], ...(protocol === 'http' ? { hosts: ['api.example.com'] } : {}) },
});
const review = (o: KubeObject): AdmissionRequest => ({
  uid: 'u', kind: { group: 'policy.openservicemesh.io', version: 'v1alpha1', kind: 'Egress' }, operation: 'CREATE', namespace: 'db', name: o.metadata?.name ?? '', object: o,
});
const ports = (s: ReturnType<typeof snapshotWith>) => (s.egressesBySourcePort.get(egressKey('db/app', 5432)) ?? []).map((p) => `${p.egress.name}:${p.protocol}`);

Overlay('an empty overlay hands back the published snapshot itself', () => {
  const base = snapshotWith([]);
  assert.is(overlay().layer(base), base);
});

Overlay('an admitted object is seen by the next review, so a conflicting pair applied together is denied', () => {
  const o = overlay();
  const base = snapshotWith([]);
  assert.is(judge(review(egress('pg', 'tcp-server-first')), o.layer(base)).allowed, true);
  o.admitted(egress('pg', 'tcp-server-first'));
  const d = judge(review(egress('api', 'http')), o.layer(base));
  assert.is(d.allowed, false);
  assert.match(d.message ?? '', 'EW420');
});

Overlay('an admitted update replaces the stored version of the same object', () => {
  const o = overlay();
  const base = snapshotWith([egress('pg', 'tcp-server-first', '5')]);
  o.admitted(egress('pg', 'tcp', '5'));
  assert.equal(ports(o.layer(base)), ['pg:tcp']);
  assert.equal(ports(base), ['pg:tcp-server-first'], 'the published snapshot is never changed');
});

Overlay('an admitted deletion hides the stored object', () => {
  const o = overlay();
  const base = snapshotWith([egress('pg', 'tcp-server-first', '5')]);
  o.admitted(egress('pg', 'tcp-server-first', '5'), true);
  assert.equal(ports(o.layer(base)), []);
});

Overlay('a pending object leaves once its informer delivered a newer version and a snapshot was built', () => {
  const o = overlay();
  o.admitted(egress('pg', 'tcp', '5'));
  o.delivered('Egress', 'db', 'pg', '5');
  o.published();
  assert.is(o.size(), 1, 'the version the update started from confirms nothing');
  o.delivered('Egress', 'db', 'pg', '6');
  assert.is(o.size(), 1, 'it stays until the snapshot holding the delivery is built');
  o.published();
  assert.is(o.size(), 0);
});

Overlay('a created object is confirmed by any delivery of it, a read-through one by the same version', () => {
  const o = overlay();
  o.admitted(egress('pg', 'tcp'));
  o.stored({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', resourceVersion: '9' } });
  o.delivered('Egress', 'db', 'pg', '3');
  o.delivered('Namespace', '', 'shop', '9');
  o.published();
  assert.is(o.size(), 0);
});

Overlay('a write the informers never confirm expires, so a write rejected after admission stops counting', () => {
  let t = 0;
  const o = overlay(() => t, 1_000);
  const base = snapshotWith([]);
  o.admitted(egress('pg', 'tcp-server-first'));
  t = 999;
  assert.is.not(o.layer(base), base);
  t = 1_001;
  assert.is(o.layer(base), base);
  assert.is(o.size(), 0);
});

Overlay('the overlay holds at most its cap, dropping the oldest writes first', () => {
  const o = overlay(() => 0, 1_000, 2);
  for (const n of ['a', 'b', 'c']) o.admitted(egress(n, 'tcp'));
  assert.is(o.size(), 2);
  assert.equal(ports(o.layer(snapshotWith([]))).sort(), ['b:tcp', 'c:tcp']);
});

Overlay('a layered snapshot is built once per change, not per review, and says what it was made of', () => {
  const o = overlay();
  const base = snapshotWith([]);
  o.admitted(egress('pg', 'tcp'));
  const a = o.layer(base);
  assert.is(o.layer(base), a);
  assert.is(layeringOf(a)?.base, base);
  assert.equal(layeringOf(a)?.pending.map((p) => p.ref.name), ['pg']);
  o.admitted(egress('api', 'tcp'));
  assert.is.not(o.layer(base), a);
});

Overlay('namespaces and HTTPRouteGroups are layered too', () => {
  const o = overlay();
  const base = snapshotWith([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'old' } }]);
  o.admitted({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { a: 'b' } } });
  o.admitted({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'old' } }, true);
  o.admitted({ apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name: 'routes', namespace: 'db' } });
  const s = o.layer(base);
  assert.equal(s.namespaces.get('shop')?.labels, { a: 'b' });
  assert.is(s.namespaces.has('old'), false);
  assert.equal([...s.namespaces.keys()], ['shop']);
  assert.is(s.httpRouteGroups.has('db/routes'), true);
});

Overlay('an object that is not well formed is not filed', () => {
  const o = overlay();
  o.admitted({ apiVersion: { x: 1 } as unknown as string, kind: 'Namespace', metadata: { name: 'shop' } });
  o.admitted({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 7 as unknown as string } });
  assert.is(o.size(), 0);
});

Overlay.run();
