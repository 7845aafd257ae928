import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { type ReportApi, reportWriter, type WriteOutcome } from '../../src/audit/report-writer.ts';
import { desiredReports, type ReportedFinding, type ReportFormat } from '../../src/audit/reports.ts';
import type { Target } from '../../src/cluster/resources.ts';
import { type ManualClock, manualClock } from '../cluster/manual-clock.ts';

const Writer = suite('audit/report-writer: reports kept equal to the findings, gently');

type Op = 'list' | 'create' | 'replace' | 'remove';
type Call = { readonly op: Op; readonly kind: string; readonly key: string; readonly at: number };

const apiError = (status: number, message: string) => Object.assign(new Error(message), { status });

/** Keys in reverse order, all the way down: the API server's key order is its own. */
const reorder = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(reorder)
    : v && typeof v === 'object'
      ? Object.fromEntries(
          Object.entries(v)
            .reverse()
            .map(([k, x]) => [k, reorder(x)]),
        )
      : v;

/** An API server of report objects: resourceVersions, 409s, 404 for a CRD not installed, injected failures. */
function fakeReports(
  clock: ManualClock,
  installed: readonly string[] = ['policyreports', 'clusterpolicyreports', 'reports', 'clusterreports'],
) {
  const store = new Map<string, KubeObject>();
  const crds = new Set(installed);
  const calls: Call[] = [];
  const faults = new Map<Op, number[]>();
  let rv = 100;
  const keyOf = (t: Target, ns: string, name: string) => `${t.kind}/${ns}/${name}`;
  const check = (op: Op, t: Target, key: string) => {
    calls.push({ op, kind: t.kind, key, at: clock.now() });
    if (!crds.has(t.resource)) throw apiError(404, 'the server could not find the requested resource');
    const status = faults.get(op)?.shift();
    if (status !== undefined) throw apiError(status, `injected HTTP ${status}`);
  };
  const stored = (t: Target, obj: KubeObject, uid: string): KubeObject => {
    const copy = reorder(structuredClone(obj)) as KubeObject;
    return {
      ...copy,
      metadata: {
        ...copy.metadata,
        uid,
        resourceVersion: String(++rv),
        creationTimestamp: '2025-01-01T00:00:00Z',
        managedFields: [{ manager: 'egress-warden', operation: 'Update' }],
        generation: rv,
      },
      apiVersion: `${t.group}/${t.version}`,
      kind: t.kind,
    };
  };
  const api: ReportApi = {
    list: async (t) => {
      check('list', t, t.kind);
      return [...store.entries()].filter(([k]) => k.startsWith(`${t.kind}/`)).map(([, o]) => structuredClone(o));
    },
    create: async (t, obj) => {
      const key = keyOf(t, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
      check('create', t, key);
      if (store.has(key)) throw apiError(409, 'already exists');
      const o = stored(t, obj, `uid-${rv}`);
      store.set(key, o);
      return structuredClone(o);
    },
    replace: async (t, obj) => {
      const key = keyOf(t, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
      check('replace', t, key);
      const was = store.get(key);
      if (!was) throw apiError(404, 'not found');
      if (was.metadata?.resourceVersion !== obj.metadata?.resourceVersion) throw apiError(409, 'the object has been modified');
      const o = stored(t, obj, String(was.metadata?.uid));
      store.set(key, o);
      return structuredClone(o);
    },
    remove: async (t, ns, name) => {
      const key = keyOf(t, ns, name);
      check('remove', t, key);
      store.delete(key);
    },
  };
  return {
    api,
    store,
    crds,
    calls,
    /** the next calls of `op` fail with these statuses, one each */
    inject: (op: Op, ...statuses: number[]) => faults.set(op, [...(faults.get(op) ?? []), ...statuses]),
    writes: () => calls.filter((c) => c.op !== 'list'),
    /** someone else edits a stored report */
    touch: (key: string) => {
      const o = store.get(key)!;
      store.set(key, {
        ...o,
        metadata: { ...o.metadata, resourceVersion: String(++rv), labels: { ...o.metadata?.labels, edited: 'yes' } },
      });
    },
  };
}

function recordingLog() {
  const lines: { level: 'info' | 'warn' | 'error'; msg: string }[] = [];
  return {
    lines,
    log: {
      info: (_: object, msg: string) => lines.push({ level: 'info', msg }),
      warn: (_: object, msg: string) => lines.push({ level: 'warn', msg }),
      error: (_: object, msg: string) => lines.push({ level: 'error', msg }),
    },
  };
}

const finding = (namespace: string, message = 'wrong'): ReportedFinding => ({
  ref: namespace
    ? { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', namespace, name: 'se' }
    : { apiVersion: 'v1', kind: 'Namespace', namespace: '', name: 'shop' },
  severity: 'error',
  code: 'EW101',
  path: 'metadata.annotations',
  message,
  since: 1_750_000_000,
});

const wish = (namespaces: readonly string[], message = 'wrong', formats: readonly ReportFormat[] = ['policyreport']) =>
  desiredReports(
    namespaces.map((ns) => finding(ns, message)),
    formats,
  );

function setup(opts: { installed?: readonly string[]; formats?: readonly ReportFormat[]; writesPerSecond?: number; burst?: number } = {}) {
  const clock = manualClock();
  const fake = fakeReports(clock, opts.installed);
  const { log, lines } = recordingLog();
  const outcomes: string[] = [];
  const writer = reportWriter({
    api: fake.api,
    formats: opts.formats ?? ['policyreport'],
    life: clock,
    log,
    ...(opts.writesPerSecond ? { writesPerSecond: opts.writesPerSecond } : {}),
    ...(opts.burst ? { burst: opts.burst } : {}),
    outcome: (format: ReportFormat, o: WriteOutcome) => outcomes.push(`${format} ${o}`),
  });
  return { clock, fake, writer, lines, outcomes };
}

const messageIn = (o: KubeObject | undefined): string => ((o?.results as { message: string }[] | undefined) ?? [])[0]?.message ?? '';

Writer('on start the cluster is listed first, then each wished report is created once, the cluster-scoped one too', async () => {
  const { clock, fake, writer, outcomes } = setup();
  writer.desire(wish(['shop', 'pay', '']));
  writer.start();
  await clock.settle();
  assert.equal(
    fake.calls.map((c) => `${c.op} ${c.key}`),
    [
      'list PolicyReport',
      'list ClusterPolicyReport',
      'create ClusterPolicyReport//egress-warden',
      'create PolicyReport/pay/egress-warden',
      'create PolicyReport/shop/egress-warden',
    ],
  );
  assert.equal(outcomes, ['policyreport created', 'policyreport created', 'policyreport created']);
  assert.equal(writer.status(), { pending: 0, written: 3, failed: 0, unavailable: [] });
  await clock.advance(120_000);
  assert.is(fake.writes().length, 3, 'and then nothing more');
});

Writer('an unchanged wish writes nothing, not even after writing stops and starts again', async () => {
  const { clock, fake, writer } = setup();
  writer.desire(wish(['shop', '']));
  writer.start();
  await clock.settle();
  const before = fake.writes().length;
  writer.desire(wish(['shop', '']));
  await clock.advance(10_000);
  writer.pause();
  writer.start();
  await clock.advance(10_000);
  assert.is(fake.writes().length, before, 'server metadata and key order do not count as a change');
  assert.is(fake.calls.filter((c) => c.op === 'list').length, 4, 'the new start listed again');
});

Writer('a report changed by a new finding is replaced, and the report of a namespace whose last finding was fixed is deleted', async () => {
  const { clock, fake, writer, outcomes } = setup();
  writer.desire(wish(['shop', 'pay']));
  writer.start();
  await clock.settle();
  writer.desire(wish(['shop'], 'still wrong'));
  await clock.advance(1_000);
  assert.equal(
    fake
      .writes()
      .slice(2)
      .map((c) => `${c.op} ${c.key}`),
    ['replace PolicyReport/shop/egress-warden', 'remove PolicyReport/pay/egress-warden'],
  );
  assert.equal([...fake.store.keys()], ['PolicyReport/shop/egress-warden']);
  assert.match(messageIn(fake.store.get('PolicyReport/shop/egress-warden')), /still wrong/);
  assert.equal(outcomes.slice(2), ['policyreport updated', 'policyreport deleted']);
});

Writer('a report that changes many times while it waits for its turn is written once, with its latest content', async () => {
  const { clock, fake, writer } = setup({ writesPerSecond: 1, burst: 1 });
  writer.desire(wish(['shop'], 'v0'));
  writer.start();
  await clock.settle();
  assert.is(fake.writes().length, 1);
  for (let v = 1; v <= 5; v++) {
    writer.desire(wish(['shop'], `v${v}`));
    await clock.advance(100);
  }
  await clock.advance(5_000);
  assert.equal(
    fake.writes().map((c) => c.op),
    ['create', 'replace'],
  );
  assert.match(messageIn(fake.store.get('PolicyReport/shop/egress-warden')), /v5$/);
  writer.pause();
  for (let v = 6; v <= 9; v++) writer.desire(wish(['shop'], `v${v}`));
  writer.start();
  await clock.advance(5_000);
  assert.equal(
    fake.writes().map((c) => c.op),
    ['create', 'replace', 'replace'],
    'flapping while paused: one write on start',
  );
  assert.match(messageIn(fake.store.get('PolicyReport/shop/egress-warden')), /v9$/);
});

Writer('writes keep to the rate limit: a burst at once, then writesPerSecond', async () => {
  const { clock, fake, writer } = setup({ writesPerSecond: 10, burst: 20 });
  const namespaces = Array.from({ length: 100 }, (_, i) => `ns-${String(i).padStart(3, '0')}`);
  writer.desire(wish(namespaces));
  writer.start();
  await clock.settle();
  assert.is(fake.writes().length, 20, 'the burst');
  await clock.advance(1_000);
  assert.is(fake.writes().length, 30);
  await clock.advance(4_000);
  assert.is(fake.writes().length, 70);
  assert.is(writer.status().pending, 30);
  await clock.advance(10_000);
  assert.is(fake.writes().length, 100, 'then no more than wished');
  const start = fake.writes()[0]!.at;
  for (let s = 0; s < 8; s++) {
    const inSecond = fake.writes().filter((c) => c.at > start + s * 1_000 && c.at <= start + (s + 1) * 1_000).length;
    assert.ok(inSecond <= 10, `second ${s + 1}: ${inSecond} writes`);
  }
  assert.is(writer.status().pending, 0);
});

Writer('a failed write is retried with a growing wait, counted, and the latest wish lands once the API server recovers', async () => {
  const { clock, fake, writer, outcomes, lines } = setup();
  fake.inject('create', 500, 500, 500, 500);
  writer.desire(wish(['shop'], 'first'));
  writer.start();
  await clock.settle();
  assert.is(fake.writes().length, 1);
  await clock.advance(1_000);
  assert.is(fake.writes().length, 2, 'retried after about a second');
  writer.desire(wish(['shop'], 'latest'));
  await clock.advance(2_000);
  assert.is(fake.writes().length, 3, 'then after about two');
  await clock.advance(60_000);
  const at = fake.writes().map((c) => c.at);
  assert.is(at.length, 5);
  const waits = at.slice(1).map((t, i) => t - at[i]!);
  for (let i = 1; i < waits.length; i++) assert.ok(waits[i]! >= waits[i - 1]!, `waits grow: ${waits.join(', ')} ms`);
  assert.ok(waits[3]! >= 4_000 && waits[3]! <= 8_000, `the fourth wait is 4 to 8 s: ${waits[3]} ms`);
  assert.equal(outcomes, [
    'policyreport failed',
    'policyreport failed',
    'policyreport failed',
    'policyreport failed',
    'policyreport created',
  ]);
  assert.match(messageIn(fake.store.get('PolicyReport/shop/egress-warden')), /latest$/);
  assert.equal(writer.status(), { pending: 0, written: 1, failed: 4, unavailable: [] });
  assert.is(lines.filter((l) => l.level === 'warn').length, 1, 'the failing streak is logged once');
});

Writer('a missing report CRD is said once, looked for every minute, and its reports are written once it is installed', async () => {
  const { clock, fake, writer, lines } = setup({ installed: ['clusterpolicyreports'] });
  writer.desire(wish(['shop', '']));
  writer.start();
  await clock.settle();
  assert.equal(writer.status().unavailable, ['policyreports.wgpolicyk8s.io']);
  assert.ok(fake.store.has('ClusterPolicyReport//egress-warden'), 'the kind that is installed is written meanwhile');
  await clock.advance(5 * 60_000);
  const warns = lines.filter((l) => l.level === 'warn');
  assert.is(warns.length, 1);
  assert.match(warns[0]!.msg, /policyreports\.wgpolicyk8s\.io.*not installed/);
  const lists = fake.calls.filter((c) => c.op === 'list' && c.kind === 'PolicyReport').length;
  assert.ok(lists >= 5 && lists <= 6, `looked for ${lists} times in five minutes`);
  assert.is(writer.status().pending, 1);
  fake.crds.add('policyreports');
  await clock.advance(60_000);
  assert.ok(fake.store.has('PolicyReport/shop/egress-warden'));
  assert.equal(writer.status(), { pending: 0, written: 2, failed: 0, unavailable: [] });
  assert.ok(lines.some((l) => l.level === 'info' && /installed/.test(l.msg)));
});

Writer('both formats are written side by side, and a missing OpenReports CRD does not hold back the PolicyReports', async () => {
  const { clock, fake, writer } = setup({ formats: ['policyreport', 'openreports'], installed: ['policyreports', 'clusterpolicyreports'] });
  writer.desire(wish(['shop', ''], 'wrong', ['policyreport', 'openreports']));
  writer.start();
  await clock.settle();
  assert.equal([...fake.store.keys()].sort(), ['ClusterPolicyReport//egress-warden', 'PolicyReport/shop/egress-warden']);
  assert.equal(writer.status().unavailable, ['clusterreports.openreports.io', 'reports.openreports.io']);
  fake.crds.add('reports');
  fake.crds.add('clusterreports');
  await clock.advance(60_000);
  assert.equal([...fake.store.keys()].sort(), [
    'ClusterPolicyReport//egress-warden',
    'ClusterReport//egress-warden',
    'PolicyReport/shop/egress-warden',
    'Report/shop/egress-warden',
  ]);
});

Writer('nothing is written while paused, not even what was wished before the pause', async () => {
  const { clock, fake, writer } = setup();
  writer.desire(wish(['shop']));
  await clock.advance(60_000);
  assert.is(fake.calls.length, 0, 'not started: no calls at all');
  writer.start();
  await clock.settle();
  writer.pause();
  const before = fake.calls.length;
  writer.desire(wish(['shop', 'pay'], 'new'));
  await clock.advance(5 * 60_000);
  assert.is(fake.calls.length, before);
  assert.is(writer.status().pending, 2);
  writer.start();
  await clock.settle();
  assert.equal([...fake.store.keys()].sort(), ['PolicyReport/pay/egress-warden', 'PolicyReport/shop/egress-warden']);
});

Writer('start removes reports this product left in the cluster that nothing wishes any more', async () => {
  const { clock, fake, writer } = setup();
  const old = wish(['gone', 'shop', '']);
  for (const [key, obj] of old) {
    const ns = key.slice(key.indexOf('/') + 1);
    fake.store.set(`${ns ? 'PolicyReport' : 'ClusterPolicyReport'}/${ns}/egress-warden`, {
      ...obj,
      metadata: { ...obj.metadata, resourceVersion: '7' },
    });
  }
  const stray = old.get('policyreport/shop')!;
  fake.store.set('PolicyReport/shop/egress-warden-old', {
    ...stray,
    metadata: { ...stray.metadata, name: 'egress-warden-old', resourceVersion: '8' },
  });
  writer.desire(wish(['shop']));
  writer.start();
  await clock.settle();
  assert.equal(
    fake
      .writes()
      .map((c) => `${c.op} ${c.key}`)
      .sort(),
    ['remove ClusterPolicyReport//egress-warden', 'remove PolicyReport/gone/egress-warden', 'remove PolicyReport/shop/egress-warden-old'],
  );
  assert.equal([...fake.store.keys()], ['PolicyReport/shop/egress-warden'], 'the unchanged report is kept, not rewritten');
});

Writer('a report someone else changed meanwhile is read again and written over, which is no failure', async () => {
  const { clock, fake, writer, outcomes } = setup();
  writer.desire(wish(['shop'], 'one'));
  writer.start();
  await clock.settle();
  fake.touch('PolicyReport/shop/egress-warden');
  writer.desire(wish(['shop'], 'two'));
  await clock.settle();
  assert.equal(
    fake.calls.slice(3).map((c) => c.op),
    ['replace', 'list', 'replace'],
  );
  assert.equal(outcomes, ['policyreport created', 'policyreport updated']);
  const now = fake.store.get('PolicyReport/shop/egress-warden')!;
  assert.match(messageIn(now), /two$/);
  assert.is(now.metadata?.labels?.edited, undefined, 'the report is ours: the edit is undone');
});

Writer('a forbidden write is logged once and retried until the permission is granted', async () => {
  const { clock, fake, writer, lines } = setup();
  fake.inject('create', 403, 403, 403, 403, 403);
  writer.desire(wish(['shop']));
  writer.start();
  await clock.advance(5 * 60_000);
  const warns = lines.filter((l) => l.level === 'warn');
  assert.is(warns.length, 1);
  assert.match(warns[0]!.msg, /forbidden/);
  assert.ok(fake.store.has('PolicyReport/shop/egress-warden'));
  assert.equal(writer.status(), { pending: 0, written: 1, failed: 5, unavailable: [] });
});

Writer('a report in a namespace that was deleted is retried without taking the kind for missing', async () => {
  const { clock, fake } = setup();
  const real = fake.api.create;
  let once = true;
  const api = {
    ...fake.api,
    create: async (t: Target, obj: KubeObject) => {
      if (once) {
        once = false;
        fake.calls.push({ op: 'create', kind: t.kind, key: 'refused', at: clock.now() });
        throw apiError(404, 'namespaces "shop" not found');
      }
      return real(t, obj);
    },
  };
  const w = reportWriter({ api, formats: ['policyreport'], life: clock, log: recordingLog().log });
  w.desire(wish(['shop']));
  w.start();
  await clock.settle();
  assert.equal(w.status().unavailable, []);
  await clock.advance(2_000);
  assert.ok(fake.store.has('PolicyReport/shop/egress-warden'));
  assert.is(fake.calls.filter((c) => c.op === 'list').length, 2, 'no list again: the CRD was never in doubt');
});

Writer.run();
