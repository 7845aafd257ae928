import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { overlay } from '../../src/cluster/overlay.ts';
import { egressKey } from '../../src/cluster/snapshot.ts';
import { snapshotLookup } from '../../src/rules/egress-records.ts';
import { judge } from '../../src/review/validate.ts';
import { snapshotWith } from '../support.ts';

const Overlay = suite('cluster/overlay: writes this webhook admitted, over the published snapshot');

const egress = (name: string, protocol: string, rv = ''): KubeObject => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace: 'db', ...(rv ? { resourceVersion: rv } : {}) },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'app', namespace: 'db' }],
    ports: [{ number: 5432, protocol }],
    ...(protocol === 'http' ? { hosts: ['api.example.com'] } : {}),
  },
});
const review = (o: KubeObject): AdmissionRequest => ({
  uid: 'u',
  kind: { group: 'policy.openservicemesh.io', version: 'v1alpha1', kind: 'Egress' },
  operation: 'CREATE',
  namespace: 'db',
  name: o.metadata?.name ?? '',
  object: o,
});
const ports = (s: ReturnType<typeof snapshotWith>) =>
  (s.egressesBySourcePort.get(egressKey('db/app', 5432)) ?? []).map((p) => `${p.egress.name}:${p.protocol}`);

Overlay('an empty overlay hands back the published snapshot itself', () => {
  const base = snapshotWith([]);
  assert.is(overlay().layer(base), base);
});

Overlay('an admitted object is seen by the next review, so a conflicting pair applied together is denied', () => {
  const o = overlay();
  const base = snapshotWith([]);
  assert.is(judge(review(egress('pg', 'tcp-server-first')), o.layer(base)).allowed, true);
  o.admitted(egress('pg', 'tcp-server-first'), 'alice');
  const d = judge(review(egress('api', 'http')), o.layer(base));
  assert.is(d.allowed, false);
  assert.match(d.message ?? '', 'EW420');
});

Overlay('an admitted update replaces the stored version of the same object', () => {
  const o = overlay();
  const base = snapshotWith([egress('pg', 'tcp-server-first', '5')]);
  o.admitted(egress('pg', 'tcp', '5'), 'alice');
  assert.equal(ports(o.layer(base)), ['pg:tcp']);
  assert.equal(ports(base), ['pg:tcp-server-first'], 'the published snapshot is never changed');
});

Overlay('a pending object leaves once its informer delivered a newer version and a snapshot was built', () => {
  const o = overlay();
  o.admitted(egress('pg', 'tcp', '5'), 'alice');
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
  o.admitted(egress('pg', 'tcp'), 'alice');
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
  o.admitted(egress('pg', 'tcp-server-first'), 'alice');
  t = 999;
  assert.is.not(o.layer(base), base);
  t = 1_001;
  assert.is(o.layer(base), base);
  assert.is(o.size(), 0);
});

Overlay('the pending count a scrape reads leaves out what expired since the last review', () => {
  let t = 0;
  const o = overlay(() => t, 1_000);
  o.admitted(egress('pg', 'tcp'), 'alice');
  t = 60_000;
  assert.is(o.size(), 0);
  assert.is(o.callers(), 0);
});

Overlay("a caller past its own cap loses its oldest writes, never another caller's", () => {
  const o = overlay(() => 0, 1_000, 2);
  o.admitted(egress('bob-1', 'tcp'), 'bob');
  for (const n of ['a', 'b', 'c', 'd']) o.admitted(egress(n, 'tcp'), 'alice');
  assert.is(o.size(), 3);
  assert.equal(ports(o.layer(snapshotWith([]))).sort(), ['bob-1:tcp', 'c:tcp', 'd:tcp']);
  assert.is(o.callers(), 2);
});

