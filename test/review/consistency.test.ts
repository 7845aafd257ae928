import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { overlay } from '../../src/cluster/overlay.ts';
import { notingPendingWrites } from '../../src/review/consistency.ts';
import { admitPod, admitPodReadingThrough } from '../../src/review/mutate.ts';
import { judge } from '../../src/review/validate.ts';
import { ISTIO_NS, namespace, plainPod, podReview } from '../capture/pods.ts';
import { snapshotWith } from '../support.ts';

const Pending = suite('review/consistency: findings that rest on a pending write say so');

const egress = (name: string, protocol: string): KubeObject => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace: 'db' },
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
const pendingWith = (...objects: KubeObject[]) => {
  const o = overlay(() => 1_000);
  for (const obj of objects) o.admitted(obj, 'alice');
  return { o, validate: notingPendingWrites(judge, o, () => 1_250) };
};

Pending('a denial that rests on an object known only from the overlay names it and says it is pending, in a line of its own', () => {
  const { validate } = pendingWith(egress('pg', 'tcp-server-first'));
  const d = validate(review(egress('api', 'http')), snapshotWith([]));
  assert.is(d.allowed, false);
  const lines = (d.message ?? '').split('\n');
  assert.match(lines[0]!, /^\[EW420\]/);
  assert.is(
    lines.at(-1),
    'egress-warden: [EW420] rests on Egress db/pg, known only from a write admitted 250 ms ago and not yet in the cluster view',
  );
  assert.ok(
    d.findings.errors.every((i) => !i.message.includes('known only')),
    'the findings themselves are left whole',
  );
});

Pending('a finding the published snapshot already makes is left as it is', () => {
  const { validate } = pendingWith(egress('other', 'tcp'));
  const base = snapshotWith([egress('pg', 'tcp-server-first')]);
  const d = validate(review(egress('api', 'http')), base);
  assert.is(d.allowed, false);
  assert.is(d.message, judge(review(egress('api', 'http')), base).message);
});

Pending('an allowed update warns once that a finding rests on a pending write, beside its pre-existing summary line', () => {
  const { validate } = pendingWith(egress('pg', 'tcp-server-first'));
  const http = egress('api', 'http') as KubeObject & { spec: Record<string, unknown> };
  const stored = {
    ...http,
    spec: {
      ...http.spec,
      ports: [
        { number: 5432, protocol: 'http' },
        { number: 8080, protocol: 'HTTP' },
      ],
    },
  } as KubeObject;
  const touched = { ...stored, metadata: { ...stored.metadata, labels: { team: 'a' } } } as KubeObject;
  const d = validate({ ...review(touched), operation: 'UPDATE', oldObject: stored }, snapshotWith([]));
  assert.ok(d.allowed, d.message);
  assert.equal(
    d.warnings.filter((w) => w.includes('known only from a write admitted')),
    ['egress-warden: [EW420] rests on Egress db/pg, known only from a write admitted 250 ms ago and not yet in the cluster view'],
  );
  assert.ok(
    d.warnings.some((w) => /^\[EW322\].*pre-existing/.test(w)),
    d.warnings.join('\n'),
  );
  assert.ok(
    d.warnings.some((w) => w.startsWith('egress-warden: 2 pre-existing findings')),
    d.warnings.join('\n'),
  );
});

Pending('a warning about pending writes with long names stays within what the API server keeps, naming them', () => {
  const long = (n: string) => `${n}-${'x'.repeat(200)}`;
  const { validate } = pendingWith(egress(long('pg'), 'tcp-server-first'));
  const http = egress('api', 'http') as KubeObject & { spec: Record<string, unknown> };
  const stored = { ...http, spec: { ...http.spec, ports: [{ number: 5432, protocol: 'http' }] } } as KubeObject;
  const d = validate(
    { ...review({ ...stored, metadata: { ...stored.metadata, labels: { a: 'b' } } }), operation: 'UPDATE', oldObject: stored },
    snapshotWith([]),
  );
  const note = d.warnings.find((w) => w.startsWith('egress-warden: [EW420] rests on'));
  assert.ok(note, d.warnings.join('\n'));
  assert.ok(note.length <= 256, `${note.length}`);
  assert.match(note, /Egress db\/pg-x+/);
});

