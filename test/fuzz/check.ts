/**
 * The fuzzer's oracle: what any answer to any request must look like. A 4xx (400, 401, 403, 404,
 * 413, 415) with a JSON message, or a 200 carrying a well-formed AdmissionReview whose uid is the
 * request's. Never a 5xx, a dropped connection or silence. The request is read the way the server
 * reads JSON (UTF-8, a leading byte order mark ignored, the last of duplicate keys winning), so a
 * mutated review that still holds a string uid is held to it.
 *
 * The caller token is held to what the docs promise: only `/validate/<token>` and
 * `/mutate/<token>` are reviewed; an admission path without the token is answered 401 and with
 * any other token 403, whatever the body, since the caller is refused before the body is read.
 */
import type { FuzzCase } from './mutate.ts';

export type Answer =
  | {
      readonly ok: true;
      readonly status: number;
      readonly contentType: string;
      readonly body: string;
      readonly ms: number;
      /** SHA-256 fingerprint of the server certificate, and whether the connection had served a request before */
      readonly fingerprint?: string;
      readonly reused?: boolean;
      readonly connection?: string;
    }
  | { readonly ok: false; readonly error: string; readonly ms: number };

/** What the request itself says its answer must echo. */
export type Expectation = {
  /** the path names an admission endpoint with the server's caller token (or the server has none and it names one) */
  readonly authorized: boolean;
  /** the status a caller without the right token gets on an admission path */
  readonly refused: 401 | 403 | undefined;
  /** the body parses as JSON */
  readonly json: boolean;
  /** request.uid, when the body still has a non-empty string there */
  readonly uid: string | undefined;
  readonly apiVersion: string | undefined;
};

const REJECTIONS = new Set([400, 401, 403, 404, 413, 415]);
const ROUTES = ['/validate', '/mutate'];
const VERSIONS = new Set(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Who the path says the caller is, to a server whose caller token is `token` (undefined: a server
 * without one). The path is read as the client puts it on the wire: a URL, with `..` resolved and
 * anything outside ASCII percent-encoded.
 */
function callerOf(path: string, token: string | undefined): Pick<Expectation, 'authorized' | 'refused'> {
  let pathname: string;
  try {
    pathname = new URL(`https://fuzz.invalid${path}`).pathname;
  } catch {
    return { authorized: false, refused: undefined };
  }
  if (token === undefined) return { authorized: ROUTES.includes(pathname), refused: undefined };
  for (const route of ROUTES) {
    if (pathname === route || pathname === `${route}/`) return { authorized: false, refused: 401 };
    if (pathname.startsWith(`${route}/`))
      return pathname === `${route}/${token}` ? { authorized: true, refused: undefined } : { authorized: false, refused: 403 };
  }
  return { authorized: false, refused: undefined };
}

export function expectationOf(c: FuzzCase, token?: string): Expectation {
  const caller = callerOf(c.path, token);
  // What went over the wire: a lone surrogate in a string body was sent as U+FFFD.
  let text = (typeof c.body === 'string' ? Buffer.from(c.body, 'utf8') : c.body).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ...caller, json: false, uid: undefined, apiVersion: undefined };
  }
  const request = isRecord(parsed) ? parsed.request : undefined;
  const uid = isRecord(request) && typeof request.uid === 'string' && request.uid.length > 0 ? request.uid : undefined;
  const apiVersion = isRecord(parsed) && typeof parsed.apiVersion === 'string' ? parsed.apiVersion : undefined;
  return { ...caller, json: true, uid, apiVersion };
}

const short = (s: string, n = 120) => (s.length > n ? `${s.slice(0, n)}… (${s.length} characters)` : s);

function parseJson(body: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(body) };
  } catch {
    return undefined;
  }
}

function checkReview(answer: unknown, expected: Expectation): string | undefined {
  if (!isRecord(answer)) return 'the 200 body is not a JSON object';
  if (answer.kind !== 'AdmissionReview') return `the 200 body has kind ${JSON.stringify(answer.kind)}, not AdmissionReview`;
  if (typeof answer.apiVersion !== 'string' || !VERSIONS.has(answer.apiVersion))
    return `the 200 body has apiVersion ${JSON.stringify(answer.apiVersion)}`;
  if (expected.apiVersion !== undefined && answer.apiVersion !== expected.apiVersion) {
    return `answered in ${answer.apiVersion} to a review sent in ${expected.apiVersion}`;
  }
  const r = answer.response;
  if (!isRecord(r)) return 'the AdmissionReview has no response object';
  if (typeof r.uid !== 'string') return 'response.uid is not a string';
  if (expected.uid !== undefined && r.uid !== expected.uid) {
    return `wrong uid: sent ${JSON.stringify(short(expected.uid, 80))}, got ${JSON.stringify(short(r.uid, 80))}`;
  }
  if (typeof r.allowed !== 'boolean') return 'response.allowed is not a boolean';
  if (!r.allowed) {
    if (!isRecord(r.status) || !Number.isInteger(r.status.code) || typeof r.status.message !== 'string' || r.status.message === '') {
      return 'a denial without status.code and status.message';
    }
  }
  if (r.warnings !== undefined && !(Array.isArray(r.warnings) && r.warnings.every((w) => typeof w === 'string')))
    return 'response.warnings is not a list of strings';
  if (r.patch !== undefined || r.patchType !== undefined) {
    if (r.patchType !== 'JSONPatch' || typeof r.patch !== 'string') return 'a patch without patchType JSONPatch';
    const ops = parseJson(Buffer.from(r.patch, 'base64').toString('utf8'))?.value;
    if (!Array.isArray(ops) || !ops.every((o) => isRecord(o) && typeof o.op === 'string' && typeof o.path === 'string')) {
      return 'response.patch is not a base64 JSON Patch';
    }
  }
  return undefined;
}

/** Undefined when the answer is acceptable for the case, otherwise why not. */
export function judgeAnswer(c: FuzzCase, a: Answer, expected: Expectation = expectationOf(c)): string | undefined {
  if (!a.ok) return `no answer: ${a.error}`;
  if (a.status >= 500) return `status ${a.status}: ${short(a.body)}`;
  const json = parseJson(a.body);
  if (expected.refused !== undefined && a.status !== expected.refused) {
    return `status ${a.status} to a caller ${expected.refused === 401 ? 'without the token' : 'with a wrong token'}, not ${expected.refused}: ${short(a.body)}`;
  }
  if (expected.authorized && (a.status === 401 || a.status === 403))
    return `status ${a.status} to the right caller token: ${short(a.body)}`;
  if (a.status === 200) {
    if (!expected.authorized) return `reviewed without the caller token: ${short(a.body)}`;
    if (c.pristine || expected.json) {
      if (!/^application\/json\b/.test(a.contentType)) return `a 200 with content-type ${JSON.stringify(a.contentType)}`;
      if (!json) return `a 200 whose body is not JSON: ${short(a.body)}`;
      return checkReview(json.value, expected);
    }
    return `a 200 for a body that is not JSON: ${short(a.body)}`;
  }
  if (c.pristine) return `status ${a.status} for an untouched recorded review: ${short(a.body)}`;
  if (!REJECTIONS.has(a.status)) return `unexpected status ${a.status}: ${short(a.body)}`;
  if (!json || !isRecord(json.value)) return `a ${a.status} whose body is not a JSON object: ${short(a.body)}`;
  const message = json.value.message;
  if (typeof message !== 'string' || message.trim() === '') return `a ${a.status} without a message: ${short(a.body)}`;
  if (/\n\s+at /.test(message)) return `a ${a.status} whose message carries a stack trace: ${short(message)}`;
  return undefined;
}
