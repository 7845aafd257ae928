/**
 * Forged reviews change nothing. The webhook remembers the writes it allowed so that the next object
 * of one `kubectl apply` is judged with them (docs/consistency.md); a caller that could feed it
 * reviews would make it deny real writes, or admit what it should deny. With the webhook registered
 * as the docs say (startWebhook), someone in the cluster network has its URL but not the caller
 * token: each forged review below is refused, and the real writes right after it are judged exactly
 * as without it. With the token, only what the API server itself sends is remembered.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { byReason, gained, post, refusals, review, type ReviewRequest } from '../support/forge.ts';
import {
  accepted,
  apply,
  create,
  denial,
  denied,
  getJson,
  hasCrd,
  kubectl,
  must,
  ourWarnings,
  webhookSuite,
  type Obj,
  type Run,
} from '../support/kube.ts';

const { E2E, test, ctx } = webhookSuite('e2e/trust: forged reviews change nothing');

const OSM_EGRESS = 'egresses.policy.openservicemesh.io';
const ISTIO_SERVICE_ENTRY = 'serviceentries.networking.istio.io';
const RUNS = 20;

/** Where a forger without the token can send a review, and what the server must answer there. */
const FORGED_PATHS = [
  { path: '/validate', status: 401, reason: 'no-token' },
  { path: '/validate/wrong-token-0123456789', status: 403, reason: 'wrong-token' },
  { path: '/mutate', status: 401, reason: 'no-token' },
] as const;

/** forged requests sent, by the refusal reason each must be counted under */
const forgedSent: Record<string, number> = {};
let refusedBefore: Map<string, number> | undefined;

E2E.before(async () => {
  if (ctx.hook) refusedBefore = refusals((await ctx.hook.get('/metrics')).body);
});

const token = () => readFileSync(join(ctx.hook.certDir, 'token'), 'utf8').split('\n')[0]!.trim();

/** Sends the review to every path a forger can reach; each must refuse it without a verdict. */
async function forge(r: ReviewRequest): Promise<void> {
  const body = review(r);
  for (const { path, status, reason } of FORGED_PATHS) {
    const answer = await post(`${ctx.hook.url}${path}`, body, { ca: ctx.hook.ca() });
    forgedSent[reason] = (forgedSent[reason] ?? 0) + 1;
    assert.is(answer.status, status, `${r.operation} ${body.request.kind.kind} to ${path}: ${answer.status} ${answer.body}`);
    assert.not.match(answer.body, /"allowed"/, `${path} answered a forged review with a verdict: ${answer.body}`);
  }
}

