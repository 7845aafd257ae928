import * as k8s from '@kubernetes/client-node';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { kubeLeaseApi } from '../../src/cluster/kube-lease.ts';
import { elect, processIdentity, type Election, type LeaseApi, type LeaseRecord } from '../../src/cluster/lease.ts';
import type { Lifetime } from '../../src/cluster/lifetime.ts';
import type { Log } from '../../src/cluster/view-types.ts';
import { manualClock, type ManualClock } from './manual-clock.ts';

const Lease = suite('cluster/lease: one leader among the replicas');

const NS = 'egress-warden';
const NAME = 'egress-warden-leader';
const DURATION = 15_000;
const RENEW_DEADLINE = 10_000;
const RETRY = 2_000;
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

type Stored = LeaseRecord & { readonly resourceVersion: string };
type Write = { readonly at: number; readonly record: Stored };
/** up; refused: every call fails at once; unanswered: no call ever returns, as behind a dropped route */
type Reach = 'up' | 'refused' | 'unanswered';
type Net = { reach: Reach; readonly api: LeaseApi };

const status = (code: number, message: string) => Object.assign(new Error(message), { status: code });

/** The Leases of an API server: resourceVersions, and 409 for a create of an existing one or a write at a stale version. */
function leaseServer(clock: ManualClock) {
  const leases = new Map<string, Stored>();
  const writes: Write[] = [];
  let version = 0;
  let conflicts = 0;
  const store = (key: string, record: LeaseRecord): Stored => {
    const stored = { ...record, resourceVersion: String(++version) };
    leases.set(key, stored);
    writes.push({ at: clock.now(), record: stored });
    return stored;
  };
  const conflict = () => {
    conflicts++;
    return status(409, `Operation cannot be fulfilled on leases.coordination.k8s.io "${NAME}": the object has been modified`);
  };
  /** What one replica reaches of it: reads and writes happen when called, so two replicas really race. */
  const client = (): Net => {
    const net: Net = {
      reach: 'up',
      api: {
        get: async (namespace, name) => {
          await cut(net.reach);
          return leases.get(`${namespace}/${name}`);
        },
        create: async (namespace, name, record) => {
          await cut(net.reach);
          if (leases.has(`${namespace}/${name}`)) throw conflict();
          return store(`${namespace}/${name}`, record);
        },
        update: async (namespace, name, record) => {
          await cut(net.reach);
          const current = leases.get(`${namespace}/${name}`);
          if (!current) throw status(404, `leases.coordination.k8s.io "${name}" not found`);
          if (record.resourceVersion !== current.resourceVersion) throw conflict();
          return store(`${namespace}/${name}`, record);
        },
      },
    };
    return net;
  };
  return {
    client,
    writes,
    conflicts: () => conflicts,
    lease: () => leases.get(`${NS}/${NAME}`),
    /** a write by someone outside the election, or a Lease left from before */
    put: (record: LeaseRecord) => store(`${NS}/${NAME}`, record),
  };
}

const cut = (reach: Reach): Promise<void> | undefined =>
  reach === 'refused'
    ? Promise.reject(new Error('connect ECONNREFUSED 10.96.0.1:443'))
    : reach === 'unanswered'
      ? new Promise<void>(() => {})
      : undefined;

/** A Lifetime on a shared clock that can end alone, as one replica's process dies. */
function processLife(clock: ManualClock): Lifetime {
  let ended = false;
  const timers = new Set<NodeJS.Timeout>();
  return {
    now: clock.now,
    later: (fn, ms) => {
      if (ended) return undefined;
      const t = clock.later(() => {
        if (t) timers.delete(t);
        if (!ended) fn();
      }, ms);
      if (t) timers.add(t);
      return t;
    },
    cancel: (t) => {
      if (t) timers.delete(t);
      clock.cancel(t);
    },
    ended: () => ended,
    end: () => {
      ended = true;
      for (const t of timers) clock.cancel(t);
      timers.clear();
    },
  };
}

