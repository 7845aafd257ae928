import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { checkItems, storedFindings } from '../../src/check/items.ts';
import type { InputItem } from '../../src/cluster/manifest-files.ts';
import { snapshotFromObjects } from '../../src/cluster/indexes.ts';
import { DEFAULT_MESH_LOCATIONS, meshConfigFrom } from '../../src/cluster/mesh-config.ts';
import { parseCidr } from '../../src/net/cidr.ts';
import { runExplain } from '../../src/commands/explain.ts';
import { captureIo } from '../../src/commands/io.ts';
import { fakeApiServer } from '../cluster/fake-apiserver.ts';
import {
  egressObjectsOf,
  existingPod,
  explain,
  parseDestination,
  prospectivePod,
  type Destination,
  type Explanation,
  type Source,
} from '../../src/explain/explain.ts';

const Kinds = suite('explain: Sidecar scoping, ambient waypoints and Linkerd EgressNetworks, each with a fix the webhook admits');

const cidrs = {
  pod: [{ cidr: parseCidr('10.244.0.0/16')!, origin: 'test' }],
  service: [{ cidr: parseCidr('10.96.0.0/12')!, origin: 'test' }],
};
const to = (url: string, address?: string): Destination => {
  const d = parseDestination(url, address);
  if ('problem' in d) throw new Error(d.problem);
  return d;
};
/** As the command runs it offline: the snapshot, the mesh settings and the newer kinds, all from the same objects. */
const ask = (source: Source, dest: Destination, objects: KubeObject[]): Explanation =>
  explain(
    source,
    dest,
    { ...snapshotFromObjects(objects, cidrs), mesh: meshConfigFrom(objects, DEFAULT_MESH_LOCATIONS) },
    storedFindings,
    egressObjectsOf(objects, source.namespace),
  );
/** The fix judged with everything it joins, as `check` would: no errors, and no warnings. */
function admitted(e: Explanation, objects: KubeObject[]): void {
  assert.ok(e.fix.length > 0, `no fix: ${JSON.stringify(e.reasons, null, 1)}`);
  const items = (all: KubeObject[]): InputItem[] => all.map((object) => ({ object, file: 'f.yaml', line: 1, lineOf: () => 1 }));
  const r = checkItems(
    items([...e.fix]),
    { ...snapshotFromObjects([], cidrs), mesh: meshConfigFrom(objects, DEFAULT_MESH_LOCATIONS) },
    { namespace: 'default', mode: 'enforce' },
    objects.filter(
      (o) =>
        !e.fix.some((f) => f.kind === o.kind && f.metadata?.name === o.metadata?.name && f.metadata?.namespace === o.metadata?.namespace),
    ),
  );
  assert.equal(r.findings, [], JSON.stringify(r.findings));
}
const says = (e: Explanation, text: string) =>
  assert.ok(
    e.reasons.some((r) => r.says.includes(text)),
    `no reason says "${text}":\n${e.reasons.map((r) => r.says).join('\n')}`,
  );

const namespace = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels, annotations },
});
const registryOnly: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: 'istio-system', name: 'istio' },
  data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' },
};
const entry = (name: string, ns: string, host: string, labels: Record<string, string> = {}, spec: object = {}): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: ns, labels },
  spec: {
    hosts: [host],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    ports: [{ number: 443, name: 'tls-443', protocol: 'TLS' }],
    ...spec,
  },
});
const sidecar = (ns: string, spec: object, name = 'default', created = '2026-01-01T00:00:00Z'): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: { name, namespace: ns, creationTimestamp: created, labels: { team: 'shop' }, annotations: { owner: 'platform' } },
  spec,
});

// --- Istio Sidecar ---

const shop = namespace('shop', { 'istio-injection': 'enabled' });

