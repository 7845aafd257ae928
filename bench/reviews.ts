/**
 * The AdmissionReviews the benchmark sends: real API-server reviews from test/fixtures/reviews with a
 * new uid and an edited spec, so the bodies keep their real size and shape (managedFields,
 * last-applied-configuration, userInfo).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../src/admission/types.ts';

export type Expect = 'allowed' | 'denied' | 'patched';

export type Scenario = {
  /** row label in the tables */
  readonly name: string;
  /** path and query, as the API server calls it */
  readonly path: string;
  readonly review: {
    readonly apiVersion: string;
    readonly kind: string;
    readonly request: Record<string, unknown> & { object: KubeObject };
  };
  readonly body: Buffer;
  /** what egress-warden should answer, checked once before the load */
  readonly expect: Expect;
  /**
   * allowed writes of one other caller the server holds pending (read-your-writes) while this is
   * measured: the bench fills them in through the admission path before each measured run
   */
  readonly pendingWrites?: number;
  /**
   * requests sent in turn on every connection instead of `path` and `body` alone (a mixed load);
   * `path` and `body` are then the first of them, the one whose answer is checked
   */
  readonly mix?: readonly { readonly path: string; readonly body: Buffer }[];
  /**
   * the body of the n-th request, when each request carries its own (`body` is the first of them);
   * the load generator builds it, at no cost to the server
   */
  readonly each?: (n: number) => Buffer;
};

/** The namespace every bench review lives in; the state folder labels it for Istio injection and cluster capture. */
export const NAMESPACE = 'shop';

/** What `kubectl get ns shop -o yaml` would show for a namespace set up for cluster-only capture. */
export const benchNamespace = (): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name: NAMESPACE,
    labels: { 'kubernetes.io/metadata.name': NAMESPACE, 'istio-injection': 'enabled' },
    annotations: { 'egress-warden.io/outbound-capture': 'cluster' },
  },
});

type Fixture = { readonly url: string; readonly review: Scenario['review'] };

const fixtureDir = fileURLToPath(new URL('../test/fixtures/reviews/', import.meta.url));
const load = (file: string): Fixture => JSON.parse(readFileSync(fixtureDir + file, 'utf8')) as Fixture;

/** kubectl's last-applied-configuration for an object: what it sent, without server fields. */
function lastApplied(o: KubeObject): string {
  const { name, namespace } = o.metadata ?? {};
  return `${JSON.stringify({ apiVersion: o.apiVersion, kind: o.kind, metadata: { annotations: {}, name, namespace }, spec: o.spec })}\n`;
}

/** A fixture with a fresh uid and, when a spec is given, the object's name and spec replaced. */
function derive(file: string, name: string, spec: unknown): Fixture {
  const f = load(file);
  const req = f.review.request;
  req.uid = randomUUID();
  if (spec !== undefined) {
    const o = req.object;
    const renamed: KubeObject = { ...o, metadata: { ...o.metadata, name, uid: randomUUID() }, spec };
    req.name = name;
    req.object = {
      ...renamed,
      metadata: {
        ...renamed.metadata,
        annotations: { ...o.metadata?.annotations, 'kubectl.kubernetes.io/last-applied-configuration': lastApplied(renamed) },
      },
    };
  }
  return f;
}

/** The external host every bench review names. */
export const BENCH_HOST = 'api.payments.example.com';

const scenario = (name: string, f: Fixture, expect: Expect): Scenario => ({
  name,
  path: f.url,
  review: f.review,
  body: Buffer.from(JSON.stringify(f.review)),
  expect,
});

