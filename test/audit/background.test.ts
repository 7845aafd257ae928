import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { objectKey, type KubeObject } from '../../src/admission/types.ts';
import { backgroundAudit } from '../../src/audit/background.ts';
import type { ReportWriter } from '../../src/audit/report-writer.ts';
import { snapshotFromObjects } from '../../src/cluster/indexes.ts';
import { NO_MESH_CONFIG } from '../../src/cluster/mesh-config.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { recordingLog } from '../cluster/fake-api.ts';
import { manualClock } from '../cluster/manual-clock.ts';

const egress = (name: string, port: number, protocol: string, namespace = 'bank', rv = '1'): KubeObject => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace, resourceVersion: rv },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'app', namespace }],
    ...(protocol === 'tcp-server-first' ? { ipAddresses: ['203.0.113.0/24'] } : { hosts: ['api.example.com'] }),
    ports: [{ number: port, protocol }],
  },
});

function setup(objects: KubeObject[]) {
  const stored = new Map<string, KubeObject>(objects.map((o) => [objectKey(o), o]));
  let snapshot: ClusterSnapshot;
  const publish = () => {
    snapshot = { ...snapshotFromObjects(stored.values(), { pod: [], service: [] }), mesh: NO_MESH_CONFIG };
  };
  publish();
  const clock = manualClock();
  const wishes: string[][] = [];
  const writer: ReportWriter & { readonly state: string[] } = {
    state: [],
    desire: (reports) => void wishes.push([...reports.keys()].sort()),
    start: () => void writer.state.push('start'),
    pause: () => void writer.state.push('pause'),
    status: () => ({ pending: 0, written: 0, failed: 0, unavailable: [] }),
  };
  const events: KubeObject[] = [];
  const outcomes: string[] = [];
  const background = backgroundAudit({
    source: { current: () => snapshot, stored: (kind) => (kind === 'Egress' ? stored : undefined), kinds: ['Egress'] },
    life: clock,
    log: recordingLog(),
    fullPassMs: 60_000,
    formats: ['policyreport'],
    writer,
    createEvent: async (e) => void events.push(e),
    identity: 'replica-a',
    metrics: { auditPass: () => {}, event: (o) => void outcomes.push(o) },
  });
  const write = async (o: KubeObject, deleted = false) => {
    if (deleted) stored.delete(objectKey(o));
    else stored.set(objectKey(o), o);
    background.auditor.changed('Egress', o.metadata?.namespace ?? '', o.metadata?.name ?? '');
    publish();
    background.auditor.published();
    await clock.advance(0);
  };
  return { background, clock, wishes, writer, events, outcomes, write };
}

const Background = suite('audit/background: one replica audits, reports and warns');

Background('a replica that does not lead judges and writes nothing', async () => {
  const t = setup([egress('pg', 5432, 'tcp-server-first'), egress('web', 5432, 'http')]);
  await t.clock.advance(120_000);
  assert.equal(t.wishes, []);
  assert.is(t.background.auditor.verdicts().size, 0);
  assert.equal([...t.background.sample().findings()], []);
  assert.is(t.background.sample().leader, false);
});

Background("the leader's report of a namespace appears with its first finding and goes with its last", async () => {
  const t = setup([egress('pg', 5432, 'tcp-server-first')]);
  t.background.lead(true);
  await t.clock.advance(0);
  assert.equal(t.writer.state, ['start']);
  assert.equal(t.wishes.at(-1), []);
  await t.write(egress('web', 5432, 'http'));
  assert.equal(t.wishes.at(-1), ['policyreport/bank']);
  assert.ok([...t.background.sample().findings()].some((f) => f.code === 'EW420' && f.kind === 'Egress' && f.namespace === 'bank'));
  await t.write(egress('web', 8080, 'http'));
  assert.equal(t.wishes.at(-1), []);
  t.background.lead(false);
  assert.equal(t.writer.state, ['start', 'pause']);
  assert.is(t.background.auditor.verdicts().size, 0, 'a replica that stops leading forgets');
});

Background('the later write of a slipped pair gets one warning Event naming the code', async () => {
  const t = setup([egress('pg', 5432, 'tcp-server-first', 'bank', '10')]);
  t.background.lead(true);
  await t.clock.advance(0);
  await t.write(egress('web', 5432, 'http', 'bank', '11'));
  await t.clock.settle();
  assert.is(t.events.length, 1);
  const e = t.events[0] as KubeObject & { regarding: { name: string }; type: string; note: string; reason: string };
  assert.is(e.regarding.name, 'web');
  assert.is(e.type, 'Warning');
  assert.is(e.reason, 'AdmittedWithErrors');
  assert.match(e.note, /\[EW420\]/);
  assert.equal(t.outcomes, ['created']);
});

Background('Events past the rate limit are dropped and counted, never queued without bound', async () => {
  const t = setup([]);
  t.background.lead(true);
  await t.clock.advance(0);
  for (let i = 0; i < 30; i++) {
    // each pair is its own source and port, so every write is the later half of a new conflict
    await t.write(egress(`pg-${i}`, 6000 + i, 'tcp-server-first', 'bank', String(100 + 2 * i)));
    await t.write(egress(`web-${i}`, 6000 + i, 'http', 'bank', String(101 + 2 * i)));
  }
  await t.clock.settle();
  assert.is(t.events.length, 20, 'the burst');
  assert.is(t.outcomes.filter((o) => o === 'dropped').length, 10);
});

Background.run();