Kinds(
  "a ServiceEntry the namespace's Sidecar does not import is blocked; the fix is the whole Sidecar with the host added (istio#13319)",
  () => {
    const objects = [
      registryOnly,
      shop,
      namespace('egress'),
      entry('partner', 'egress', 'api.partner.example'),
      sidecar('shop', { egress: [{ hosts: ['./*', 'istio-system/*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }),
    ];
    const e = ask(prospectivePod('shop', 'app'), to('https://api.partner.example'), objects);
    assert.is(e.verdict, 'blocked');
    says(e, "Sidecar shop/default decides this pod's egress (the namespace's Sidecar without workloadSelector)");
    says(e, 'Sidecar shop/default does not import it (spec.egress[0].hosts has no egress/api.partner.example)');
    const [fixed] = e.fix;
    // never a partial object: kubectl apply of one drops the fields it leaves out
    assert.equal(fixed, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: { name: 'default', namespace: 'shop', labels: { team: 'shop' }, annotations: { owner: 'platform' } },
      spec: {
        egress: [{ hosts: ['./*', 'istio-system/*', 'egress/api.partner.example'] }],
        outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
      },
    });
    admitted(e, objects);
    // and with it applied, the same question is answered allowed
    const after = ask(prospectivePod('shop', 'app'), to('https://api.partner.example'), [...objects.slice(0, 4), fixed!]);
    assert.is(after.verdict, 'allowed');
  },
);

Kinds(
  "a Sidecar's outboundTrafficPolicy ALLOW_ANY overrides the mesh's REGISTRY_ONLY, and a selector Sidecar wins over the namespace's",
  () => {
    const objects = [
      registryOnly,
      shop,
      sidecar('shop', { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }),
      sidecar('shop', { workloadSelector: { labels: { app: 'legacy' } }, outboundTrafficPolicy: { mode: 'ALLOW_ANY' } }, 'legacy'),
    ];
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'legacy-1', namespace: 'shop', labels: { app: 'legacy' } },
      spec: { containers: [{ name: 'app' }] },
    };
    const e = ask(existingPod(pod), to('https://anything.example.com'), objects);
    assert.is(e.verdict, 'allowed');
    says(
      e,
      "Sidecar shop/legacy decides this pod's egress (its workloadSelector app=legacy selects the pod); its outboundTrafficPolicy overrides the mesh's REGISTRY_ONLY",
    );
    says(e, 'outbound traffic policy ALLOW_ANY [Sidecar shop/legacy spec.outboundTrafficPolicy.mode]');
    // the other pods of the namespace get the namespace's Sidecar
    const other = ask(prospectivePod('shop', 'app'), to('https://anything.example.com'), objects);
    assert.is(other.verdict, 'blocked');
    says(other, 'outbound traffic policy REGISTRY_ONLY [Sidecar shop/default spec.outboundTrafficPolicy.mode]');
  },
);

Kinds("a namespace without a Sidecar gets the mesh root namespace's, wherever Istio is installed", () => {
  const objects = [
    shop,
    sidecar('istio-system', { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }),
    sidecar('istio-1-24', { outboundTrafficPolicy: { mode: 'ALLOW_ANY' } }),
  ];
  const snapshot = { ...snapshotFromObjects(objects, cidrs), mesh: meshConfigFrom(objects, DEFAULT_MESH_LOCATIONS) };
  const byDefault = ask(prospectivePod('shop', 'app'), to('https://api.new.example'), objects);
  says(byDefault, "Sidecar istio-system/default decides this pod's egress (the mesh root namespace's Sidecar: the namespace has none)");
  assert.is(byDefault.verdict, 'blocked');
  const moved = explain(prospectivePod('shop', 'app'), to('https://api.new.example'), snapshot, storedFindings, {
    ...egressObjectsOf(objects, 'shop'),
    rootNamespace: 'istio-1-24',
  });
  says(moved, 'Sidecar istio-1-24/default decides');
  assert.is(moved.verdict, 'allowed');
});

Kinds('no ServiceEntry and a Sidecar that imports only istio-system: the fix is a ServiceEntry where the Sidecar looks', () => {
  const objects = [registryOnly, shop, sidecar('shop', { egress: [{ hosts: ['istio-system/*'] }] })];
  const e = ask(prospectivePod('shop', 'app'), to('https://api.new.example'), objects);
  assert.is(e.verdict, 'blocked');
  assert.equal(
    e.fix.map((o) => `${o.kind} ${o.metadata?.namespace}`),
    ['ServiceEntry istio-system'],
  );
  admitted(e, objects);
});

// --- Istio ambient ---

const ambientNs = namespace('apps', { 'istio.io/dataplane-mode': 'ambient' });
const waypointEntry = entry(
  'api',
  'apps',
  'api.example.com',
  { 'istio.io/use-waypoint': 'egress-waypoint' },
  { addresses: ['240.240.0.10'] },
);

Kinds(
  'an ambient pod: ztunnel does not enforce REGISTRY_ONLY; a waypoint that does not exist is named, and the fix is the waypoint Gateway',
  () => {
    const existingGateway: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'ingress', namespace: 'apps' },
      spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
    };
    const objects = [registryOnly, ambientNs, waypointEntry, existingGateway];
    const e = ask(prospectivePod('apps', 'app'), to('https://api.example.com'), objects);
    assert.is(e.verdict, 'allowed');
    says(e, 'ztunnel captures all outbound traffic');
    says(e, 'ztunnel does not enforce it (istio/istio#54281)');
    says(e, 'ServiceEntry apps/api uses waypoint apps/egress-waypoint (from the entry label), but [EW625]');
    assert.equal(e.fix, [
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'egress-waypoint', namespace: 'apps', labels: { 'istio.io/waypoint-for': 'service' } },
        spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
      },
    ]);
    admitted(e, objects);
    const after = ask(prospectivePod('apps', 'app'), to('https://api.example.com'), [...objects, ...e.fix]);
    says(after, 'through waypoint apps/egress-waypoint, which exists and serves service traffic');
    assert.equal(after.fix, []);
  },
);

