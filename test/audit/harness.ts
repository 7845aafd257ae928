/**
 * A cluster a continuous-audit test edits: stored objects by kind, the snapshot a view would
 * publish from them, and the auditor over both, driven by a manual clock.
 */
import { objectKey, type KubeObject } from '../../src/admission/types.ts';
import { continuousAudit, type Auditor, type Pass } from '../../src/audit/continuous.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { recordingLog } from '../cluster/fake-api.ts';
import { manualClock } from '../cluster/manual-clock.ts';

export type AuditedCluster = ReturnType<typeof auditedCluster>;

/** `kinds`: what the audit judges; `snapshotOf`: the snapshot a view publishes of every stored object. */
export function auditedCluster(
  kinds: readonly string[],
  objects: readonly KubeObject[],
  snapshotOf: (all: KubeObject[]) => ClusterSnapshot,
) {
  const stored = new Map<string, Map<string, KubeObject>>(kinds.map((k) => [k, new Map()]));
  const put = (o: KubeObject) => {
    let m = stored.get(o.kind!);
    if (!m) stored.set(o.kind!, (m = new Map()));
    m.set(objectKey(o), o);
  };
  objects.forEach(put);
  let snapshot!: ClusterSnapshot;
  const publish = () => {
    snapshot = snapshotOf([...stored.values()].flatMap((m) => [...m.values()]));
  };
  publish();
  const passes: Pass[] = [];
  const clock = manualClock();
  let auditor!: Auditor;
  const c = {
    clock,
    passes,
    source: { current: () => snapshot, stored: (kind: string) => stored.get(kind), kinds: [...kinds] },
    get auditor() {
      return auditor;
    },
    start: async (sliceMs?: number) => {
      auditor = continuousAudit({
        source: c.source,
        life: clock,
        log: recordingLog(),
        fullPassMs: 60_000,
        ...(sliceMs !== undefined ? { sliceMs } : {}),
        passed: (p) => void passes.push(p),
      });
      auditor.start();
      await clock.advance(0);
    },
    /** a snapshot published again, after something `snapshotOf` reads besides the stored objects changed */
    republished: async () => {
      publish();
      auditor.published();
      await clock.advance(0);
    },
    /** an informer event: the object stored (or deleted), a snapshot published */
    write: async (o: KubeObject, deleted = false) => {
      if (deleted) stored.get(o.kind!)?.delete(objectKey(o));
      else put(o);
      auditor.changed(o.kind!, o.metadata?.namespace ?? '', o.metadata?.name ?? '');
      await c.republished();
    },
    /** an informer listed its kind again */
    relisted: async (kind: string) => {
      auditor.replaced(kind);
      auditor.published();
      await clock.advance(0);
    },
    codesOf: (kind: string, name: string) =>
      [...auditor.verdicts().values()]
        .filter((v) => v.ref.kind === kind && v.ref.name === name)
        .flatMap((v) => v.findings.map((f) => f.code))
        .sort(),
  };
  return c;
}
