import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { authorizationPolicyTargets } from '../../src/rules/authorization-policy.ts';
import { recordsOf, waypointRecord } from '../../src/rules/egress-records.ts';
import { namesWaypoint } from '../../src/catalogue/keys.ts';
import { serviceEntryOnWaypoint, useWaypoint, waypointServes } from '../../src/rules/waypoint.ts';
import { RULES, rulesWith } from '../../src/review/rules.ts';
import { clean, messageOf, snapshotWith, warns, without } from '../support.ts';

const Waypoint = suite('rules/waypoint: ServiceEntries bound to an ambient waypoint (GetUseWaypoint, fetchWaypointForService)');

const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const entry = (
  spec: Record<string, unknown>,
  labels: Record<string, string> = { 'istio.io/use-waypoint': 'egress-waypoint' },
  ns = 'egress',
): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name: 'api', namespace: ns, labels },
  spec: {
    hosts: ['api.example.com'],
    ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
    resolution: 'DNS',
    location: 'MESH_EXTERNAL',
    ...spec,
  },
});
const gateway = (
  name: string,
  ns: string,
  opts: { cls?: string; waypointFor?: string; from?: string; selector?: Record<string, string> } = {},
): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace: ns, labels: opts.waypointFor ? { 'istio.io/waypoint-for': opts.waypointFor } : {} },
  spec: {
    gatewayClassName: opts.cls ?? 'istio-waypoint',
    listeners: [
      {
        name: 'mesh',
        port: 15008,
        protocol: 'HBONE',
        ...(opts.from
          ? { allowedRoutes: { namespaces: { from: opts.from, ...(opts.selector ? { selector: { matchLabels: opts.selector } } : {}) } } }
          : {}),
      },
    ],
  },
});
const snap = (...objects: KubeObject[]) => snapshotWith([namespace('egress'), namespace('shop'), ...objects]);
const onWaypoint = (o: KubeObject, objects: KubeObject[] = []) => serviceEntryOnWaypoint(o, snap(...objects), 'egress');

Waypoint('reads a use-waypoint value as istiod\'s usesWaypoint does: empty and "none" in any case name no waypoint', () => {
  // pkg/config/validation/validation.go usesWaypoint: ok && val != "" && !strings.EqualFold(val, "none")
  const cases: [unknown, boolean][] = [
    ['egress-waypoint', true],
    ['none', false],
    ['None', false],
    ['NONE', false],
    ['', false],
    ['nonexistent', true],
    [undefined, false],
  ];
  for (const [value, uses] of cases) assert.is(namesWaypoint(value), uses, `istio.io/use-waypoint: ${JSON.stringify(value)}`);
});

Waypoint('an entry labelled "None" uses no waypoint and the namespace\'s label is not read: nothing is warned for it', () => {
  const nsLabels = { 'istio.io/use-waypoint': 'egress-waypoint' };
  assert.is(useWaypoint({ 'istio.io/use-waypoint': 'None' }, 'egress', nsLabels), undefined);
  assert.is(useWaypoint({ 'istio.io/use-waypoint': '' }, 'egress', nsLabels), undefined);
  assert.equal(useWaypoint({}, 'egress', nsLabels), { namespace: 'egress', name: 'egress-waypoint', from: 'namespace' });
  clean(onWaypoint(entry({ addresses: [], resolution: 'NONE' }, { 'istio.io/use-waypoint': 'None' })));
});

Waypoint('admits a DNS ServiceEntry with an exact host on a waypoint: istiod allocates its address (ShouldV2AutoAllocateIP)', () => {
  clean(onWaypoint(entry({})));
});

Waypoint('reads the waypoint from the entry first, then its namespace; "none" opts out (GetUseWaypoint)', () => {
  assert.equal(useWaypoint({ 'istio.io/use-waypoint': 'wp' }, 'egress', { 'istio.io/use-waypoint': 'other' }), {
    namespace: 'egress',
    name: 'wp',
    from: 'object',
  });
  assert.equal(useWaypoint({}, 'egress', { 'istio.io/use-waypoint': 'other', 'istio.io/use-waypoint-namespace': 'istio-egress' }), {
    namespace: 'istio-egress',
    name: 'other',
    from: 'namespace',
  });
  assert.is(useWaypoint({ 'istio.io/use-waypoint': 'none' }, 'egress', { 'istio.io/use-waypoint': 'other' }), undefined);
});