Overlay('an object admitted again replaces its pending entry: one entry, its newest records, and it ages from its last admission', () => {
  let t = 0;
  const o = overlay(() => t, 1_000);
  const base = snapshotWith([]);
  for (let i = 0; i < 3_000; i++) o.admitted(egress('pg', i % 2 ? 'tcp' : 'tcp-server-first'), 'alice');
  o.admitted(egress('api', 'tcp'), 'bob');
  assert.is(o.size(), 2);
  assert.is(o.callers(), 2);
  assert.equal(ports(o.layer(base)).sort(), ['api:tcp', 'pg:tcp']);
  t = 600;
  o.admitted(egress('pg', 'http'), 'alice');
  t = 1_100;
  assert.equal(ports(o.layer(base)), ['pg:http'], "bob's write expired, the readmitted one did not");
  o.admitted(egress('pg', 'http'), 'carol');
  assert.is(o.callers(), 1, 'the entry moved to its newest caller');
});

Overlay('past the overall cap the caller holding the most gives way', () => {
  const o = overlay(() => 0, 1_000, 10, 3);
  for (const n of ['a', 'b', 'c']) o.admitted(egress(n, 'tcp'), 'alice');
  o.admitted(egress('bob-1', 'tcp'), 'bob');
  assert.equal(ports(o.layer(snapshotWith([]))).sort(), ['b:tcp', 'bob-1:tcp', 'c:tcp']);
});

Overlay('a layered snapshot is built once per change, not per review', () => {
  const o = overlay();
  const base = snapshotWith([]);
  o.admitted(egress('pg', 'tcp'), 'alice');
  const a = o.layer(base);
  assert.is(o.layer(base), a);
  o.admitted(egress('api', 'tcp'), 'alice');
  assert.is.not(o.layer(base), a);
});

Overlay('a traced review says which pending objects it read, and only those', () => {
  const o = overlay(() => 1_000);
  const base = snapshotWith([]);
  o.admitted(egress('pg', 'tcp-server-first'), 'alice');
  o.admitted(
    {
      ...egress('elsewhere', 'tcp'),
      metadata: { name: 'elsewhere', namespace: 'other' },
      spec: { sources: [{ kind: 'ServiceAccount', name: 'x', namespace: 'other' }], ports: [{ number: 9, protocol: 'tcp' }] },
    },
    'bob',
  );
  const { value, read } = o.trace(() => judge(review(egress('api', 'http')), o.layer(base)));
  assert.is(value.allowed, false);
  assert.equal(
    read.map((p) => p.ref.name),
    ['pg'],
  );
  assert.equal(o.trace(() => 1).read, []);
});

Overlay('an entry that leaves is gone from the indexes at once, with the others kept', () => {
  const o = overlay();
  const base = snapshotWith([]);
  o.admitted(egress('pg', 'tcp', '5'), 'alice');
  o.admitted(egress('api', 'tcp', '5'), 'alice');
  assert.equal(ports(o.layer(base)).sort(), ['api:tcp', 'pg:tcp']);
  o.delivered('Egress', 'db', 'pg', '6');
  o.published();
  assert.equal(ports(o.layer(base)), ['api:tcp']);
});

Overlay('a key one pending object held, then two, then none, then another, shows exactly the objects pending there', () => {
  const o = overlay();
  const base = snapshotWith([]);
  o.admitted(egress('pg', 'tcp', '5'), 'alice');
  assert.equal(ports(o.layer(base)), ['pg:tcp']);
  o.admitted(egress('api', 'tcp', '5'), 'bob');
  assert.equal(ports(o.layer(base)), ['pg:tcp', 'api:tcp'], 'filed in the order they came');
  o.delivered('Egress', 'db', 'pg', '6');
  o.published();
  assert.equal(ports(o.layer(base)), ['api:tcp']);
  o.delivered('Egress', 'db', 'api', '6');
  o.published();
  assert.is(o.layer(base), base, 'nothing pending');
  o.admitted(egress('cache', 'tcp', '7'), 'carol');
  assert.equal(ports(o.layer(base)), ['cache:tcp']);
  o.admitted(egress('cache', 'http', '8'), 'carol');
  assert.equal(ports(o.layer(base)), ['cache:http'], 'its newer version replaces it at the key it held alone');
});