type Logged = { readonly level: string; readonly msg: string };
const recording = (): Log & { readonly lines: Logged[] } => {
  const lines: Logged[] = [];
  const at = (level: string) => (_: object, msg: string) => void lines.push({ level, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
};

type Replica = {
  readonly election: Election;
  /** every onChange call, in order */
  readonly changes: boolean[];
  readonly net: Net;
  readonly life: Lifetime;
  readonly log: ReturnType<typeof recording>;
};

function replica(clock: ManualClock, server: ReturnType<typeof leaseServer>, host: string, api?: LeaseApi): Replica {
  const changes: boolean[] = [];
  const net = server.client();
  const life = processLife(clock);
  const log = recording();
  const election = elect({
    api: api ?? net.api,
    namespace: NS,
    name: NAME,
    identity: processIdentity(host),
    life,
    log,
    durationMs: DURATION,
    renewDeadlineMs: RENEW_DEADLINE,
    retryMs: RETRY,
    onChange: (leading) => changes.push(leading),
  });
  return { election, changes, net, life, log };
}

const leaders = (...replicas: Replica[]) => replicas.filter((r) => r.election.leading()).map((r) => r.election.identity);

/** Moves time on in small steps until `check` holds; the time it first held, or undefined. */
async function waitFor(clock: ManualClock, check: () => boolean, ms: number, each?: () => void): Promise<number | undefined> {
  for (let waited = 0; waited <= ms; waited += 100) {
    each?.();
    if (check()) return clock.now();
    await clock.advance(100);
  }
  return undefined;
}

Lease('the first replica to start leads, and one started after it follows without taking over', async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const a = replica(clock, server, 'pod-a');
  a.election.start();
  await clock.settle();
  assert.ok(a.election.leading());
  assert.equal(a.changes, [true]);
  assert.is(server.lease()?.holderIdentity, a.election.identity);

  const b = replica(clock, server, 'pod-b');
  b.election.start();
  await clock.advance(60_000);
  assert.equal(leaders(a, b), [a.election.identity]);
  assert.equal(b.changes, [], 'a follower is never told it leads');
  assert.is(b.election.leader(), a.election.identity);
  assert.equal(a.changes, [true], 'renewals are not changes');
});

Lease('two replicas racing for an absent Lease end with exactly one leader', async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const a = replica(clock, server, 'pod-a');
  const b = replica(clock, server, 'pod-b');
  a.election.start();
  b.election.start();
  await clock.settle();
  assert.is(server.conflicts(), 1, 'both saw no Lease and both tried to create it');
  const first = leaders(a, b);
  assert.is(first.length, 1);
  await clock.advance(60_000);
  assert.equal(leaders(a, b), first, 'the winner keeps leading');
  assert.equal([...a.changes, ...b.changes], [true]);
});

Lease('a leader renews every retry period with microsecond times, keeping its acquire time', async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const a = replica(clock, server, 'pod-a');
  a.election.start();
  await clock.advance(10 * RETRY);
  const mine = server.writes.map((w) => w.record);
  assert.is(mine.length, 11, 'the create, then one renewal each retry period');
  assert.ok(
    mine.every((r) => MICRO_TIME.test(r.acquireTime ?? '') && MICRO_TIME.test(r.renewTime ?? '')),
    JSON.stringify(mine[0]),
  );
  assert.equal(new Set(mine.map((r) => r.acquireTime)).size, 1);
  assert.equal(new Set(mine.map((r) => r.renewTime)).size, 11);
  assert.ok(mine.every((r) => r.leaseDurationSeconds === 15 && r.holderIdentity === a.election.identity));
});

