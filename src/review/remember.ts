/**
 * Which allowed reviews may change what later reviews see (read-your-writes, cluster/overlay.ts):
 * only what the API server itself sends to the validating path. The API server calls it with
 * CREATE and UPDATE of the kinds the configurations route there, and the object it sends is the one
 * `request.kind` and `request.namespace` name; anything else is a review no API server made.
 */
import type { Decision } from '../admission/decision.ts';
import type { AdmissionRequest, KubeObject } from '../admission/types.ts';
import { ENDPOINTS } from '../catalogue/endpoints.ts';
import { judgedKind } from '../catalogue/kinds.ts';

const VALIDATE_WEBHOOKS: readonly string[] = ENDPOINTS.validate.webhooks;

/** The group of an apiVersion: "" for "v1", "networking.istio.io" for "networking.istio.io/v1". */
const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

/**
 * The object to remember from an allowed review, with its namespace filled in; undefined when the
 * review is not one the API server could have sent for a write that may be stored.
 */
export function admittedWrite(req: AdmissionRequest, decision: Decision): KubeObject | undefined {
  if (!decision.allowed || req.dryRun === true || req.subResource) return undefined;
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return undefined;
  const row = judgedKind(req.kind);
  if (!row || !VALIDATE_WEBHOOKS.includes(row.webhook) || !(row.operations as readonly string[]).includes(req.operation)) return undefined;
  const obj = req.object;
  if (!obj || typeof obj !== 'object' || typeof obj.apiVersion !== 'string' || typeof obj.metadata?.name !== 'string') return undefined;
  if (obj.kind !== req.kind.kind || groupOf(obj.apiVersion) !== req.kind.group) return undefined;
  const name = obj.metadata.name;
  if (req.name && req.name !== name) return undefined;
  const declared = obj.metadata.namespace ?? '';
  const namespace = req.namespace ?? '';
  if (row.scope === 'Cluster') {
    // the API server names a Namespace's own name as the request namespace
    return declared === '' && (namespace === '' || namespace === name) ? obj : undefined;
  }
  if (namespace === '' || (declared !== '' && declared !== namespace)) return undefined;
  return declared === namespace ? obj : { ...obj, metadata: { ...obj.metadata, namespace } };
}

/** Who made the write, as the API server names them. */
export const callerOf = (req: AdmissionRequest): string => (typeof req.userInfo?.username === 'string' ? req.userInfo.username : '');
