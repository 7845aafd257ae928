/**
 * Every EW6xx code, rendered as the webhook renders it, with the longest names Kubernetes allows:
 * each object goes through the whole review in a `warn` namespace, where every finding becomes one
 * admission warning, and the line must keep, within the API server's 256 characters, the code, the
 * field, the other object's name, the wrong value and the pointer to the code's page. Errors must
 * also give a denial line naming them in an `enforce` namespace. (The codes below EW600 have their
 * rows in test/catalogue/messages.test.ts.)
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { objectGvk } from '../../src/admission/types.ts';
import { CODES, FINDINGS, type Code } from '../../src/catalogue/findings.ts';
import { WARNING_LIMIT } from '../../src/review/enforce.ts';
import { rulesWith } from '../../src/review/rules.ts';
import { judgeWith } from '../../src/review/validate.ts';
import { recordsOf, snapshotLookup } from '../../src/rules/egress-records.ts';
import { cidrsOf, snapshotWith } from '../support.ts';

const Messages = suite('egress API findings: whole lines within 256 characters with the longest names');

/** 63 characters each: the longest namespace and object names. */
const NS = 'payments-settlement-reconciliation-eu-west-1-production-cluster';
const NAME = 'settlement-reconciliation-api-egress-to-partner-bank-production';
const OTHER = 'settlement-reconciliation-api-egress-to-partner-bank-legacy-tcp';
const WAYPOINT = 'settlement-reconciliation-egress-waypoint-eu-west-1-production';
const HOST = 'settlement-reconciliation-api.eu-west-1.partners.example-bank.com';

type Obj = Record<string, unknown>;
const meta = (more: Obj = {}) => ({ name: NAME, namespace: NS, ...more });
const sidecar = (spec: Obj, m: Obj = {}): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: meta(m),
  spec,
});
const se = (spec: Obj = {}, m: Obj = {}): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: meta(m),
  spec: { hosts: [HOST], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], ...spec },
});
const onWaypoint = { labels: { 'istio.io/use-waypoint': WAYPOINT } };
const gateway = (spec: Obj, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: WAYPOINT, namespace: NS, labels },
  spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }], ...spec },
});
const route = (kind: string, parentRefs: unknown[], rules: unknown[]): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind,
  metadata: meta(),
  spec: { parentRefs, rules },
});
const seParent = (port?: number, name = OTHER) => ({ group: 'networking.istio.io', kind: 'ServiceEntry', name, ...(port ? { port } : {}) });
const enParent = (port?: number, name = OTHER) => ({ group: 'policy.linkerd.io', kind: 'EgressNetwork', name, ...(port ? { port } : {}) });
const hostname = (extra: Obj = {}) => ({ group: 'networking.istio.io', kind: 'Hostname', name: HOST, port: 443, ...extra });
const tlsEntry = se({}, { name: OTHER });
const network = (spec: Obj): KubeObject => ({
  apiVersion: 'policy.linkerd.io/v1alpha1',
  kind: 'EgressNetwork',
  metadata: meta(),
  spec: { trafficPolicy: 'Allow', ...spec },
});
const policy = (name: string): KubeObject => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: meta(),
  spec: { targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name }] },
});

/** The judged object, what the cluster holds besides it, and what the line must keep. */
type Row = { readonly judged: KubeObject; readonly stored?: readonly KubeObject[]; readonly keep: readonly string[] };

