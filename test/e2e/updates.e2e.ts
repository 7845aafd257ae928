/**
 * Objects that already break a rule (created before the webhook was installed, or while it was not
 * selecting their namespace) must stay deletable and editable: an UPDATE is denied only for what it
 * introduces. The classic webhook incident this guards against: a finalizer that can never be
 * removed, and a namespace stuck in Terminating for ever.
 */
import * as assert from 'uvu/assert';
import {
  accepted,
  apply,
  denied,
  eventually,
  getJson,
  hasCrd,
  kubectl,
  must,
  ourWarnings,
  webhookSuite,
  type Obj,
} from '../support/kube.ts';

const { E2E, test, ctx } = webhookSuite('e2e/updates: existing violations never block deletion or unrelated edits');

const FINALIZER = 'example.com/cleanup';

/** Port name `https_443` (EW115: not a protocol prefix Istio knows) and a wildcard host with DNS resolution (EW125). */
const invalidServiceEntry = (name: string, ns: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: ns, finalizers: [FINALIZER] },
  spec: {
    hosts: ['*.example.com'],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    ports: [{ number: 443, name: 'https_443', protocol: 'HTTPS' }],
  },
});

const egress = (name: string, ns: string, protocol: string) => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace: ns },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
    hosts: ['db.example.com'],
    ports: [{ number: 5432, protocol }],
  },
});

/**
 * A namespace the webhook does not select yet: objects written there are stored unjudged, as they
 * would be before an install. `enforce()` then brings it under the webhook.
 */
function unselectedNamespace(suffix: string) {
  const ns = ctx.hook.namespace(suffix, { 'egress-warden.io/e2e': `${ctx.hook.name}-later` });
  return {
    ns,
    enforce: async (probe: () => boolean) => {
      must(['label', '--overwrite', 'namespace', ns, `egress-warden.io/e2e=${ctx.hook.name}`]);
      await eventually(`the webhook judges namespace ${ns}`, () => (probe() ? true : undefined));
    },
  };
}

/** Removes the finalizer as the object's controller would once it saw the deletion. */
const finalize = (kind: string, name: string, ns: string) =>
  kubectl(['patch', kind, name, '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);

/** The webhook denies a new invalid ServiceEntry in this namespace (dry run). */
const seDenied = (ns: string) =>
  kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(invalidServiceEntry('probe', ns))).code !== 0;

test('an invalid ServiceEntry stored before the webhook selected its namespace takes label and annotation edits, with a warning', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const { ns, enforce } = unselectedNamespace('edits');
  accepted(apply(invalidServiceEntry('legacy', ns)));
  await enforce(() => seDenied(ns));

  for (const edit of [
    ['label', 'serviceentry', 'legacy', '-n', ns, 'team=payments'],
    ['annotate', 'serviceentry', 'legacy', '-n', ns, 'touched=1'],
  ]) {
    const r = kubectl(edit);
    accepted(r);
    const warnings = ourWarnings(r.stderr);
    assert.ok(
      warnings.some((l) => /\[EW115\].*pre-existing/.test(l)),
      `expected the pre-existing EW115 as a warning, got:\n${r.stderr}`,
    );
  }
  assert.is(getJson(['serviceentry', 'legacy', '-n', ns]).metadata.labels.team, 'payments');
  must(['patch', 'serviceentry', 'legacy', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
});

test('an edit that adds a new violation to an already invalid object is denied for the new one only', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const { ns, enforce } = unselectedNamespace('worse');
  const se = invalidServiceEntry('legacy', ns);
  accepted(apply(se));
  await enforce(() => seDenied(ns));
  const worse = { ...se, spec: { ...se.spec, ports: [...se.spec.ports, { number: 8080, name: 'http-alt', protocol: 'FOO' }] } };
  const r = apply(worse);
  denied(r, 'validate.egress-warden.io', /\[EW116\] spec\.ports\[1\]\.protocol/);
  const denial = r.stderr.split('\n').find((l) => l.includes('denied the request')) ?? '';
  assert.not.match(denial, /EW115/, 'the pre-existing finding must not be part of the denial');
  // an edit that fixes one finding and keeps the other is accepted
  const better = { ...se, spec: { ...se.spec, ports: [{ number: 443, name: 'https-443', protocol: 'HTTPS' }] } };
  accepted(apply(better));
  finalize('serviceentry', 'legacy', ns);
});

test('kubectl delete of an invalid object with a finalizer completes once its controller removes the finalizer', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const { ns, enforce } = unselectedNamespace('delete');
  accepted(apply(invalidServiceEntry('doomed', ns)));
  await enforce(() => seDenied(ns));
  must(['delete', 'serviceentry', 'doomed', '-n', ns, '--wait=false']);
  assert.ok(getJson(['serviceentry', 'doomed', '-n', ns]).metadata.deletionTimestamp, 'no deletionTimestamp');
  const r = finalize('serviceentry', 'doomed', ns);
  assert.is(r.code, 0, `removing the finalizer was refused:\n${r.stderr}`);
  await eventually('the object is gone', () => (kubectl(['get', 'serviceentry', 'doomed', '-n', ns]).code !== 0 ? true : undefined));
});

