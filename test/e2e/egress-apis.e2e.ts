/**
 * The newer egress kinds as a user applies them through a real API server: each broken example of
 * docs/egress-apis.md is denied, or admitted with the warning kubectl prints, and its fix is admitted.
 * The stand-in CRDs keep any field, so what is denied here is denied by egress-warden alone.
 */
import * as assert from 'uvu/assert';
import { accepted, acceptedCleanly, apply, denied, eventually, hasCrd, kubectl, ourWarnings, webhookSuite } from '../support/kube.ts';

const { E2E, test, ctx } = webhookSuite('e2e/egress-apis: Sidecars, ambient ServiceEntries, mesh egress routes and EgressNetworks');

const WEBHOOK = 'validate.egress-warden.io';
const serviceRange = process.env.EW_E2E_SERVICE_RANGE ?? '10.112.0.0/16';

const sidecar = (name: string, ns: string, spec: Record<string, unknown>) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: { name, namespace: ns },
  spec,
});
const serviceEntry = (name: string, ns: string, spec: Record<string, unknown>, labels: Record<string, string> = {}) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: ns, labels },
  spec: { hosts: [`${name}.example.com`], location: 'MESH_EXTERNAL', resolution: 'DNS', ...spec },
});
const egressNetwork = (name: string, ns: string, spec: Record<string, unknown>) => ({
  apiVersion: 'policy.linkerd.io/v1alpha1',
  kind: 'EgressNetwork',
  metadata: { name, namespace: ns },
  spec: { trafficPolicy: 'Allow', ...spec },
});
const route = (kind: string, name: string, ns: string, spec: Record<string, unknown>) => ({
  apiVersion: kind === 'TLSRoute' || kind === 'TCPRoute' ? 'gateway.networking.k8s.io/v1alpha2' : 'gateway.networking.k8s.io/v1',
  kind,
  metadata: { name, namespace: ns },
  spec,
});

