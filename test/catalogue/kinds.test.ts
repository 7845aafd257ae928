import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { JUDGED_KINDS, judgedKind, judges, webhookRules } from '../../src/catalogue/kinds.ts';
import { RULES } from '../../src/review/rules.ts';
import { ruleFor } from '../../src/review/validate.ts';

const Kinds = suite('catalogue/kinds: one row per judged kind');

Kinds('looks a kind up by group and Kind, whatever the version', () => {
  assert.is(judgedKind({ group: 'networking.istio.io', kind: 'ServiceEntry' })?.rule, 'service-entry');
  assert.is(judgedKind({ group: '', kind: 'Pod' })?.webhook, 'mutate');
  assert.is(judgedKind({ group: 'networking.istio.io', kind: 'Gateway' }), undefined);
  assert.is(judgedKind({ group: 'example.com', kind: 'ServiceEntry' }), undefined);
});

Kinds('judges only the operations its row lists', () => {
  assert.ok(judges({ group: '', kind: 'Pod' }, 'CREATE'));
  assert.not.ok(judges({ group: '', kind: 'Pod' }, 'UPDATE'));
  assert.ok(judges({ group: 'policy.openservicemesh.io', kind: 'Egress' }, 'UPDATE'));
  assert.not.ok(judges({ group: 'policy.openservicemesh.io', kind: 'Egress' }, 'DELETE'));
});

Kinds('gives every validated kind its rule, and the mutated kind none', () => {
  for (const k of JUDGED_KINDS) {
    const entry = ruleFor(k);
    if (k.webhook === 'mutate') assert.is(entry, undefined, k.kind);
    else assert.is(entry?.rule, RULES[entry!.name], k.kind);
  }
});

Kinds('renders the webhook rules: every version of a CRD, the listed versions of a core kind, one rule per group', () => {
  assert.equal(webhookRules('validate'), [
    {
      apiGroups: ['networking.istio.io'],
      apiVersions: ['*'],
      operations: ['CREATE', 'UPDATE'],
      // Sidecars scope what a namespace reaches (rules/sidecar.ts)
      resources: ['serviceentries', 'virtualservices', 'sidecars'],
      scope: 'Namespaced',
    },
    {
      apiGroups: ['policy.openservicemesh.io'],
      apiVersions: ['*'],
      operations: ['CREATE', 'UPDATE'],
      resources: ['egresses'],
      scope: 'Namespaced',
    },
    // SMI HTTPRouteGroups, which OSM's own webhook registration leaves out
    {
      apiGroups: ['specs.smi-spec.io'],
      apiVersions: ['*'],
      operations: ['CREATE', 'UPDATE'],
      resources: ['httproutegroups'],
      scope: 'Namespaced',
    },
    // AuthorizationPolicies attached to ServiceEntries (ambient egress)
    {
      apiGroups: ['security.istio.io'],
      apiVersions: ['*'],
      operations: ['CREATE', 'UPDATE'],
      resources: ['authorizationpolicies'],
      scope: 'Namespaced',
    },
    // Gateway API routes: the rule judges only those whose parents are a ServiceEntry or an EgressNetwork
    {
      apiGroups: ['gateway.networking.k8s.io'],
      apiVersions: ['*'],
      operations: ['CREATE', 'UPDATE'],
      resources: ['httproutes', 'grpcroutes', 'tlsroutes', 'tcproutes'],
      scope: 'Namespaced',
    },
    {
      apiGroups: ['policy.linkerd.io'],
      apiVersions: ['*'],
      operations: ['CREATE', 'UPDATE'],
      // Linkerd's own HTTPRoute too: its admission applies the same EgressNetwork parent rules
      resources: ['egressnetworks', 'httproutes'],
      scope: 'Namespaced',
    },
  ]);
  assert.equal(webhookRules('namespaces'), [
    { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['namespaces'], scope: 'Cluster' },
  ]);
  assert.equal(webhookRules('mutate'), [
    { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' },
  ]);
});

Kinds.run();
