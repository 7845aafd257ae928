import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../src/admission/types.ts';
import { runCheck } from '../src/commands/check.ts';
import { captureIo } from '../src/commands/io.ts';
import { incrementalSnapshot } from '../src/cluster/incremental.ts';
import { snapshotFromObjects } from '../src/cluster/indexes.ts';
import type { ClusterSnapshot } from '../src/cluster/snapshot.ts';
import { UNREAD } from '../src/check/report.ts';
import { readInputs } from '../src/cluster/manifest-files.ts';
import { loadStateDir } from '../src/cluster/state-dir.ts';
import { parseDocuments } from '../src/yaml.ts';
import { cidrsOf } from './support.ts';
import { fakeApiServer } from './cluster/fake-apiserver.ts';

const DIR = 'test/fixtures/check';

type Finding = {
  file: string;
  line: number;
  kind: string;
  namespace: string;
  name: string;
  severity: string;
  code: string;
  path: string;
  message: string;
  docs?: string;
};
type JsonReport = { findings: Finding[]; summary: { objects: number; errors: number; warnings: number; skipped: number } };

async function check(args: readonly string[], stdin = '') {
  const io = captureIo(stdin);
  const code = await runCheck(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

async function checkJson(args: readonly string[], stdin = '') {
  const r = await check([...args, '--output', 'json'], stdin);
  return { code: r.code, report: JSON.parse(r.out) as JsonReport, err: r.err };
}

const has = (report: JsonReport, f: Partial<Finding>) =>
  assert.ok(
    report.findings.some((x) => Object.entries(f).every(([k, v]) => x[k as keyof Finding] === v)),
    `expected a finding ${JSON.stringify(f)} in ${JSON.stringify(report.findings, null, 1)}`,
  );

const serviceEntry = (name: string, protocol: string, host = 'api.example.com') => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ${name}
  namespace: shop
spec:
  hosts:
  - ${host}
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - number: 443
    name: ${protocol.toLowerCase()}
    protocol: ${protocol}
`;

const upperEgress = (name: string, namespace?: string) => `apiVersion: policy.openservicemesh.io/v1alpha1
kind: Egress
metadata:
  name: ${name}
${namespace ? `  namespace: ${namespace}\n` : ''}spec:
  sources:
  - kind: ServiceAccount
    name: runner
    namespace: ci
  hosts:
  - ${name}.example.com
  ports:
  - number: 80
    protocol: HTTP
`;

// ---

const Check = suite('commands/check');

Check('passes manifests the webhook would admit: exit 0, a summary line and what was skipped', async () => {
  const r = await check([`${DIR}/good`]);
  assert.is(r.code, 0, r.out + r.err);
  assert.is(
    r.out,
    '3 objects checked: 0 errors, 0 warnings, 1 skipped\n' +
      `  skipped 1 ConfigMap object (a kind egress-warden does not check): ${DIR}/good/configmap.yaml:1\n`,
  );
});

Check('fails on errors: exit 1, one line per finding naming file, field line, object, code and path', async () => {
  const r = await check([`${DIR}/bad`]);
  assert.is(r.code, 1);
  const lines = r.out.trimEnd().split('\n');
  assert.ok(
    lines.includes(
      `${DIR}/bad/egress.json:8: error Egress ci/legacy [EW322] spec.ports[0].protocol: ${lines.find((l) => l.includes('EW322'))!.split('spec.ports[0].protocol: ')[1]}`,
    ),
  );
  assert.match(r.out, `${DIR}/bad/service-entry.yaml:16: error ServiceEntry shop/mirror [EW111] spec.ports[1].name: `);
  const summary = lines.findIndex((l) => / objects? checked: /.test(l));
  assert.match(lines[summary]!, /^3 objects checked: \d+ errors?, \d+ warnings?, 0 skipped$/);
  // then each code found, with its docs section
  assert.ok(
    lines.slice(summary + 1).some((l) => l.startsWith('  EW111 ') && l.endsWith(': docs/codes.md#ew111')),
    lines.join('\n'),
  );
});

Check('denies the three classic mistakes: duplicate port name, TLS route without sniHosts, upper-case OSM protocol', async () => {
  const { code, report } = await checkJson([`${DIR}/bad`]);
  assert.is(code, 1);
  has(report, { kind: 'ServiceEntry', name: 'mirror', severity: 'error', code: 'EW111', path: 'spec.ports[1].name', line: 16 });
  // sniHosts is not written: the line is the match it belongs in
  has(report, {
    kind: 'VirtualService',
    name: 'mirror',
    severity: 'error',
    code: 'EW211',
    path: 'spec.tls[0].match[0].sniHosts',
    line: 11,
  });
  has(report, { kind: 'Egress', name: 'legacy', severity: 'error', code: 'EW322', path: 'spec.ports[0].protocol', line: 8 });
});

Check("checks the pod template of a workload as the Pod its controller would create, at the template's lines", async () => {
  const { code, report } = await checkJson([`${DIR}/workloads`]);
  assert.is(code, 1);
  has(report, {
    kind: 'Deployment',
    namespace: 'shop',
    name: 'web',
    severity: 'error',
    code: 'EW502',
    path: 'spec.template.metadata.annotations[egress-warden.io/bypass-ip-ranges]',
    line: 21,
  });
  has(report, {
    kind: 'CronJob',
    namespace: 'shop',
    name: 'report',
    severity: 'error',
    code: 'EW501',
    path: 'spec.jobTemplate.spec.template.metadata.annotations[egress-warden.io/outbound-capture]',
    line: 39,
  });
  assert.is(report.summary.objects, 3);
});

Check('writes JSON with stable field names for every finding and the summary', async () => {
  const { report } = await checkJson([`${DIR}/bad/egress.json`]);
  assert.equal(Object.keys(report), ['findings', 'skipped', 'problems', 'summary']);
  assert.equal(Object.keys(report.summary), ['objects', 'errors', 'warnings', 'skipped']);
  assert.equal(report.findings[0], {
    file: `${DIR}/bad/egress.json`,
    line: 8,
    kind: 'Egress',
    namespace: 'ci',
    name: 'legacy',
    severity: 'error',
    code: 'EW322',
    path: 'spec.ports[0].protocol',
    message: report.findings[0]!.message,
    docs: 'docs/codes.md#ew322',
  });
  assert.ok(report.findings[0]!.message.includes('"HTTP"'));
});

Check("lists an object's errors before its warnings, objects in input order", async () => {
  // the second entry clashes with the first (warning) and repeats a port name (error)
  const second = `${serviceEntry('second', 'HTTP').trimEnd()}\n  - number: 8443\n    name: http\n    protocol: HTTP\n`;
  const { report } = await checkJson(['-'], `${serviceEntry('first', 'TLS')}---\n${second}`);
  const mine = report.findings.filter((f) => f.name === 'second');
  assert.ok(mine.some((f) => f.severity === 'error') && mine.some((f) => f.severity === 'warning'), JSON.stringify(mine));
  const firstWarning = mine.findIndex((f) => f.severity === 'warning');
  assert.ok(mine.slice(firstWarning).every((f) => f.severity === 'warning'));
  const names = report.findings.map((f) => f.name);
  assert.ok(names.lastIndexOf('first') < names.indexOf('second'), names.join(' '));
});

Check('warn mode reports errors as warnings and exits 0', async () => {
  const { code, report } = await checkJson([`${DIR}/bad`, '--mode', 'warn']);
  assert.is(code, 0);
  assert.is(report.summary.errors, 0);
  assert.ok(report.summary.warnings >= 3);
  has(report, { code: 'EW111', severity: 'warning' });
});

Check('ignores the mode label of namespaces: a warn namespace still fails the check', async () => {
  const ns = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ci\n  labels:\n    egress-warden.io/mode: warn\n---\n';
  const r = await check(['-'], ns + upperEgress('upper', 'ci'));
  assert.is(r.code, 1);
});

Check('reports a YAML syntax error as an error at its file and line, judges the other files, and exits 1', async () => {
  const r = await check([`${DIR}/bad`, `${DIR}/syntax-error.yaml`]);
  assert.is(r.code, 1);
  assert.match(r.out, `${DIR}/syntax-error.yaml:8: error [${UNREAD}] bad indentation of a mapping entry\n`);
  assert.match(r.out, `${DIR}/bad/service-entry.yaml:16: error ServiceEntry shop/mirror [EW111] `);
  assert.match(r.out, /^3 objects checked: 4 errors, 0 warnings, 0 skipped$/m);
});

Check('reports a path that does not exist as an error naming it, and still judges the other paths', async () => {
  const { code, report } = await checkJson([`${DIR}/good`, `${DIR}/missing.yaml`]);
  assert.is(code, 1);
  has(report, { file: `${DIR}/missing.yaml`, severity: 'error', code: UNREAD, message: 'no such file or directory' });
  assert.equal(report.summary, { objects: 3, errors: 1, warnings: 0, skipped: 1 });
});

Check('exits 2 on bad usage: no input, an unknown flag, an unknown output or mode', async () => {
  for (const args of [[], ['--frobnicate', DIR], [DIR, '--output', 'yaml'], [DIR, '--mode', 'audit'], [DIR, '--pod-cidrs', 'ten']]) {
    const r = await check(args);
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.err, 'usage: egress-warden check');
  }
});

Check("expands List kinds and points at the line of the item's field", async () => {
  const { code, report } = await checkJson([`${DIR}/list`]);
  assert.is(code, 1);
  has(report, { file: `${DIR}/list/list.yaml`, line: 27, kind: 'Egress', name: 'upper', code: 'EW322' });
  assert.is(report.summary.skipped, 1); // the Service
});

Check('reads every document of a file, skipping empty ones and counting the ones that are not objects', async () => {
  const { code, report } = await checkJson([`${DIR}/multi-doc.yaml`]);
  assert.is(code, 0);
  assert.is(report.summary.skipped + report.summary.objects, 3);
  assert.is(report.summary.skipped, 1);
});

Check('puts objects without a namespace in default, or in the namespace given with -n', async () => {
  const plain = await checkJson(['-'], upperEgress('nons'));
  has(plain.report, { name: 'nons', namespace: 'default' });
  const given = await checkJson(['-', '-n', 'team-a'], upperEgress('nons'));
  has(given.report, { name: 'nons', namespace: 'team-a' });
  const text = await check(['-'], upperEgress('nons'));
  assert.match(text.out, '<stdin>:14: error Egress default/nons [EW322] spec.ports[0].protocol: ');
});

Check('walks directories in byte order of names and skips hidden files, hidden folders and other extensions', async () => {
  const { report } = await checkJson([`${DIR}/walk`]);
  assert.equal(
    report.findings.map((f) => `${f.file} ${f.name}`),
    [`${DIR}/walk/a.yaml first`, `${DIR}/walk/b.yml second`, `${DIR}/walk/sub/c.json third`],
  );
});

Check('judges each object against all the others, whatever their order: both sides of a conflict are told', async () => {
  const { report } = await checkJson(['-'], `${serviceEntry('first', 'HTTP')}---\n${serviceEntry('second', 'TLS')}`);
  has(report, { name: 'first', code: 'EW404', severity: 'warning' });
  has(report, { name: 'second', code: 'EW404', severity: 'warning' });
});

Check('a re-declared object replaces its earlier version instead of conflicting with it', async () => {
  const stdin = [serviceEntry('api', 'TLS'), serviceEntry('api', 'HTTP'), serviceEntry('other', 'HTTP')].join('---\n');
  const { report } = await checkJson(['-'], stdin);
  assert.not.ok(
    report.findings.some((f) => f.message.includes('shop/api')),
    JSON.stringify(report.findings),
  );
  assert.equal(
    report.findings.filter((f) => f.name === 'other'),
    [],
  );
});

Check('uses --state objects for cross-object checks without reporting on them', async () => {
  const { code, report } = await checkJson([`${DIR}/good`, '--state', `${DIR}/state`]);
  assert.is(code, 0);
  has(report, { name: 'payments-api', kind: 'ServiceEntry', code: 'EW404', severity: 'warning' });
  assert.not.ok(report.findings.some((f) => f.file.includes('/state/')));
  const broken = await check([`${DIR}/good`, '--state', `${DIR}/syntax-error.yaml`]);
  assert.is(broken.code, 2);
});

Check('refuses a --state document that is not a Kubernetes object with its file and line, as serve --state does', async () => {
  const r = await check([`${DIR}/good`, '--state', `${DIR}/state-loose`]);
  assert.is(r.code, 2);
  assert.is(r.out, '');
  const problem = `${DIR}/state-loose/cluster.yaml:8: not a Kubernetes object (apiVersion and kind are required)`;
  assert.is(r.err, `check: ${problem}\n`);
  assert.equal(loadStateDir(`${DIR}/state-loose`).errors, [problem]);
});

Check('counts an input document that is not a Kubernetes object as skipped rather than failing', async () => {
  const { code, report } = await checkJson([`${DIR}/state-loose`]);
  assert.is(code, 0);
  assert.equal(report.summary, { objects: 1, errors: 0, warnings: 0, skipped: 1 });
});

Check('exits 2 naming the kubeconfig when it cannot be loaded', async () => {
  const r = await check([`${DIR}/good`, '--kubeconfig', `${DIR}/missing-kubeconfig`]);
  assert.is(r.code, 2);
  assert.match(r.err, `check: kubeconfig: cannot load ${DIR}/missing-kubeconfig`, r.err);
});

Check('takes the objects already in the cluster from --kubeconfig', async () => {
  const server = await fakeApiServer({});
  try {
    const [existing] = (await readInputs([`${DIR}/state/cluster.yaml`], captureIo(), 'lenient')).items;
    server.collections.set('/api/v1/namespaces', []);
    server.collections.set('/api/v1/nodes', []);
    server.collections.set('/api/v1/services', []);
    server.collections.set('/apis/discovery.k8s.io/v1/endpointslices', []);
    server.collections.set('/apis/networking.k8s.io/v1/servicecidrs', []);
    server.collections.set('/apis/networking.istio.io/v1/serviceentries', [existing!.object]);
    server.collections.set('/apis/networking.istio.io/v1beta1/virtualservices', []);
    const { code, report, err } = await checkJson([`${DIR}/good`, '--kubeconfig', server.kubeconfig]);
    assert.is(code, 0, err);
    has(report, { name: 'payments-api', kind: 'ServiceEntry', code: 'EW404', severity: 'warning' });
  } finally {
    await server.close();
  }
});

Check("checks pods with the mutating webhook's annotation checks", async () => {
  const pod = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  annotations:
    egress-warden.io/bypass-ip-ranges: "10.0.0.0/33"
spec:
  containers:
  - name: app
    image: nginx
`;
  const { code, report } = await checkJson(['-'], pod);
  assert.is(code, 1);
  has(report, { kind: 'Pod', name: 'web', line: 14, severity: 'error' });
});

