import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/admission/types.ts';
import { CODES_DOC_URL, desiredReports, MAX_RESULTS, type ReportedFinding } from '../../src/audit/reports.ts';
import { categoryOf } from '../../src/catalogue/docs.ts';
import { CODES, FINDINGS, type Code } from '../../src/catalogue/findings.ts';
import { MANAGED_SELECTOR, OMITTED_RESULTS } from '../../src/catalogue/keys.ts';

const Reports = suite('audit/reports: findings as PolicyReports and OpenReports, one per namespace');

const SINCE = 1_750_000_000;

function finding(
  namespace: string,
  kind: string,
  name: string,
  code: Code,
  path = 'spec.hosts[0]',
  message = 'something is wrong',
  since = SINCE,
): ReportedFinding {
  return {
    ref: {
      apiVersion: kind === 'Namespace' ? 'v1' : 'networking.istio.io/v1',
      kind,
      namespace,
      name,
      uid: `uid-${namespace}-${name}`,
    },
    severity: FINDINGS[code].severity,
    code,
    path,
    message,
    since,
  };
}

const results = (r: KubeObject | undefined) => (r?.results ?? []) as Record<string, any>[];

Reports(
  'each namespace with findings gets one report named egress-warden, and findings on Namespaces go to one cluster-scoped report',
  () => {
    const reports = desiredReports(
      [
        finding('shop', 'ServiceEntry', 'a', 'EW101'),
        finding('shop', 'VirtualService', 'b', 'EW103'),
        finding('pay', 'ServiceEntry', 'c', 'EW101'),
        finding('', 'Namespace', 'shop', 'EW520', 'metadata.annotations'),
      ],
      ['policyreport'],
    );
    assert.equal([...reports.keys()], ['policyreport/', 'policyreport/pay', 'policyreport/shop']);
    const shop = reports.get('policyreport/shop')!;
    assert.is(shop.apiVersion, 'wgpolicyk8s.io/v1alpha2');
    assert.is(shop.kind, 'PolicyReport');
    assert.equal(shop.metadata, { name: 'egress-warden', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'egress-warden' } });
    assert.is(results(shop).length, 2);
    const cluster = reports.get('policyreport/')!;
    assert.is(cluster.kind, 'ClusterPolicyReport');
    assert.equal(cluster.metadata, { name: 'egress-warden', labels: { 'app.kubernetes.io/managed-by': 'egress-warden' } });
    assert.equal(results(cluster)[0]!.resources, [{ apiVersion: 'v1', kind: 'Namespace', name: 'shop', uid: 'uid--shop' }]);
    assert.not.ok(reports.has('policyreport/quiet'), 'a namespace without findings has no report');
    assert.is(desiredReports([], ['policyreport', 'openreports']).size, 0, 'no findings, no reports at all');
  },
);

Reports('with both formats each namespace gets a PolicyReport and an OpenReports Report holding the same results', () => {
  const reports = desiredReports(
    [finding('shop', 'ServiceEntry', 'a', 'EW101'), finding('', 'Namespace', 'shop', 'EW520')],
    ['policyreport', 'openreports'],
  );
  assert.equal([...reports.keys()].sort(), ['openreports/', 'openreports/shop', 'policyreport/', 'policyreport/shop']);
  const open = reports.get('openreports/shop')!;
  assert.is(open.apiVersion, 'openreports.io/v1alpha1');
  assert.is(open.kind, 'Report');
  assert.is(open.source, 'egress-warden');
  assert.is(reports.get('openreports/')!.kind, 'ClusterReport');
  assert.is(reports.get('policyreport/shop')!.source, undefined, 'wgpolicyk8s.io v1alpha2 has no report-level source');
  assert.equal(open.results, reports.get('policyreport/shop')!.results);
  assert.equal(open.summary, reports.get('policyreport/shop')!.summary);
});

