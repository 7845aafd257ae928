import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { allow, type Decision } from '../../src/admission/decision.ts';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { admittedWrite, callerOf } from '../../src/review/remember.ts';

const Remember = suite('review/remember: only writes the API server could have sent change what later reviews see');

const egress: KubeObject = {
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name: 'pg', namespace: 'db' },
  spec: { sources: [{ kind: 'ServiceAccount', name: 'app', namespace: 'db' }], ports: [{ number: 5432, protocol: 'tcp-server-first' }] },
};
const namespace: KubeObject = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'shop', annotations: { 'egress-warden.io/bypass-ip-ranges': '0.0.0.0/0' } },
};
const EGRESS = { group: 'policy.openservicemesh.io', version: 'v1alpha1', kind: 'Egress' };
const NAMESPACE = { group: '', version: 'v1', kind: 'Namespace' };

const review = (over: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  uid: 'u',
  kind: EGRESS,
  operation: 'CREATE',
  namespace: 'db',
  name: 'pg',
  object: egress,
  userInfo: { username: 'alice' },
  ...over,
});
const allowed: Decision = allow('enforce');

Remember('an allowed create is remembered as sent', () => {
  assert.is(admittedWrite(review(), allowed), egress);
});

Remember('an object sent without its namespace takes the request namespace', () => {
  const bare = { ...egress, metadata: { name: 'pg' } };
  assert.equal(admittedWrite(review({ object: bare }), allowed)?.metadata?.namespace, 'db');
});

Remember('a denial, a dry run and a subresource change nothing', () => {
  assert.is(admittedWrite(review(), { ...allowed, allowed: false }), undefined);
  assert.is(admittedWrite(review({ dryRun: true }), allowed), undefined);
  assert.is(admittedWrite(review({ operation: 'UPDATE', subResource: 'status' }), allowed), undefined);
});

Remember('a DELETE or CONNECT is never remembered: the API server sends neither to these webhooks', () => {
  assert.is(admittedWrite(review({ operation: 'DELETE', object: null, oldObject: egress }), allowed), undefined);
  assert.is(admittedWrite(review({ operation: 'CONNECT' }), allowed), undefined);
});

Remember('an object whose kind or group is not the request kind is not remembered', () => {
  assert.is(
    admittedWrite(
      review({ kind: { group: '', version: 'v1', kind: 'ConfigMap' }, namespace: 'shop', name: 'shop', object: namespace }),
      allowed,
    ),
    undefined,
  );
  assert.is(admittedWrite(review({ kind: NAMESPACE, namespace: 'db', object: egress }), allowed), undefined);
  assert.is(admittedWrite(review({ object: { ...egress, apiVersion: 'example.com/v1alpha1' } }), allowed), undefined);
});

Remember('a pod is never remembered: the pod path is not the validating one', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'db' } };
  assert.is(admittedWrite(review({ kind: { group: '', version: 'v1', kind: 'Pod' }, name: 'p', object: pod }), allowed), undefined);
});

Remember('an object in another namespace than the request names, or with another name, is not remembered', () => {
  assert.is(admittedWrite(review({ namespace: 'other' }), allowed), undefined);
  assert.is(admittedWrite(review({ namespace: '' }), allowed), undefined);
  assert.is(admittedWrite(review({ name: 'other' }), allowed), undefined);
});

Remember('a Namespace is remembered with its own name, or no name, as the request namespace', () => {
  assert.is(admittedWrite(review({ kind: NAMESPACE, namespace: 'shop', name: 'shop', object: namespace }), allowed), namespace);
  assert.is(admittedWrite(review({ kind: NAMESPACE, namespace: '', name: 'shop', object: namespace }), allowed), namespace);
  assert.is(admittedWrite(review({ kind: NAMESPACE, namespace: 'other', name: 'shop', object: namespace }), allowed), undefined);
});

Remember('the caller is the user the API server names', () => {
  assert.is(callerOf(review()), 'alice');
  assert.is(callerOf(review({ userInfo: {} })), '');
});

Remember.run();
