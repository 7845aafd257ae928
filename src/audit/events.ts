/**
 * The warning Event the leader writes on a stored object that gained errors by its own write: the
 * later object of a pair two replicas admitted at once, or one written while no webhook judged it.
 * `kubectl describe` and `kubectl events` show it beside the object.
 */
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../admission/types.ts';
import { microTime } from '../cluster/lease.ts';
import type { StoredVerdict } from './continuous.ts';

/** events.k8s.io/v1 keeps a note of at most 1 kB. */
const NOTE_MAX = 1024;
export const EVENT_REASON = 'AdmittedWithErrors';
export const REPORTING_CONTROLLER = 'egress-warden.io/audit';

export function errorEvent(verdict: StoredVerdict, identity: string, nowMs: number): KubeObject {
  const errors = verdict.findings.filter((f) => f.severity === 'error');
  const lines = errors.map((f) => `[${f.code}] ${f.path ? `${f.path}: ` : ''}${f.message}`);
  let note = `stored with ${errors.length === 1 ? 'an error' : `${errors.length} errors`} the webhook denies: ${lines.join('; ')}`;
  if (Buffer.byteLength(note) > NOTE_MAX)
    note = `${Buffer.from(note)
      .subarray(0, NOTE_MAX - 3)
      .toString()
      .replace(/\uFFFD+$/, '')}...`;
  const { ref } = verdict;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: `${ref.name}.${randomBytes(8).toString('hex')}`, namespace: ref.namespace || 'default' },
    eventTime: microTime(nowMs),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: identity.slice(0, 128),
    action: 'Audit',
    reason: EVENT_REASON,
    type: 'Warning',
    regarding: {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      name: ref.name,
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
      ...(ref.uid ? { uid: ref.uid } : {}),
    },
    note,
  } as KubeObject;
}
