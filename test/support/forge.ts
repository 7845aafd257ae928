/**
 * Admission reviews sent by hand, as anyone who can reach the webhook's URL could send them: plain
 * HTTPS POSTs trusting the server's CA, with or without a client certificate, and what the server's
 * /metrics says it refused.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import type { Obj } from './kube.ts';

export type Answer = { readonly status: number; readonly body: string };

export type PostOptions = {
  /** the server's CA */
  readonly ca: string | Buffer;
  /** a client certificate and its key, PEM */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
};

/**
 * POSTs `body` as JSON. A new connection each time (no agent): a TLS session or a keep-alive
 * connection must not carry one request's client certificate over to the next.
 */
export function post(url: string, body: unknown, opts: PostOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        timeout: 10_000,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`POST ${url}: no answer within 10 s`)));
    req.end(payload);
  });
}

export type ReviewRequest = {
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE';
  /** what request.kind says; by default the object's own group, version and kind */
  readonly kind?: { readonly group: string; readonly version: string; readonly kind: string };
  /** request.resource */
  readonly resource: string;
  /** request.namespace; by default the object's */
  readonly namespace?: string;
  readonly object?: Obj | null;
  readonly oldObject?: Obj | null;
  readonly username?: string;
};

/** The group, version and kind an object declares. */
export function gvkOf(obj: Obj): { group: string; version: string; kind: string } {
  const apiVersion = String(obj.apiVersion);
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  return { group, version, kind: String(obj.kind) };
}

/** An admission.k8s.io/v1 AdmissionReview shaped as the API server sends one. */
export function review(r: ReviewRequest): Obj {
  const subject = r.object ?? r.oldObject ?? {};
  const kind = r.kind ?? gvkOf(subject);
  const namespace = r.namespace ?? subject.metadata?.namespace;
  const options = r.operation === 'DELETE' ? 'DeleteOptions' : r.operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: randomUUID(),
      kind,
      requestKind: kind,
      resource: { group: kind.group, version: kind.version, resource: r.resource },
      requestResource: { group: kind.group, version: kind.version, resource: r.resource },
      name: subject.metadata?.name,
      ...(namespace ? { namespace } : {}),
      operation: r.operation,
      userInfo: {
        username: r.username ?? 'system:serviceaccount:intruder:default',
        groups: ['system:serviceaccounts', 'system:authenticated'],
      },
      object: r.object ?? null,
      oldObject: r.oldObject ?? null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: options },
    },
  };
}

/** egress_warden_refused_requests_total by its labels, as the /metrics text shows them. */
export function refusals(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    const m = /^egress_warden_refused_requests_total(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) out.set(m[1] ?? '{}', Number(m[2]));
  }
  return out;
}

/** How many refusals each label set gained between two readings (only those that changed). */
export function gained(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [labels, n] of after) {
    const d = n - (before.get(labels) ?? 0);
    if (d !== 0) out[labels] = d;
  }
  return out;
}

/** The same gains summed per `reason` label, whatever the route. */
export function byReason(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [labels, n] of Object.entries(counts)) {
    const reason = /reason="([^"]*)"/.exec(labels)?.[1] ?? '';
    out[reason] = (out[reason] ?? 0) + n;
  }
  return out;
}
