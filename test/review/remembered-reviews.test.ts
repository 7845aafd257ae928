import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { MODE_LABEL } from '../../src/catalogue/keys.ts';
import { overlay } from '../../src/cluster/overlay.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { notingPendingWrites } from '../../src/review/consistency.ts';
import { REMEMBERED_REVIEW_CHARS, REMEMBERED_REVIEWS } from '../../src/review/remembered-reviews.ts';
import { judge } from '../../src/review/validate.ts';
import { snapshotWith } from '../support.ts';

const Remembered = suite('review/remembered-reviews: an object reviewed again unchanged gets the decision it got');

const EGRESS = { group: 'policy.openservicemesh.io', version: 'v1alpha1', kind: 'Egress' };

const egress = (name: string, protocol: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace: 'db', ...extra },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'app', namespace: 'db' }],
    ports: [{ number: 5432, protocol }],
    ...(protocol === 'http' ? { hosts: ['api.example.com'] } : {}),
  },
});

/** A review of `o` as the API server sends each one: its own uid, the object at its own resourceVersion. */
let sent = 0;
function review(o: KubeObject, operation: 'CREATE' | 'UPDATE' = 'CREATE', oldObject?: KubeObject): AdmissionRequest {
  sent++;
  const stamped = { ...o, metadata: { ...o.metadata, resourceVersion: String(1000 + sent), managedFields: [{ time: `t${sent}` }] } };
  return {
    uid: `uid-${sent}`,
    kind: EGRESS,
    operation,
    namespace: 'db',
    name: o.metadata?.name ?? '',
    userInfo: { username: `user-${sent}` },
    object: stamped,
    ...(oldObject ? { oldObject } : {}),
  };
}

/** The serving reviewer over an empty overlay, counting the reviews the rules run. */
function serving(now = () => 1_000) {
  const pending = overlay(now);
  let judged = 0;
  const validate = notingPendingWrites(
    (req, snapshot) => {
      judged++;
      return judge(req, snapshot);
    },
    pending,
    now,
  );
  return { pending, validate, judged: () => judged };
}

const repeat = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);

Remembered('five reviews of the same object, each with its own uid and resourceVersion, run the rules at most twice and agree', () => {
  const { validate, judged } = serving();
  const base = snapshotWith([egress('pg', 'tcp-server-first')]);
  const decisions = repeat(5, () => validate(review(egress('api', 'http')), base));
  assert.is(decisions[0]!.allowed, false, 'the conflict denies');
  for (const d of decisions) assert.equal(d, judge(review(egress('api', 'http')), base));
  assert.ok(judged() <= 2, `the rules ran ${judged()} times`);
});

Remembered('a changed port, label or annotation is judged again', () => {
  const { validate } = serving();
  const base = snapshotWith([egress('pg', 'tcp-server-first')]);
  repeat(3, () => validate(review(egress('api', 'http')), base));
  const changes = [
    egress('api', 'tcp-server-first'),
    egress('api', 'http', { labels: { team: 'db' } }),
    egress('api', 'http', { annotations: { 'example.com/owner': 'db' } }),
  ];
  for (const o of changes) assert.equal(validate(review(o), base), judge(review(o), base));
  assert.is(validate(review(egress('api', 'tcp-server-first')), base).allowed, true, 'the same protocol on the port clashes with nothing');
});

Remembered('another snapshot, in which the namespace changed its mode, gets its own decision', () => {
  const { validate } = serving();
  const enforced = snapshotWith([egress('pg', 'tcp-server-first')]);
  repeat(3, () => validate(review(egress('api', 'http')), enforced));
  const warned = snapshotWith([
    egress('pg', 'tcp-server-first'),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'db', labels: { [MODE_LABEL]: 'warn' } } },
  ]);
  const d = validate(review(egress('api', 'http')), warned);
  assert.is(d.allowed, true);
  assert.is(d.mode, 'warn');
  assert.ok(
    d.warnings.some((w) => w.includes('EW420')),
    'the finding is a warning now',
  );
});

Remembered('an UPDATE is judged against its own oldObject: what the stored object already broke does not block', () => {
  const { validate } = serving();
  const base = snapshotWith([egress('pg', 'tcp-server-first')]);
  const fromTcp = () => review(egress('api', 'http'), 'UPDATE', egress('api', 'tcp-server-first'));
  const fromHttp = () => review(egress('api', 'http'), 'UPDATE', egress('api', 'http'));
  repeat(3, () => validate(fromTcp(), base));
  assert.is(validate(fromTcp(), base).allowed, false, 'the update brings the conflict in');
  assert.is(validate(fromHttp(), base).allowed, true, 'the stored object had the conflict already');
});

Remembered('a finding that rests on a pending write says how long ago it was admitted, each time anew', () => {
  let now = 1_000;
  const { pending, validate } = serving(() => now);
  pending.admitted(egress('pg', 'tcp-server-first'), 'alice');
  const base = snapshotWith([]);
  const notes = repeat(4, () => {
    now += 100;
    return (validate(review(egress('api', 'http')), base).message ?? '').split('\n').at(-1);
  });
  assert.equal(
    notes.map((n) => n?.match(/admitted (\d+) ms ago/)?.[1]),
    ['100', '200', '300', '400'],
  );
});

Remembered('an object whose inputs are too long to keep is judged each time, with the same answer', () => {
  const { validate, judged } = serving();
  const long = egress('api', 'http', { annotations: { 'example.com/notes': 'x'.repeat(REMEMBERED_REVIEW_CHARS) } });
  const base = snapshotWith([]);
  const decisions = repeat(4, () => validate(review(long), base));
  assert.is(judged(), 4);
  for (const d of decisions) assert.equal(d, decisions[0]);
});

Remembered('past the objects a snapshot remembers, the memo starts again and answers stay right', () => {
  const { validate } = serving();
  const base = snapshotWith([egress('pg', 'tcp-server-first')]);
  const names = Array.from({ length: REMEMBERED_REVIEWS + 10 }, (_, i) => `api-${i}`);
  for (const round of [1, 2, 3])
    for (const name of names) {
      const d = validate(review(egress(name, round === 2 ? 'tcp-server-first' : 'http')), base);
      assert.is(d.allowed, round === 2, `${name} in round ${round}`);
    }
});

Remembered('the rules see only the judge inputs: status, managedFields and other fields change no decision', () => {
  const base: ClusterSnapshot = snapshotWith([egress('pg', 'tcp-server-first')]);
  const plain = review(egress('api', 'http'));
  const cluttered = { ...plain, object: { ...plain.object, status: { phase: 'x' }, extra: [1, 2, 3] } };
  assert.equal(judge(cluttered, base), judge(plain, base));
});

Remembered.run();
