/**
 * Prometheus metrics: the only module that imports prom-client. A registry per app (not the
 * global one), so tests and several servers in one process never share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { countedCounter, countedHistogram } from './counted.ts';

/** The `verdict` label of the request counter: how a review ended, as a bounded label value. */
export type ReviewLabel = 'allowed' | 'warned' | 'denied' | 'error' | 'invalid' | 'shed';

/** Cluster-state figures sampled at scrape time. */
export type StateSample = {
  readonly ready: boolean;
  /** seconds the snapshot has gone without an update from a failing informer (0 while all are healthy) */
  readonly staleSeconds?: number;
  readonly informers: readonly {
    readonly name: string;
    readonly healthy: boolean;
    readonly synced: boolean;
    readonly objects: number;
    readonly restarts: number;
  }[];
};

/** Read-your-writes figures sampled at scrape time (cluster/overlay.ts). */
export type OverlaySample = { readonly pending: number; readonly callers: number };

/** One label set of the stored objects' findings, with how many findings carry it. */
export type StoredFindingCount = {
  readonly code: string;
  readonly severity: string;
  readonly kind: string;
  readonly namespace: string;
  readonly count: number;
};

/** The continuous audit's figures sampled at scrape time (audit/background.ts); absent without a cluster. */
export type AuditSample = {
  readonly leader: boolean;
  /** the findings of stored objects as of the last pass; empty on a replica that does not lead */
  readonly findings: () => Iterable<StoredFindingCount>;
  /** seconds since the epoch when the last full pass ended, undefined before the first */
  readonly lastFullPassEnd: number | undefined;
};

export type Metrics = {
  /** a caller refused before its request was read (caller.ts) */
  readonly refused: (route: string, reason: string) => void;
  readonly observe: (route: string, kind: string, operation: string, verdict: ReviewLabel, seconds: number) => void;
  readonly findings: (route: string, severity: 'error' | 'warning', code: string, mode: string, operation: string) => void;
  /** a pass of the continuous audit ended */
  readonly auditPass: (full: boolean, seconds: number) => void;
  /** a report write ended (the writer counts each attempt) */
  readonly reportWrite: (format: string, outcome: string) => void;
  /** a warning Event about a stored object was created, dropped by the rate limit, or failed */
  readonly event: (outcome: 'created' | 'dropped' | 'failed') => void;
  /** this replica gained or lost the lead */
  readonly leadership: (leading: boolean) => void;
  readonly text: () => Promise<string>;
  readonly contentType: string;
};

