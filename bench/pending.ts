/**
 * Read-your-writes under load: fills a running server's overlay (src/cluster/overlay.ts) with
 * allowed writes through its real admission path, the way a GitOps sync or a `kubectl apply` of a
 * large folder would, and reads back how many are pending from its /metrics.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../src/admission/types.ts';
import { pendingObjects } from './generate.ts';
import { get } from './processes.ts';

/**
 * Writes admitted moments ago that the informers have not confirmed: one caller's whole allowance
 * (OVERLAY_PER_CALLER), which a `kubectl apply` of a large folder or a GitOps sync fills.
 */
export const PENDING_WRITES = 5_000;

/** One caller (the API server's userInfo.username) for every pending write: a GitOps controller, not the user whose reviews are measured. */
export const PENDING_CALLER = 'system:serviceaccount:argocd:argocd-application-controller';

/** The resource each kind of pending write is reviewed as. */
const RESOURCES: Readonly<Record<string, { readonly group: string; readonly version: string; readonly resource: string }>> = {
  ServiceEntry: { group: 'networking.istio.io', version: 'v1', resource: 'serviceentries' },
  VirtualService: { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' },
  Egress: { group: 'policy.openservicemesh.io', version: 'v1alpha1', resource: 'egresses' },
  HTTPRouteGroup: { group: 'specs.smi-spec.io', version: 'v1alpha4', resource: 'httproutegroups' },
  Namespace: { group: '', version: 'v1', resource: 'namespaces' },
};

const fixture = fileURLToPath(new URL('../test/fixtures/reviews/003-validate-create-serviceentry.review-v1.json', import.meta.url));

/**
 * `count` CREATE reviews of distinct objects of every kind the validating webhook remembers
 * (Services are the informers' alone), all by PENDING_CALLER, as JSON bodies for /validate.
 */
export function pendingReviews(count: number): Buffer[] {
  const { review } = JSON.parse(readFileSync(fixture, 'utf8')) as { review: { request: Record<string, unknown> } };
  return pendingObjects(count, { services: false }).map((object: KubeObject) => {
    const r = RESOURCES[object.kind ?? ''];
    if (!r) throw new Error(`no resource for a pending ${object.kind}`);
    const gvk = { group: r.group, version: r.version, kind: object.kind };
    const gvr = { group: r.group, version: r.version, resource: r.resource };
    const req = {
      ...review.request,
      uid: randomUUID(),
      kind: gvk,
      requestKind: gvk,
      resource: gvr,
      requestResource: gvr,
      name: object.metadata?.name,
      namespace: object.metadata?.namespace,
      operation: 'CREATE',
      object,
      oldObject: null,
      userInfo: { username: PENDING_CALLER, groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'] },
    };
    return Buffer.from(JSON.stringify({ ...review, request: req }));
  });
}

export type Fill = {
  readonly sent: number;
  /** answered 200 with allowed: true, so the server remembered them */
  readonly allowed: number;
  /** the first answer that was not an allowed review, if any */
  readonly refused: string | undefined;
  readonly ms: number;
};

/** Posts every body to `url` (the admission path with the caller token) over `connections` keep-alive connections. */
export async function fill(url: string, bodies: readonly Buffer[], connections = 16): Promise<Fill> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections, rejectUnauthorized: false });
  const t0 = performance.now();
  let next = 0;
  let allowed = 0;
  let refused: string | undefined;
  const one = (body: Buffer) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
      req.end(body);
    });
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (next < bodies.length) {
          const { status, text } = await one(bodies[next++]!);
          if (status === 200 && (JSON.parse(text) as { response?: { allowed?: boolean } }).response?.allowed === true) allowed++;
          else refused ??= `HTTP ${status}: ${text.slice(0, 300)}`;
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { sent: bodies.length, allowed, refused, ms: performance.now() - t0 };
}

/** The server's count of pending writes (egress_warden_overlay_pending), NaN when it has none to show. */
export async function pendingOn(base: string): Promise<number> {
  const text = (await get(`${base}/metrics`)).body;
  return Number(/^egress_warden_overlay_pending (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}