/** Sends the review with the caller token, as only the API server can; it must be answered. */
async function withToken(r: ReviewRequest): Promise<Obj> {
  const answer = await post(`${ctx.hook.url}/validate/${token()}`, review(r), { ca: ctx.hook.ca() });
  assert.is(answer.status, 200, `${r.operation} with the token: ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body) as Obj;
}

/** An Egress for the namespace's default ServiceAccount: two on one port conflict when one is tcp-server-first. */
const egress = (name: string, ns: string, port: number, protocol: string) => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace: ns },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
    ...(protocol === 'tcp-server-first' ? { ipAddresses: ['203.0.113.0/24'] } : { hosts: ['api.example.com'] }),
    ports: [{ number: port, protocol }],
  },
});

const serviceEntry = (name: string, ns: string, protocol: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: ns },
  spec: { hosts: ['api.example.com'], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 443, name: 'tls', protocol }] },
});

const pod = (name: string, ns: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns },
  // no token mount: the namespace's default ServiceAccount may not exist yet
  spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
});

const CAPTURED = { 'istio-injection': 'enabled' };
const CAPTURE_SETTINGS = { 'egress-warden.io/outbound-capture': 'cluster', 'egress-warden.io/bypass-ip-ranges': '203.0.113.0/24' };

const tcpServerFirstConflict = /\[EW42\d\]/;

function allowedWithoutConflict(r: Run): void {
  accepted(r);
  assert.equal(
    ourWarnings(r.stderr).filter((l) => tcpServerFirstConflict.test(l)),
    [],
    r.stderr,
  );
}

const deniedForConflict = (r: Run) => denied(r, 'validate.egress-warden.io', tcpServerFirstConflict);

/** A Namespace as stored, with changes: what a forged UPDATE carries. */
function namespaceWith(name: string, change: { labels?: Record<string, string>; annotations?: Record<string, string> }): Obj {
  const ns = getJson(['namespace', name]);
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      ...ns.metadata,
      labels: { ...ns.metadata.labels, ...change.labels },
      annotations: { ...ns.metadata.annotations, ...change.annotations },
    },
    spec: ns.spec,
  };
}

/**
 * A pod created in the namespace (stored, never scheduled: there is no kubelet) and what the
 * mutation wrote on it, with the namespace's name taken out so two namespaces compare.
 */
function podCapture(ns: string): { applied: string; excluded: string[] } {
  const r = create(pod('app', ns));
  accepted(r);
  const a = (getJson(['pod', 'app', '-n', ns]).metadata.annotations ?? {}) as Record<string, string>;
  assert.ok(a['egress-warden.io/applied'], `pod in ${ns} not mutated: ${JSON.stringify(a)}`);
  return {
    applied: a['egress-warden.io/applied']!.replaceAll(ns, '<namespace>'),
    excluded: (a['traffic.sidecar.istio.io/excludeOutboundIPRanges'] ?? '').split(','),
  };
}

test("a forged CREATE of a tcp-server-first Egress for another team's ServiceAccount is refused, and that team's http Egress on the port is allowed", async () => {
  if (!hasCrd(OSM_EGRESS)) return;
  const team = ctx.hook.namespace('team');
  await forge({ operation: 'CREATE', resource: 'egresses', object: egress('pg', team, 5432, 'tcp-server-first') });
  allowedWithoutConflict(apply(egress('api', team, 5432, 'http')));
});

test('the same CREATE sent with the caller token is remembered, and the http Egress is denied: what the forger was after', async () => {
  if (!hasCrd(OSM_EGRESS)) return;
  const team = ctx.hook.namespace('control');
  const answer = await withToken({
    operation: 'CREATE',
    resource: 'egresses',
    username: 'system:serviceaccount:team:deployer',
    object: egress('pg', team, 5432, 'tcp-server-first'),
  });
  assert.is(answer.response.allowed, true, JSON.stringify(answer));
  // a dry run: the object must not be stored, the verdict is the same
  deniedForConflict(apply(egress('api', team, 5432, 'http'), '--dry-run=server'));
});

test('a forged DELETE of a stored tcp-server-first Egress is refused, and a conflicting http Egress is still denied', async () => {
  if (!hasCrd(OSM_EGRESS)) return;
  const ns = ctx.hook.namespace('stored');
  accepted(apply(egress('pg', ns, 5433, 'tcp-server-first')));
  const stored = getJson(['egress', 'pg', '-n', ns]);
  await forge({ operation: 'DELETE', resource: 'egresses', oldObject: stored });
  deniedForConflict(apply(egress('api', ns, 5433, 'http')));
});

test('forged Namespace reviews (an UPDATE bypassing 0.0.0.0/0, a "ConfigMap" carrying a Namespace with a broken capture mode) are refused, and a pod there is mutated as the real namespace says', async () => {
  const ns = ctx.hook.namespace('capture', CAPTURED, CAPTURE_SETTINGS);
  const control = ctx.hook.namespace('capture-control', CAPTURED, CAPTURE_SETTINGS);
  const current = getJson(['namespace', ns]);
  await forge({
    operation: 'UPDATE',
    resource: 'namespaces',
    namespace: ns,
    object: namespaceWith(ns, { annotations: { 'egress-warden.io/bypass-ip-ranges': '0.0.0.0/0' } }),
    oldObject: current,
  });
  await forge({
    operation: 'UPDATE',
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    resource: 'configmaps',
    namespace: ns,
    object: namespaceWith(ns, { annotations: { 'egress-warden.io/outbound-capture': 'not-a-mode' } }),
    oldObject: current,
  });
  const forged = podCapture(ns);
  const expected = podCapture(control);
  assert.equal(forged, expected, 'the pod was mutated differently from one in an identical namespace nobody forged for');
  assert.ok(forged.excluded.includes('203.0.113.0/24') && !forged.excluded.includes('0.0.0.0/0'), forged.excluded.join(','));
});

test('a forged Namespace labelled egress-warden.io/mode=audit is refused, and an invalid ServiceEntry there is still denied', async () => {
  if (!hasCrd(ISTIO_SERVICE_ENTRY)) return;
  const ns = ctx.hook.namespace('mode');
  await forge({
    operation: 'UPDATE',
    resource: 'namespaces',
    namespace: ns,
    object: namespaceWith(ns, { labels: { 'egress-warden.io/mode': 'audit' } }),
    oldObject: getJson(['namespace', ns]),
  });
  denied(apply(serviceEntry('bad', ns, 'FOO')), 'validate.egress-warden.io', /\[EW1\d\d\] spec\.ports\[0\]\.protocol/);
});

test('with the caller token, a DELETE of a stored tcp-server-first Egress is answered but not remembered: a conflicting http Egress is still denied', async () => {
  if (!hasCrd(OSM_EGRESS)) return;
  const ns = ctx.hook.namespace('token-delete');
  accepted(apply(egress('pg', ns, 5434, 'tcp-server-first')));
  await withToken({ operation: 'DELETE', resource: 'egresses', oldObject: getJson(['egress', 'pg', '-n', ns]) });
  deniedForConflict(apply(egress('api', ns, 5434, 'http'), '--dry-run=server'));
});

test('with the caller token, an Egress whose object names another namespace than the request is not remembered', async () => {
  if (!hasCrd(OSM_EGRESS)) return;
  const team = ctx.hook.namespace('token-elsewhere');
  const other = ctx.hook.namespace('token-elsewhere-from');
  await withToken({ operation: 'CREATE', resource: 'egresses', namespace: other, object: egress('pg', team, 5435, 'tcp-server-first') });
  allowedWithoutConflict(apply(egress('api', team, 5435, 'http'), '--dry-run=server'));
});

test('with the caller token, a review of kind ConfigMap carrying a Namespace (audit mode, bypass 0.0.0.0/0) is not remembered', async () => {
  if (!hasCrd(ISTIO_SERVICE_ENTRY)) return;
  const ns = ctx.hook.namespace('token-kind', CAPTURED, CAPTURE_SETTINGS);
  const control = ctx.hook.namespace('token-kind-control', CAPTURED, CAPTURE_SETTINGS);
  await withToken({
    operation: 'UPDATE',
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    resource: 'configmaps',
    namespace: ns,
    object: namespaceWith(ns, {
      labels: { 'egress-warden.io/mode': 'audit' },
      annotations: { 'egress-warden.io/bypass-ip-ranges': '0.0.0.0/0' },
    }),
    oldObject: getJson(['namespace', ns]),
  });
  denied(apply(serviceEntry('bad', ns, 'FOO'), '--dry-run=server'), 'validate.egress-warden.io', /\[EW1\d\d\]/);
  assert.equal(podCapture(ns), podCapture(control), 'the pod was mutated differently from one in an identical namespace');
});

test(`a conflicting tcp-server-first and http Egress pair in one kubectl apply -f is still denied, ${RUNS} of ${RUNS} times`, () => {
  if (!hasCrd(OSM_EGRESS)) return;
  const ns = ctx.hook.namespace('pairs');
  const slipped: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    // one file of two documents, as a user writes it; kubectl sends them in order, a few ms apart
    const file = [egress(`pg-${i}`, ns, 6000 + i, 'tcp-server-first'), egress(`api-${i}`, ns, 6000 + i, 'http')]
      .map((d) => `---\n${JSON.stringify(d)}\n`)
      .join('');
    const r = kubectl(['apply', '-f', '-'], file);
    if (r.code === 0 || !r.stderr.includes(denial('validate.egress-warden.io')) || !tcpServerFirstConflict.test(r.stderr))
      slipped.push(`${i}: ${r.stderr.trim() || 'both applied'}`);
  }
  const names = new Set(
    must(['get', 'egress', '-n', ns, '-o', 'name'])
      .split('\n')
      .filter(Boolean)
      .map((n) => n.replace(/^.*\//, '')),
  );
  for (let i = 0; i < RUNS; i++) if (names.has(`pg-${i}`) && names.has(`api-${i}`)) slipped.push(`${i}: both stored`);
  assert.equal(slipped, [], `pairs not denied together:\n${slipped.join('\n')}`);
});

test('every forged review was counted in egress_warden_refused_requests_total, and nothing else was refused', async () => {
  const after = refusals((await ctx.hook.get('/metrics')).body);
  const counted = gained(refusedBefore ?? new Map(), after);
  // exactly these: the API server's own calls carry the token and are never refused
  assert.equal(byReason(counted), forgedSent, `refusals counted: ${JSON.stringify(counted)}`);
});

E2E.run();