const ROWS: Readonly<Record<string, Row>> = {
  EW601: { judged: sidecar({}), keep: ['empty configuration'] },
  EW602: { judged: sidecar({ workloadSelector: { labels: { app: 'settlement-*' } } }), keep: ['app=settlement-*'] },
  EW603: { judged: sidecar({ workloadSelector: {}, egress: [{ hosts: ['./*'] }] }), keep: ['without labels'] },
  EW604: { judged: sidecar({ egress: [{ port: { number: 443, name: 'tls', protocol: 'TLS' } }] }), keep: ['at least one host'] },
  EW605: { judged: sidecar({ egress: [{ hosts: [HOST] }] }), keep: ['namespace/dnsName'] },
  EW606: {
    judged: sidecar({ egress: [{ hosts: ['./*'] }, { hosts: ['./*'], port: { number: 443, name: 'tls', protocol: 'TLS' } }] }),
    keep: ['last'],
  },
  EW607: { judged: sidecar({ egress: [{ hosts: ['./*'], port: { number: 70000, name: 'tls', protocol: 'TLS' } }] }), keep: ['70000'] },
  EW608: { judged: sidecar({ egress: [{ hosts: [`${NS}/*`, `${NS}/${HOST}`] }] }), keep: [HOST] },
  EW609: { judged: sidecar({ egress: [{ hosts: ['*/*', `${NS}/${HOST}`] }] }), keep: ['*/*'] },
  EW610: { judged: sidecar({ outboundTrafficPolicy: { mode: 'ALLOW_ANY_DYNAMIC_DNS' } }), keep: ['ALLOW_ANY_DYNAMIC_DNS'] },
  EW611: {
    judged: sidecar({ egress: [{ hosts: ['./*'] }] }),
    stored: [sidecar({ egress: [{ hosts: ['*/*'] }] }, { name: OTHER })],
    keep: [OTHER],
  },
  EW612: {
    judged: sidecar({ workloadSelector: { labels: { app: 'api', track: 'canary' } }, egress: [{ hosts: ['./*'] }] }),
    stored: [sidecar({ workloadSelector: { labels: { app: 'api' } }, egress: [{ hosts: ['./*'] }] }, { name: OTHER })],
    keep: [OTHER],
  },
  EW613: {
    judged: sidecar({ egress: [{ hosts: [`${NS}/${HOST}`] }] }),
    stored: [se({}, { name: OTHER, namespace: 'egress' })],
    keep: [`egress/${OTHER}`, HOST],
  },
  EW621: {
    judged: se({ hosts: ['*.partners.example-bank.com'], resolution: 'DYNAMIC_DNS', location: 'MESH_INTERNAL' }),
    keep: [WAYPOINT, 'MESH_EXTERNAL'],
  },
  EW622: { judged: se({ resolution: 'NONE' }, onWaypoint), keep: [WAYPOINT, 'addresses'] },
  EW623: {
    judged: se({ addresses: ['203.0.113.10'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }] }, onWaypoint),
    keep: [WAYPOINT],
  },
  EW624: { judged: se({ exportTo: ['.'] }, onWaypoint), keep: [WAYPOINT, 'exportTo'] },
  EW625: {
    judged: se({}, onWaypoint),
    stored: [gateway({}, {})].map((g) => ({ ...g, metadata: { ...g.metadata, name: OTHER } })),
    keep: [WAYPOINT],
  },
  EW626: { judged: se({}, onWaypoint), stored: [gateway({ gatewayClassName: 'istio' })], keep: [WAYPOINT, 'istio-waypoint'] },
  EW627: { judged: se({}, onWaypoint), stored: [gateway({}, { 'istio.io/waypoint-for': 'workload' })], keep: [WAYPOINT, 'workload'] },
  EW628: {
    judged: se(
      {},
      { ...onWaypoint, namespace: 'egress-clients', labels: { 'istio.io/use-waypoint': WAYPOINT, 'istio.io/use-waypoint-namespace': NS } },
    ),
    stored: [gateway({})],
    keep: [`${NS}/${WAYPOINT}`, 'allowedRoutes'],
  },
  EW630: { judged: policy(OTHER), stored: [se()], keep: [OTHER] },
  EW631: { judged: policy(OTHER), stored: [tlsEntry], keep: [OTHER, 'istio.io/use-waypoint'] },
  EW641: {
    judged: route('HTTPRoute', [seParent(443)], [{ backendRefs: [hostname({ namespace: NS })] }]),
    stored: [tlsEntry],
    keep: ['namespace'],
  },
  EW642: {
    judged: route('HTTPRoute', [seParent()], [{ backendRefs: [{ name: HOST, port: 443 }] }]),
    stored: [tlsEntry],
    keep: ['hostname'],
  },
  EW643: {
    judged: route('TLSRoute', [seParent(443)], [{ backendRefs: [hostname({ name: `x.${HOST}` })] }]),
    stored: [tlsEntry],
    keep: [`x.${HOST}`],
  },
  EW644: { judged: route('TLSRoute', [seParent(443, NAME)], [{ backendRefs: [hostname()] }]), stored: [tlsEntry], keep: [`${NS}/${NAME}`] },
  EW645: { judged: route('TLSRoute', [enParent(443)], [{ backendRefs: [] }]), stored: [network({})], keep: [`${NS}/${OTHER}`] },
  EW646: { judged: route('TLSRoute', [enParent()], [{ backendRefs: [] }]), keep: ['port'] },
  EW647: { judged: route('HTTPRoute', [enParent(80)], [{ backendRefs: [{ name: 'proxy' }] }]), keep: ['port'] },
  EW648: { judged: route('TCPRoute', [enParent(5432)], [{}, {}]), keep: ['single rule'] },
  EW649: { judged: route('TLSRoute', [seParent(443)], [{ backendRefs: [] }]), stored: [tlsEntry], keep: ['connection'] },
  EW650: {
    judged: route('TLSRoute', [seParent(8443)], [{ backendRefs: [hostname()] }]),
    stored: [tlsEntry],
    keep: [`${NS}/${OTHER}`, '8443'],
  },
  EW651: {
    judged: route('HTTPRoute', [seParent(443)], [{ backendRefs: [hostname()] }]),
    stored: [tlsEntry],
    keep: [`${NS}/${OTHER}`, '443', 'TLS'],
  },
  EW661: { judged: network({ networks: [] }), keep: ['at least one network'] },
  EW662: { judged: network({ networks: [{ cidr: '203.0.113.0/33' }] }), keep: ['203.0.113.0/33'] },
  EW663: {
    judged: network({ networks: [{ cidr: '203.0.113.0/24', except: ['198.51.100.0/24'] }] }),
    keep: ['203.0.113.0/24', '198.51.100.0/24'],
  },
  EW664: { judged: network({ trafficPolicy: 'allow' }), keep: ['"allow"'] },
  EW665: { judged: network({ networks: [{ cidr: '10.0.0.0/8' }] }), keep: ['10.0.0.0/8', '10.244.0.0/16', 'except'] },
  EW666: {
    judged: network({ networks: [{ cidr: '203.0.113.0/24' }] }),
    stored: [{ ...network({ trafficPolicy: 'Deny' }), metadata: { name: OTHER, namespace: 'linkerd-egress' } }],
    keep: [`linkerd-egress/${OTHER}`, 'Deny'],
  },
};

