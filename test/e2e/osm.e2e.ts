/**
 * OSM objects as a user applies them through a real API server: HTTPRouteGroups checked with RE2
 * (OSM's own webhook registration does not list them), and Egress objects that OSM accepts but that
 * match nothing, admitted with a warning that names the effect.
 */
import * as assert from 'uvu/assert';
import { accepted, acceptedCleanly, apply, denied, eventually, hasCrd, kubectl, ourWarnings, webhookSuite } from '../support/kube.ts';

const { E2E, test, ctx } = webhookSuite('e2e/osm: HTTPRouteGroups and Egress objects through a real API server');

const routeGroup = (name: string, ns: string, matches: unknown[]) => ({
  apiVersion: 'specs.smi-spec.io/v1alpha4',
  kind: 'HTTPRouteGroup',
  metadata: { name, namespace: ns },
  spec: { matches },
});

const egress = (name: string, ns: string, spec: Record<string, unknown>) => ({
  apiVersion: 'policy.openservicemesh.io/v1alpha1',
  kind: 'Egress',
  metadata: { name, namespace: ns },
  spec: {
    sources: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
    hosts: ['httpbin.org'],
    ports: [{ number: 80, protocol: 'http' }],
    ...spec,
  },
});

test("an HTTPRouteGroup whose pathRegex RE2 rejects is denied with RE2's error, the one Envoy would report", () => {
  if (!hasCrd('httproutegroups.specs.smi-spec.io')) return;
  const ns = ctx.hook.namespace('hrg');
  acceptedCleanly(apply(routeGroup('status-ok', ns, [{ name: 'status', pathRegex: '/status(/.*)?', methods: ['GET'] }])));
  const r = apply(routeGroup('status-bad', ns, [{ name: 'status', pathRegex: '/status(', methods: ['GET'] }]));
  denied(
    r,
    'validate.egress-warden.io',
    /\[EW352\] spec\.matches\[0\]\.pathRegex: pathRegex "\/status\(" is not valid RE2 \(missing \): \/status\(\)/,
  );
  assert.is(kubectl(['get', 'httproutegroup', 'status-bad', '-n', ns]).code, 1, 'a denied group must not be stored');
});

test('an Egress with an empty sources list is admitted with a warning that it applies to no client', () => {
  if (!hasCrd('egresses.policy.openservicemesh.io')) return;
  const ns = ctx.hook.namespace('nosources');
  const r = apply(egress('nobody', ns, { sources: [] }));
  accepted(r);
  const warnings = ourWarnings(r.stderr);
  assert.is(warnings.length, 1, r.stderr);
  assert.match(warnings[0]!, /^Warning: \[EW314\] spec\.sources: sources is empty: this Egress applies to no client/);
});

test('an Egress that names an HTTPRouteGroup without matches is warned that its http port answers 404, once the group is seen', async () => {
  if (!hasCrd('httproutegroups.specs.smi-spec.io') || !hasCrd('egresses.policy.openservicemesh.io')) return;
  const ns = ctx.hook.namespace('emptygroup');
  const r = apply(routeGroup('nothing', ns, []));
  accepted(r);
  assert.match(ourWarnings(r.stderr).join('\n'), /\[EW351\] spec\.matches/, r.stderr);
  const uses = egress('uses-nothing', ns, {
    matches: [{ apiGroup: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', name: 'nothing' }],
  });
  // the group reaches the webhook's snapshot through its informer; until then the match reads as missing (EW344)
  const line = await eventually('EW346 for the empty group', () => {
    const w = ourWarnings(apply(uses, '--dry-run=server').stderr).find((l) => l.includes('[EW346]'));
    return w;
  });
  // Only what does not depend on timing: the message may be shortened, and it may carry a note on
  // the group's pending write depending on how far the informer has caught up.
  assert.match(line, /\[EW346\] spec\.matches\[0\]\.name: /, line);
  assert.match(line, /\bnothing\b/, line);
});

E2E.run();
