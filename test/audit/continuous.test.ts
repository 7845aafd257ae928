import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { audit } from '../../src/audit/audit.ts';
import { snapshotFromObjects } from '../../src/cluster/indexes.ts';
import { DEFAULT_MESH_LOCATIONS, meshConfigFrom } from '../../src/cluster/mesh-config.ts';
import { parseCidr } from '../../src/net/cidr.ts';
import { RETRY_AFTER_FAILURE_MS } from '../../src/audit/continuous.ts';
import { auditedCluster } from './harness.ts';

const KINDS = ['Namespace', 'ServiceEntry', 'VirtualService', 'Egress', 'HTTPRouteGroup'];
// real ranges hold bigints, which the audit must fingerprint without JSON's help
const CIDRS = {
  pod: [{ cidr: parseCidr('10.244.0.0/16')!, origin: 'config' }],
  service: [{ cidr: parseCidr('10.96.0.0/12')!, origin: 'config' }],
};

const egress = (name: string, port: number, protocol: string, namespace = 'bank', rv = '1'): KubeObject => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace, resourceVersion: rv, uid: `uid-${name}` },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'app', namespace }],
    ...(protocol === 'tcp-server-first' ? { ipAddresses: ['203.0.113.0/24'] } : { hosts: ['api.example.com'] }),
    ports: [{ number: port, protocol }],
  },
});
const virtualService = (name: string, host: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace: 'shop', resourceVersion: '1' },
  spec: { hosts: [host], http: [{ route: [{ destination: { host } }] }] },
});
const serviceEntry = (name: string, host: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: 'shop', resourceVersion: '1' },
  spec: { hosts: [host], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] },
});
const registryOnly: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'istio', namespace: 'istio-system' },
  data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' },
};

/** A cluster the test edits, whose snapshot also carries the mesh settings read from `mesh`. */
function cluster(objects: KubeObject[] = [], mesh: KubeObject[] = []) {
  let meshObjects = mesh;
  const c = auditedCluster(KINDS, objects, (all) => ({
    ...snapshotFromObjects(all, CIDRS),
    mesh: meshConfigFrom(meshObjects, DEFAULT_MESH_LOCATIONS),
  }));
  return Object.assign(c, {
    /** the mesh's settings changed, and a snapshot was published */
    mesh: async (objs: KubeObject[]) => {
      meshObjects = objs;
      await c.republished();
    },
  });
}

const Continuous = suite('audit/continuous: stored objects judged as the cluster changes');

Continuous('a stored object gets exactly the findings `egress-warden audit` reports for it', async () => {
  const objects = [egress('pg', 5432, 'tcp-server-first'), egress('web', 5432, 'http'), virtualService('vs', 'api.example.com')];
  const c = cluster(objects, [registryOnly]);
  await c.start();
  const batch = audit(objects, [], c.source.current());
  const expected = batch.findings.map((f) => `${f.kind}/${f.name} ${f.code} ${f.path} ${f.message}`).sort();
  const got = [...c.auditor.verdicts().values()]
    .flatMap((v) => v.findings.map((f) => `${v.ref.kind}/${v.ref.name} ${f.code} ${f.path} ${f.message}`))
    .sort();
  assert.ok(expected.length >= 3, expected.join('\n'));
  assert.equal(got, expected);
  assert.ok(c.passes[0]?.full);
});

Continuous(
  'a conflicting pair stored one after the other is reported on both, and only the later write counts as a new error',
  async () => {
    const c = cluster([egress('pg', 5432, 'tcp-server-first')]);
    await c.start();
    assert.equal(c.codesOf('Egress', 'pg'), []);
    await c.write(egress('web', 5432, 'http', 'bank', '7'));
    assert.equal(c.codesOf('Egress', 'web'), ['EW420']);
    assert.ok(c.codesOf('Egress', 'pg').length > 0, 'the earlier object of the pair is reported too');
    const last = c.passes.at(-1)!;
    assert.is(last.full, false);
    assert.equal(
      last.newErrors.map((v) => v.ref.name),
      ['web'],
    );
    assert.equal([...last.namespaces], ['bank']);
  },
);