test("a Sidecar egress host without a namespace is denied with istiod's words (ValidateSidecar); namespace/host is admitted", () => {
  if (!hasCrd('sidecars.networking.istio.io')) return;
  const ns = ctx.hook.namespace('sidecar');
  denied(
    apply(sidecar('default', ns, { egress: [{ hosts: ['api.example.com'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } })),
    WEBHOOK,
    /\[EW605\] spec\.egress\[0\]\.hosts\[0\]: host must be of form namespace\/dnsName/,
  );
  denied(
    apply(sidecar('default', ns, { outboundTrafficPolicy: { mode: 'ALLOW_ANY_DYNAMIC_DNS' } })),
    WEBHOOK,
    /\[EW610\] spec\.outboundTrafficPolicy\.mode: sidecar: ALLOW_ANY_DYNAMIC_DNS mode is only supported in MeshConfig/,
  );
  acceptedCleanly(
    apply(sidecar('default', ns, { egress: [{ hosts: ['./*', '*/api.example.com'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } })),
  );
});

test('a Sidecar host whose ServiceEntry lives in another namespace is admitted with the namespace to write (istio#13319)', async () => {
  if (!hasCrd('sidecars.networking.istio.io')) return;
  const registry = ctx.hook.namespace('registry');
  const clients = ctx.hook.namespace('clients');
  accepted(apply(serviceEntry('partner', registry, { ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] })));
  const broken = sidecar('default', clients, { egress: [{ hosts: [`${clients}/partner.example.com`] }] });
  // the entry reaches the webhook's snapshot through its informer (or at once, through read-your-writes)
  const r = apply(broken, '--dry-run=server');
  accepted(r);
  const line = ourWarnings(r.stderr).find((l) => l.includes('[EW613]')) ?? '';
  assert.match(line, new RegExp(`partner\\.example\\.com is registered by ServiceEntry ${registry}/partner, not in ${clients}`), r.stderr);
  acceptedCleanly(apply(sidecar('default', clients, { egress: [{ hosts: [`${registry}/partner.example.com`] }] })));
});

test('a ServiceEntry on a waypoint without addresses and without auto-allocation is admitted with the warning (ShouldV2AutoAllocateIP)', () => {
  const ns = ctx.hook.namespace('ambient');
  const waypoint = { 'istio.io/use-waypoint': 'egress-waypoint' };
  const r = apply(serviceEntry('legacy', ns, { resolution: 'NONE', ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] }, waypoint));
  accepted(r);
  assert.match(
    ourWarnings(r.stderr).join('\n'),
    /\[EW622\] spec\.addresses: no addresses and none auto-allocated: traffic bypasses waypoint/,
    r.stderr,
  );
  // with addresses, only the missing waypoint is left to say (EW625: the cluster has no such Gateway)
  const fixed = apply(
    serviceEntry(
      'legacy',
      ns,
      { resolution: 'NONE', addresses: ['203.0.113.10'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] },
      waypoint,
    ),
  );
  accepted(fixed);
  assert.equal(
    ourWarnings(fixed.stderr).map((l) => /\[(EW\d+)\]/.exec(l)?.[1]),
    ['EW625'],
    fixed.stderr,
  );
  // istiod's own usesWaypoint rejection, on the entry's own label
  denied(
    apply(
      serviceEntry(
        'dyn',
        ns,
        {
          hosts: ['*.dyn.example.com'],
          resolution: 'DYNAMIC_DNS',
          location: 'MESH_INTERNAL',
          ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
        },
        waypoint,
      ),
    ),
    WEBHOOK,
    /\[EW131\] spec\.location/,
  );
});

test('an AuthorizationPolicy attached to a ServiceEntry that does not exist is admitted with the warning', () => {
  if (!hasCrd('authorizationpolicies.security.istio.io')) return;
  const ns = ctx.hook.namespace('authz');
  accepted(apply(serviceEntry('api', ns, { ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] }, { 'istio.io/use-waypoint': 'wp' })));
  const policy = (name: string) => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'allow-api', namespace: ns },
    spec: { targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name }], action: 'ALLOW', rules: [{}] },
  });
  const r = apply(policy('apii'));
  accepted(r);
  assert.match(
    ourWarnings(r.stderr).join('\n'),
    /\[EW630\] spec\.targetRefs\[0\]\.name: ServiceEntry apii not found in this namespace/,
    r.stderr,
  );
  acceptedCleanly(apply(policy('api')));
});

test("routes to a ServiceEntry: a Hostname backend with a namespace is denied (buildDestination), a TLS port's HTTPRoute warned", () => {
  if (!hasCrd('httproutes.gateway.networking.k8s.io')) return;
  const ns = ctx.hook.namespace('gamma');
  accepted(
    apply(
      serviceEntry('api', ns, {
        ports: [
          { number: 443, name: 'tls', protocol: 'TLS' },
          { number: 80, name: 'http', protocol: 'HTTP' },
        ],
      }),
    ),
  );
  const backend = { group: 'networking.istio.io', kind: 'Hostname', name: 'api.example.com', port: 80 };
  const parent = (port: number) => ({ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'api', port });
  denied(
    apply(route('HTTPRoute', 'api', ns, { parentRefs: [parent(80)], rules: [{ backendRefs: [{ ...backend, namespace: ns }] }] })),
    WEBHOOK,
    /\[EW641\] spec\.rules\[0\]\.backendRefs\[0\]\.namespace: namespace may not be set with Hostname type/,
  );
  const r = apply(route('HTTPRoute', 'api', ns, { parentRefs: [parent(443)], rules: [{ backendRefs: [backend] }] }));
  accepted(r);
  assert.match(
    ourWarnings(r.stderr).join('\n'),
    new RegExp(`\\[EW651\\] spec\\.parentRefs\\[0\\]\\.port: HTTPRoute is ignored on port 443 of ${ns}/api: it is TLS`),
    r.stderr,
  );
  acceptedCleanly(apply(route('HTTPRoute', 'api', ns, { parentRefs: [parent(80)], rules: [{ backendRefs: [backend] }] })));
  // a route for an ingress Gateway is none of egress-warden's business
  acceptedCleanly(
    apply(route('HTTPRoute', 'ingress', ns, { parentRefs: [{ name: 'public' }], rules: [{ backendRefs: [{ name: 'a.b' }] }] })),
  );
});