Lease('a leader that stops releases the Lease at once, and another replica leads within one retry period', async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const a = replica(clock, server, 'pod-a');
  const b = replica(clock, server, 'pod-b');
  a.election.start();
  await clock.settle();
  b.election.start();
  await clock.advance(7_000);

  await a.election.stop();
  assert.equal(a.changes, [true, false]);
  assert.is(a.election.leading(), false);
  assert.is(server.lease()?.holderIdentity, '');
  assert.is(server.lease()?.leaseDurationSeconds, 1);
  await clock.advance(RETRY);
  assert.equal(leaders(a, b), [b.election.identity]);
  assert.equal(b.changes, [true]);
  await clock.advance(60_000);
  assert.equal(a.changes, [true, false], 'a stopped replica does not try again');
});

Lease("a follower that stops leaves the leader's Lease alone", async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const a = replica(clock, server, 'pod-a');
  const b = replica(clock, server, 'pod-b');
  a.election.start();
  await clock.settle();
  b.election.start();
  await clock.advance(5_000);
  const before = server.lease();
  await b.election.stop();
  assert.is(server.lease(), before);
  assert.equal(b.changes, []);
  await clock.advance(60_000);
  assert.equal(leaders(a, b), [a.election.identity]);
});

Lease('a replica stopped while its claim is on the wire gives the Lease back when the claim lands', async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const net = server.client();
  let land = () => {};
  const landed = new Promise<void>((resolve) => (land = resolve));
  const create: LeaseApi['create'] = async (...args) => {
    await landed;
    return net.api.create(...args);
  };
  const a = replica(clock, server, 'pod-a', { ...net.api, create });
  a.election.start();
  await clock.settle();
  await a.election.stop();
  land();
  await clock.settle();
  assert.is(server.writes.length, 2, 'the create, then the release');
  assert.is(server.lease()?.holderIdentity, '');
  assert.equal(a.changes, [], 'a stopped replica is never told it leads');

  const b = replica(clock, server, 'pod-b');
  b.election.start();
  await clock.settle();
  assert.ok(b.election.leading());
});

Lease('a leader that crashes is replaced once its Lease has gone unrenewed for the lease duration, and not before', async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const a = replica(clock, server, 'pod-a');
  const b = replica(clock, server, 'pod-b');
  a.election.start();
  await clock.settle();
  b.election.start();
  await clock.advance(10_000);

  const lastRenewal = server.writes.at(-1)!.at;
  const crash = clock.now();
  a.life.end();
  const took = await waitFor(clock, () => b.election.leading(), 60_000);
  assert.ok(took !== undefined, 'b never took over');
  assert.ok(took - lastRenewal >= DURATION, `b took over ${took - lastRenewal} ms after the last renewal`);
  assert.ok(took - crash <= DURATION + RETRY, `b took over ${took - crash} ms after the crash`);
  assert.equal(b.changes, [true]);
  assert.equal(a.changes, [true], 'a crashed process is told nothing');
});

Lease('a replica started beside a stale Lease waits out its duration rather than trust the renewTime written in it', async () => {
  for (const renewTime of ['2020-01-01T00:00:00.000000Z', '2099-01-01T00:00:00.000000Z']) {
    const clock = manualClock();
    const server = leaseServer(clock);
    server.put({ holderIdentity: 'pod-old_1', leaseDurationSeconds: 15, acquireTime: renewTime, renewTime, leaseTransitions: 4 });
    const a = replica(clock, server, 'pod-a');
    const started = clock.now();
    a.election.start();
    const took = await waitFor(clock, () => a.election.leading(), 60_000);
    assert.ok(took !== undefined, `never took over from a Lease renewed at ${renewTime}`);
    assert.ok(took - started >= DURATION && took - started <= DURATION + RETRY, `took over after ${took - started} ms`);
    assert.is(server.lease()?.leaseTransitions, 5);
  }
});