Waypoint('warns on DYNAMIC_DNS MESH_INTERNAL in a namespace on a waypoint: istiod admits it and findWaypointResources skips it', () => {
  const se = entry(
    {
      hosts: ['*.example.com'],
      resolution: 'DYNAMIC_DNS',
      location: 'MESH_INTERNAL',
      ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
    },
    {},
  );
  const r = serviceEntryOnWaypoint(se, snapshotWith([namespace('egress', { 'istio.io/use-waypoint': 'egress-waypoint' })]), 'egress');
  warns(r, 'EW621', 'spec.location');
  // labelled on the entry itself it is istiod's usesWaypoint rejection, EW131, not this
  without(onWaypoint({ ...se, metadata: { ...se.metadata, labels: { 'istio.io/use-waypoint': 'egress-waypoint' } } }), 'EW621');
});

Waypoint(
  'warns when the entry has no addresses and istiod allocates none: resolution NONE, the opt-out label, wildcard hosts (ShouldV2AutoAllocateIP)',
  () => {
    warns(onWaypoint(entry({ resolution: 'NONE' })), 'EW622', 'spec.addresses');
    warns(onWaypoint(entry({}, { 'istio.io/use-waypoint': 'wp', 'networking.istio.io/enable-autoallocate-ip': 'False' })), 'EW622');
    warns(onWaypoint(entry({ hosts: ['*.example.com'] })), 'EW622');
    clean(onWaypoint(entry({ resolution: 'NONE', addresses: ['203.0.113.10'] })));
    assert.ok(messageOf(onWaypoint(entry({ resolution: 'NONE' })), 'EW622').length <= 120);
  },
);

Waypoint('warns when every port is plain TCP (istio#59576), not when one is TLS', () => {
  warns(onWaypoint(entry({ ports: [{ number: 5432, name: 'tcp-pg', protocol: 'TCP' }] })), 'EW623', 'spec.ports');
  without(
    onWaypoint(
      entry({
        ports: [
          { number: 5432, name: 'tcp-pg', protocol: 'TCP' },
          { number: 443, name: 'tls', protocol: 'TLS' },
        ],
      }),
    ),
    'EW623',
  );
});

Waypoint('warns that ztunnel ignores a narrowed exportTo (istio#55163)', () => {
  warns(onWaypoint(entry({ exportTo: ['.'] })), 'EW624', 'spec.exportTo');
  without(onWaypoint(entry({ exportTo: ['*'] })), 'EW624');
});

Waypoint('says nothing for an entry bound to no waypoint (GetUseWaypoint)', () => {
  clean(onWaypoint(entry({ resolution: 'NONE', exportTo: ['.'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }] }, {})));
});

const binding = { namespace: 'egress', name: 'egress-waypoint', from: 'object' as const };
const serves = (gw: KubeObject | undefined, ns = 'egress', labels: Record<string, string> = {}) =>
  waypointServes(binding, gw && waypointRecord(gw), ns, labels, 'metadata.labels[istio.io/use-waypoint]');

Waypoint('warns when the waypoint does not exist: istiod reports it not ready (fetchWaypointForTarget)', () => {
  warns(serves(undefined), 'EW625', 'metadata.labels[istio.io/use-waypoint]');
});

Waypoint('warns when the Gateway is not of class istio-waypoint (WaypointGatewayClassName)', () => {
  warns(serves(gateway('egress-waypoint', 'egress', { cls: 'istio' })), 'EW626');
  // istiod also deploys waypoints of its agentgateway class (constants.AgentgatewayWaypointClassName)
  clean(serves(gateway('egress-waypoint', 'egress', { cls: 'istio-agentgateway-waypoint' })));
});