export function createMetrics(
  sample: () => StateSample,
  defaults = true,
  overlay?: () => OverlaySample,
  audit?: () => AuditSample | undefined,
): Metrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'egress_warden_' });
  // Counted once or more per review: these keep their figures in plain numbers (counted.ts).
  const requests = countedCounter(registry, {
    name: 'egress_warden_admission_requests_total',
    help: 'Admission reviews answered, by route, object kind, operation and verdict',
    labelNames: ['route', 'kind', 'operation', 'verdict'],
  });
  const duration = countedHistogram(registry, {
    name: 'egress_warden_admission_duration_seconds',
    help: 'Time from request received to answer sent',
    labelNames: ['route', 'kind', 'operation'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  const findings = countedCounter(registry, {
    name: 'egress_warden_findings_total',
    help: 'Findings of admission reviews, by route, rule code, severity, the namespace enforcement mode and the operation',
    labelNames: ['route', 'severity', 'code', 'mode', 'operation'],
  });
  // Named after Gatekeeper's audit metrics, which the operators of these clusters already chart.
  const passes = new Histogram({
    name: 'egress_warden_audit_duration_seconds',
    help: 'Time one pass of the continuous audit took: full (every stored object) or incremental (what a change touches)',
    labelNames: ['pass'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const reportWrites = new Counter({
    name: 'egress_warden_report_writes_total',
    help: 'Report writes by format (policyreport, openreports) and outcome (created, updated, deleted, failed)',
    labelNames: ['format', 'outcome'] as const,
    registers: [registry],
  });
  const events = new Counter({
    name: 'egress_warden_audit_events_total',
    help: 'Warning Events about stored objects that gained errors, by outcome (created, dropped by the rate limit, failed)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const transitions = new Counter({
    name: 'egress_warden_leader_transitions_total',
    help: 'Times this replica gained or lost the lead (the Lease that elects the one replica writing reports)',
    registers: [registry],
  });
  if (audit) {
    new Gauge({
      name: 'egress_warden_leader',
      help: '1 on the replica that leads: the one that audits stored objects and writes reports and Events',
      registers: [registry],
      collect() {
        this.set(audit()?.leader ? 1 : 0);
      },
    });
    new Gauge({
      name: 'egress_warden_audit_findings',
      help: 'Findings of stored objects as of the last audit pass, by code, severity, kind and namespace (only the leader reports them)',
      labelNames: ['code', 'severity', 'kind', 'namespace'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const a = audit();
        if (!a) return;
        for (const f of a.findings()) this.set({ code: f.code, severity: f.severity, kind: f.kind, namespace: f.namespace }, f.count);
      },
    });
    new Gauge({
      name: 'egress_warden_audit_last_run_end_time',
      help: 'When the last full audit pass ended, in seconds since the epoch; absent before the first',
      registers: [registry],
      collect() {
        this.reset();
        const end = audit()?.lastFullPassEnd;
        if (end !== undefined) this.set(end);
      },
    });
  }
  const refused = new Counter({
    name: 'egress_warden_refused_requests_total',
    help: 'Calls of an admission path refused before review: no caller token, a wrong one, or no accepted client certificate',
    labelNames: ['route', 'reason'] as const,
    registers: [registry],
  });
  if (overlay) {
    new Gauge({
      name: 'egress_warden_overlay_pending',
      help: 'Admitted writes the informers have not confirmed yet, which later reviews see (read-your-writes)',
      registers: [registry],
      collect() {
        this.set(overlay().pending);
      },
    });
    new Gauge({
      name: 'egress_warden_overlay_callers',
      help: 'Callers (users named by the API server) with admitted writes pending',
      registers: [registry],
      collect() {
        this.set(overlay().callers);
      },
    });
  }
  new Gauge({
    name: 'egress_warden_ready',
    help: '1 when every informer has synced and the cluster CIDRs are known',
    registers: [registry],
    collect() {
      this.set(sample().ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'egress_warden_snapshot_stale_seconds',
    help: 'Seconds since an informer whose objects are served lost the API server; 0 while every informer is healthy',
    registers: [registry],
    collect() {
      this.set(sample().staleSeconds ?? 0);
    },
  });
  const perInformer = (name: string, help: string, value: (i: StateSample['informers'][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['informer'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const i of sample().informers) this.set({ informer: i.name }, value(i));
      },
    });
  perInformer('egress_warden_informer_healthy', '1 when the informer is running and has synced', (i) => (i.healthy && i.synced ? 1 : 0));
  perInformer('egress_warden_informer_objects', 'Objects held in the index, per informer', (i) => i.objects);
  perInformer('egress_warden_informer_restarts', 'Times the informer was restarted after an error', (i) => i.restarts);
  return {
    observe(route, kind, operation, verdict, seconds) {
      requests.labels(route, kind, operation, verdict).inc();
      duration.labels(route, kind, operation).observe(seconds);
    },
    refused(route, reason) {
      refused.inc({ route, reason });
    },
    findings(route, severity, code, mode, operation) {
      findings.labels(route, severity, code, mode, operation).inc();
    },
    auditPass(full, seconds) {
      passes.observe({ pass: full ? 'full' : 'incremental' }, seconds);
    },
    reportWrite(format, outcome) {
      reportWrites.inc({ format, outcome });
    },
    event(outcome) {
      events.inc({ outcome });
    },
    leadership() {
      transitions.inc();
    },
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
