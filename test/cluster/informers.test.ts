import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import type { Backoff } from '../../src/cluster/backoff.ts';
import { superviseInformers, type Informers } from '../../src/cluster/informers.ts';
import { DEFAULT_TIMING, type Timing } from '../../src/cluster/view-types.ts';
import { fakeApi, recordingLog, type Fake } from './fake-api.ts';
import { manualClock, type ManualClock } from './manual-clock.ts';

const service = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
  spec: { clusterIP: '10.96.0.10' },
});
const refused = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
const forbidden = () => Object.assign(new Error('services is forbidden'), { status: 403 });

/** A streak that always waits a minute, and 100 ms when the API server is known to be back. */
const minuteBackoff = (): Backoff => ({ failed: () => 60_000, synced: () => {}, shortest: () => 100 });

type Started = { readonly informers: Informers; readonly clock: ManualClock; readonly fake: Fake; readonly changed: string[] };

async function start(timing: Partial<Timing> = {}, backoff = minuteBackoff): Promise<Started> {
  const fake = fakeApi({ Service: [service('api')] });
  const clock = manualClock();
  const changed: string[] = [];
  const informers = superviseInformers({
    api: fake.api,
    timing: { ...DEFAULT_TIMING, probeMs: 2_000, restartMinMs: 100, ...timing },
    log: recordingLog(),
    life: clock,
    changed: (w) => void changed.push(w.kind),
    backoff,
  });
  informers.start();
  await clock.settle();
  return { informers, clock, fake, changed };
}
const services = (s: Started) => s.informers.status().find((i) => i.name === 'services');

const Supervision = suite('cluster/informers');

Supervision('an informer that lost the API server restarts as soon as discovery answers again, not after its back-off', async () => {
  const s = await start();
  assert.is(services(s)?.healthy, true);
  s.fake.failures.set('Service', [refused()]);
  s.fake.informer('Service').on.error(refused());
  await s.clock.settle();
  assert.is(services(s)?.healthy, false);
  const discoveries = s.fake.discoveries;
  await s.clock.advance(2_000 + 100);
  assert.is(s.fake.discoveries, discoveries + 1, 'one probe of discovery');
  assert.is(services(s)?.healthy, false, 'the one failure the fake still holds');
  await s.clock.advance(2_000 + 100);
  assert.is(services(s)?.healthy, true, 'back within two probes of a minute-long back-off');
  assert.is(services(s)?.restarts, 2);
});

Supervision('keeps waiting out its back-off while discovery fails too', async () => {
  const s = await start();
  let open!: () => void;
  s.fake.discoveryGate = new Promise<void>((_, reject) => {
    open = () => reject(new Error('connect ECONNREFUSED'));
  });
  open();
  s.fake.discoveryGate.catch(() => {});
  s.fake.informer('Service').on.error(refused());
  await s.clock.advance(30_000);
  assert.is(services(s)?.healthy, false, 'still away after 30 s');
  s.fake.discoveryGate = undefined;
  await s.clock.advance(30_000);
  assert.is(services(s)?.healthy, true);
});

Supervision('a refusal with an HTTP status keeps its back-off: a lasting 403 is not retried every probe', async () => {
  const s = await start();
  s.fake.informer('Service').on.error(forbidden());
  await s.clock.advance(59_000);
  assert.is(services(s)?.healthy, false);
  assert.is(services(s)?.restarts, 0);
  await s.clock.advance(1_000);
  assert.is(services(s)?.healthy, true);
  assert.is(services(s)?.restarts, 1);
});

Supervision('one informer syncing again wakes the others that wait for the same outage', async () => {
  // the first failure waits a second, every later one a minute
  const waits = [1_000];
  const s = await start({ probeMs: 600_000 }, () => ({ failed: () => waits.shift() ?? 60_000, synced: () => {}, shortest: () => 100 }));
  s.fake.informer('Namespace').on.error(refused());
  s.fake.informer('Service').on.error(refused());
  await s.clock.advance(1_000);
  assert.is(s.informers.status().find((i) => i.name === 'namespaces')?.healthy, true);
  assert.is(services(s)?.healthy, false);
  await s.clock.advance(100);
  assert.is(services(s)?.healthy, true, 'restarted at the shortest wait, 59 s before its back-off ends');
});

Supervision(
  'readiness waits for an informer that never synced, and for one that failed longer ago than its objects are served',
  async () => {
    const s = await start({ staleMs: 10_000 });
    assert.is(s.informers.waitingFor(), undefined);
    s.fake.informer('Service').on.error(forbidden());
    await s.clock.advance(5_000);
    assert.is(s.informers.waitingFor(), undefined, 'its last objects are still served');
    assert.is(s.informers.staleMs(), 5_000);
    await s.clock.advance(5_000);
    assert.match(
      s.informers.waitingFor() ?? '',
      /^informer services \(v1\) failed 10 s ago, longer than the 10 s its last objects are served: services is forbidden; restarting$/,
    );
    assert.equal(s.informers.published('Service')?.size, 1, 'the last synced objects stay published');
  },
);

Supervision('lists a silent informer again, keeping the old objects published until the new list syncs', async () => {
  const s = await start({ silenceMs: 60_000 });
  const first = s.fake.informer('Service');
  s.fake.objects.set('Service', [service('api'), service('web')]);
  await s.clock.advance(60_000 + 15_000);
  assert.ok(first.stopped, 'the silent run is stopped');
  assert.is(services(s)?.relists, 1);
  assert.is(s.informers.published('Service')?.size, 2);
});

Supervision('drops an optional informer whose resource is no longer served, and tells the view', async () => {
  const s = await start();
  s.informers.follow(new Map([['serviceentries.networking.istio.io', ['v1']]]));
  await s.clock.settle();
  assert.ok(s.informers.has('serviceentries.networking.istio.io'));
  s.changed.length = 0;
  s.informers.follow(new Map());
  assert.not.ok(s.informers.has('serviceentries.networking.istio.io'));
  assert.ok(s.changed.includes('ServiceEntry'));
});

Supervision('a kind is known once its informer synced, or once discovery says its CRD is not installed; not before', async () => {
  const s = await start();
  assert.not.ok(s.informers.known('Gateway'), 'before discovery answers, nothing is known of an optional kind');
  s.changed.length = 0;
  s.informers.follow(new Map([['sidecars.networking.istio.io', ['v1']]]));
  assert.ok(s.informers.known('Gateway'), 'not served: no Gateway can exist');
  assert.ok(s.changed.includes('Gateway'), 'the view learns it and publishes the kind as known');
  assert.not.ok(s.informers.known('Sidecar'), 'served, not synced yet');
  await s.clock.settle();
  assert.ok(s.informers.known('Sidecar'), 'synced with no object');
  s.changed.length = 0;
  s.informers.follow(new Map([['sidecars.networking.istio.io', ['v1']]]));
  assert.not.ok(s.changed.includes('Gateway'), 'told once, not at every discovery');
});

Supervision.run();