for (const reach of ['refused', 'unanswered'] as const) {
  Lease(`a leader whose API calls are ${reach} steps down within the renew deadline, before another replica takes over`, async () => {
    const clock = manualClock();
    const server = leaseServer(clock);
    const a = replica(clock, server, 'pod-a');
    const b = replica(clock, server, 'pod-b');
    a.election.start();
    await clock.settle();
    b.election.start();
    await clock.advance(10_000);

    const lastRenewal = server.writes.at(-1)!.at;
    a.net.reach = reach;
    let both = false;
    const stepped = await waitFor(
      clock,
      () => !a.election.leading(),
      30_000,
      () => (both ||= leaders(a, b).length > 1),
    );
    assert.ok(stepped !== undefined, 'a kept leading');
    assert.ok(stepped - lastRenewal <= RENEW_DEADLINE, `a stepped down ${stepped - lastRenewal} ms after its last renewal`);
    assert.equal(a.changes, [true, false]);
    assert.ok(
      a.log.lines.some((l) => l.level === 'warn' && /stopped leading/.test(l.msg)),
      JSON.stringify(a.log.lines),
    );

    const took = await waitFor(
      clock,
      () => b.election.leading(),
      30_000,
      () => (both ||= leaders(a, b).length > 1),
    );
    assert.ok(took !== undefined && took - lastRenewal >= DURATION, 'b took over');
    assert.is(both, false, 'never two leaders at once');

    a.net.reach = 'up';
    await clock.advance(60_000);
    assert.equal(leaders(a, b), [b.election.identity], 'back on the network, a follows');
    assert.equal(a.changes, [true, false]);
  });
}

Lease('a leader cut off for less than the renew deadline keeps leading through it', async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const a = replica(clock, server, 'pod-a');
  a.election.start();
  await clock.advance(4_000);
  a.net.reach = 'refused';
  await clock.advance(RENEW_DEADLINE - RETRY - 100);
  a.net.reach = 'up';
  await clock.advance(60_000);
  assert.equal(a.changes, [true]);
});

Lease('a leader whose Lease was taken from under it steps down at its next renewal', async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const a = replica(clock, server, 'pod-a');
  a.election.start();
  await clock.advance(4_000);
  const current = server.lease()!;
  server.put({ ...current, holderIdentity: 'pod-z_9', leaseTransitions: current.leaseTransitions + 1 });
  await clock.advance(RETRY);
  assert.equal(a.changes, [true, false]);
  assert.is(a.election.leader(), 'pod-z_9');
});

Lease('failing API calls never throw, and each failure is logged once a minute rather than every retry', async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const broken: LeaseApi = {
    get: () => {
      throw new Error('connect ECONNREFUSED 10.96.0.1:443');
    },
    create: () => Promise.reject('not an Error'),
    update: () => Promise.reject('not an Error'),
  };
  const a = replica(clock, server, 'pod-a', broken);
  const b = replica(clock, server, 'pod-b', { ...broken, get: () => Promise.resolve(undefined) });
  a.election.start();
  b.election.start();
  await clock.advance(5 * 60_000);
  assert.is(a.election.leading(), false);
  assert.is(b.election.leading(), false);
  assert.equal([...a.changes, ...b.changes], []);
  for (const r of [a, b]) {
    const warned = r.log.lines.filter((l) => l.level === 'warn');
    assert.ok(warned.length >= 1 && warned.length <= 6, `${warned.length} warnings in 5 minutes of retries every 2 s`);
  }
});

Lease('a change handler that throws does not stop the election', async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const log = recording();
  const a = elect({
    api: server.client().api,
    namespace: NS,
    name: NAME,
    identity: 'pod-a_1',
    life: clock,
    log,
    onChange: () => {
      throw new Error('report writer broke');
    },
  });
  a.start();
  await clock.advance(30_000);
  assert.ok(a.leading());
  assert.is(server.writes.length, 16, 'it still renews');
  assert.ok(log.lines.some((l) => l.level === 'error'));
});