Continuous('fixing one object of a pair clears the finding from both, and a deleted object has no verdict', async () => {
  const c = cluster([egress('pg', 5432, 'tcp-server-first'), egress('web', 5432, 'http')]);
  await c.start();
  assert.equal(c.codesOf('Egress', 'web'), ['EW420']);
  await c.write(egress('web', 8080, 'http'));
  assert.equal(c.codesOf('Egress', 'web'), []);
  assert.equal(c.codesOf('Egress', 'pg'), []);
  await c.write(egress('web', 8080, 'http'), true);
  assert.not.ok([...c.auditor.verdicts().values()].some((v) => v.ref.name === 'web'));
  assert.is(c.passes.at(-1)?.objects, 1, 'only the deleted object was looked at');
});

Continuous('a change judges only the objects it relates to, not the whole cluster', async () => {
  const others = Array.from({ length: 50 }, (_, i) => serviceEntry(`se-${i}`, `host-${i}.example.org`));
  const c = cluster([...others, egress('pg', 5432, 'tcp-server-first')]);
  await c.start();
  await c.write(egress('web', 5432, 'http'));
  assert.is(c.passes.at(-1)?.objects, 2, 'the new Egress and the one it conflicts with');
});

Continuous(
  'unaddressed ports on 0.0.0.0 relate whatever their TCP-like protocol (isPlainTcp): a Mongo entry re-judges the other',
  async () => {
    const mongo = (name: string, host: string): KubeObject => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name, namespace: 'shop', resourceVersion: '1' },
      spec: { hosts: [host], location: 'MESH_EXTERNAL', resolution: 'NONE', ports: [{ number: 27017, name: 'mongo', protocol: 'MONGO' }] },
    });
    const c = cluster([mongo('a', 'a.example.org')]);
    await c.start();
    await c.write(mongo('b', 'b.example.org'));
    assert.is(c.passes.at(-1)?.objects, 2, 'the new entry and the one sharing 0.0.0.0:27017');
  },
);

Continuous('a mesh switched to REGISTRY_ONLY re-judges everything, and a finding keeps the time it was first seen', async () => {
  const c = cluster([virtualService('vs', 'api.example.com')]);
  await c.start();
  assert.equal(c.codesOf('VirtualService', 'vs'), []);
  await c.clock.advance(5_000);
  await c.mesh([registryOnly]);
  assert.equal(c.codesOf('VirtualService', 'vs'), ['EW407']);
  assert.ok(c.passes.at(-1)?.full);
  const since = () => [...c.auditor.verdicts().values()][0]!.findings[0]!.since;
  const first = since();
  await c.clock.advance(60_000);
  assert.is(since(), first, 'the periodic full pass keeps it');
  assert.ok(c.passes.filter((p) => p.full).length >= 3, 'a full pass every minute');
});

Continuous('a full pass yields to other work between slices, so admission keeps answering', async () => {
  const many = Array.from({ length: 1_000 }, (_, i) => serviceEntry(`se-${i}`, `host-${i}.example.org`));
  const c = cluster(many);
  let answeredDuringPass = false;
  setImmediate(() => {
    answeredDuringPass = c.passes.length === 0;
  });
  // a slice of 0 ms yields after every object
  await c.start(0);
  for (let i = 0; i < 5_000 && c.passes.length === 0; i++) await new Promise((r) => setImmediate(r));
  assert.is(c.passes[0]?.objects, 1_000);
  assert.ok(answeredDuringPass);
});

Continuous('stopping forgets every verdict, and starting again begins with a full pass', async () => {
  const c = cluster([egress('pg', 5432, 'tcp-server-first'), egress('web', 5432, 'http')]);
  await c.start();
  assert.ok(c.auditor.verdicts().size > 0);
  c.auditor.stop();
  assert.is(c.auditor.verdicts().size, 0);
  c.auditor.start();
  await c.clock.advance(0);
  assert.equal(c.codesOf('Egress', 'web'), ['EW420']);
});

Continuous('a pass that fails is logged and tried again after a wait, never in a busy loop', async () => {
  const c = cluster([egress('pg', 5432, 'tcp-server-first'), egress('web', 5432, 'http')]);
  let failures = 1;
  const stored = c.source.stored;
  c.source.stored = (kind: string) => {
    if (failures > 0) {
      failures--;
      throw new Error('informer cache gone');
    }
    return stored(kind);
  };
  await c.start();
  assert.is(c.passes.length, 0);
  await c.clock.advance(RETRY_AFTER_FAILURE_MS - 1);
  assert.is(c.passes.length, 0, 'no retry before the wait');
  await c.clock.advance(1);
  assert.is(c.passes.length, 1);
  assert.equal(c.codesOf('Egress', 'web'), ['EW420']);
});

Continuous.run();
