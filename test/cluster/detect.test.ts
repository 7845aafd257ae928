import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import {
  detectCidrs,
  dryRunRanges,
  NO_PODS_TO_CHECK,
  podAddresses,
  serviceAddresses,
  usesDefaults,
  verifyCidrs,
  type CidrDetection,
  type CidrInputs,
} from '../../src/cluster/detect.ts';
import { cidrsOf, fixture } from '../support.ts';
import { apiServerSlice, endpointSlice } from './fake-api.ts';

const messages = fixture<Record<string, string>>('cluster/dry-run-messages.json');
const node = (name: string, podCIDRs: string[]): KubeObject => {
  const n = fixture('cluster/node.json');
  return { ...n, metadata: { ...n.metadata, name }, spec: { ...(n.spec as object), podCIDR: podCIDRs[0], podCIDRs } };
};
const serviceCidr = (name: string, cidrs: string[]): KubeObject => {
  const s = fixture('cluster/servicecidr.json');
  return { ...s, metadata: { ...s.metadata, name }, spec: { cidrs } };
};
const kubeadm = (networking: string): KubeObject => {
  const cm = fixture('cluster/kubeadm-config.json');
  const data = cm.data as Record<string, string>;
  const text = data.ClusterConfiguration!.replace(/networking:\n( {2}.*\n)+/, `networking:\n${networking}`);
  return { ...cm, data: { ...data, ClusterConfiguration: text } };
};

/** "kind family cidr source" per winning range, in order */
const picked = (d: CidrDetection) => d.answers.flatMap((a) => a.ranges.map((r) => `${a.kind} ${a.family} ${r.cidr.text} ${a.source}`));

const Detect = suite('cluster/detect');

Detect('reads pod and service subnets of both families from the kubeadm-config ConfigMap', () => {
  const d = detectCidrs({ kubeadmConfig: fixture('cluster/kubeadm-config.json') });
  assert.equal(picked(d), [
    'pod 4 10.244.0.0/16 kubeadm-config',
    'pod 6 fd00:10:244::/56 kubeadm-config',
    'service 4 10.96.0.0/16 kubeadm-config',
    'service 6 fd00:10:96::/112 kubeadm-config',
  ]);
  assert.is(d.cidrs.pod[0]!.origin, 'kube-system/kubeadm-config networking.podSubnet');
  assert.is(usesDefaults(d), false);
});

Detect('reads the pod range from clusterCIDR in the kube-proxy ConfigMap', () => {
  const d = detectCidrs({ kubeProxy: fixture('cluster/kube-proxy.json') });
  assert.equal(
    picked(d).filter((p) => p.startsWith('pod')),
    ['pod 4 10.244.0.0/16 kube-proxy'],
  );
  assert.is(d.cidrs.pod[0]!.origin, 'kube-system/kube-proxy clusterCIDR');
});

Detect('takes the union of ServiceCIDR objects and names each one', () => {
  const d = detectCidrs({
    serviceCidrs: [serviceCidr('kubernetes', ['10.96.0.0/16', 'fd00:10:96::/112']), serviceCidr('extra', ['10.200.0.0/16'])],
  });
  assert.equal(
    picked(d).filter((p) => p.startsWith('service')),
    ['service 4 10.200.0.0/16 ServiceCIDR', 'service 4 10.96.0.0/16 ServiceCIDR', 'service 6 fd00:10:96::/112 ServiceCIDR'],
  );
  assert.equal(
    d.cidrs.service.map((r) => r.origin),
    ['ServiceCIDR/extra', 'ServiceCIDR/kubernetes', 'ServiceCIDR/kubernetes'],
  );
});

Detect('reads the service range from the dry-run errors of older API servers', () => {
  for (const [name, want] of [
    ['legacy-failed-to-allocated', '10.96.0.0/12'],
    ['bitmap-allocator', '10.100.0.0/16'],
    ['bitmap-allocator-ipv6', 'fd00:10:96::/112'],
  ] as const) {
    assert.equal(
      dryRunRanges(messages[name]!).map((c) => c.text),
      [want],
      name,
    );
  }
  const d = detectCidrs({ dryRun: [messages['bitmap-allocator']!, messages['bitmap-allocator-ipv6']!] });
  assert.equal(
    picked(d).filter((p) => p.startsWith('service')),
    ['service 4 10.100.0.0/16 dry-run', 'service 6 fd00:10:96::/112 dry-run'],
  );
});

Detect('falls through when a 1.33+ API server does not name its range, and says why', () => {
  const d = detectCidrs({ dryRun: [messages['meta-allocator-1.33']!, messages['range-removed']!, messages['family-not-configured']!] });
  assert.equal(
    picked(d).filter((p) => p.startsWith('service')),
    ['service 4 10.96.0.0/12 default'],
  );
  assert.ok(
    d.notes.some((n) => n.includes('Kubernetes 1.33+')),
    d.notes.join('\n'),
  );
  assert.ok(d.notes.includes('dry-run Service create: IPv6 is not configured on this cluster'), d.notes.join('\n'));
});