Waypoint('warns when the waypoint serves workloads only (ReportWaypointUnsupportedTrafficType)', () => {
  warns(serves(gateway('egress-waypoint', 'egress', { waypointFor: 'workload' })), 'EW627');
  clean(serves(gateway('egress-waypoint', 'egress', { waypointFor: 'all' })));
});

Waypoint("warns when a waypoint in another namespace does not admit the entry's (AllowsAttachmentFromNamespace)", () => {
  warns(serves(gateway('egress-waypoint', 'egress'), 'shop'), 'EW628');
  clean(serves(gateway('egress-waypoint', 'egress', { from: 'All' }), 'shop'));
  clean(serves(gateway('egress-waypoint', 'egress', { from: 'Selector', selector: { egress: 'yes' } }), 'shop', { egress: 'yes' }));
  warns(serves(gateway('egress-waypoint', 'egress', { from: 'Selector', selector: { egress: 'yes' } }), 'shop', {}), 'EW628');
});

Waypoint(
  'the ServiceEntry rule adds the waypoint checks to what it says today, and asks about the waypoint only when it is known (fetchWaypointForService)',
  () => {
    const se = entry({ resolution: 'NONE' });
    const snapshot = snap();
    const ctx = { snapshot, namespace: 'egress', operation: 'CREATE' as const };
    const today = RULES['service-entry'](se, ctx);
    warns(today, 'EW622');
    without(today, 'EW625');
    const withGateways = rulesWith(() => recordsOf([gateway('other', 'egress')]))['service-entry'](se, ctx);
    warns(withGateways, 'EW625');
  },
);

const AuthorizationPolicy = suite('rules/authorization-policy: targetRefs to a ServiceEntry (validatePolicyTargetReference)');

const policy = (targetRefs: unknown[]): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'allow-api', namespace: 'egress' },
  spec: { targetRefs, action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['shop'] } }] }] },
});
const seRef = (name: string) => ({ group: 'networking.istio.io', kind: 'ServiceEntry', name });

AuthorizationPolicy(
  'warns when the ServiceEntry it names does not exist: the policy applies nowhere (validatePolicyTargetReference: same namespace)',
  () => {
    const known = recordsOf([entry({})]);
    const r = authorizationPolicyTargets(policy([seRef('apii')]), 'egress', known.serviceEntry, {});
    warns(r, 'EW630', 'spec.targetRefs[0].name');
    clean(authorizationPolicyTargets(policy([seRef('api')]), 'egress', known.serviceEntry, {}));
  },
);

AuthorizationPolicy(
  'warns when the ServiceEntry uses no waypoint: nothing enforces the policy, unless its namespace names one (GetUseWaypoint)',
  () => {
    const known = recordsOf([entry({}, {})]);
    warns(authorizationPolicyTargets(policy([seRef('api')]), 'egress', known.serviceEntry, {}), 'EW631');
    clean(authorizationPolicyTargets(policy([seRef('api')]), 'egress', known.serviceEntry, { 'istio.io/use-waypoint': 'wp' }));
  },
);

AuthorizationPolicy('leaves other targets alone, and says nothing when ServiceEntries are not known (allowedTargetRefs)', () => {
  const known = recordsOf([entry({})]);
  clean(
    authorizationPolicyTargets(
      policy([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'x' }]),
      'egress',
      known.serviceEntry,
      {},
    ),
  );
  clean(authorizationPolicyTargets(policy([seRef('missing')]), 'egress', undefined, {}));
});

AuthorizationPolicy(
  "the webhook's rule finds the ServiceEntry and its waypoint label in the snapshot (referenceAllowed, GetUseWaypoint)",
  () => {
    const unbound = snapshotWith([namespace('egress'), entry({}, {})]);
    const ctx = { snapshot: unbound, namespace: 'egress', operation: 'CREATE' as const };
    warns(RULES['authorization-policy'](policy([seRef('api')]), ctx), 'EW631');
    warns(RULES['authorization-policy'](policy([seRef('nope')]), ctx), 'EW630');
    const bound = snapshotWith([namespace('egress'), entry({})]);
    clean(RULES['authorization-policy'](policy([seRef('api')]), { ...ctx, snapshot: bound }));
  },
);

Waypoint.run();
AuthorizationPolicy.run();