test('with the webhook down (failurePolicy Fail), a route to a Service, a malformed route and a plain AuthorizationPolicy still apply: only egress writes are sent', async () => {
  if (!hasCrd('httproutes.gateway.networking.k8s.io') || !hasCrd('authorizationpolicies.security.istio.io')) return;
  const ns = ctx.hook.namespace('sent');
  const policy = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: ns },
    spec,
  });
  const toEntry = { group: 'networking.istio.io', kind: 'ServiceEntry', name: 'api', port: 443 };
  const down = /failed calling webhook "validate\.egress-warden\.io"/;
  await ctx.hook.stop();
  try {
    // the matchConditions keep these away from the webhook: nothing to call, nothing to fail
    accepted(apply(route('HTTPRoute', 'to-service', ns, { parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }] })));
    accepted(apply(route('GRPCRoute', 'to-gateway', ns, { parentRefs: [{ name: 'public' }] })));
    // a shape the conditions cannot read is no reference, never an evaluation error that Fail would deny
    accepted(apply(route('TCPRoute', 'odd', ns, { parentRefs: 'api' })));
    accepted(apply(route('TLSRoute', 'odd-items', ns, { parentRefs: ['api', 7, { group: 1 }] })));
    accepted(apply(policy('workloads', { selector: { matchLabels: { app: 'web' } }, action: 'ALLOW' })));
    // the writes the rules judge are still sent: with the webhook down, Fail denies them
    for (const r of [
      apply(route('HTTPRoute', 'to-entry', ns, { parentRefs: [toEntry] })),
      apply(
        route('TCPRoute', 'to-network', ns, {
          parentRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'all', port: 5432 }],
        }),
      ),
      apply(policy('on-entry', { targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'api' }] })),
      apply(policy('on-entry-single', { targetRef: { group: 'networking.istio.io', kind: 'ServiceEntry', name: 'api' } })),
      apply(sidecar('default', ns, { egress: [{ hosts: ['./*'] }] })),
    ]) {
      assert.is.not(r.code, 0, `admitted with the webhook down: ${r.stdout}`);
      assert.match(r.stderr, down);
    }
  } finally {
    await ctx.hook.start();
  }
  // and once it is back, a route to a ServiceEntry is judged
  denied(
    apply(
      route('HTTPRoute', 'to-entry', ns, {
        parentRefs: [toEntry],
        rules: [{ backendRefs: [{ group: 'networking.istio.io', kind: 'Hostname', name: 'api.example.com', namespace: ns }] }],
      }),
    ),
    WEBHOOK,
    /\[EW641\]/,
  );
});