Check("applies the mesh settings of --state as the webhook does: REGISTRY_ONLY and OSM's egress flags reach the findings", async () => {
  const inputs = `${DIR}/mesh-settings/inputs`;
  const { report } = await checkJson([inputs, '--state', `${DIR}/mesh-settings/state`]);
  const said = report.findings.map((f) => `${f.kind} ${f.code} ${f.path}`);
  assert.ok(said.includes('VirtualService EW407 spec.hosts[0]'), said.join('\n'));
  assert.ok(said.includes('Egress EW348 spec'), said.join('\n'));
  const registryOnly = report.findings.find((f) => f.code === 'EW407')!;
  assert.match(registryOnly.message, 'ConfigMap istio-system/istio mesh.outboundTrafficPolicy.mode');
  // without the settings nothing says the mesh is locked down
  const bare = await checkJson([inputs]);
  assert.equal(
    bare.report.findings.filter((f) => ['EW407', 'EW348', 'EW349'].includes(f.code)),
    [],
  );
});

Check("applies the live cluster's mesh settings with --kubeconfig: a REGISTRY_ONLY mesh reports the unregistered host", async () => {
  const server = await fakeApiServer({});
  try {
    for (const path of ['/api/v1/namespaces', '/api/v1/nodes', '/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices'])
      server.collections.set(path, []);
    server.collections.set('/apis/networking.k8s.io/v1/servicecidrs', []);
    server.collections.set('/apis/networking.istio.io/v1/serviceentries', []);
    server.collections.set('/apis/networking.istio.io/v1beta1/virtualservices', []);
    const [istio] = (await readInputs([`${DIR}/mesh-settings/state/meshes.yaml`], captureIo(), 'lenient')).items;
    server.configMaps.set('istio-system/istio', istio!.object);
    const { report, err } = await checkJson([`${DIR}/mesh-settings/inputs`, '--kubeconfig', server.kubeconfig]);
    assert.ok(
      report.findings.some((f) => f.code === 'EW407' && f.message.includes('ConfigMap istio-system/istio')),
      `${err}${JSON.stringify(report.findings)}`,
    );
  } finally {
    await server.close();
  }
});