Lease('leaseTransitions counts changes of holder, not renewals', async () => {
  const clock = manualClock();
  const server = leaseServer(clock);
  const a = replica(clock, server, 'pod-a');
  const b = replica(clock, server, 'pod-b');
  const c = replica(clock, server, 'pod-c');
  a.election.start();
  await clock.settle();
  b.election.start();
  c.election.start();
  await clock.advance(30_000);
  assert.is(server.lease()?.leaseTransitions, 0);

  await a.election.stop();
  await clock.advance(RETRY);
  const [second] = [b, c].filter((r) => r.election.leading());
  assert.ok(second);
  assert.is(server.lease()?.leaseTransitions, 1);

  second.life.end();
  await clock.advance(DURATION + 2 * RETRY);
  const [third] = [b, c].filter((r) => r !== second && r.election.leading());
  assert.ok(third);
  await clock.advance(30_000);
  assert.is(server.lease()?.leaseTransitions, 2);
  assert.is(third.election.transitions(), 2);
});

Lease('each process gets its own identity, even on one host', () => {
  const one = processIdentity('egress-warden-7d9f-abcde');
  const two = processIdentity('egress-warden-7d9f-abcde');
  assert.ok(one.startsWith('egress-warden-7d9f-abcde_'), one);
  assert.is.not(one, two);
  assert.is(
    processIdentity('node-1', () => 'x1'),
    'node-1_x1',
  );
});

Lease('settings that would let two replicas lead at once are refused', () => {
  const clock = manualClock();
  const base = {
    api: leaseServer(clock).client().api,
    namespace: NS,
    name: NAME,
    identity: 'a',
    life: clock,
    log: recording(),
    onChange: () => {},
  };
  assert.throws(() => elect({ ...base, durationMs: 10_000, renewDeadlineMs: 10_000 }), /renewDeadlineMs < durationMs/);
  assert.throws(() => elect({ ...base, renewDeadlineMs: 2_000, retryMs: 2_000 }), /retryMs < renewDeadlineMs/);
});

Lease.run();

const Wire = suite('cluster/kube-lease: Leases through client-node');