test('the other broken routes: each is denied or warned with its code, and Istio ingress routes are not looked at', () => {
  if (!hasCrd('grpcroutes.gateway.networking.k8s.io') || !hasCrd('tcproutes.gateway.networking.k8s.io')) return;
  const ns = ctx.hook.namespace('routes');
  accepted(apply(serviceEntry('db', ns, { addresses: ['203.0.113.20'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }] })));
  const parent = (port?: number, name = 'db') => ({ group: 'networking.istio.io', kind: 'ServiceEntry', name, ...(port ? { port } : {}) });
  const host = (name: string) => ({ group: 'networking.istio.io', kind: 'Hostname', name, port: 5432 });
  const cases: { obj: Record<string, unknown>; code: string; deny?: boolean }[] = [
    {
      obj: route('GRPCRoute', 'svc-host', ns, {
        parentRefs: [parent(5432)],
        rules: [{ backendRefs: [{ name: 'db.example.com', port: 5432 }] }],
      }),
      code: 'EW642',
      deny: true,
    },
    {
      obj: route('TCPRoute', 'unknown-host', ns, { parentRefs: [parent(5432)], rules: [{ backendRefs: [host('dbb.example.com')] }] }),
      code: 'EW643',
    },
    {
      obj: route('TCPRoute', 'no-parent', ns, { parentRefs: [parent(5432, 'dbb')], rules: [{ backendRefs: [host('db.example.com')] }] }),
      code: 'EW644',
    },
    { obj: route('TCPRoute', 'no-backend', ns, { parentRefs: [parent(5432)], rules: [{ backendRefs: [] }] }), code: 'EW649' },
    {
      obj: route('TCPRoute', 'wrong-port', ns, { parentRefs: [parent(5433)], rules: [{ backendRefs: [host('db.example.com')] }] }),
      code: 'EW650',
    },
    {
      obj: route('GRPCRoute', 'grpc-on-tcp', ns, { parentRefs: [parent(5432)], rules: [{ backendRefs: [host('db.example.com')] }] }),
      code: 'EW651',
    },
  ];
  for (const c of cases) {
    const r = apply(c.obj);
    if (c.deny) denied(r, WEBHOOK, new RegExp(`\\[${c.code}\\] `));
    else {
      accepted(r);
      assert.ok(
        ourWarnings(r.stderr).some((l) => l.includes(`[${c.code}]`)),
        `${c.code} expected for ${(c.obj.metadata as { name: string }).name}:\n${r.stderr}`,
      );
    }
  }
  acceptedCleanly(apply(route('TCPRoute', 'db', ns, { parentRefs: [parent(5432)], rules: [{ backendRefs: [host('db.example.com')] }] })));
});

test('an ambient ServiceEntry with TCP-only ports and a narrowed exportTo is admitted with both warnings', async () => {
  const ns = ctx.hook.namespace('ambient-tcp', { 'istio.io/use-waypoint': 'egress-waypoint' });
  const entry = serviceEntry('pg', ns, {
    addresses: ['203.0.113.30'],
    exportTo: ['.'],
    ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }],
  });
  // the waypoint comes from the namespace's label, which reaches the webhook through its informer
  const r = await eventually('the namespace label in the snapshot', () => {
    const dry = apply(entry, '--dry-run=server');
    return ourWarnings(dry.stderr).some((l) => l.includes('[EW623]')) ? dry : undefined;
  });
  accepted(r);
  const lines = ourWarnings(r.stderr).join('\n');
  assert.match(
    lines,
    /\[EW623\] spec\.ports: TCP-only ports: traffic is reported to bypass waypoint egress-waypoint \(from the namespace label\)/,
    r.stderr,
  );
  assert.match(lines, /\[EW624\] spec\.exportTo: ztunnel ignores exportTo/, r.stderr);
});

test('a route to an EgressNetwork without a port is denied, as Linkerd denies it; with the port it is admitted', () => {
  if (!hasCrd('tlsroutes.gateway.networking.k8s.io') || !hasCrd('egressnetworks.policy.linkerd.io')) return;
  const ns = ctx.hook.namespace('linkerd-route');
  const tls = (port?: number) =>
    route('TLSRoute', 'partner', ns, {
      parentRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'internet', ...(port ? { port } : {}) }],
      hostnames: ['partner.example.com'],
      rules: [{ backendRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'internet' }] }],
    });
  denied(apply(tls()), WEBHOOK, /\[EW646\] spec\.parentRefs\[0\]: cannot target an EgressNetwork without specifying a port/);
  accepted(apply(tls(443)));
});