Check('reads a MeshConfig checked with the manifests as part of the set, whatever the order', async () => {
  const { report } = await checkJson([`${DIR}/mesh-settings/inputs`, `${DIR}/mesh-settings/state`]);
  assert.ok(report.findings.some((f) => f.kind === 'Egress' && f.code === 'EW348'));
});

Check.run();

// ---

const Incremental = suite('cluster/incremental');

const objectsIn = async (path: string): Promise<KubeObject[]> =>
  (await readInputs([path], captureIo(), 'lenient')).items.map((i) => i.object);

const maps = (s: ClusterSnapshot) => [
  s.namespaces,
  s.serviceEntriesByHost,
  s.serviceEntriesByPort,
  s.virtualServicesByHost,
  s.egressesBySourcePort,
  s.servicesByPort,
  s.httpRouteGroups,
];

Incremental('holds the same indexes as a snapshot built at once from the same objects', async () => {
  const objects = [...(await objectsIn(`${DIR}/good`)), ...(await objectsIn(`${DIR}/list`)), ...(await objectsIn(`${DIR}/state`))];
  const cidrs = cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']);
  const grown = incrementalSnapshot(snapshotFromObjects([], cidrs));
  for (const o of objects) grown.add(o);
  assert.equal(maps(grown.snapshot), maps(snapshotFromObjects(objects, cidrs)));
  assert.is(grown.snapshot.cidrs, cidrs);
});