/** The Lease endpoints of an API server, strict as the real one about MicroTime: six fraction digits. */
async function leaseEndpoint() {
  const leases = new Map<string, any>();
  const bodies: any[] = [];
  let version = 100;
  const invalidTime = (spec: any) => ['acquireTime', 'renewTime'].find((f) => spec?.[f] !== undefined && !MICRO_TIME.test(spec[f]));
  const server = createServer((req, res) => {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const problem = (code: number, reason: string, message: string) =>
      send(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code, message });
    const m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/?]+))?/.exec(req.url ?? '');
    if (!m) return problem(404, 'NotFound', 'the server could not find the requested resource');
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = text ? JSON.parse(text) : undefined;
      if (body) bodies.push(body);
      const key = `${m[1]}/${m[2] ?? body?.metadata?.name}`;
      const current = leases.get(key);
      if (req.method === 'GET')
        return current ? send(200, current) : problem(404, 'NotFound', `leases.coordination.k8s.io "${m[2]}" not found`);
      const bad = invalidTime(body.spec);
      if (bad) return problem(400, 'BadRequest', `Lease in version "v1" cannot be handled as a Lease: parsing time "${body.spec[bad]}"`);
      if (req.method === 'POST' && current)
        return problem(409, 'AlreadyExists', `leases.coordination.k8s.io "${body.metadata.name}" already exists`);
      if (req.method === 'PUT' && !current) return problem(404, 'NotFound', `leases.coordination.k8s.io "${m[2]}" not found`);
      if (req.method === 'PUT' && body.metadata.resourceVersion !== current.metadata.resourceVersion) {
        return problem(
          409,
          'Conflict',
          `Operation cannot be fulfilled on leases.coordination.k8s.io "${m[2]}": the object has been modified`,
        );
      }
      const stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } };
      leases.set(key, stored);
      send(req.method === 'POST' ? 201 : 200, stored);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'tester', token: 'not-a-secret' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'tester' }],
    currentContext: 'fake',
  });
  return {
    kc,
    leases,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

Wire('an absent Lease reads as undefined, and a created one reads back as written', async () => {
  const endpoint = await leaseEndpoint();
  try {
    const api = kubeLeaseApi(endpoint.kc);
    assert.is(await api.get(NS, NAME), undefined);
    const record = {
      holderIdentity: 'pod-a_1',
      leaseDurationSeconds: 15,
      acquireTime: '2026-12-07T05:00:00.123000Z',
      renewTime: '2026-12-07T05:00:02.456000Z',
      leaseTransitions: 3,
    };
    const created = await api.create(NS, NAME, record);
    assert.equal({ ...created, resourceVersion: undefined }, { ...record, resourceVersion: undefined });
    assert.ok(created.resourceVersion);
    assert.equal(await api.get(NS, NAME), created);
    assert.equal(endpoint.bodies[0].spec, record, 'times go out with six fraction digits, as MicroTime needs');
  } finally {
    await endpoint.close();
  }
});

Wire('a create of an existing Lease and a replace at a stale resourceVersion fail with 409', async () => {
  const endpoint = await leaseEndpoint();
  try {
    const api = kubeLeaseApi(endpoint.kc);
    const record = { holderIdentity: 'pod-a_1', leaseDurationSeconds: 15, leaseTransitions: 0 };
    const created = await api.create(NS, NAME, record);
    const refused = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return e as Error & { status?: number };
      }
      throw new Error('it succeeded');
    };
    assert.is((await refused(api.create(NS, NAME, record))).status, 409);
    const renewed = await api.update(NS, NAME, { ...created, holderIdentity: 'pod-b_2' });
    assert.is(renewed.holderIdentity, 'pod-b_2');
    const stale = await refused(api.update(NS, NAME, { ...created, holderIdentity: 'pod-c_3' }));
    assert.is(stale.status, 409);
    assert.match(stale.message, /has been modified/);
    assert.is((await refused(api.update(NS, 'elsewhere', created))).status, 404);
  } finally {
    await endpoint.close();
  }
});

Wire('a replace keeps the labels and annotations someone put on the Lease', async () => {
  const endpoint = await leaseEndpoint();
  try {
    const api = kubeLeaseApi(endpoint.kc);
    await api.create(NS, NAME, { holderIdentity: 'pod-a_1', leaseDurationSeconds: 15, leaseTransitions: 0 });
    const stored = endpoint.leases.get(`${NS}/${NAME}`);
    stored.metadata.labels = { team: 'platform' };
    stored.metadata.resourceVersion = '999';
    const read = await api.get(NS, NAME);
    await api.update(NS, NAME, { ...read!, renewTime: '2026-12-07T05:00:04.000000Z' });
    assert.equal(endpoint.leases.get(`${NS}/${NAME}`).metadata.labels, { team: 'platform' });
  } finally {
    await endpoint.close();
  }
});

Wire('an election over client-node acquires, renews and releases a Lease', async () => {
  const endpoint = await leaseEndpoint();
  try {
    const clock = manualClock();
    const changes: boolean[] = [];
    const election = elect({
      api: kubeLeaseApi(endpoint.kc),
      namespace: NS,
      name: NAME,
      identity: 'pod-a_1',
      life: clock,
      log: recording(),
      onChange: (leading) => changes.push(leading),
    });
    election.start();
    for (let i = 0; i < 50 && !election.leading(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(election.leading());
    await election.stop();
    const spec = endpoint.leases.get(`${NS}/${NAME}`).spec;
    assert.is(spec.holderIdentity, '');
    assert.is(spec.leaseDurationSeconds, 1);
    assert.equal(changes, [true, false]);
  } finally {
    await endpoint.close();
  }
});

Wire.run();