test("an EgressNetwork overlapping the cluster's service range is denied, which Linkerd only flags afterwards (EgressReasonNetworkOverlap)", () => {
  if (!hasCrd('egressnetworks.policy.linkerd.io')) return;
  const ns = ctx.hook.namespace('linkerd');
  const r = apply(egressNetwork('internet', ns, { trafficPolicy: 'Deny', networks: [{ cidr: '0.0.0.0/0' }] }));
  denied(r, WEBHOOK, /\[EW665\] spec\.networks\[0\]\.cidr: 0\.0\.0\.0\/0 overlaps the cluster service range/);
  assert.is(kubectl(['get', 'egressnetwork', 'internet', '-n', ns]).code, 1, 'a denied EgressNetwork must not be stored');
  denied(apply(egressNetwork('empty', ns, { networks: [] })), WEBHOOK, /\[EW661\] spec\.networks: at least one network must be specified/);
  denied(
    apply(egressNetwork('outside', ns, { networks: [{ cidr: '203.0.113.0/24', except: ['198.51.100.0/24'] }] })),
    WEBHOOK,
    /\[EW663\] spec\.networks\[0\]\.except\[0\]: cidr "203\.0\.113\.0\/24" does not include exception "198\.51\.100\.0\/24"/,
  );
  acceptedCleanly(
    apply(
      egressNetwork('internet', ns, { trafficPolicy: 'Deny', networks: [{ cidr: '0.0.0.0/0', except: [serviceRange, '10.0.0.0/8'] }] }),
    ),
  );
});

test('a ServiceEntry naming a waypoint that does not exist is warned (EW625); once the Gateway is applied, the same entry is admitted cleanly', async () => {
  if (!hasCrd('gateways.gateway.networking.k8s.io')) return;
  const ns = ctx.hook.namespace('waypoint');
  const entry = serviceEntry(
    'partner',
    ns,
    { addresses: ['203.0.113.40'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] },
    { 'istio.io/use-waypoint': 'egress-waypoint' },
  );
  // the webhook knows the cluster's Gateways from its informer: a cluster with none has no waypoint
  const missing = apply(entry);
  accepted(missing);
  assert.match(
    ourWarnings(missing.stderr).join('\n'),
    /\[EW625\] metadata\.labels\[istio\.io\/use-waypoint\]: waypoint egress-waypoint does not exist/,
    missing.stderr,
  );
  // Gateways are not sent to the webhook: this one reaches its snapshot through the informer alone
  accepted(
    apply({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'egress-waypoint', namespace: ns, labels: { 'istio.io/waypoint-for': 'service' } },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    }),
  );
  const again = await eventually('the waypoint Gateway in the snapshot', () => {
    const r = apply(entry);
    return r.code === 0 && !ourWarnings(r.stderr).some((l) => l.includes('[EW625]')) ? r : undefined;
  });
  acceptedCleanly(again);
});

test('a route whose parent EgressNetwork does not exist is warned (EW645); one whose EgressNetwork exists is not', async () => {
  if (!hasCrd('tcproutes.gateway.networking.k8s.io') || !hasCrd('egressnetworks.policy.linkerd.io')) return;
  const ns = ctx.hook.namespace('linkerd-parent');
  const tcp = (name: string, network: string) =>
    route('TCPRoute', name, ns, {
      parentRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: network, port: 5432 }],
      rules: [{ backendRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: network }] }],
    });
  accepted(apply(egressNetwork('partners', ns, { networks: [{ cidr: '203.0.113.0/24' }] })));
  const orphan = apply(tcp('orphan', 'nowhere'));
  accepted(orphan);
  assert.match(
    ourWarnings(orphan.stderr).join('\n'),
    new RegExp(`\\[EW645\\] spec\\.parentRefs\\[0\\]\\.name: EgressNetwork ${ns}/nowhere not found`),
    orphan.stderr,
  );
  // the EgressNetwork is known from the write just admitted, or from the informer
  const attached = await eventually('the EgressNetwork in the snapshot', () => {
    const r = apply(tcp('db', 'partners'), '--dry-run=server');
    return r.code === 0 && !ourWarnings(r.stderr).some((l) => l.includes('[EW645]')) ? r : undefined;
  });
  acceptedCleanly(attached);
});

E2E.run();