Incremental('replaces an object of the base without changing the base', async () => {
  const [v1] = (await readInputs(['-'], captureIo(serviceEntry('api', 'HTTP', 'old.example.com')), 'lenient')).items;
  const [v2] = (await readInputs(['-'], captureIo(serviceEntry('api', 'TLS', 'new.example.com')), 'lenient')).items;
  const base = snapshotFromObjects([v1!.object], cidrsOf([], []));
  const grown = incrementalSnapshot(base);
  grown.add(v2!.object);
  assert.not.ok(grown.snapshot.serviceEntriesByHost.has('old.example.com'));
  assert.equal(
    grown.snapshot.serviceEntriesByPort.get(443)!.map((p) => p.protocol),
    ['TLS'],
  );
  assert.ok(base.serviceEntriesByHost.has('old.example.com'));
  assert.equal(
    base.serviceEntriesByPort.get(443)!.map((p) => p.protocol),
    ['HTTP'],
  );
});

Incremental.run();

// ---

const Yaml = suite('yaml');

const located = (text: string) => {
  const r = parseDocuments(text);
  if ('error' in r) throw new Error(r.error.message);
  return r.docs;
};

Yaml('finds the line of nested fields, list items and annotation keys with dots', () => {
  const [doc] = located(`# leading comment
apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    egress-warden.io/bypass-ip-ranges: 10.0.0.0/8
spec:
  containers:
  - name: app
    image: nginx
  - name: sidecar
    image: envoy
`);
  assert.is(doc!.line, 2);
  assert.is(doc!.lineOf(''), 2);
  assert.is(doc!.lineOf('spec.containers[1].image'), 13);
  assert.is(doc!.lineOf('spec.containers[1]'), 12);
  assert.is(doc!.lineOf('metadata.annotations[egress-warden.io/bypass-ip-ranges]'), 7);
  assert.is(doc!.lineOf('metadata.annotations.egress-warden.io/bypass-ip-ranges'), 7);
  assert.is(doc!.lineOf('metadata.annotations["egress-warden.io/bypass-ip-ranges"]'), 7);
});

Yaml('falls back to the deepest part of a path that is written', () => {
  const [doc] = located('spec:\n  ports:\n  - number: 80\n');
  assert.is(doc!.lineOf('spec.ports[0].name'), 3);
  assert.is(doc!.lineOf('spec.ports[4].name'), 2);
  assert.is(doc!.lineOf('spec.tls'), 1);
});

Yaml('reads JSON with lines, and gives each document of a stream its own line', () => {
  const docs = located('a: 1\n---\n\n{"b": [1,\n  {"c": 2}]}\n');
  assert.equal(
    docs.map((d) => d.line),
    [1, 4],
  );
  assert.is(docs[1]!.lineOf('b[1].c'), 5);
});

Yaml('rejects duplicate keys with the line of the second one, as kubectl does', () => {
  assert.equal(parseDocuments('metadata:\n  name: a\n  name: b\n'), { error: { line: 3, message: 'duplicated mapping key' } });
});

Yaml.run();
