/**
 * The admission endpoints: one row per path the API server calls, with what the path's answer means
 * when the review cannot be finished. The routes, the webhook configurations and the caller token
 * in every registered path are derived from these rows (controller-runtime's webhook.Admission).
 */
import type { Webhook } from './kinds.ts';

export type Endpoint = {
  /** the path without the caller token */
  readonly path: string;
  /** the webhook registrations (catalogue/kinds.ts) that call it */
  readonly webhooks: readonly Webhook[];
  /**
   * What a review that cannot be finished answers: validation denies (fail closed), mutation
   * admits the pod unchanged (fail open), so a pod never fails to start for want of its ranges.
   */
  readonly failClosed: boolean;
};

export const ENDPOINTS = {
  validate: { path: '/validate', webhooks: ['validate', 'namespaces'], failClosed: true },
  mutate: { path: '/mutate', webhooks: ['mutate'], failClosed: false },
} as const satisfies Readonly<Record<string, Endpoint>>;

export type EndpointName = keyof typeof ENDPOINTS;
export type EndpointPath = (typeof ENDPOINTS)[EndpointName]['path'];

export const ENDPOINT_NAMES = Object.keys(ENDPOINTS) as readonly EndpointName[];

/** The endpoint a webhook registration calls. */
export function endpointOf(webhook: Webhook): EndpointName {
  return ENDPOINT_NAMES.find((name) => (ENDPOINTS[name].webhooks as readonly Webhook[]).includes(webhook))!;
}

/** The API server waits this long for an answer (webhook timeoutSeconds). */
export const WEBHOOK_TIMEOUT_SECONDS = 3;

/** Where a certificate directory keeps the caller token (`certs --dir`, `serve --certs`). */
export const TOKEN_FILE_NAME = 'token';

/**
 * A caller token is one path segment of unreserved URL characters, long enough not to be guessed
 * (`certs` and the installs make 43 characters of a-z and 0-9; a token in a webhook Service path
 * must also be a lowercase RFC 1123 subdomain, which the API server checks).
 */
export const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;

/** How long a token removed from the token file is still accepted: the webhook configurations may move later. */
export const TOKEN_GRACE_MS = 5 * 60_000;

/** The path the webhook configurations register: `/validate/<token>`, or the bare path without a token. */
export const callerPath = (endpoint: EndpointName, token: string | undefined): string =>
  token === undefined ? ENDPOINTS[endpoint].path : `${ENDPOINTS[endpoint].path}/${token}`;
