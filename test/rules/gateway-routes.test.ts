import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { recordsOf, snapshotLookup } from '../../src/rules/egress-records.ts';
import { validateEgressRoute } from '../../src/rules/gateway-routes.ts';
import { RULES } from '../../src/review/rules.ts';
import { ruleFor } from '../../src/review/validate.ts';
import { clean, denies, messageOf, ruleCases, snapshotWith, warns, without } from '../support.ts';

const Routes = suite("rules/gateway-routes: mesh egress routes as istiod's buildDestination and Linkerd's admission read them");

const entry = (
  name: string,
  ports: { number: number; name: string; protocol: string }[],
  ns = 'shop',
  exportTo?: string[],
): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: ns },
  spec: { hosts: [`${name}.example.com`], ports, resolution: 'DNS', ...(exportTo ? { exportTo } : {}) },
});
const tls = entry('api', [{ number: 443, name: 'tls', protocol: 'TLS' }]);
const http = entry('web', [{ number: 80, name: 'http', protocol: 'HTTP' }]);
const objects = [tls, http];
const snapshot = snapshotWith(objects);
const seParent = (name: string, port?: number) => ({ group: 'networking.istio.io', kind: 'ServiceEntry', name, ...(port ? { port } : {}) });
const enParent = (name: string, port?: number) => ({ group: 'policy.linkerd.io', kind: 'EgressNetwork', name, ...(port ? { port } : {}) });
const hostname = (name: string, extra: Record<string, unknown> = {}) => ({
  group: 'networking.istio.io',
  kind: 'Hostname',
  name,
  ...extra,
});
const route = (
  kind: string,
  parentRefs: unknown[],
  rules: unknown[] = [{ backendRefs: [hostname('web.example.com', { port: 80 })] }],
): KubeObject => ({
  apiVersion: kind === 'TLSRoute' || kind === 'TCPRoute' ? 'gateway.networking.k8s.io/v1alpha2' : 'gateway.networking.k8s.io/v1',
  kind,
  metadata: { name: 'egress', namespace: 'shop' },
  spec: { parentRefs, rules },
});
const network = {
  apiVersion: 'policy.linkerd.io/v1alpha1',
  kind: 'EgressNetwork',
  metadata: { name: 'internet', namespace: 'shop' },
  spec: { trafficPolicy: 'Deny' },
} as KubeObject;
const lookup = { ...snapshotLookup(snapshot), ...recordsOf([...objects, network]) };
const run = (o: KubeObject) => validateEgressRoute(o, snapshot, 'shop', lookup);

Routes('admits an HTTPRoute on an HTTP ServiceEntry port with a Hostname backend the registry knows (buildDestination)', () => {
  clean(run(route('HTTPRoute', [seParent('web', 80)])));
});

Routes('leaves routes of ingress Gateways and Services alone, whatever they hold (toInternalParentReference)', () => {
  clean(run(route('HTTPRoute', [{ name: 'public-gateway' }], [])));
  clean(run(route('HTTPRoute', [{ kind: 'Service', group: '', name: 'reviews' }], [{ backendRefs: [{ name: 'reviews.shop.svc' }] }])));
});

