/**
 * A tiny Kubernetes API server over plain HTTP: discovery, paginated lists, streaming watches,
 * ConfigMaps and the dry-run Service create. Enough to run the real client-node code path.
 */
import { createServer, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from '../../src/admission/types.ts';

export type FakeServer = {
  readonly url: string;
  /** a kubeconfig file pointing at this server */
  readonly kubeconfig: string;
  /** collection path ("/api/v1/nodes") → objects; lists read it, tests edit it */
  readonly collections: Map<string, KubeObject[]>;
  readonly configMaps: Map<string, KubeObject>;
  /** paths ("/api/v1/pods") answered with 403 Forbidden, as RBAC would */
  readonly forbidden: Set<string>;
  /** pushes a watch event to every open watch of a collection */
  readonly emit: (path: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void;
  readonly watching: (path: string) => number;
  readonly requests: string[];
  readonly close: () => Promise<void>;
};

const resource = (name: string, kind: string, namespaced: boolean) => ({
  name,
  singularName: '',
  namespaced,
  kind,
  verbs: ['get', 'list', 'watch'],
});

const DISCOVERY: Record<string, unknown> = {
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      {
        name: 'networking.k8s.io',
        versions: [{ groupVersion: 'networking.k8s.io/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'networking.k8s.io/v1', version: 'v1' },
      },
      {
        name: 'networking.istio.io',
        versions: [
          { groupVersion: 'networking.istio.io/v1', version: 'v1' },
          { groupVersion: 'networking.istio.io/v1beta1', version: 'v1beta1' },
        ],
        preferredVersion: { groupVersion: 'networking.istio.io/v1', version: 'v1' },
      },
      {
        name: 'apps',
        versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
      },
    ],
  },
  '/apis/networking.k8s.io/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'networking.k8s.io/v1',
    resources: [
      resource('networkpolicies', 'NetworkPolicy', true),
      resource('servicecidrs', 'ServiceCIDR', false),
      resource('servicecidrs/status', 'ServiceCIDR', false),
    ],
  },
  '/apis/networking.istio.io/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'networking.istio.io/v1',
    resources: [resource('serviceentries', 'ServiceEntry', true)],
  },
  '/apis/networking.istio.io/v1beta1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'networking.istio.io/v1beta1',
    resources: [resource('serviceentries', 'ServiceEntry', true), resource('virtualservices', 'VirtualService', true)],
  },
};

const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

export async function fakeApiServer(dryRunAnswers: Record<string, string>): Promise<FakeServer> {
  const collections = new Map<string, KubeObject[]>();
  const configMaps = new Map<string, KubeObject>();
  const forbidden = new Set<string>();
  const watches = new Map<string, Set<ServerResponse>>();
  const requests: string[] = [];
  let rv = 1000;

  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    requests.push(`${req.method} ${path}${url.search}`);
    if (forbidden.has(path)) {
      return send(
        res,
        403,
        status(403, 'Forbidden', `${path} is forbidden: User "tester" cannot ${req.method === 'GET' ? 'read' : 'write'} it`),
      );
    }
    if (req.method === 'POST' && /^\/api\/v1\/namespaces\/[^/]+\/services$/.test(path)) {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const ip = (JSON.parse(text) as { spec: { clusterIP: string } }).spec.clusterIP;
        const answer = url.searchParams.get('dryRun') === 'All' ? dryRunAnswers[ip] : 'dry run was not requested';
        if (answer === undefined) send(res, 201, JSON.parse(text));
        else send(res, 422, status(422, 'Invalid', answer));
      });
      return;
    }
    const discovered = DISCOVERY[path];
    if (discovered) return send(res, 200, discovered);
    const cm = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps\/([^/]+)$/.exec(path);
    if (cm) {
      const found = configMaps.get(`${cm[1]}/${cm[2]}`);
      return found ? send(res, 200, found) : send(res, 404, status(404, 'NotFound', `configmaps "${cm[2]}" not found`));
    }
    const items = collections.get(path);
    if (!items) return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      const open = watches.get(path) ?? new Set();
      open.add(res);
      watches.set(path, open);
      res.on('close', () => open.delete(res));
      return;
    }
    // two pages whatever the limit, so every list exercises the continue token
    const second = url.searchParams.get('continue') === 'page-2';
    const half = Math.ceil(items.length / 2);
    const page = second ? items.slice(half) : items.slice(0, half);
    const more = !second && items.length > 1;
    send(res, 200, {
      kind: 'List',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(rv), ...(more ? { continue: 'page-2' } : {}) },
      items: page,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'ew-kubeconfig-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: fake',
      `clusters: [{name: fake, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: tester, user: {token: not-a-secret}}]',
      'contexts: [{name: fake, context: {cluster: fake, user: tester, namespace: egress-warden}}]',
      '',
    ].join('\n'),
  );

  return {
    url,
    kubeconfig,
    collections,
    configMaps,
    forbidden,
    requests,
    emit: (path, type, obj) => {
      rv++;
      const object = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
      for (const res of watches.get(path) ?? []) res.write(`${JSON.stringify({ type, object })}\n`);
    },
    watching: (path) => watches.get(path)?.size ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
