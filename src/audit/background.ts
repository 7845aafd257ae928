/**
 * What `serve` does besides answering the API server: on the replica the Lease elects, the
 * continuous audit of stored objects, its reports and its warning Events. Every replica serves
 * admission; one writes. On losing the lead the audit stops and forgets, so a replica that leads
 * again starts from a full pass and the writer's own listing of what exists.
 */
import type { KubeObject } from '../admission/types.ts';
import type { Lifetime } from '../cluster/lifetime.ts';
import type { Log } from '../cluster/view-types.ts';
import { errorText } from '../json.ts';
import { continuousAudit, type AuditSource, type Auditor, type Pass } from './continuous.ts';
import { errorEvent } from './events.ts';
import type { ReportWriter } from './report-writer.ts';
import { desiredReports, type ReportFormat } from './reports.ts';

/** Events per second the leader writes at most, and the burst it may spend at once. */
const EVENTS_PER_SECOND = 5;
const EVENT_BURST = 20;

export type BackgroundOptions = {
  readonly source: AuditSource;
  readonly life: Lifetime;
  readonly log: Log;
  readonly fullPassMs: number;
  readonly formats: readonly ReportFormat[];
  /** absent when no report format is written (--reports none) */
  readonly writer: ReportWriter | undefined;
  readonly createEvent: (event: KubeObject) => Promise<void>;
  readonly identity: string;
  readonly metrics: {
    readonly auditPass: (full: boolean, seconds: number) => void;
    readonly event: (outcome: 'created' | 'dropped' | 'failed') => void;
  };
};

/** One label set of the stored objects' findings, with how many findings carry it (the metrics' sample). */
export type StoredFindingCount = {
  readonly code: string;
  readonly severity: string;
  readonly kind: string;
  readonly namespace: string;
  readonly count: number;
};

export type AuditFigures = {
  readonly leader: boolean;
  /** the findings of stored objects as of the last pass; none on a replica that does not lead */
  readonly findings: () => Iterable<StoredFindingCount>;
  /** seconds since the epoch when the last full pass ended */
  readonly lastFullPassEnd: number | undefined;
};

export type Background = {
  readonly auditor: Auditor;
  /** the Lease says this replica leads, or no longer does */
  readonly lead: (leading: boolean) => void;
  readonly leading: () => boolean;
  readonly sample: () => AuditFigures;
};

export function backgroundAudit(opts: BackgroundOptions): Background {
  const { life, log, formats, writer } = opts;
  let leading = false;
  let lastFullPassEnd: number | undefined;
  const reports = new Map<string, KubeObject>();
  let tokens = EVENT_BURST;
  let refilled = life.now();

  const rebuild = (namespace: string) => {
    for (const format of formats) reports.delete(`${format}/${namespace}`);
    const findings = [...auditor.inNamespace(namespace)].flatMap((v) => v.findings);
    for (const [key, report] of desiredReports(findings, formats)) reports.set(key, report);
  };

  const tell = (pass: Pass) => {
    const now = life.now();
    tokens = Math.min(EVENT_BURST, tokens + ((now - refilled) / 1000) * EVENTS_PER_SECOND);
    refilled = now;
    for (const verdict of pass.newErrors) {
      if (tokens < 1) {
        opts.metrics.event('dropped');
        continue;
      }
      tokens--;
      opts.createEvent(errorEvent(verdict, opts.identity, now)).then(
        () => opts.metrics.event('created'),
        (e) => {
          opts.metrics.event('failed');
          log.warn(
            { object: `${verdict.ref.kind} ${verdict.ref.namespace}/${verdict.ref.name}`, err: errorText(e) },
            'could not write the warning Event',
          );
        },
      );
    }
  };

  const auditor = continuousAudit({
    source: opts.source,
    life,
    log,
    fullPassMs: opts.fullPassMs,
    passed: (pass) => {
      opts.metrics.auditPass(pass.full, pass.ms / 1000);
      if (pass.full) {
        lastFullPassEnd = life.now() / 1000;
        log.info(
          { objects: pass.objects, ms: Math.round(pass.ms), findings: countFindings(auditor) },
          'audit pass over every stored object',
        );
      }
      if (writer) {
        // a full pass rebuilds every report: a namespace whose last finding went is dropped with it
        if (pass.full) {
          reports.clear();
          const namespaces = new Set<string>();
          for (const v of auditor.verdicts().values()) if (v.findings.length) namespaces.add(v.ref.namespace);
          for (const ns of namespaces) rebuild(ns);
        } else for (const ns of pass.namespaces) rebuild(ns);
        writer.desire(reports);
      }
      tell(pass);
    },
  });

  return {
    auditor,
    lead: (now) => {
      if (now === leading) return;
      leading = now;
      if (now) {
        log.info({ identity: opts.identity }, 'leading: auditing stored objects and writing reports');
        auditor.start();
        writer?.start();
      } else {
        log.info({ identity: opts.identity }, 'no longer leading: another replica audits and writes reports');
        auditor.stop();
        writer?.pause();
        reports.clear();
      }
    },
    leading: () => leading,
    sample: () => ({ leader: leading, findings: () => findingCounts(auditor), lastFullPassEnd }),
  };
}

const countFindings = (auditor: Auditor): number => {
  let n = 0;
  for (const v of auditor.verdicts().values()) n += v.findings.length;
  return n;
};

/** The stored findings by the metric's labels: bounded by codes × kinds × namespaces, never by objects. */
function findingCounts(auditor: Auditor): StoredFindingCount[] {
  const counts = new Map<string, { code: string; severity: string; kind: string; namespace: string; count: number }>();
  for (const v of auditor.verdicts().values()) {
    for (const f of v.findings) {
      const key = `${f.code}\0${f.severity}\0${v.ref.kind}\0${v.ref.namespace}`;
      const found = counts.get(key);
      if (found) found.count++;
      else counts.set(key, { code: f.code, severity: f.severity, kind: v.ref.kind, namespace: v.ref.namespace, count: 1 });
    }
  }
  return [...counts.values()];
}
