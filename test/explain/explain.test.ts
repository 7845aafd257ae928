import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/admission/types.ts';
import { checkItems, storedFindings } from '../../src/check/items.ts';
import type { InputItem } from '../../src/cluster/manifest-files.ts';
import { snapshotFromObjects } from '../../src/cluster/indexes.ts';
import { DEFAULT_MESH_LOCATIONS, meshConfigFrom } from '../../src/cluster/mesh-config.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { parseCidr } from '../../src/net/cidr.ts';
import { runExplain } from '../../src/commands/explain.ts';
import { captureIo } from '../../src/commands/io.ts';
import {
  existingPod,
  explain as explainWith,
  parseDestination,
  prospectivePod,
  type Destination,
  type Source,
} from '../../src/explain/explain.ts';

const Explain = suite('explain: will this pod reach this destination, and if not, why');

const cidrs = {
  pod: [{ cidr: parseCidr('10.244.0.0/16')!, origin: 'test' }],
  service: [{ cidr: parseCidr('10.96.0.0/12')!, origin: 'test' }],
};
/** The engine as the command wires it: fixes are judged by the webhook's own rules. */
const explain = (source: Source, dest: Destination, snapshot: ClusterSnapshot) => explainWith(source, dest, snapshot, storedFindings);
const snap = (objects: KubeObject[]) => ({ ...snapshotFromObjects(objects, cidrs), mesh: meshConfigFrom(objects, DEFAULT_MESH_LOCATIONS) });
const to = (url: string, address?: string): Destination => {
  const d = parseDestination(url, address);
  if ('problem' in d) throw new Error(d.problem);
  return d;
};

const istioMesh = (mode: string): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'istio-system', name: 'istio' },
    data: { mesh: `outboundTrafficPolicy:\n  mode: ${mode}\n` },
  }) as KubeObject;
const ns = (name: string, labels: Record<string, string>, annotations: Record<string, string> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } }) as KubeObject;
const se = (name: string, hosts: string[], ports: object[], extra: object = {}): KubeObject =>
  ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { namespace: 'shop', name },
    spec: { hosts, ports, resolution: 'DNS', ...extra },
  }) as KubeObject;
const osmMesh = (egress: boolean, policy: boolean): KubeObject =>
  ({
    apiVersion: 'config.openservicemesh.io/v1alpha2',
    kind: 'MeshConfig',
    metadata: { namespace: 'osm-system', name: 'osm-mesh-config' },
    spec: { traffic: { enableEgress: egress }, featureFlags: { enableEgressPolicy: policy } },
  }) as KubeObject;
const egress = (name: string, sa: string, ports: object[], extra: object = {}): KubeObject =>
  ({
    apiVersion: 'policy.openservicemesh.io/v1alpha1',
    kind: 'Egress',
    metadata: { namespace: 'curl', name },
    spec: { sources: [{ kind: 'ServiceAccount', name: sa, namespace: 'curl' }], ports, ...extra },
  }) as KubeObject;

const shop = ns('shop', { 'istio-injection': 'enabled' });
const osmNs = ns('curl', { 'openservicemesh.io/monitored-by': 'osm' }, { 'openservicemesh.io/sidecar-injection': 'enabled' });

Explain('REGISTRY_ONLY without a ServiceEntry is blocked, and the fix is a ServiceEntry with an http port for the host', () => {
  const e = explain(prospectivePod('shop', 'curl'), to('http://httpbin.org'), snap([istioMesh('REGISTRY_ONLY'), shop]));
  assert.is(e.verdict, 'blocked');
  assert.ok(e.reasons.some((r) => r.says.includes('BlackHoleCluster')));
  const fix = e.fix[0] as { kind: string; spec: { hosts: string[]; ports: { number: number; name: string; protocol: string }[] } };
  assert.equal(
    [fix.kind, fix.spec.hosts, fix.spec.ports],
    ['ServiceEntry', ['httpbin.org'], [{ number: 80, name: 'http-80', protocol: 'HTTP' }]],
  );
});

Explain('the fix applied makes the same question allowed', () => {
  const first = explain(prospectivePod('shop', 'curl'), to('http://httpbin.org'), snap([istioMesh('REGISTRY_ONLY'), shop]));
  const e = explain(
    prospectivePod('shop', 'curl'),
    to('http://httpbin.org'),
    snap([istioMesh('REGISTRY_ONLY'), shop, ...(first.fix as KubeObject[])]),
  );
  assert.is(e.verdict, 'allowed');
  assert.equal(e.fix, []);
});

