import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { validateEgressNetwork } from '../../src/rules/egress-network.ts';
import { accepts, clean, cidrsOf, denies, messageOf, ruleCases, snapshotWith } from '../support.ts';

const EgressNetwork = suite("rules/egress-network: Linkerd's admission (validate_networks) and the overlap it reports only afterwards");

const snapshot = snapshotWith([], cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']));
const ctx = { snapshot, namespace: 'shop', operation: 'CREATE' as const };
const network = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'policy.linkerd.io/v1alpha1',
  kind: 'EgressNetwork',
  metadata: { name: 'internet', namespace: 'shop' },
  spec: { trafficPolicy: 'Allow', ...spec },
});
const run = (o: KubeObject) => validateEgressNetwork(o, ctx);

EgressNetwork(
  'admits a network of external addresses with an exception inside it, and one without networks (everything outside the cluster)',
  () => {
    clean(run(network({ networks: [{ cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '192.168.0.0/16'] }] })));
    clean(run(network({ networks: [{ cidr: '203.0.113.0/24' }, { cidr: '2001:db8::/32' }] })));
    clean(run(network({})));
    clean(run(network({ trafficPolicy: 'Deny', networks: [{ cidr: '198.51.100.7' }] })));
  },
);

ruleCases(
  EgressNetwork,
  [
    {
      it: 'denies networks: [] as Linkerd does: "at least one network must be specified" (Validate<EgressNetworkSpec>)',
      obj: () => network({ networks: [] }),
      code: 'EW661',
      verdict: 'denies',
      path: 'spec.networks',
      message: 'at least one network must be specified',
    },
    {
      it: "denies an exception outside its cidr with Linkerd's words (validate_networks)",
      obj: () => network({ networks: [{ cidr: '203.0.113.0/24', except: ['198.51.100.0/24'] }] }),
      code: 'EW663',
      verdict: 'denies',
      path: 'spec.networks[0].except[0]',
      message: 'cidr "203.0.113.0/24" does not include exception "198.51.100.0/24"',
    },
    {
      it: 'denies an exception equal to its cidr: the network is completely negated (validate_networks)',
      obj: () => network({ networks: [{ cidr: '203.0.113.0/24', except: ['203.0.113.0/24'] }] }),
      code: 'EW663',
      verdict: 'denies',
      message: 'cidr "203.0.113.0/24" is completely negated by exception "203.0.113.0/24"',
    },
    {
      it: 'denies an exception wider than its cidr as a complete negation, as Linkerd checks that first (validate_networks)',
      obj: () => network({ networks: [{ cidr: '203.0.113.0/25', except: ['203.0.113.0/24'] }] }),
      code: 'EW663',
      verdict: 'denies',
      message: 'cidr "203.0.113.0/25" is completely negated by exception "203.0.113.0/24"',
    },
    {
      it: 'denies a cidr that is not a CIDR or an IP (Linkerd Cidr::from_str)',
      obj: () => network({ networks: [{ cidr: '203.0.113.0/33' }] }),
      code: 'EW662',
      verdict: 'denies',
      path: 'spec.networks[0].cidr',
    },
    {
      it: "denies an IPv4 address with a leading zero, which Rust's parser refuses (Cidr::from_str)",
      obj: () => network({ networks: [{ cidr: '203.0.113.07' }] }),
      code: 'EW662',
      verdict: 'denies',
    },
    {
      it: 'denies a trafficPolicy in the wrong case: the enum is Allow|Deny (TrafficPolicy)',
      obj: () => network({ trafficPolicy: 'allow' }),
      code: 'EW664',
      verdict: 'denies',
      path: 'spec.trafficPolicy',
    },
    {
      it: 'denies a missing trafficPolicy (EgressNetworkSpec.traffic_policy is required)',
      obj: () => ({ ...network({}), spec: { networks: [{ cidr: '203.0.113.0/24' }] } }),
      code: 'EW664',
      verdict: 'denies',
      message: 'trafficPolicy is required: Allow or Deny',
    },
  ],
  run,
);

EgressNetwork(
  'denies a network overlapping the pod range, which Linkerd admits and flags later as EgressReasonNetworkOverlap (network_condition)',
  () => {
    const r = run(network({ trafficPolicy: 'Deny', networks: [{ cidr: '10.0.0.0/8' }] }));
    denies(r, 'EW665', 'spec.networks[0].cidr');
    const m = messageOf(r, 'EW665');
    assert.match(m, /10\.0\.0\.0\/8 overlaps the cluster pod range 10\.244\.0\.0\/16 \(test\)/);
    assert.match(m, /except/);
    assert.ok(m.length <= 120, m);
    // the service range is inside 10/8 too: both are named
    assert.is(r.errors.filter((e) => e.code === 'EW665').length, 2);
  },
);

EgressNetwork('admits an overlapping network whose exceptions hold each cluster range, as Network::intersect reads it', () => {
  accepts(run(network({ networks: [{ cidr: '10.0.0.0/8', except: ['10.244.0.0/16', '10.96.0.0/12'] }] })));
  // an exception that holds only part of the pod range does not help
  denies(run(network({ networks: [{ cidr: '10.0.0.0/8', except: ['10.244.0.0/17', '10.96.0.0/12'] }] })), 'EW665');
});

EgressNetwork('says nothing of overlap when the cluster ranges are not known (network_condition has nothing to compare)', () => {
  clean(validateEgressNetwork(network({ networks: [{ cidr: '10.0.0.0/8' }] }), { ...ctx, snapshot: snapshotWith([], cidrsOf([], [])) }));
});

EgressNetwork.run();
