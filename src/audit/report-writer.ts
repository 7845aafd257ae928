/**
 * Keeps the reports in the cluster equal to the latest wish (reports.ts), writing only what differs.
 * One write at a time, paced by a token bucket, so an audit that changes every namespace at once
 * cannot flood the API server; a key that changes while it waits is written once, as it is last.
 * Failures never lose the wish: the key stays pending and is retried with a growing wait. A report
 * kind whose CRD is not installed is left alone, looked for again every minute, and written as soon
 * as it appears.
 */
import type { KubeObject } from '../admission/types.ts';
import { apiStatus } from '../cluster/api.ts';
import { restartDelay } from '../cluster/backoff.ts';
import type { ReportApi } from '../cluster/kube-reports.ts';
import type { Lifetime } from '../cluster/lifetime.ts';
import { resourceName, type Target } from '../cluster/resources.ts';
import type { Log } from '../cluster/view-types.ts';
import { FORMAT_TARGETS, parseReportKey, type ReportFormat } from './reports.ts';

export type { ReportApi };

export type WriteOutcome = 'created' | 'updated' | 'deleted' | 'failed';

export type ReportWriter = {
  /** the reports that should exist now (desiredReports' map); replaces the previous wish; writing happens in the background */
  readonly desire: (reports: ReadonlyMap<string, KubeObject>) => void;
  /** starts writing (on gaining leadership): first lists what exists so stale reports are removed and unchanged ones not rewritten */
  readonly start: () => void;
  /** stops writing (lost leadership, shutdown); the next start() lists again */
  readonly pause: () => void;
  readonly status: () => {
    /** reports whose content in the cluster differs, or is not known to match, from the wish */
    readonly pending: number;
    /** successful creates, replaces and deletes so far */
    readonly written: number;
    /** failed writes so far (each retry that fails counts) */
    readonly failed: number;
    /** names of the report CRDs the cluster does not serve ("policyreports.wgpolicyk8s.io") */
    readonly unavailable: readonly string[];
  };
};

/** How often a report kind whose CRD is missing is looked for again. */
export const UNAVAILABLE_RETRY_MS = 60_000;
/** Retry waits after failed writes and lists: doubling from 1 s to 60 s, each jittered down by up to half. */
export const RETRY_BOUNDS = { restartMinMs: 1_000, restartMaxMs: 60_000 } as const;

/** One report kind of one format: what the writer knows of it. */
type Slot = {
  readonly format: ReportFormat;
  readonly target: Target;
  /** unlisted: to be listed before anything is written; waiting: until retryAt, after a failed list */
  state: 'unlisted' | 'listing' | 'ready' | 'waiting';
  retryAt: number;
  listFailures: number;
  /** the CRD is not installed (the list said 404) */
  unavailable: boolean;
  /** a 403 was logged, until a call on the kind succeeds again */
  forbiddenSaid: boolean;
  /** another failure was logged, until a call on the kind succeeds again */
  failingSaid: boolean;
};

type Wish = { readonly slot: Slot; readonly obj: KubeObject; readonly canon: string };
type Known = {
  readonly slot: Slot;
  readonly namespace: string;
  readonly name: string;
  readonly canon: string;
  readonly resourceVersion: string;
};
type Retry = { failures: number; conflicts: number; at: number };

/** JSON with object keys sorted: the API server returns maps in its own key order. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : stable(x))).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stable(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const nonEmpty = (m: unknown): unknown => (m && typeof m === 'object' && Object.keys(m).length ? m : undefined);

/**
 * What a report says, for comparison: everything but the metadata the API server adds (resourceVersion,
 * uid, creationTimestamp, generation, managedFields) and status.
 */
export function reportContent(obj: KubeObject): string {
  const { metadata, status: _status, ...rest } = obj;
  return stable({
    ...rest,
    metadata: {
      name: metadata?.name,
      namespace: metadata?.namespace || undefined,
      labels: nonEmpty(metadata?.labels),
      annotations: nonEmpty(metadata?.annotations),
    },
  });
}