Explain('a pod in an ambient namespace is on ztunnel: REGISTRY_ONLY does not block it, and the waypoint it uses is named', () => {
  const mesh = ns('mesh', { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'egress-waypoint' });
  const e = explain(prospectivePod('mesh', 'app'), to('http://httpbin.org'), snap([istioMesh('REGISTRY_ONLY'), mesh]));
  assert.is(e.verdict, 'allowed');
  assert.is(e.mesh, 'istio');
  const said = e.reasons.map((r) => r.says).join('\n');
  assert.match(said, 'ztunnel captures all outbound traffic');
  assert.match(said, 'ztunnel does not enforce it (istio/istio#54281)');
  assert.match(said, 'waypoint egress-waypoint');
  assert.equal(e.fix, []);
});

Explain('ALLOW_ANY lets an unregistered host through PassthroughCluster', () => {
  assert.is(explain(prospectivePod('shop', 'x'), to('https://example.com'), snap([istioMesh('ALLOW_ANY'), shop])).verdict, 'allowed');
});

Explain('a wildcard HTTPS ServiceEntry covers a host below it; HTTP to that TLS port is a protocol clash', () => {
  const objects = [
    istioMesh('REGISTRY_ONLY'),
    shop,
    se('google', ['*.google.com'], [{ number: 443, name: 'tls', protocol: 'TLS' }], { resolution: 'NONE' }),
  ];
  assert.is(explain(prospectivePod('shop', 'x'), to('https://www.google.com'), snap(objects)).verdict, 'allowed');
  const clash = explain(prospectivePod('shop', 'x'), to('http://www.google.com:443'), snap(objects));
  assert.is(clash.verdict, 'blocked');
  assert.ok(clash.reasons.some((r) => r.step === 'conflict' && r.objects?.includes('ServiceEntry shop/google')));
});

Explain('a ServiceEntry exported only to its own namespace does not register the host for another namespace', () => {
  const objects = [
    istioMesh('REGISTRY_ONLY'),
    shop,
    ns('other', { 'istio-injection': 'enabled' }),
    se('bin', ['httpbin.org'], [{ number: 80, name: 'http', protocol: 'HTTP' }], { exportTo: ['.'] }),
  ];
  assert.is(explain(prospectivePod('shop', 'x'), to('http://httpbin.org'), snap(objects)).verdict, 'allowed');
  assert.is(explain(prospectivePod('other', 'x'), to('http://httpbin.org'), snap(objects)).verdict, 'blocked');
});

Explain('two plain TCP entries without addresses on one port are a conflict naming both', () => {
  const objects = [
    istioMesh('REGISTRY_ONLY'),
    shop,
    se('db-a', ['a.db.example'], [{ number: 5432, name: 'tcp', protocol: 'TCP' }]),
    se('db-b', ['b.db.example'], [{ number: 5432, name: 'tcp', protocol: 'TCP' }]),
  ];
  const e = explain(prospectivePod('shop', 'x'), to('tcp://a.db.example:5432'), snap(objects));
  assert.is(e.verdict, 'blocked');
  assert.equal(e.reasons.find((r) => r.step === 'conflict')?.objects, ['ServiceEntry shop/db-a', 'ServiceEntry shop/db-b']);
});

Explain(
  'a namespace capturing only cluster traffic bypasses the sidecar for an external host, and says the lockdown does not apply',
  () => {
    const local = ns('local', { 'istio-injection': 'enabled' }, { 'egress-warden.io/outbound-capture': 'cluster' });
    const e = explain(prospectivePod('local', 'x'), to('https://www.google.com'), snap([istioMesh('REGISTRY_ONLY'), local]));
    assert.is(e.verdict, 'bypassed');
    assert.ok(e.reasons.some((r) => r.says.includes('lockdown does not apply')));
    assert.is(
      explain(prospectivePod('local', 'x'), to('https://10.96.0.10'), snap([istioMesh('REGISTRY_ONLY'), local])).verdict,
      'blocked',
    );
  },
);