Pending('without pending writes the review is the plain one', () => {
  const { validate } = pendingWith();
  const base = snapshotWith([egress('pg', 'tcp-server-first')]);
  assert.equal(validate(review(egress('api', 'http')), base), judge(review(egress('api', 'http')), base));
});

Pending('pending writes the review never read leave it as the plain one', () => {
  const elsewhere = {
    ...egress('x', 'tcp-server-first'),
    metadata: { name: 'x', namespace: 'other' },
    spec: {
      sources: [{ kind: 'ServiceAccount', name: 'app', namespace: 'other' }],
      ports: [{ number: 5432, protocol: 'tcp-server-first' }],
    },
  };
  const { validate } = pendingWith(elsewhere);
  const base = snapshotWith([egress('pg', 'tcp-server-first')]);
  assert.equal(validate(review(egress('api', 'http')), base), judge(review(egress('api', 'http')), base));
});

Pending('an object applied again with a warning is reviewed once: its own pending write is no other object', () => {
  const o = overlay(() => 1_000);
  let reviews = 0;
  const validate = notingPendingWrites(
    (req, snapshot) => {
      reviews++;
      return judge(req, snapshot);
    },
    o,
    () => 1_250,
  );
  // an http Egress without hosts warns on every apply (EW342), and reads its own pending write the second time
  const pg: KubeObject = {
    apiVersion: 'policy.openservicemesh.io/v1alpha1',
    kind: 'Egress',
    metadata: { name: 'pg', namespace: 'db' },
    spec: { sources: [{ kind: 'ServiceAccount', name: 'app', namespace: 'db' }], ports: [{ number: 80, protocol: 'http' }] },
  };
  const first = validate(review(pg), snapshotWith([]));
  o.admitted(pg, 'alice');
  reviews = 0;
  const again = validate(review(pg), snapshotWith([]));
  assert.ok(first.warnings.length > 0, 'the Egress warns');
  assert.is(reviews, 1);
  assert.equal(again, first);
});

Pending.run();

const ReadThrough = suite('review/mutate: a pod whose namespace the view lacks waits for it from the API server');

const shop = namespace('shop', ISTIO_NS, {
  'egress-warden.io/outbound-capture': 'cluster',
  'egress-warden.io/bypass-ip-ranges': '192.0.2.0/24',
});

ReadThrough('a namespace missing from the view is read and the pod mutated as its settings say', async () => {
  const remembered: KubeObject[] = [];
  const mutate = admitPodReadingThrough({ read: async () => shop, remember: (ns) => void remembered.push(ns) });
  const d = await mutate(podReview(plainPod(), 'shop'), snapshotWith([]));
  assert.ok(d.patch.length > 0);
  assert.equal(d, admitPod(podReview(plainPod(), 'shop'), snapshotWith([shop])));
  assert.equal(remembered, [shop]);
});

ReadThrough('a namespace in the view is not read, and the review stays synchronous', () => {
  const mutate = admitPodReadingThrough({
    read: async () => {
      throw new Error('must not be read');
    },
  });
  const d = mutate(podReview(plainPod(), 'shop'), snapshotWith([shop]));
  assert.not.instance(d, Promise);
});

ReadThrough('a namespace that cannot be read in time leaves a warning saying what was not applied', async () => {
  const mutate = admitPodReadingThrough({ read: () => new Promise(() => {}), timeoutMs: 20 });
  const d = await mutate(podReview(plainPod(), 'shop'), snapshotWith([]));
  assert.is(d.allowed, true);
  assert.ok(
    d.warnings.some((w) =>
      /could not read namespace shop \(no answer within 20 ms\): its enforcement mode and capture settings were not applied/.test(w),
    ),
    d.warnings.join('\n'),
  );
});

ReadThrough('a failed read says why', async () => {
  const mutate = admitPodReadingThrough({
    read: async () => {
      throw new Error('HTTP 403: forbidden');
    },
  });
  const d = await mutate(podReview(plainPod(), 'shop'), snapshotWith([]));
  assert.ok(
    d.warnings.some((w) => w.includes('(HTTP 403: forbidden)')),
    d.warnings.join('\n'),
  );
});

ReadThrough.run();