Reports('an error fails with high severity and a warning warns with medium, each naming its code, object, fix and docs link', () => {
  const reports = desiredReports(
    [
      finding('shop', 'ServiceEntry', 'a', 'EW101', 'metadata.annotations', 'istio.io/dry-run is set'),
      finding('shop', 'ServiceEntry', 'a', 'EW103', ''),
    ],
    ['policyreport'],
  );
  const [error, warning] = results(reports.get('policyreport/shop'));
  assert.equal(error, {
    source: 'egress-warden',
    policy: 'egress-warden',
    rule: 'EW101',
    category: 'ServiceEntry',
    severity: 'high',
    timestamp: { seconds: SINCE, nanos: 0 },
    result: 'fail',
    scored: true,
    resources: [{ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', namespace: 'shop', name: 'a', uid: 'uid-shop-a' }],
    message: 'metadata.annotations: istio.io/dry-run is set',
    properties: {
      path: 'metadata.annotations',
      fix: FINDINGS.EW101.fix,
      docs: 'https://github.com/egress-warden/egress-warden/blob/main/docs/codes.md#ew101',
    },
  });
  assert.is(warning!.result, 'warn');
  assert.is(warning!.severity, 'medium');
  assert.is(warning!.message, 'something is wrong', 'no path: the bare message');
  assert.equal(warning!.properties, { fix: FINDINGS.EW103.fix, docs: `${CODES_DOC_URL}#ew103` });
  assert.equal(reports.get('policyreport/shop')!.summary, { pass: 0, fail: 1, warn: 1, error: 0, skip: 0 });
});

Reports('the same findings in any order give byte-identical reports, sorted by object, code and path', () => {
  const findings = [
    finding('shop', 'VirtualService', 'b', 'EW103'),
    finding('shop', 'ServiceEntry', 'z', 'EW101', 'spec.b'),
    finding('shop', 'ServiceEntry', 'z', 'EW101', 'spec.a'),
    finding('shop', 'ServiceEntry', 'a', 'EW420'),
    finding('shop', 'ServiceEntry', 'a', 'EW103'),
  ];
  const once = JSON.stringify([...desiredReports(findings, ['policyreport', 'openreports'])]);
  const again = JSON.stringify([...desiredReports([...findings].reverse(), ['policyreport', 'openreports'])]);
  assert.is(again, once);
  const order = results(desiredReports(findings, ['policyreport']).get('policyreport/shop')).map(
    (r) => `${r.resources[0].kind}/${r.resources[0].name} ${r.rule} ${r.properties.path}`,
  );
  assert.equal(order, [
    'ServiceEntry/a EW103 spec.hosts[0]',
    'ServiceEntry/a EW420 spec.hosts[0]',
    'ServiceEntry/z EW101 spec.a',
    'ServiceEntry/z EW101 spec.b',
    'VirtualService/b EW103 spec.hosts[0]',
  ]);
});

Reports('a namespace with more than 1,000 findings keeps the first 1,000 results, counts them all and says how many were left out', () => {
  const many = Array.from({ length: 1_204 }, (_, i) =>
    finding('big', 'ServiceEntry', `se-${String(i).padStart(4, '0')}`, i % 4 === 0 ? 'EW103' : 'EW101'),
  );
  const big = desiredReports(many, ['policyreport']).get('policyreport/big')!;
  assert.is(MAX_RESULTS, 1_000);
  assert.is(results(big).length, 1_000);
  assert.is(results(big)[999]!.resources[0].name, 'se-0999', 'the first 1,000 in order');
  assert.equal(big.summary, { pass: 0, fail: 903, warn: 301, error: 0, skip: 0 });
  assert.equal(big.metadata?.annotations, { [OMITTED_RESULTS]: '204' });
  assert.is(OMITTED_RESULTS, 'egress-warden.io/omitted-results');
  const small = desiredReports(many.slice(0, 1_000), ['policyreport']).get('policyreport/big')!;
  assert.is(small.metadata?.annotations, undefined, 'nothing left out, no annotation');
  assert.ok(JSON.stringify(big).length < 1_500_000, 'well under what etcd keeps');
});

Reports('a finding reported twice shows once, dated when it was first seen', () => {
  const reports = desiredReports(
    [
      finding('shop', 'ServiceEntry', 'a', 'EW101', 'spec', 'm', SINCE + 60),
      finding('shop', 'ServiceEntry', 'a', 'EW101', 'spec', 'm', SINCE),
    ],
    ['policyreport'],
  );
  const shop = reports.get('policyreport/shop')!;
  assert.is(results(shop).length, 1);
  assert.equal(results(shop)[0]!.timestamp, { seconds: SINCE, nanos: 0 });
  assert.equal(shop.summary, { pass: 0, fail: 1, warn: 0, error: 0, skip: 0 });
});

Reports('every code is filed under its docs/codes.md heading as the category', () => {
  assert.equal(
    CODES.filter((c) => !categoryOf(c)),
    [],
  );
  assert.is(categoryOf('EW101'), 'ServiceEntry');
  assert.is(categoryOf('EW420'), 'tcp-server-first conflicts');
  assert.is(categoryOf('EW520'), 'Capture annotations and pod mutation');
});

Reports('the reports carry the label the cluster calls list them by', () => {
  const [label, value] = MANAGED_SELECTOR.split('=');
  for (const report of desiredReports([finding('shop', 'ServiceEntry', 'a', 'EW101')], ['policyreport', 'openreports']).values())
    assert.is(report.metadata?.labels?.[label!], value);
});

Reports.run();