Explain('a pod without a sidecar is bypassed', () => {
  const e = explain(prospectivePod('plain', 'x'), to('http://httpbin.org'), snap([istioMesh('REGISTRY_ONLY'), ns('plain', {})]));
  assert.is(e.verdict, 'bypassed');
  assert.is(e.mesh, null);
});

Explain("an existing pod's own exclude annotation takes the address out of capture", () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'shop', name: 'p', annotations: { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '203.0.113.0/24' } },
    spec: { serviceAccountName: 'curl', containers: [{ name: 'app' }] },
  } as KubeObject;
  const e = explain(existingPod(pod), to('tcp://db.example:5432', '203.0.113.7'), snap([istioMesh('REGISTRY_ONLY'), shop]));
  assert.is(e.verdict, 'bypassed');
  assert.equal(e.from, { namespace: 'shop', pod: 'p', serviceAccount: 'curl' });
});

Explain('OSM: an http Egress for the ServiceAccount allows its host; another ServiceAccount is blocked with an Egress fix for it', () => {
  const objects = [osmMesh(false, true), osmNs, egress('httpbin', 'curl', [{ number: 80, protocol: 'http' }], { hosts: ['httpbin.org'] })];
  assert.is(explain(prospectivePod('curl', 'curl'), to('http://httpbin.org'), snap(objects)).verdict, 'allowed');
  const other = explain(prospectivePod('curl', 'other'), to('http://httpbin.org'), snap(objects));
  assert.is(other.verdict, 'blocked');
  assert.equal((other.fix[0] as { spec: object }).spec, {
    sources: [{ kind: 'ServiceAccount', name: 'other', namespace: 'curl' }],
    hosts: ['httpbin.org'],
    ports: [{ number: 80, protocol: 'http' }],
  });
});

Explain('OSM: Egress objects do nothing while egress policy is off; open egress lets everything through', () => {
  const policy = [egress('httpbin', 'curl', [{ number: 80, protocol: 'http' }], { hosts: ['httpbin.org'] }), osmNs];
  const off = explain(prospectivePod('curl', 'curl'), to('http://httpbin.org'), snap([osmMesh(false, false), ...policy]));
  assert.is(off.verdict, 'blocked');
  assert.equal(
    off.fix.map((o) => o.kind),
    ['MeshConfig', 'Egress'],
  );
  assert.is(explain(prospectivePod('curl', 'nobody'), to('http://example.com'), snap([osmMesh(true, false), osmNs])).verdict, 'allowed');
});

Explain('OSM: a tcp-server-first match on the port breaks the http match, naming both Egresses', () => {
  const objects = [
    osmMesh(false, true),
    osmNs,
    egress('httpbin', 'curl', [{ number: 80, protocol: 'http' }], { hosts: ['httpbin.org'] }),
    egress('mysql', 'curl', [{ number: 80, protocol: 'tcp-server-first' }], { ipAddresses: ['192.0.2.0/24'] }),
  ];
  const e = explain(prospectivePod('curl', 'curl'), to('http://httpbin.org'), snap(objects));
  assert.is(e.verdict, 'blocked');
  assert.equal(e.reasons.find((r) => r.step === 'conflict')?.objects, ['Egress curl/mysql', 'Egress curl/httpbin']);
});

Explain('OSM: an upper-case protocol builds no filter chain', () => {
  const e = explain(
    prospectivePod('curl', 'curl'),
    to('http://httpbin.org'),
    snap([osmMesh(false, true), osmNs, egress('x', 'curl', [{ number: 80, protocol: 'HTTP' }], { hosts: ['httpbin.org'] })]),
  );
  assert.is(e.verdict, 'blocked');
});

/** What `check` says of the fix against the state it was proposed for: the webhook's rules, judged independently of explain. */
const checked = (fix: readonly KubeObject[], objects: KubeObject[]) => {
  const items: InputItem[] = fix.map((object) => ({ object, file: 'fix.yaml', line: 1, lineOf: () => 1 }));
  const report = checkItems(items, snap(objects), { namespace: 'default', mode: 'enforce' });
  return { errors: report.summary.errors, warnings: report.summary.warnings, codes: report.findings.map((f) => f.code) };
};