ruleCases(
  Routes,
  [
    {
      it: 'denies a Hostname backendRef with a namespace: "namespace may not be set with Hostname type" (buildDestination)',
      obj: () => route('HTTPRoute', [seParent('web')], [{ backendRefs: [hostname('web.example.com', { namespace: 'shop', port: 80 })] }]),
      code: 'EW641',
      verdict: 'denies',
      path: 'spec.rules[0].backendRefs[0].namespace',
      message: 'namespace may not be set with Hostname type',
    },
    {
      it: 'denies a Service backendRef named with a hostname (buildDestination)',
      obj: () => route('HTTPRoute', [seParent('web')], [{ backendRefs: [{ name: 'web.example.com', port: 80 }] }]),
      code: 'EW642',
      verdict: 'denies',
      path: 'spec.rules[0].backendRefs[0].name',
    },
    {
      it: 'warns on a Hostname backendRef no ServiceEntry declares: InvalidDestinationNotFound, the rule answers 500 (buildDestination)',
      obj: () => route('HTTPRoute', [seParent('web')], [{ backendRefs: [hostname('wbe.example.com', { port: 80 })] }]),
      code: 'EW643',
      verdict: 'warns',
      path: 'spec.rules[0].backendRefs[0].name',
    },
    {
      it: 'warns on a parentRef to a ServiceEntry that does not exist: "parent service entry not found" (referenceAllowed)',
      obj: () => route('HTTPRoute', [seParent('webb')]),
      code: 'EW644',
      verdict: 'warns',
      path: 'spec.parentRefs[0].name',
    },
    {
      it: 'warns on a parentRef port the ServiceEntry does not declare: the port match never matches (augmentPortMatch)',
      obj: () => route('HTTPRoute', [seParent('web', 8080)]),
      code: 'EW650',
      verdict: 'warns',
      message: 'ServiceEntry shop/web has no port 8080 (declared: 80)',
    },
    {
      it: 'warns on an HTTPRoute on a TLS port: sidecars use http routes on HTTP ports only (convertHTTPRoute)',
      obj: () => route('HTTPRoute', [seParent('api', 443)]),
      code: 'EW651',
      verdict: 'warns',
      path: 'spec.parentRefs[0].port',
      message: 'HTTPRoute is ignored on port 443 of shop/api: it is TLS',
    },
    {
      it: 'warns on a TLSRoute on a ServiceEntry whose ports are all HTTP (convertTLSRoute)',
      obj: () => route('TLSRoute', [seParent('web')], [{ backendRefs: [hostname('web.example.com', { port: 80 })] }]),
      code: 'EW651',
      verdict: 'warns',
      path: 'spec.parentRefs[0]',
    },
    {
      it: 'admits a TCPRoute on a TLS port: tcp routes apply on TLS ports (convertTCPRoute)',
      obj: () => route('TCPRoute', [seParent('api', 443)], [{ backendRefs: [hostname('api.example.com', { port: 443 })] }]),
      code: 'EW651',
      verdict: 'passes',
    },
    {
      it: 'warns on a rule without backendRefs: istiod answers HTTP 500 (convertHTTPRoute, weightSum 0)',
      obj: () => route('HTTPRoute', [seParent('web', 80)], [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }]),
      code: 'EW649',
      verdict: 'warns',
      path: 'spec.rules[0].backendRefs',
      message: 'no backendRefs with weight: this rule answers HTTP 500',
    },
    {
      it: 'admits a rule without backendRefs that redirects (convertHTTPRoute: vs.Redirect)',
      obj: () =>
        route('HTTPRoute', [seParent('web', 80)], [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }] }]),
      code: 'EW649',
      verdict: 'passes',
    },
    {
      it: 'warns on a TLSRoute whose backends all weigh 0: istiod refuses every connection (convertTLSRoute)',
      obj: () => route('TLSRoute', [seParent('api', 443)], [{ backendRefs: [hostname('api.example.com', { port: 443, weight: 0 })] }]),
      code: 'EW649',
      verdict: 'warns',
      message: 'no backendRefs with weight: this rule refuses every connection',
    },
    {
      it: 'denies a parentRef to an EgressNetwork without a port, as Linkerd does ("cannot target an EgressNetwork without specifying a port")',
      obj: () => route('HTTPRoute', [enParent('internet')], [{ matches: [{ path: { value: '/' } }] }]),
      code: 'EW646',
      verdict: 'denies',
      path: 'spec.parentRefs[0]',
      message: 'cannot target an EgressNetwork without specifying a port',
    },
    {
      it: 'denies a Service backendRef without a port in a route to an EgressNetwork (validate_http_backend_if_service)',
      obj: () => route('HTTPRoute', [enParent('internet', 80)], [{ backendRefs: [{ name: 'proxy' }] }]),
      code: 'EW647',
      verdict: 'denies',
      path: 'spec.rules[0].backendRefs[0].port',
    },
    {
      it: 'denies a TCPRoute to an EgressNetwork with two rules: "TcpRoute supports a single rule only" (Linkerd admission)',
      obj: () => route('TCPRoute', [enParent('internet', 5432)], [{ backendRefs: [] }, { backendRefs: [] }]),
      code: 'EW648',
      verdict: 'denies',
      message: 'TcpRoute supports a single rule only',
    },
    {
      it: "warns on a route to an EgressNetwork without rules: the EgressNetwork's trafficPolicy decides (linkerd2#13425)",
      obj: () => route('HTTPRoute', [enParent('internet', 80)], []),
      code: 'EW649',
      verdict: 'warns',
      path: 'spec.rules',
    },
    {
      it: 'admits a route to an EgressNetwork whose rule has matches and no backendRefs: Linkerd forwards to the original destination (outbound route index)',
      obj: () => route('HTTPRoute', [enParent('internet', 80)], [{ matches: [{ path: { value: '/' } }] }]),
      code: 'EW649',
      verdict: 'passes',
    },
    {
      it: 'warns on a parentRef to an EgressNetwork that does not exist (outbound index: no parent)',
      obj: () => route('HTTPRoute', [enParent('internett', 80)], [{ matches: [{ path: { value: '/' } }] }]),
      code: 'EW645',
      verdict: 'warns',
      path: 'spec.parentRefs[0].name',
    },
  ],
  run,
);