Detect('aggregates Node.spec.podCIDRs and flags the result partial', () => {
  const d = detectCidrs({
    nodes: [node('a', ['10.244.0.0/24', 'fd00:10:244::/64']), node('b', ['10.244.1.0/24', 'fd00:10:244:1::/64']), node('c', [])],
  });
  assert.equal(
    picked(d).filter((p) => p.startsWith('pod')),
    ['pod 4 10.244.0.0/23 nodes', 'pod 6 fd00:10:244::/63 nodes'],
  );
  assert.ok(d.answers.filter((a) => a.kind === 'pod').every((a) => a.partial));
  assert.is(d.cidrs.pod[0]!.origin, 'Node.spec.podCIDRs (2 of 3 nodes, partial)');
});

Detect('reads the single podCIDR of nodes from before dual-stack', () => {
  const n = fixture('cluster/node.json');
  const d = detectCidrs({ nodes: [{ ...n, spec: { podCIDR: '10.32.0.0/24' } }] });
  assert.equal(
    d.cidrs.pod.map((r) => r.cidr.text),
    ['10.32.0.0/24'],
  );
});

Detect('lets the first source that answers win per family and per kind', () => {
  const inputs: CidrInputs = {
    podConfig: { values: ['10.0.0.0/14'], origin: '--pod-cidrs' },
    serviceCidrs: [serviceCidr('kubernetes', ['10.96.0.0/16'])],
    kubeadmConfig: kubeadm('  podSubnet: 10.244.0.0/16,fd00:10:244::/56\n  serviceSubnet: 10.96.0.0/12,fd00:10:96::/112\n'),
    kubeProxy: fixture('cluster/kube-proxy.json'),
    dryRun: [messages['bitmap-allocator']!],
    nodes: [node('a', ['10.244.0.0/24'])],
  };
  assert.equal(picked(detectCidrs(inputs)), [
    'pod 4 10.0.0.0/14 config',
    'pod 6 fd00:10:244::/56 kubeadm-config',
    'service 4 10.96.0.0/16 ServiceCIDR',
    'service 6 fd00:10:96::/112 kubeadm-config',
  ]);
});

Detect('uses kubeadm defaults when nothing answers and says so', () => {
  const d = detectCidrs({});
  assert.equal(picked(d), ['pod 4 10.244.0.0/16 default', 'service 4 10.96.0.0/12 default']);
  assert.is(d.cidrs.service[0]!.origin, 'default (kubeadm)');
  assert.is(usesDefaults(d), true);
  assert.is(d.notes.length, 2);
});

Detect('adds no IPv4 default to an IPv6-only cluster', () => {
  const d = detectCidrs({ kubeadmConfig: kubeadm('  podSubnet: fd00:10:244::/56\n  serviceSubnet: fd00:10:96::/112\n') });
  assert.equal(picked(d), ['pod 6 fd00:10:244::/56 kubeadm-config', 'service 6 fd00:10:96::/112 kubeadm-config']);
});

Detect('names values that are not CIDRs and moves on to the next source', () => {
  const d = detectCidrs({
    podConfig: { values: ['10.0.0.0/33'], origin: '--pod-cidrs' },
    kubeadmConfig: kubeadm('  podSubnet: 10.244.0.0/16,not-a-cidr\n'),
  });
  assert.equal(
    picked(d).filter((p) => p.startsWith('pod')),
    ['pod 4 10.244.0.0/16 kubeadm-config'],
  );
  assert.ok(d.notes.includes('--pod-cidrs: "10.0.0.0/33" is not a CIDR'), d.notes.join('\n'));
  assert.ok(d.notes.includes('kube-system/kubeadm-config networking.podSubnet: "not-a-cidr" is not a CIDR'), d.notes.join('\n'));
});

Detect('reports a kubeadm ClusterConfiguration that is not YAML with its line', () => {
  const cm = fixture('cluster/kubeadm-config.json');
  const d = detectCidrs({ kubeadmConfig: { ...cm, data: { ClusterConfiguration: 'networking:\n  podSubnet: [10.0.0.0/8\n' } } });
  assert.ok(
    d.notes.some((n) => /^kube-system\/kubeadm-config data\.ClusterConfiguration: line \d+: /.test(n)),
    d.notes.join('\n'),
  );
  assert.is(picked(d)[0], 'pod 4 10.244.0.0/16 default');
});

// ---

const Verify = suite('cluster/verify');

const slice = endpointSlice;
const nodeAt = (name: string, addresses: { type: string; address: string }[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  spec: {},
  status: { addresses },
});
const kindNode = nodeAt('kind-worker', [
  { type: 'InternalIP', address: '172.18.0.2' },
  { type: 'InternalIP', address: 'fc00:f853:ccd:e793::2' },
  { type: 'Hostname', address: 'kind-worker' },
]);

