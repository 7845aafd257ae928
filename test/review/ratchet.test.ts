import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { webhookRules } from '../../src/catalogue/kinds.ts';
import { finding, merge } from '../../src/catalogue/result.ts';
import { admitPod } from '../../src/review/mutate.ts';
import { PREEXISTING } from '../../src/catalogue/result.ts';
import { ratchet } from '../../src/review/ratchet.ts';
import { judge, judgeWith } from '../../src/review/validate.ts';
import { RULES } from '../../src/review/rules.ts';
import { ISTIO_NS, namespace, plainPod, podReview } from '../capture/pods.ts';
import { fixture, snapshotWith } from '../support.ts';

const Ratchet = suite('review/ratchet: an update is denied only for what it introduces');

type Obj = Record<string, any>;

/** Port name `https_443` (EW115) and a wildcard host with DNS resolution (EW125), stored before the webhook judged it. */
function legacy(): Obj {
  const se = fixture<Obj>('objects/service-entry.valid.json');
  se.metadata.finalizers = ['example.com/cleanup'];
  se.spec.hosts = ['*.example.com'];
  se.spec.ports = [{ name: 'https_443', number: 443, protocol: 'HTTPS' }];
  return se;
}

const clone = <T>(o: T): T => structuredClone(o);

const update = (object: Obj, oldObject: Obj): AdmissionRequest => ({
  uid: '00000000-0000-4000-8000-00000000000a',
  kind: { group: object.apiVersion.split('/')[0], version: object.apiVersion.split('/')[1], kind: object.kind },
  namespace: object.metadata.namespace,
  name: object.metadata.name,
  operation: 'UPDATE',
  object: object as KubeObject,
  oldObject: oldObject as KubeObject,
});

const codes = (lines: readonly string[]) => lines.map((l) => /^\[(EW\d{3})\]/.exec(l)?.[1] ?? l);

Ratchet('a label edit on a stored invalid ServiceEntry is admitted, its findings shown as pre-existing warnings', () => {
  const before = legacy();
  const after = clone(before);
  after.metadata.labels = { team: 'payments' };
  const d = judge(update(after, before), snapshotWith([before as KubeObject]));
  assert.ok(d.allowed, d.message);
  assert.equal(codes(d.warnings).slice(0, 2).sort(), ['EW115', 'EW125']);
  assert.ok(
    d.warnings.slice(0, 2).every((w) => w.includes(PREEXISTING)),
    d.warnings.join('\n'),
  );
  assert.match(d.warnings.at(-1)!, /2 pre-existing findings did not block this update; fix them/);
});

Ratchet('an edit that adds a violation is denied for the new one only', () => {
  const before = legacy();
  const after = clone(before);
  after.spec.ports.push({ name: 'http-alt', number: 8080, protocol: 'FOO' });
  const d = judge(update(after, before), snapshotWith([before as KubeObject]));
  assert.is(d.allowed, false);
  assert.match(d.message ?? '', /^\[EW116\] spec\.ports\[1\]\.protocol/);
  assert.not.match(d.message ?? '', /EW115|EW125/);
  assert.ok(d.warnings.some((w) => w.startsWith('[EW115]') && w.includes(PREEXISTING)));
});

Ratchet('changing an invalid value to another invalid value is a new violation', () => {
  const before = legacy();
  const after = clone(before);
  after.spec.ports[0].name = 'https_8443';
  const d = judge(update(after, before), snapshotWith([before as KubeObject]));
  assert.is(d.allowed, false);
  assert.match(d.message ?? '', /\[EW115\].*https_8443/);
});

Ratchet('a pre-existing finding stays pre-existing when its port moves within the list', () => {
  const before = legacy();
  const after = clone(before);
  after.spec.ports.unshift({ name: 'http', number: 80, protocol: 'HTTP' });
  const d = judge(update(after, before), snapshotWith([before as KubeObject]));
  assert.ok(d.allowed, d.message);
  assert.ok(
    d.warnings.some((w) => w.startsWith('[EW115] spec.ports[1].name') && w.includes(PREEXISTING)),
    d.warnings.join('\n'),
  );
});