Kinds('read from a cluster that holds no Gateway, the missing waypoint is reported; from files without one, it is not guessed at', () => {
  const objects = [ambientNs, waypointEntry];
  const snapshot = { ...snapshotFromObjects(objects, cidrs), mesh: meshConfigFrom(objects, DEFAULT_MESH_LOCATIONS) };
  const live = explain(
    prospectivePod('apps', 'app'),
    to('https://api.example.com'),
    snapshot,
    storedFindings,
    egressObjectsOf(objects, 'apps', [], ['Gateway', 'ServiceEntry']),
  );
  says(live, '[EW625]');
  assert.is(live.fix[0]?.kind, 'Gateway');
  const files = ask(prospectivePod('apps', 'app'), to('https://api.example.com'), objects);
  says(files, 'no Gateway was read, so whether it exists and serves service traffic is not known');
  assert.equal(files.fix, []);
});

Kinds('an ambient pod whose waypoint serves workloads only: the fix is the stored Gateway relabelled for service traffic', () => {
  const gateway: KubeObject = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'egress-waypoint', namespace: 'apps', labels: { 'istio.io/waypoint-for': 'workload', team: 'net' } },
    spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
  };
  const objects = [ambientNs, waypointEntry, gateway];
  const e = ask(prospectivePod('apps', 'app'), to('https://api.example.com'), objects);
  says(e, '[EW627]');
  assert.equal(e.fix[0]?.metadata?.labels, { 'istio.io/waypoint-for': 'service', team: 'net' });
  admitted(e, objects);
});

Kinds('an ambient pod labelled use-waypoint "None" is said to use no waypoint, as the rules read the label', () => {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'apps', labels: { 'istio.io/use-waypoint': 'None' } },
    spec: { containers: [{ name: 'app' }] },
  };
  const e = ask(existingPod(pod), to('https://elsewhere.example'), [ambientNs]);
  says(e, 'no waypoint is named (istio.io/use-waypoint)');
});

Kinds('an ambient ServiceEntry labelled "None" uses no waypoint, as istiod reads it', () => {
  const e = ask(prospectivePod('apps', 'app'), to('https://api.example.com'), [
    ambientNs,
    entry('api', 'apps', 'api.example.com', { 'istio.io/use-waypoint': 'None' }),
  ]);
  says(e, 'uses no waypoint');
  assert.equal(e.fix, []);
});

// --- Linkerd ---

const linkerdNs = namespace('payments', {}, { 'linkerd.io/inject': 'enabled' });
const egressNetwork = (name: string, ns: string, spec: object): KubeObject => ({
  apiVersion: 'policy.linkerd.io/v1alpha1',
  kind: 'EgressNetwork',
  metadata: { name, namespace: ns, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec,
});
const denyAll = egressNetwork('all-egress', 'linkerd-egress', { trafficPolicy: 'Deny' });

Kinds('a Linkerd pod to an address a global Deny EgressNetwork holds is blocked; the fix is a TLSRoute attached to it', () => {
  const objects = [linkerdNs, namespace('linkerd-egress'), denyAll];
  const e = ask(prospectivePod('payments', 'api'), to('https://api.stripe.com', '203.0.113.7'), objects);
  assert.is(e.verdict, 'blocked');
  assert.is(e.mesh, 'linkerd');
  says(e, 'Linkerd proxy [namespace payments annotation linkerd.io/inject=enabled]');
  says(e, 'EgressNetwork linkerd-egress/all-egress (Deny) holds 203.0.113.7');
  assert.equal(e.fix, [
    {
      apiVersion: 'gateway.networking.k8s.io/v1alpha2',
      kind: 'TLSRoute',
      metadata: { name: 'api-stripe-com-443', namespace: 'linkerd-egress' },
      spec: {
        parentRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'all-egress', namespace: 'linkerd-egress', port: 443 }],
        hostnames: ['api.stripe.com'],
        rules: [{ backendRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'all-egress' }] }],
      },
    },
  ]);
  admitted(e, objects);
  // applied, the route lets the connection out
  const after = ask(prospectivePod('payments', 'api'), to('https://api.stripe.com', '203.0.113.7'), [...objects, ...e.fix]);
  assert.is(after.verdict, 'allowed');
  says(after, 'TLSRoute linkerd-egress/api-stripe-com-443 attached to it matches api.stripe.com:443');
  // a route for another host does not
  const other = ask(prospectivePod('payments', 'api'), to('https://evil.example', '203.0.113.7'), [...objects, ...e.fix]);
  assert.is(other.verdict, 'blocked');
});