const withVersion = (obj: KubeObject, resourceVersion: string): KubeObject => ({
  ...obj,
  metadata: { ...obj.metadata, resourceVersion },
});

const versionOf = (obj: KubeObject | undefined): string => {
  const rv = obj?.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : '';
};

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A namespaced create refused because the namespace is gone (not because the CRD is). */
const namespaceMissing = (e: unknown): boolean => /namespaces? "[^"]*" not found/.test(messageOf(e));

export function reportWriter(opts: {
  api: ReportApi;
  formats: readonly ReportFormat[];
  life: Lifetime;
  log: Log;
  writesPerSecond?: number;
  burst?: number;
  outcome?: (format: ReportFormat, outcome: WriteOutcome) => void;
}): ReportWriter {
  const { api, life, log } = opts;
  const rate = Math.max(opts.writesPerSecond ?? 10, Number.MIN_VALUE);
  const burst = Math.max(opts.burst ?? 20, 1);

  const formats = [...new Set(opts.formats)];
  const slots: Slot[] = formats.flatMap((format) =>
    [FORMAT_TARGETS[format].namespaced, FORMAT_TARGETS[format].cluster].map(
      (target): Slot => ({
        format,
        target,
        state: 'unlisted',
        retryAt: 0,
        listFailures: 0,
        unavailable: false,
        forbiddenSaid: false,
        failingSaid: false,
      }),
    ),
  );
  const slotOf = (format: ReportFormat, namespace: string): Slot | undefined => {
    const target = namespace ? FORMAT_TARGETS[format].namespaced : FORMAT_TARGETS[format].cluster;
    return slots.find((s) => s.target === target);
  };
  const keyOf = (slot: Slot, namespace: string, name: string) => `${slot.format}/${namespace}/${name}`;

  let wishes = new Map<string, Wish>();
  const known = new Map<string, Known>();
  /** keys whose wish and cluster copy may differ; checked, and dropped when equal, by pump() */
  const dirty = new Set<string>();
  const retries = new Map<string, Retry>();

  let running = false;
  let busy = false;
  /** bumped by pause(): answers to calls made before it are dropped */
  let epoch = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let tokens = burst;
  let refilledAt = life.now();
  let written = 0;
  let failedCount = 0;

  const report = (format: ReportFormat, o: WriteOutcome) => {
    if (o === 'failed') failedCount++;
    else written++;
    try {
      opts.outcome?.(format, o);
    } catch (e) {
      log.error({ err: messageOf(e) }, 'report writer: the outcome callback threw');
    }
  };

  const crd = (slot: Slot) => resourceName(slot.target);

  const recovered = (slot: Slot) => {
    if (slot.forbiddenSaid || slot.failingSaid) log.info({ crd: crd(slot) }, `${slot.target.kind}s are written again`);
    slot.forbiddenSaid = false;
    slot.failingSaid = false;
  };

  /** Logs the first 403 and the first other failure of a streak on a kind; the rest are counted, not logged. */
  const sayFailure = (slot: Slot, e: unknown, doing: string) => {
    if (apiStatus(e) === 403) {
      if (slot.forbiddenSaid) return;
      slot.forbiddenSaid = true;
      log.warn(
        { crd: crd(slot), err: messageOf(e) },
        `forbidden to ${doing} ${slot.target.kind}s (${crd(slot)}): grant the server's ServiceAccount get, list, create, update and delete on them; retrying`,
      );
      return;
    }
    if (slot.failingSaid) return;
    slot.failingSaid = true;
    log.warn({ crd: crd(slot), err: messageOf(e) }, `cannot ${doing} ${slot.target.kind}s; retrying with back-off`);
  };

  const schedule = (at: number) => {
    if (at === Number.POSITIVE_INFINITY || (timer && timerAt <= at)) return;
    life.cancel(timer);
    timerAt = at;
    timer = life.later(
      () => {
        timer = undefined;
        timerAt = Number.POSITIVE_INFINITY;
        pump();
      },
      Math.max(0, at - life.now()),
    );
  };

  const run = (op: (mine: number) => Promise<void>) => {
    busy = true;
    const mine = epoch;
    op(mine)
      .catch((e: unknown) => log.error({ err: messageOf(e) }, 'report writer: unexpected error'))
      .finally(() => {
        if (mine !== epoch) return;
        busy = false;
        pump();
      });
  };

  const listSlot = async (slot: Slot, mine: number): Promise<void> => {
    slot.state = 'listing';
    let items: KubeObject[];
    try {
      items = await api.list(slot.target);
    } catch (e) {
      if (mine !== epoch) return;
      const now = life.now();
      slot.state = 'waiting';
      if (apiStatus(e) === 404) {
        if (!slot.unavailable)
          log.warn(
            { crd: crd(slot), format: slot.format },
            `the ${slot.target.kind} CRD (${crd(slot)}) is not installed: ${slot.target.kind}s are not written until it is ` +
              `(looked for every ${UNAVAILABLE_RETRY_MS / 1000} s); install it, or leave "${slot.format}" out of the report formats`,
          );
        slot.unavailable = true;
        slot.retryAt = now + UNAVAILABLE_RETRY_MS;
        return;
      }
      slot.listFailures++;
      slot.retryAt = now + restartDelay(slot.listFailures, RETRY_BOUNDS);
      sayFailure(slot, e, 'list');
      return;
    }
    if (mine !== epoch) return;
    for (const [key, k] of known)
      if (k.slot === slot) {
        known.delete(key);
        dirty.add(key);
      }
    for (const item of items) {
      const namespace = slot.target === FORMAT_TARGETS[slot.format].cluster ? '' : (item.metadata?.namespace ?? '');
      const name = item.metadata?.name ?? '';
      const key = keyOf(slot, namespace, name);
      known.set(key, { slot, namespace, name, canon: reportContent(item), resourceVersion: versionOf(item) });
      dirty.add(key);
    }
    for (const [key, w] of wishes) if (w.slot === slot) dirty.add(key);
    if (slot.unavailable)
      log.info(
        { crd: crd(slot), format: slot.format },
        `the ${slot.target.kind} CRD (${crd(slot)}) is installed: writing ${slot.target.kind}s`,
      );
    slot.unavailable = false;
    slot.listFailures = 0;
    slot.state = 'ready';
    recovered(slot);
  };

  const writeFailed = (key: string, slot: Slot, created: boolean, e: unknown) => {
    const status = apiStatus(e);
    const retry = retries.get(key) ?? { failures: 0, conflicts: 0, at: 0 };
    retries.set(key, retry);
    // what the writer believed exists was wrong (someone else wrote or deleted the report): list again,
    // and retry at once the first time so an ordinary race costs no wait and counts as no failure
    const stale = status === 409 || (status === 404 && !created);
    if (stale) {
      if (status === 404) known.delete(key);
      slot.state = 'unlisted';
      retry.conflicts++;
      if (retry.conflicts === 1) return;
    } else if (status === 404 && created && !namespaceMissing(e)) {
      // the CRD may have gone: the list says so (and marks the kind unavailable) or finds it is still there
      slot.state = 'unlisted';
    }
    retry.failures++;
    retry.at = life.now() + restartDelay(retry.failures, RETRY_BOUNDS);
    sayFailure(slot, e, 'write');
    report(slot.format, 'failed');
  };

  const write = async (key: string, slot: Slot, wish: Wish | undefined, have: Known | undefined, mine: number): Promise<void> => {
    const { target } = slot;
    let done: WriteOutcome;
    try {
      if (wish && have) {
        const answer = await api.replace(target, withVersion(wish.obj, have.resourceVersion));
        if (mine !== epoch) return;
        known.set(key, { ...have, canon: wish.canon, resourceVersion: versionOf(answer) });
        done = 'updated';
      } else if (wish) {
        const answer = await api.create(target, wish.obj);
        if (mine !== epoch) return;
        const meta = wish.obj.metadata;
        // what was sent, not what came back: a field the CRD's schema drops would otherwise look changed forever
        known.set(key, {
          slot,
          namespace: meta?.namespace ?? '',
          name: meta?.name ?? '',
          canon: wish.canon,
          resourceVersion: versionOf(answer),
        });
        done = 'created';
      } else if (have) {
        await api.remove(target, have.namespace, have.name);
        if (mine !== epoch) return;
        known.delete(key);
        done = 'deleted';
      } else return;
    } catch (e) {
      if (mine !== epoch) return;
      writeFailed(key, slot, !have, e);
      return;
    }
    retries.delete(key);
    recovered(slot);
    report(slot.format, done);
  };

  const refill = (now: number) => {
    tokens = Math.min(burst, tokens + ((now - refilledAt) * rate) / 1000);
    refilledAt = now;
  };

  function pump(): void {
    if (!running || busy || life.ended()) return;
    const now = life.now();
    let wake = Number.POSITIVE_INFINITY;
    for (const slot of slots) {
      if (slot.state === 'waiting' && slot.retryAt <= now) slot.state = 'unlisted';
      if (slot.state === 'unlisted') {
        run((mine) => listSlot(slot, mine));
        return;
      }
      if (slot.state === 'waiting') wake = Math.min(wake, slot.retryAt);
    }
    refill(now);
    for (const key of dirty) {
      const wish = wishes.get(key);
      const have = known.get(key);
      const slot = wish?.slot ?? have?.slot;
      if (!slot) {
        dirty.delete(key);
        continue;
      }
      if (slot.state !== 'ready') continue;
      if (wish?.canon === have?.canon) {
        dirty.delete(key);
        retries.delete(key);
        continue;
      }
      const retry = retries.get(key);
      if (retry && retry.at > now) {
        wake = Math.min(wake, retry.at);
        continue;
      }
      if (tokens < 1) {
        wake = Math.min(wake, now + Math.ceil(((1 - tokens) * 1000) / rate));
        break;
      }
      tokens -= 1;
      run((mine) => write(key, slot, wish, have, mine));
      return;
    }
    schedule(wake);
  }

  const desire = (reports: ReadonlyMap<string, KubeObject>) => {
    const next = new Map<string, Wish>();
    for (const [key, obj] of reports) {
      const at = parseReportKey(key);
      const slot = at && slotOf(at.format, at.namespace);
      if (!at || !slot) continue;
      const k = keyOf(slot, at.namespace, obj.metadata?.name ?? '');
      const old = wishes.get(k);
      const canon = old?.obj === obj ? old.canon : reportContent(obj);
      next.set(k, { slot, obj, canon });
      if (old?.canon !== canon) dirty.add(k);
    }
    for (const k of wishes.keys()) if (!next.has(k)) dirty.add(k);
    wishes = next;
    pump();
  };

  const start = () => {
    if (running) return;
    running = true;
    pump();
  };

  const pause = () => {
    if (!running) return;
    running = false;
    epoch++;
    busy = false;
    life.cancel(timer);
    timer = undefined;
    timerAt = Number.POSITIVE_INFINITY;
    for (const slot of slots) slot.state = 'unlisted';
    for (const key of known.keys()) dirty.add(key);
    known.clear();
    retries.clear();
  };

  const status = () => {
    let pending = 0;
    for (const key of dirty) if (wishes.get(key)?.canon !== known.get(key)?.canon) pending++;
    return {
      pending,
      written,
      failed: failedCount,
      unavailable: slots
        .filter((s) => s.unavailable)
        .map(crd)
        .sort(),
    };
  };

  return { desire, start, pause, status };
}