test('a namespace holding an invalid object with a finalizer is deleted once the finalizer is removed', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const { ns, enforce } = unselectedNamespace('nsdelete');
  accepted(apply(invalidServiceEntry('doomed', ns)));
  await enforce(() => seDenied(ns));
  must(['delete', 'namespace', ns, '--wait=false']);
  // the namespace controller deletes the object, which waits for its finalizer
  await eventually(
    'the object is being deleted',
    () => (getJson(['serviceentry', 'doomed', '-n', ns]).metadata.deletionTimestamp ? true : undefined),
    60,
  );
  const r = finalize('serviceentry', 'doomed', ns);
  assert.is(r.code, 0, `removing the finalizer was refused:\n${r.stderr}`);
  await eventually('the namespace is gone', () => (kubectl(['get', 'namespace', ns]).code !== 0 ? true : undefined), 90);
});

test('the status subresource of an invalid object is never sent to the webhook', async () => {
  if (!hasCrd('serviceentries.networking.istio.io')) return;
  const { ns, enforce } = unselectedNamespace('status');
  accepted(apply(invalidServiceEntry('legacy', ns)));
  await enforce(() => seDenied(ns));
  const r = kubectl([
    'patch',
    'serviceentry',
    'legacy',
    '-n',
    ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    '{"status":{"observedGeneration":1}}',
  ]);
  accepted(r);
  assert.equal(ourWarnings(r.stderr), [], 'a status write was judged');
  finalize('serviceentry', 'legacy', ns);
});

test('a conflicting Egress pair stored together accepts metadata edits on both objects', async () => {
  if (!hasCrd('egresses.policy.openservicemesh.io')) return;
  const { ns, enforce } = unselectedNamespace('pair');
  accepted(apply(egress('pg-tcp', ns, 'tcp-server-first')));
  accepted(apply(egress('pg-http', ns, 'http')));
  // wait until the server's view holds both, then bring the namespace under the webhook
  await enforce(() => kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(egress('probe', ns, 'http'))).code !== 0);
  for (const name of ['pg-tcp', 'pg-http']) {
    const r = kubectl(['annotate', 'egress', name, '-n', ns, 'touch=1']);
    accepted(r);
    assert.ok(
      ourWarnings(r.stderr).some((l) => /\[EW42\d\].*pre-existing/.test(l)),
      `expected the pre-existing conflict as a warning on ${name}, got:\n${r.stderr}`,
    );
  }
  const stored = getJson(['egress', 'pg-http', '-n', ns]) as Obj;
  assert.is(stored.metadata.annotations.touch, '1');
  // changing the conflicting port's protocol to another that conflicts is a new violation
  denied(apply(egress('pg-http', ns, 'HTTP')), 'validate.egress-warden.io', /\[EW3\d\d\]/);
});

E2E.run();