Kinds(
  "a namespace's own EgressNetwork hides the global ones: its Allow decides, and a pod with a linkerd-proxy container is recognised",
  () => {
    const objects = [
      namespace('payments'),
      denyAll,
      egressNetwork('partners', 'payments', { trafficPolicy: 'Allow', networks: [{ cidr: '203.0.113.0/24' }] }),
    ];
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'api-1', namespace: 'payments' },
      spec: { containers: [{ name: 'app' }, { name: 'linkerd-proxy' }] },
    };
    const e = ask(existingPod(pod), to('tcp://203.0.113.7:5432'), objects);
    assert.is(e.verdict, 'allowed');
    says(e, 'Linkerd proxy [container linkerd-proxy]');
    says(e, 'payments has EgressNetworks of its own: only they apply to its pods');
    says(e, 'EgressNetwork payments/partners (Allow) holds 203.0.113.7');
    // a pod that opts out by annotation is not Linkerd's, whatever its namespace says
    const out = ask(
      existingPod({
        ...pod,
        metadata: { ...pod.metadata, annotations: { 'linkerd.io/inject': 'disabled' } },
        spec: { containers: [{ name: 'app' }] },
      }),
      to('tcp://203.0.113.7:5432'),
      [...objects, linkerdNs],
    );
    assert.is.not(out.mesh, 'linkerd');
  },
);

Kinds('a Linkerd pod to a Deny network over TCP: the fix is a TCPRoute with one rule and the port, which Linkerd requires', () => {
  const objects = [linkerdNs, egressNetwork('db', 'payments', { trafficPolicy: 'Deny', networks: [{ cidr: '198.51.100.0/24' }] })];
  const e = ask(prospectivePod('payments', 'api'), to('tcp://198.51.100.20:5432'), objects);
  assert.is(e.verdict, 'blocked');
  const route = e.fix[0] as { kind: string; spec: { parentRefs: { port: number }[]; rules: unknown[]; hostnames?: unknown } };
  assert.equal(
    [route.kind, route.spec.parentRefs[0]?.port, route.spec.rules.length, route.spec.hostnames],
    ['TCPRoute', 5432, 1, undefined],
  );
  admitted(e, objects);
});

Kinds('live, the Sidecars are listed from the cluster and a kind whose CRD is not installed is a note, not an error', async () => {
  const server = await fakeApiServer({});
  try {
    for (const path of [
      '/api/v1/nodes',
      '/api/v1/services',
      '/apis/discovery.k8s.io/v1/endpointslices',
      '/apis/networking.k8s.io/v1/servicecidrs',
    ])
      server.collections.set(path, []);
    server.collections.set('/api/v1/namespaces', [shop, namespace('egress')]);
    server.collections.set('/apis/networking.istio.io/v1beta1/virtualservices', []);
    const partner = entry('partner', 'egress', 'api.partner.example');
    server.collections.set('/apis/networking.istio.io/v1/serviceentries', [partner]);
    server.collections.set('/apis/networking.istio.io/v1/sidecars', [sidecar('shop', { egress: [{ hosts: ['./*'] }] })]);
    server.configMaps.set('istio-system/istio', registryOnly);
    const io = captureIo();
    const code = await runExplain(
      [
        '--from',
        'shop',
        '--service-account',
        'app',
        '--to',
        'https://api.partner.example',
        '--kubeconfig',
        server.kubeconfig,
        '-o',
        'json',
      ],
      io,
    );
    const answer = JSON.parse(io.stdout()) as Explanation & { fix: string };
    assert.is(code, 1, io.stderr());
    assert.is(answer.verdict, 'blocked');
    says(answer, 'not installed in this cluster, so none read: Gateway (gateway.networking.k8s.io), EgressNetwork (policy.linkerd.io)');
    says(answer, "Sidecar shop/default decides this pod's egress");
    assert.match(answer.fix, 'egress/api.partner.example');
  } finally {
    await server.close();
  }
});

Kinds.run();