Routes('keeps every message within 120 characters for usual names (buildDestination, referenceAllowed)', () => {
  const r = run(
    route(
      'HTTPRoute',
      [seParent('api', 443), seParent('webb'), enParent('internett')],
      [{ backendRefs: [hostname('wbe.example.com', { namespace: 'x' }), { name: 'a.b' }, hostname('nope.example.com')] }],
    ),
  );
  for (const i of [...r.errors, ...r.warnings]) assert.ok(i.message.length <= 120, i.message);
});

Routes("the Hostname backend must be exported to the route's namespace (GetService, as seen from the route)", () => {
  const hidden = entry('hidden', [{ number: 443, name: 'tls', protocol: 'TLS' }], 'egress', ['.']);
  const s = snapshotWith([hidden]);
  const r = validateEgressRoute(
    route('TLSRoute', [seParent('api', 443)], [{ backendRefs: [hostname('hidden.example.com', { port: 443 })] }]),
    s,
    'shop',
    {},
  );
  warns(r, 'EW643');
  assert.match(messageOf(r, 'EW643'), /no ServiceEntry visible here declares hidden\.example\.com/);
});

Routes(
  "the webhook's rule finds the parent ServiceEntry in the snapshot, and knows nothing yet of EgressNetworks (referenceAllowed)",
  () => {
    const ctx = { snapshot, namespace: 'shop', operation: 'CREATE' as const };
    warns(RULES['egress-route'](route('HTTPRoute', [seParent('api', 443)]), ctx), 'EW651');
    warns(RULES['egress-route'](route('HTTPRoute', [seParent('nothere', 443)]), ctx), 'EW644');
    without(RULES['egress-route'](route('HTTPRoute', [enParent('nothere', 80)], [{ matches: [{}] }]), ctx), 'EW645');
    denies(RULES['egress-route'](route('HTTPRoute', [enParent('nothere')], [{ matches: [{}] }]), ctx), 'EW646');
  },
);

Routes.run();

const LinkerdRoute = suite("rules/gateway-routes: Linkerd's own HTTPRoute (policy.linkerd.io), held to the same EgressNetwork rules");

LinkerdRoute('is judged by the same rule, and denied without a parent port as Linkerd denies it (Validate<HttpRouteSpec>)', () => {
  const entry = ruleFor({ group: 'policy.linkerd.io', kind: 'HTTPRoute' });
  assert.is(entry?.name, 'egress-route');
  const linkerdRoute = {
    ...route('HTTPRoute', [enParent('internet')], [{ matches: [{ path: { value: '/' } }] }]),
    apiVersion: 'policy.linkerd.io/v1beta3',
  };
  denies(entry!.rule(linkerdRoute, { snapshot, namespace: 'shop', operation: 'CREATE' }), 'EW646');
});

LinkerdRoute.run();