Ratchet('a second copy of a pre-existing violation makes it worse and is denied', () => {
  const r = ratchet(
    finding('EW115', 'spec.ports[0].name', 'invalid port name: a_b'),
    merge(
      finding('EW115', 'spec.ports[0].name', 'invalid port name: a_b'),
      finding('EW115', 'spec.ports[1].name', 'invalid port name: a_b'),
    ),
  );
  assert.is(r.result.errors.length, 1);
  assert.is(r.preexisting, 1);
});

Ratchet('removing the finalizer of an invalid object being deleted is admitted without judging it', () => {
  const before = legacy();
  before.metadata.deletionTimestamp = '2026-12-04T10:00:00Z';
  const after = clone(before);
  delete after.metadata.finalizers;
  const d = judge(update(after, before), snapshotWith([before as KubeObject]));
  assert.ok(d.allowed, d.message);
  assert.equal(d.warnings, []);
});

Ratchet('with strict updates every UPDATE is judged as if the object were new', () => {
  const before = legacy();
  const after = clone(before);
  after.metadata.labels = { team: 'payments' };
  const d = judgeWith(RULES, { strictUpdates: true })(update(after, before), snapshotWith([before as KubeObject]));
  assert.is(d.allowed, false);
  assert.match(d.message ?? '', /EW115/);
});

Ratchet('an annotation edit on one of two conflicting Egresses stored together is admitted with the conflict as a warning', () => {
  const egress = (name: string, protocol: string): Obj => {
    const e = fixture<Obj>('objects/egress.valid.json');
    e.metadata.name = name;
    e.spec.hosts = ['db.example.com'];
    e.spec.ports = [{ number: 5432, protocol }];
    return e;
  };
  const tcp = egress('pg-tcp', 'tcp-server-first');
  const http = egress('pg-http', 'http');
  const snapshot = snapshotWith([tcp as KubeObject, http as KubeObject]);
  for (const [stored, other] of [
    [tcp, http],
    [http, tcp],
  ] as const) {
    assert.is(
      judge({ ...update(stored, stored), operation: 'CREATE', oldObject: null }, snapshotWith([other as KubeObject])).allowed,
      false,
      `${stored.metadata.name} alone is denied against the other`,
    );
    const touched = clone(stored);
    touched.metadata.annotations = { touch: '1' };
    const d = judge(update(touched, stored), snapshot);
    assert.ok(d.allowed, `${stored.metadata.name}: ${d.message}`);
    assert.ok(
      d.warnings.some((w) => /^\[EW42\d\]/.test(w) && w.includes(PREEXISTING)),
      d.warnings.join('\n'),
    );
  }
});

Ratchet('in audit mode pre-existing findings stay silent', () => {
  const before = legacy();
  const after = clone(before);
  after.metadata.labels = { team: 'payments' };
  const d = judge(update(after, before), snapshotWith([before as KubeObject, namespace('shop', { 'egress-warden.io/mode': 'audit' })]));
  assert.ok(d.allowed);
  assert.equal(d.warnings, []);
});

Ratchet("an UPDATE of a pod never fails because of its namespace's annotations", () => {
  const ns = namespace('shop', ISTIO_NS, { 'egress-warden.io/bypass-ip-ranges': 'not-a-cidr' });
  const pod = plainPod();
  assert.is(admitPod(podReview(pod, 'shop'), snapshotWith([ns])).allowed, false, 'a new pod is denied for the invalid namespace value');
  const d = admitPod(podReview(pod, 'shop', { operation: 'UPDATE', oldObject: pod }), snapshotWith([ns]));
  assert.ok(d.allowed, d.message);
  assert.equal(d.patch, []);
});

Ratchet('no webhook rule names a subresource, so status writes are never intercepted', () => {
  for (const webhook of ['validate', 'namespaces', 'mutate'] as const) {
    for (const rule of webhookRules(webhook))
      assert.ok(
        rule.resources.every((r) => !r.includes('/')),
        JSON.stringify(rule),
      );
  }
});

Ratchet.run();