Overlay('namespaces and HTTPRouteGroups are layered too', () => {
  const o = overlay();
  const base = snapshotWith([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'old' } }]);
  o.admitted({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { a: 'b' } } }, 'alice');
  o.admitted({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'old', labels: { c: 'd' } } }, 'alice');
  o.admitted({ apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name: 'routes', namespace: 'db' } }, 'alice');
  const s = o.layer(base);
  assert.equal(s.namespaces.get('shop')?.labels, { a: 'b' });
  assert.equal(s.namespaces.get('old')?.labels, { c: 'd' });
  assert.equal([...s.namespaces.keys()].sort(), ['old', 'shop']);
  assert.is(s.httpRouteGroups.has('db/routes'), true);
});

Overlay('an object that is not well formed is not filed', () => {
  const o = overlay();
  o.admitted({ apiVersion: { x: 1 } as unknown as string, kind: 'Namespace', metadata: { name: 'shop' } }, 'alice');
  o.admitted({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 7 as unknown as string } }, 'alice');
  assert.is(o.size(), 0);
});

Overlay('the same object admitted again unchanged changes nothing reviews see, and only stays longer', () => {
  let t = 0;
  const o = overlay(() => t, 1_000);
  const base = snapshotWith([]);
  assert.is(o.admitted(egress('pg', 'tcp'), 'alice'), true, 'a new write changes what reviews see');
  const before = o.layer(base);
  t = 600;
  assert.is(o.admitted(egress('pg', 'tcp'), 'alice'), false, 'the same write again does not');
  assert.is(o.layer(base), before, 'the layering of the last review still holds');
  t = 1_100;
  assert.equal(ports(o.layer(base)), ['pg:tcp'], 'it ages from its last admission');
  assert.is(o.admitted(egress('pg', 'tcp-server-first'), 'alice'), true, 'a changed object does');
  assert.is(o.admitted(egress('pg', 'tcp-server-first'), 'bob'), true, 'so does the same object from another caller');
  assert.is(o.admitted({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 7 as unknown as string } }, 'alice'), false);
});

Overlay('an object written again unchanged is confirmed only by a version newer than its last write', () => {
  const o = overlay();
  o.admitted(egress('pg', 'tcp'), 'alice');
  o.delivered('Egress', 'db', 'pg', '5');
  o.admitted(egress('pg', 'tcp', '5'), 'alice');
  o.published();
  assert.is(o.size(), 1, 'the delivery before the second write confirms nothing of it');
  o.delivered('Egress', 'db', 'pg', '6');
  o.published();
  assert.is(o.size(), 0);
});

Overlay('an object admitted again and again holds on to none of its earlier versions', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const o = overlay();
  const base = snapshotWith([]);
  o.admitted(egress('other', 'tcp'), 'alice');
  o.admitted(egress('pg', 'tcp-server-first'), 'alice');
  const pendingPg = () => o.trace(() => judge(review(egress('api', 'http')), o.layer(base))).read.find((p) => p.ref.name === 'pg');
  const first = new WeakRef(pendingPg()!);
  assert.ok(first.deref(), 'the review read the pending write');
  for (let i = 0; i < 2_000; i++) o.admitted(egress('pg', i % 2 ? 'tcp-server-first' : 'tcp'), 'alice');
  o.layer(base); // the next review's layering replaces the one that read the first version
  // a WeakRef keeps its target until the current job ends
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
  assert.is(first.deref(), undefined);
  assert.is(o.size(), 2);
});

Overlay('a layered snapshot answers lookups by name of its own, not those of the snapshot under it', () => {
  const o = overlay();
  const base = snapshotWith([]);
  assert.is(snapshotLookup(base).serviceEntry?.('db', 'api'), undefined);
  o.admitted(
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'api', namespace: 'db' },
      spec: { hosts: ['api.example.com'] },
    },
    'alice',
  );
  assert.equal(snapshotLookup(o.layer(base)).serviceEntry?.('db', 'api')?.hosts, ['api.example.com']);
  assert.is(snapshotLookup(base).serviceEntry?.('db', 'api'), undefined, 'the published snapshot is never changed');
  const frozen = Object.freeze(o.layer(snapshotWith([])));
  assert.equal(snapshotLookup(frozen).serviceEntry?.('db', 'api')?.hosts, ['api.example.com'], 'a frozen snapshot is answered too');
});

Overlay.run();