Verify('counts and names pod and Service addresses outside the detected ranges', () => {
  const cidrs = cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']);
  const pods = podAddresses(
    [
      slice('shop', 'web', 'IPv4', { web: '10.244.1.7', eni: '192.168.33.9', dual: '10.244.2.2' }),
      slice('shop', 'web', 'IPv6', { dual: 'fd00:10:244::5' }),
      slice('shop', 'node-agent', 'IPv4', { 'node-agent': '172.18.0.2' }),
    ],
    [kindNode],
  );
  const services = serviceAddresses([
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'api', namespace: 'shop' },
      spec: { clusterIP: '10.96.4.1', clusterIPs: ['10.96.4.1'] },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'old', namespace: 'shop' }, spec: { clusterIP: '10.112.0.1' } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'headless', namespace: 'shop' },
      spec: { clusterIP: 'None', clusterIPs: ['None'] },
    },
  ]);
  const v = verifyCidrs(cidrs, pods, services);
  assert.is(v.pods.checked, 3);
  assert.equal(v.pods.outside, [
    { name: 'shop/eni', ip: '192.168.33.9' },
    { name: 'shop/dual', ip: 'fd00:10:244::5' },
  ]);
  assert.is(v.services.checked, 2);
  assert.equal(v.services.outside, [{ name: 'shop/old', ip: '10.112.0.1' }]);
});

Verify('counts a pod behind several Services once, with the addresses of both its families', () => {
  const pods = podAddresses(
    [
      slice('shop', 'web', 'IPv4', { 'web-1': '10.244.1.7' }),
      slice('shop', 'web-metrics', 'IPv4', { 'web-1': '10.244.1.7' }),
      slice('shop', 'web', 'IPv6', { 'web-1': 'fd00:10:244::7' }),
    ],
    [],
  );
  assert.equal(pods, [{ name: 'shop/web-1', ips: ['10.244.1.7', 'fd00:10:244::7'] }]);
});

Verify('reads only endpoints that point at a Pod, from slices of addresses', () => {
  const pods = podAddresses(
    [
      apiServerSlice('192.168.49.2'),
      slice('shop', 'legacy-db', 'IPv4', { 'db-vm': '10.0.9.9' }, 'VirtualMachineInstance'),
      slice('shop', 'external', 'FQDN', { web: 'db.example.com' }),
      slice('shop', 'web', 'IPv4', { web: '10.244.1.7' }),
    ],
    [],
  );
  assert.equal(pods, [{ name: 'shop/web', ips: ['10.244.1.7'] }]);
});

Verify("leaves out host-network pods, whose addresses are their node's InternalIP or ExternalIP, in either spelling", () => {
  const cloudNode = nodeAt('ip-10-0-1-5', [{ type: 'ExternalIP', address: '203.0.113.5' }]);
  const pods = podAddresses(
    [
      slice('kube-system', 'node-local-dns', 'IPv4', { 'nld-a': '172.18.0.2', 'nld-b': '203.0.113.5' }),
      slice('kube-system', 'node-local-dns', 'IPv6', { 'nld-a': 'fc00:f853:0ccd:e793:0:0:0:2' }),
      slice('shop', 'web', 'IPv4', { web: '10.244.1.7' }),
    ],
    [kindNode, cloudNode],
  );
  assert.equal(
    pods.map((p) => p.name),
    ['shop/web'],
  );
});

Verify('finds nothing outside when every address is in range', () => {
  const v = verifyCidrs(
    cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']),
    [{ name: 'a/b', ips: ['10.244.0.9'] }],
    [{ name: 'a/s', ips: ['10.96.0.1'] }],
  );
  assert.equal([v.pods.outside, v.services.outside], [[], []]);
});

Verify('says there were no pod IPs from EndpointSlices to check instead of reporting zero checked as a result', () => {
  const cidrs = cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']);
  const pods = podAddresses(
    [apiServerSlice('192.168.49.2'), slice('monitoring', 'node-exporter', 'IPv4', { 'node-exporter-a': '172.18.0.2' })],
    [kindNode],
  );
  const v = verifyCidrs(cidrs, pods, [{ name: 'default/kubernetes', ips: ['10.96.0.1'] }]);
  assert.equal([v.pods.checked, v.services.checked, v.unchecked], [0, 1, [NO_PODS_TO_CHECK]]);
  assert.is(NO_PODS_TO_CHECK, 'no pod IPs from EndpointSlices to check');
  assert.equal(verifyCidrs(cidrs, [{ name: 'a/b', ips: ['10.244.0.9'] }], [{ name: 'a/s', ips: ['10.96.0.1'] }]).unchecked, []);
});

Detect.run();
Verify.run();