const namespace = (name: string, mode: string, labels: Obj = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'egress-warden.io/mode': mode, ...labels } },
});

function review(row: Row, mode: 'warn' | 'enforce') {
  // EW621 inherits its waypoint from the namespace's label
  const nsLabels = row === ROWS.EW621 ? { 'istio.io/use-waypoint': WAYPOINT } : {};
  const objects = [namespace(NS, mode, nsLabels), namespace('egress-clients', mode), ...(row.stored ?? [])];
  const snapshot = snapshotWith(objects, cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12']));
  const known = recordsOf([...objects, row.judged]);
  const judge = judgeWith(
    rulesWith((s) => ({ ...snapshotLookup(s), ...known, serviceEntry: known.serviceEntry ?? snapshotLookup(s).serviceEntry })),
  );
  const obj = row.judged;
  const req: AdmissionRequest = {
    uid: 'u',
    kind: objectGvk(obj),
    operation: 'CREATE',
    namespace: obj.metadata?.namespace ?? '',
    name: NAME,
    object: obj,
  };
  return judge(req, snapshot);
}

Messages('every EW6xx code has a row', () => {
  assert.equal(
    CODES.filter((c) => c >= 'EW600' && !(c in ROWS)),
    [],
  );
});

for (const code of Object.keys(ROWS) as Code[]) {
  const row = ROWS[code]!;
  const wanted = [`[${code}]`, `(egress-warden help ${code})`, ...row.keep];
  Messages(`${code} keeps its code, field, values and page pointer within 256 characters as a warning`, () => {
    const d = review(row, 'warn');
    const line = (d.warnings ?? []).find((w) => w.startsWith(`[${code}]`)) ?? '';
    assert.ok(line, `no ${code} among ${JSON.stringify(d.warnings)}`);
    assert.equal(
      wanted.filter((s) => !line.includes(s)),
      [],
      line,
    );
    assert.ok(line.length <= WARNING_LIMIT, `${line.length}: ${line}`);
  });
  if (FINDINGS[code].severity === 'error') {
    Messages(`${code} is denied with a line that names its field and values`, () => {
      const d = review(row, 'enforce');
      assert.is(d.allowed, false);
      const line = (d.message ?? '').split('\n').find((l) => l.startsWith(`[${code}]`)) ?? '';
      assert.equal(
        wanted.filter((s) => !line.includes(s)),
        [],
        d.message,
      );
    });
  }
}

Messages.run();