/** The five reviews of the side-by-side run, in table order. */
export function scenarios(): Scenario[] {
  const seSpec = (portName: string) => ({
    hosts: [BENCH_HOST],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    exportTo: ['.'],
    ports: [
      { name: 'https', number: 443, protocol: 'HTTPS' },
      { name: portName, number: 80, protocol: 'HTTP' },
    ],
  });
  return [
    scenario('ServiceEntry (valid)', derive('003-validate-create-serviceentry.review-v1.json', 'payments-api', seSpec('http')), 'allowed'),
    // An upper-case port name with punctuation is not a DNS label: Istio's own webhook denies it.
    scenario(
      'ServiceEntry (denied)',
      derive('003-validate-create-serviceentry.review-v1.json', 'payments-api-bad', seSpec('HTTP_80!')),
      'denied',
    ),
    scenario(
      'VirtualService (TLS, sniHosts)',
      derive('008-validate-create-virtualservice.review-v1.json', 'payments-api', {
        hosts: [BENCH_HOST],
        exportTo: ['.'],
        tls: [
          {
            match: [{ port: 443, sniHosts: [BENCH_HOST] }],
            route: [{ destination: { host: BENCH_HOST, port: { number: 443 } }, weight: 100 }],
          },
        ],
      }),
      'allowed',
    ),
    scenario(
      'Egress (OSM)',
      derive('009-validate-create-egress.review-v1.json', 'payments-api', {
        sources: [{ kind: 'ServiceAccount', name: 'checkout', namespace: NAMESPACE }],
        hosts: [BENCH_HOST],
        ports: [{ number: 443, protocol: 'https' }],
      }),
      'allowed',
    ),
    // An Istio-injected pod (istio-init with -i '*') in the cluster-capture namespace: the answer carries a patch.
    scenario('/mutate Pod (Istio, cluster capture)', derive('012-mutate-create-pod.review-v1.json', 'app', undefined), 'patched'),
  ];
}

/**
 * What a rollout sends: pod creates to /mutate and, for every seven of them, three writes of egress
 * objects to /validate (the valid ServiceEntry, the VirtualService and the Egress of `scenarios()`).
 */
export function rollout(list: readonly Scenario[]): Scenario {
  const [serviceEntry, , virtualService, egress, pod] = list;
  if (!serviceEntry || !virtualService || !egress || !pod) throw new Error('rollout: expected the five reviews of scenarios()');
  const order = [pod, pod, serviceEntry, pod, pod, virtualService, pod, pod, egress, pod];
  return {
    ...pod,
    name: 'Mixed: 70% /mutate Pod, 30% ServiceEntry, VirtualService, Egress',
    mix: order.map((s) => ({ path: s.path, body: s.body })),
  };
}

/**
 * A valid ServiceEntry for another partner API on every review, on every connection alike: its own
 * name and host, counting up. No review repeats one before it, so nothing the server remembers
 * answers it and each one is judged and remembered as a new pending write, as a stream of distinct
 * writes (a large `kubectl apply -f`, a namespace's objects created together) is.
 */
export function newObjectEachReview(): Scenario {
  const mark = 'n0mark0n';
  const spec = {
    hosts: [`${mark}.partners.example.com`],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    exportTo: ['.'],
    ports: [{ name: 'https', number: 443, protocol: 'HTTPS' }],
  };
  const f = derive('003-validate-create-serviceentry.review-v1.json', `partner-${mark}`, spec);
  const parts = JSON.stringify(f.review)
    .split(mark)
    .map((part) => Buffer.from(part));
  const each = (n: number) => {
    const at = Buffer.from(`r${n}`);
    return Buffer.concat(parts.flatMap((part, i) => (i === 0 ? [part] : [at, part])));
  };
  return { ...scenario('ServiceEntry (valid), a new object on every review', f, 'allowed'), body: each(0), each };
}

/**
 * The review a bench command names with `--review`: a scenario's index in `scenarios()`, `mixed`
 * (the rollout) or `new` (a new object on every review).
 */
export function namedReview(name: string): Scenario {
  if (name === 'mixed') return rollout(scenarios());
  if (name === 'new') return newObjectEachReview();
  const s = scenarios()[Number(name)];
  if (!s) throw new Error(`--review ${name}: expected 0-4, mixed or new`);
  return s;
}

/** `s` measured while the server holds `count` pending writes: the same body, another row. */
export const withPendingWrites = (s: Scenario, count: number): Scenario => ({
  ...s,
  name: `${s.name} with ${count.toLocaleString('en-US')} pending writes`,
  pendingWrites: count,
});

/** A review of `object`, shaped like the ServiceEntry fixture; used by the state probe and the rule benchmark. */
export function reviewOf(object: KubeObject, group: string, version: string, resource: string): Scenario['review'] {
  const f = load('003-validate-create-serviceentry.review-v1.json');
  const gvk = { group, version, kind: object.kind ?? '' };
  const gvr = { group, version, resource };
  Object.assign(f.review.request, {
    uid: randomUUID(),
    kind: gvk,
    requestKind: gvk,
    resource: gvr,
    requestResource: gvr,
    name: object.metadata?.name,
    namespace: object.metadata?.namespace,
    object,
  });
  return f.review;
}
