/**
 * The continuous audit's wiring for `serve`: the kubeconfig the view uses, the Lease, the report
 * writer and the Event writer on client-node, started once the view has synced (judging a partial
 * snapshot would report hosts as missing that are only not listed yet).
 */
import { hostname } from 'node:os';
import { backgroundAudit, type Background } from '../audit/background.ts';
import { reportWriter } from '../audit/report-writer.ts';
import { OWN_OBJECTS } from '../catalogue/namespaces.ts';
import { elect, processIdentity } from '../cluster/lease.ts';
import { lifetime } from '../cluster/lifetime.ts';
import { AUDITED } from '../cluster/resources.ts';
import type { ClusterView, Log } from '../cluster/view-types.ts';
import type { ServeConfig } from '../config.ts';
import type { Metrics } from '../http/metrics.ts';

/** How long the audit waits for the view to sync before it starts anyway, from what is there. */
const SYNC_WAIT_MS = 5 * 60_000;

export type RunningAudit = {
  readonly background: Background;
  /** releases the Lease at once when leading, and stops writing */
  readonly stop: () => Promise<void>;
};

export async function startAudit(
  config: ServeConfig,
  env: Readonly<Record<string, string | undefined>>,
  view: ClusterView,
  log: Log,
  metrics: () => Metrics | undefined,
): Promise<RunningAudit | undefined> {
  const stored = view.stored;
  if (config.auditIntervalMs === 0 || !stored) return undefined;
  // The client library is loaded only when a cluster is selected.
  const [{ selectKubeConfig }, { kubeLeaseApi }, { kubeReportApi }, { kubeEventApi }] = await Promise.all([
    import('../cluster/kube.ts'),
    import('../cluster/kube-lease.ts'),
    import('../cluster/kube-reports.ts'),
    import('../cluster/kube-events.ts'),
  ]);
  const found = selectKubeConfig({ kubeconfig: config.kubeconfig, env, namespace: config.namespace });
  if ('none' in found) return undefined;
  const life = lifetime();
  const identity = processIdentity(hostname());
  const writer = config.reports.length
    ? reportWriter({
        api: kubeReportApi(found.kc),
        formats: config.reports,
        life,
        log,
        outcome: (format, outcome) => metrics()?.reportWrite(format, outcome),
      })
    : undefined;
  const events = kubeEventApi(found.kc);
  const background = backgroundAudit({
    source: { current: view.current, stored, kinds: AUDITED.map((w) => w.kind) },
    life,
    log,
    fullPassMs: config.auditIntervalMs,
    formats: config.reports,
    writer,
    createEvent: events.create,
    identity,
    metrics: {
      auditPass: (full, seconds) => metrics()?.auditPass(full, seconds),
      event: (outcome) => metrics()?.event(outcome),
    },
  });
  const election = elect({
    api: kubeLeaseApi(found.kc),
    namespace: found.namespace,
    name: OWN_OBJECTS.lease,
    identity,
    life,
    log,
    onChange: (leading) => {
      metrics()?.leadership(leading);
      background.lead(leading);
    },
  });
  let stopped: Promise<void> | undefined;
  void view.untilReady(SYNC_WAIT_MS).then(() => {
    if (!stopped) election.start();
  });
  log.info(
    { identity, lease: `${found.namespace}/${OWN_OBJECTS.lease}`, reports: config.reports },
    'continuous audit: electing the replica that writes',
  );
  return {
    background,
    stop: () =>
      (stopped ??= (async () => {
        await election.stop();
        background.lead(false);
        life.end();
      })()),
  };
}
