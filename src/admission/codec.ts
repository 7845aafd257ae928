/**
 * The only place that knows the AdmissionReview wire format. Decoding never throws and names what
 * is missing; encoding echoes the uid and answers in the version the API server sent.
 */
import { describe, isObj as isObject } from '../json.ts';
import type { Decision } from './decision.ts';
import type { AdmissionRequest, AdmissionResponse, AdmissionReview } from './types.ts';

export const REVIEW_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export type Decoded =
  | { readonly ok: true; readonly apiVersion: string; readonly request: AdmissionRequest }
  | { readonly ok: false; readonly problem: string };

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

export function decodeReview(body: unknown): Decoded {
  if (!isObject(body)) return { ok: false, problem: 'body is not a JSON object: expected an AdmissionReview' };
  const missing: string[] = [];
  if (body.kind !== 'AdmissionReview') missing.push(`kind: "AdmissionReview" (got ${describe(body.kind ?? null)})`);
  if (!REVIEW_VERSIONS.includes(body.apiVersion as (typeof REVIEW_VERSIONS)[number])) {
    missing.push(`apiVersion: one of ${REVIEW_VERSIONS.join(', ')} (got ${describe(body.apiVersion ?? null)})`);
  }
  const req = body.request;
  if (!isObject(req)) {
    missing.push('request');
  } else {
    if (!isText(req.uid)) missing.push('request.uid');
    if (!isObject(req.kind) || !isText(req.kind.kind) || typeof req.kind.version !== 'string' || typeof req.kind.group !== 'string') {
      missing.push('request.kind{group,version,kind}');
    }
    if (!OPERATIONS.has(req.operation as string)) missing.push('request.operation (CREATE, UPDATE, DELETE or CONNECT)');
    if (req.object !== undefined && req.object !== null && !isObject(req.object)) missing.push('request.object as an object or null');
    if (req.oldObject !== undefined && req.oldObject !== null && !isObject(req.oldObject))
      missing.push('request.oldObject as an object or null');
    if (req.namespace !== undefined && typeof req.namespace !== 'string') missing.push('request.namespace as a string');
  }
  if (missing.length) return { ok: false, problem: `not a valid AdmissionReview: missing or invalid ${missing.join(', ')}` };
  return { ok: true, apiVersion: body.apiVersion as string, request: req as unknown as AdmissionRequest };
}

/**
 * The Status reason of a denial's HTTP code, as the API server names them: kubectl prints it
 * ("Error from server (Forbidden)"), and GitOps tools classify a failed apply by it.
 */
const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  403: 'Forbidden',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
};

// The last patch encoded, and its encoding: remembered pod decisions (review/mutate.ts) share their
// patch, so a rollout's pods are encoded once. One slot: nothing is held past the next patch.
let lastPatch: Decision['patch'] | undefined;
let lastPatchText = '';

function patchText(patch: Decision['patch']): string {
  if (patch !== lastPatch) {
    lastPatchText = Buffer.from(JSON.stringify(patch)).toString('base64');
    lastPatch = patch;
  }
  return lastPatchText;
}

export function encodeReview(apiVersion: string, uid: string, a: Decision): AdmissionReview {
  // Fields are set one by one, not spread in: this runs for every answer.
  const response: { -readonly [K in keyof AdmissionResponse]: AdmissionResponse[K] } = { uid, allowed: a.allowed };
  if (!a.allowed) {
    const code = a.code ?? 403;
    response.status = { status: 'Failure', code, reason: REASONS[code] ?? 'Forbidden', message: a.message ?? 'denied by egress-warden' };
  }
  if (a.warnings.length) response.warnings = [...a.warnings];
  if (a.auditAnnotations && Object.keys(a.auditAnnotations).length) response.auditAnnotations = { ...a.auditAnnotations };
  if (a.patch.length) {
    response.patchType = 'JSONPatch';
    response.patch = patchText(a.patch);
  }
  return { apiVersion, kind: 'AdmissionReview', response };
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
let lastTimeout: { readonly text: string; readonly ms: number } | undefined;

/**
 * The `?timeout=` the API server appends ("5s", "10s", "500ms", "1m30s"), in milliseconds.
 * Undefined when absent or unreadable.
 */
export function parseTimeout(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  // A webhook configuration has one timeoutSeconds, so the API server sends the same value every time.
  if (value === lastTimeout?.text) return lastTimeout.ms;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(value)) return undefined;
  let total = 0;
  for (const [, n, , u] of value.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) total += Number(n) * UNITS[u!]!;
  lastTimeout = { text: value, ms: total };
  return total;
}