const bank = ns('bank', { 'openservicemesh.io/monitored-by': 'osm' }, { 'openservicemesh.io/sidecar-injection': 'enabled' });
const bankEgress = (name: string, ports: object[], extra: object = {}): KubeObject =>
  ({
    apiVersion: 'policy.openservicemesh.io/v1alpha1',
    kind: 'Egress',
    metadata: { namespace: 'bank', name },
    spec: { sources: [{ kind: 'ServiceAccount', name: 'app', namespace: 'bank' }], ports, ...extra },
  }) as KubeObject;
const mysql = bankEgress('mysql', [{ number: 3306, protocol: 'tcp-server-first' }], { ipAddresses: ['192.0.2.0/24'] });

Explain(
  'OSM: beside a tcp-server-first Egress on the port, the http Egress the webhook denies (EW420) is not offered; a tcp-server-first one is',
  () => {
    const objects = [osmMesh(false, true), bank, mysql];
    const e = explain(prospectivePod('bank', 'app'), to('http://admin.example.com:3306'), snap(objects));
    assert.is(e.verdict, 'blocked');
    const said = e.reasons.filter((r) => r.step === 'fix');
    assert.match(said[0]?.says ?? '', /an http Egress for bank\/app to admin\.example\.com:3306 would fail the webhook's rules: \[EW420\]/);
    assert.equal(said[0]?.objects, ['Egress bank/mysql']);
    assert.match(said[1]?.says ?? '', /^proposed instead: a tcp-server-first Egress/);
    assert.match(said[1]?.says ?? '', 'without --address it opens port 3306 to every IP for bank/app');
    assert.equal(
      e.fix.map((o) => (o.spec as { ports: unknown }).ports),
      [[{ number: 3306, protocol: 'tcp-server-first' }]],
    );
    assert.equal(checked(e.fix, objects), { errors: 0, warnings: 0, codes: [] });
  },
);

Explain('OSM: with --address the tcp-server-first fix opens that address only, and once applied the same question is allowed', () => {
  const objects = [osmMesh(false, true), bank, mysql];
  const dest = to('http://admin.example.com:3306', '203.0.113.9');
  const e = explain(prospectivePod('bank', 'app'), dest, snap(objects));
  assert.equal(
    e.fix.map((o) => (o.spec as { ipAddresses: string[] }).ipAddresses),
    [['203.0.113.9/32']],
  );
  const after = explain(prospectivePod('bank', 'app'), dest, snap([...objects, ...e.fix]));
  assert.is(after.verdict, 'allowed');
  assert.equal(after.fix, []);
});

Explain('OSM: when every option would be denied, no fix is offered and the reason names the Egress in the way', () => {
  // https without hosts or addresses takes every connection on 443: tcp and tcp-server-first matches collide with it.
  const objects = [osmMesh(false, true), bank, bankEgress('any-tls', [{ number: 443, protocol: 'https' }])];
  const e = explain(prospectivePod('bank', 'app'), to('tcp://db.example.com:443'), snap(objects));
  assert.is(e.verdict, 'blocked');
  assert.equal(e.fix, []);
  const said = e.reasons.filter((r) => r.step === 'fix');
  assert.match(said[0]?.says ?? '', /a tcp Egress .* would fail the webhook's rules: \[EW424\]/);
  assert.match(said[1]?.says ?? '', /a tcp-server-first Egress .* would fail the webhook's rules: \[EW422\]/);
  assert.match(said[2]?.says ?? '', /^no fix the webhook admits: change or remove Egress bank\/any-tls, or use another port/);
  assert.equal(said[2]?.objects, ['Egress bank/any-tls']);
});

Explain('OSM: an option the webhook admits only with warnings gives way to one it admits cleanly, and says why', () => {
  // tcp beside tcp-server-first on distinct addresses works, but OSM's docs forbid it (EW423).
  const objects = [osmMesh(false, true), bank, mysql];
  const e = explain(prospectivePod('bank', 'app'), to('tcp://db.example.com:3306', '203.0.113.9'), snap(objects));
  const said = e.reasons.filter((r) => r.step === 'fix');
  assert.match(said[0]?.says ?? '', /a tcp Egress .* would draw warnings from the webhook's rules: \[EW423\]/);
  assert.match(said[1]?.says ?? '', /^proposed instead: a tcp-server-first Egress/);
  assert.equal(checked(e.fix, objects), { errors: 0, warnings: 0, codes: [] });
});

Explain('OSM: with egress policy off, the Egress beside the MeshConfig change is judged as policy will be once the change is read', () => {
  const objects = [osmMesh(false, false), osmNs];
  const e = explain(prospectivePod('curl', 'curl'), to('http://httpbin.org'), snap(objects));
  assert.equal(
    e.fix.map((o) => o.kind),
    ['MeshConfig', 'Egress'],
  );
  assert.match(e.reasons.at(-1)?.says ?? '', "passes the webhook's rules against this state");
  // against the state as it is, the webhook warns that the Egress does nothing yet
  assert.equal(checked(e.fix, objects).codes, ['EW348']);
  assert.equal(checked(e.fix, [osmMesh(false, true), osmNs]), { errors: 0, warnings: 0, codes: [] });
});

Explain('OSM: the MeshConfig change carries the stored object whole, so applying it unsets nothing else', () => {
  const stored = osmMesh(false, false);
  const spec = stored.spec as { traffic: object; featureFlags: object };
  const mesh = {
    ...stored,
    spec: {
      ...spec,
      traffic: { ...spec.traffic, outboundIPRangeExclusionList: ['169.254.169.254/32'] },
      featureFlags: { ...spec.featureFlags, enableRetryPolicy: true },
      sidecar: { logLevel: 'error' },
    },
  } as KubeObject;
  const e = explain(prospectivePod('curl', 'curl'), to('http://httpbin.org'), snap([mesh, osmNs]));
  assert.equal(e.fix[0], {
    apiVersion: 'config.openservicemesh.io/v1alpha2',
    kind: 'MeshConfig',
    metadata: { namespace: 'osm-system', name: 'osm-mesh-config' },
    spec: {
      traffic: { enableEgress: false, outboundIPRangeExclusionList: ['169.254.169.254/32'] },
      featureFlags: { enableEgressPolicy: true, enableRetryPolicy: true },
      sidecar: { logLevel: 'error' },
    },
  });
});

Explain(
  'Istio: a ServiceEntry declaring another protocol for the host gets no second entry, but the advice to change it, naming it',
  () => {
    const objects = [istioMesh('REGISTRY_ONLY'), shop, se('bin', ['httpbin.org'], [{ number: 80, name: 'tls', protocol: 'TLS' }])];
    const e = explain(prospectivePod('shop', 'x'), to('http://httpbin.org'), snap(objects));
    assert.is(e.verdict, 'blocked');
    assert.equal(e.fix, []);
    const advice = e.reasons.find((r) => r.step === 'fix');
    assert.match(advice?.says ?? '', 'declare port 80 HTTP in the ServiceEntry that registers httpbin.org');
    assert.equal(advice?.objects, ['ServiceEntry shop/bin']);
  },
);

Explain('every fix explain offers passes the webhook rules cleanly against the state it was asked about, and works', () => {
  const cases: [Source, string, string | undefined, KubeObject[]][] = [
    [prospectivePod('shop', 'x'), 'http://httpbin.org', undefined, [istioMesh('REGISTRY_ONLY'), shop]],
    [prospectivePod('shop', 'x'), 'https://www.google.com', undefined, [istioMesh('REGISTRY_ONLY'), shop]],
    [prospectivePod('shop', 'x'), 'tcp://db.example.com:5432', undefined, [istioMesh('REGISTRY_ONLY'), shop]],
    [prospectivePod('shop', 'x'), 'tcp://203.0.113.7:5432', undefined, [istioMesh('REGISTRY_ONLY'), shop]],
    [prospectivePod('curl', 'other'), 'http://httpbin.org', undefined, [osmMesh(false, true), osmNs]],
    [prospectivePod('curl', 'curl'), 'tls://db.example.com:5432', '198.51.100.4', [osmMesh(false, true), osmNs]],
    [prospectivePod('bank', 'app'), 'http://admin.example.com:3306', undefined, [osmMesh(false, true), bank, mysql]],
    [prospectivePod('bank', 'app'), 'https://admin.example.com:3306', undefined, [osmMesh(false, true), bank, mysql]],
    [prospectivePod('bank', 'app'), 'tcp://admin.example.com:3306', undefined, [osmMesh(false, true), bank, mysql]],
  ];
  for (const [source, url, address, objects] of cases) {
    const e = explain(source, to(url, address), snap(objects));
    assert.is(e.verdict, 'blocked', url);
    assert.ok(e.fix.length, `${url}: a fix is offered`);
    assert.equal(checked(e.fix, objects), { errors: 0, warnings: 0, codes: [] }, url);
    assert.is(explain(source, to(url, address), snap([...objects, ...e.fix])).verdict, 'allowed', `${url}: the fix works`);
  }
});

Explain.run();

const Command = suite('explain command: where the cluster comes from, and what the exit status says');

let dir = '';
Command.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ew-explain-'));
});
Command.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const stateFile = (name: string, objects: readonly object[]): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  return path;
};

Command('blocked exits 1 and allowed or bypassed 0, with the answer on stdout', async () => {
  const state = stateFile('istio.json', [istioMesh('REGISTRY_ONLY'), shop]);
  const blocked = captureIo();
  assert.is(await runExplain(['--from', 'shop', '--to', 'http://httpbin.org', state], blocked), 1);
  assert.match(blocked.stdout(), 'verdict: BLOCKED');
  const bypassed = captureIo();
  assert.is(await runExplain(['--from', 'plain', '--to', 'http://httpbin.org', '-o', 'json', state], bypassed), 0);
  assert.is(JSON.parse(bypassed.stdout()).verdict, 'bypassed');
});

Command('bad usage and a pod that does not exist exit 2', async () => {
  const state = stateFile('empty.json', []);
  assert.is(await runExplain(['--from', 'shop', '--to', 'ftp://x'], captureIo()), 2);
  assert.is(await runExplain(['--to', 'http://x'], captureIo()), 2);
  assert.is(await runExplain(['--from', 'shop', '--to', 'http://x', '--kubeconfig', 'k', state], captureIo()), 2);
  const missing = captureIo();
  assert.is(await runExplain(['--from', 'shop/missing', '--to', 'http://x', state], missing), 2);
  assert.match(missing.stderr(), 'pod shop/missing not found');
});

Command('with no files and no cluster to find it exits 2, saying where it looked and what to give', async () => {
  const io = captureIo('', {});
  assert.is(await runExplain(['--from', 'shop/sleep', '--to', 'http://httpbin.org'], io), 2);
  assert.match(io.stderr(), 'no cluster to read (no --kubeconfig, no KUBECONFIG, not running in a pod, no ~/.kube/config)');
  assert.match(io.stderr(), 'give --kubeconfig FILE, or --state DIR and PATHs');
  assert.is(io.stdout(), '');
});

Command('KUBECONFIG alone selects the cluster, as for every other command: an unusable one exits 3 naming it', async () => {
  const io = captureIo('', { KUBECONFIG: join(dir, 'nowhere.yaml') });
  assert.is(await runExplain(['--from', 'shop/sleep', '--to', 'http://httpbin.org'], io), 3);
  assert.match(io.stderr(), `explain: cannot read the cluster: kubeconfig: cannot load ${join(dir, 'nowhere.yaml')}`);
  assert.not.match(io.stderr(), 'not found');
  assert.not.match(io.stderr(), '    at ');
});

Command('unreadable files exit 3 in a few lines: a folder of 100,000 non-objects is summed up with a count', async () => {
  const junk = join(dir, 'junk');
  mkdirSync(junk);
  writeFileSync(join(junk, 'junk.yaml'), Array.from({ length: 100_000 }, (_, i) => `--- ${i}`).join('\n'));
  const io = captureIo();
  assert.is(await runExplain(['--from', 'shop', '--to', 'http://httpbin.org', '--state', junk], io), 3);
  const lines = io.stderr().trimEnd().split('\n');
  assert.is(lines.length, 6);
  assert.match(lines[0]!, /junk\.yaml:1: not a Kubernetes object/);
  assert.is(lines[5], 'explain: … and 99,995 more problems (100,000 in all)');
  assert.ok(io.stderr().length < 2000);
});

Command('a state of 130,000 objects is read without overflowing the stack', async () => {
  const many = Array.from({ length: 130_000 }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'filler', name: `c${i}` },
  }));
  const big = join(dir, 'big');
  mkdirSync(big);
  stateFile('big/state.json', [istioMesh('REGISTRY_ONLY'), shop, ...many]);
  const io = captureIo();
  assert.is(await runExplain(['--from', 'shop', '--to', 'http://httpbin.org', '--state', big], io), 1, io.stderr());
  assert.match(io.stdout(), 'kind: ServiceEntry');
});

Command.run();
