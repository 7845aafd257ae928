import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { parseCidr } from '../../src/net/cidr.ts';
import { RULES, rulesWith } from '../../src/review/rules.ts';
import { decidingEgressNetwork, shadowsGlobalNetworks } from '../../src/rules/egress-network-scope.ts';
import { egressNetworkRecord, recordsOf } from '../../src/rules/egress-records.ts';
import { clean, snapshotWith, warns } from '../support.ts';

const Scope = suite('rules/egress-network-scope: the EgressNetwork that decides a connection (resolve_egress_network)');

const network = (namespace: string, name: string, spec: Record<string, unknown>, created = '2026-01-01T00:00:00Z'): KubeObject => ({
  apiVersion: 'policy.linkerd.io/v1alpha1',
  kind: 'EgressNetwork',
  metadata: { name, namespace, creationTimestamp: created },
  spec: { trafficPolicy: 'Allow', ...spec },
});
const clusterNetworks = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8'].map((c) => parseCidr(c)!);
const records = (...objects: KubeObject[]) => objects.map(egressNetworkRecord);
const decide = (address: string, ns: string, nets: ReturnType<typeof records>) =>
  decidingEgressNetwork(address, ns, nets, { clusterNetworks })?.name;

const everything = network('linkerd-egress', 'all-external', { trafficPolicy: 'Deny' });
const partner = network('linkerd-egress', 'partner', { networks: [{ cidr: '203.0.113.0/24' }] });

Scope('the most specific network wins (test_picks_smallest_cidr); no networks means everything outside clusterNetworks', () => {
  const nets = records(everything, partner);
  assert.is(decide('203.0.113.9', 'shop', nets), 'partner');
  assert.is(decide('198.51.100.1', 'shop', nets), 'all-external');
  assert.is(decide('10.1.2.3', 'shop', nets), undefined);
});

Scope("the pod's own namespace shadows the global namespace entirely once it has one (test_picks_local_ns)", () => {
  const local = network('shop', 'bank', { networks: [{ cidr: '198.51.100.0/24' }] });
  const nets = records(everything, partner, local);
  assert.is(decide('198.51.100.1', 'shop', nets), 'bank');
  // neither the global Deny nor the partner network applies to shop any more
  assert.is(decide('203.0.113.9', 'shop', nets), undefined);
  assert.is(decide('203.0.113.9', 'other', nets), 'partner');
});

Scope('an address in an exception is not matched, and ties go to the older EgressNetwork', () => {
  const a = network('linkerd-egress', 'b-newer', { networks: [{ cidr: '0.0.0.0/0', except: ['203.0.113.0/24'] }] }, '2026-02-01T00:00:00Z');
  const b = network('linkerd-egress', 'a-older', { networks: [{ cidr: '0.0.0.0/0', except: ['203.0.113.0/24'] }] }, '2026-01-01T00:00:00Z');
  assert.is(decide('203.0.113.9', 'shop', records(a, b)), undefined);
  assert.is(decide('198.51.100.1', 'shop', records(a, b)), 'a-older');
});

const Shadow = suite('rules/egress-network: an EgressNetwork outside the global namespace (EW666)');

Shadow('warns that the namespace stops using the global EgressNetworks, naming one and its trafficPolicy', () => {
  const r = shadowsGlobalNetworks('shop', records(everything, partner));
  warns(r, 'EW666', 'metadata.namespace');
  assert.is(
    [...r.warnings][0]!.message,
    'pods here stop using linkerd-egress/all-external (Deny) and 1 more for every address; repeat them here',
  );
  clean(shadowsGlobalNetworks('linkerd-egress', records(everything)));
  clean(shadowsGlobalNetworks('shop', []));
  clean(shadowsGlobalNetworks('shop', undefined));
});

Shadow('the rule says it only when the global EgressNetworks are known: in check, not yet at admission', () => {
  const local = network('shop', 'bank', { networks: [{ cidr: '198.51.100.0/24' }] });
  const ctx = { snapshot: snapshotWith([]), namespace: 'shop', operation: 'CREATE' as const };
  clean(RULES['egress-network'](local, ctx));
  warns(rulesWith(() => recordsOf([everything, local]))['egress-network'](local, ctx), 'EW666');
});

Scope.run();
Shadow.run();
