/**
 * Every catalogue code below EW600 that a rule (src/rules) or the capture planning (src/capture)
 * emits, rendered as the webhook renders it, with the long names real clusters have: a
 * 63-character namespace and object names, a host over 60 characters, long port names. Each object goes through the whole review in a namespace in `warn` mode, where every
 * finding (errors included) becomes one admission warning: the API server cuts those past 256
 * characters, so the line must keep, within 256, the code, the field, the other object's name, the
 * value that is wrong and the pointer to the code's page. The same finding in `enforce` mode must
 * give a denial line naming them too.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject } from '../../src/admission/types.ts';
import { objectGvk } from '../../src/admission/types.ts';
import type { Decision } from '../../src/admission/decision.ts';
import { FINDINGS, type Code } from '../../src/catalogue/findings.ts';
import type { Issue } from '../../src/catalogue/result.ts';
import { snapshotFromObjects } from '../../src/cluster/indexes.ts';
import { DEFAULT_MESH_LOCATIONS, meshConfigFrom } from '../../src/cluster/mesh-config.ts';
import type { ClusterCidrs, ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { parseCidr } from '../../src/net/cidr.ts';
import { WARNING_LIMIT } from '../../src/review/enforce.ts';
import { admitPod } from '../../src/review/mutate.ts';
import { judge } from '../../src/review/validate.ts';
import { cidrsOf, fixture } from '../support.ts';

const Messages = suite('catalogue/messages');

// --- long, realistic values

/** 63 characters: the longest namespace Kubernetes allows. */
const NS = 'payments-settlement-reconciliation-eu-west-1-production-cluster';
/** 63 characters: the longest name of a DNS-label object. */
const NAME = 'settlement-reconciliation-api-egress-to-partner-bank-production';
const OTHER = 'settlement-reconciliation-api-egress-to-partner-bank-legacy-tcp';
const SA = 'settlement-reconciliation-worker-service-account-eu-west-1-prod';
/** 66 characters */
const HOST = 'settlement-reconciliation-api.eu-west-1.partners.example-bank.com';
const PORT = 'https-settlement-reconciliation-api';
const ref = (name: string, namespace = NS) => `${namespace}/${name}`;

type Obj = Record<string, unknown>;
const meta = (more: Obj = {}) => ({ name: NAME, namespace: NS, ...more });

const se = (spec: Obj = {}, m: Obj = {}): KubeObject =>
  ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: meta(m),
    spec: { hosts: [HOST], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 443, name: PORT, protocol: 'TLS' }], ...spec },
  }) as KubeObject;
const port = (name: string, number: number, protocol?: string) => ({ name, number, ...(protocol ? { protocol } : {}) });
const staticSe = (spec: Obj) => se({ resolution: 'STATIC', ...spec });

const toHost = [{ destination: { host: HOST } }];
const vs = (spec: Obj = {}, m: Obj = {}): KubeObject =>
  ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: meta(m),
    spec: { hosts: [HOST], http: [{ route: toHost }], ...spec },
  }) as KubeObject;
const route = (fields: Obj) => vs({ http: [{ route: toHost, ...fields }] });
const tlsRoute = (fields: Obj = {}) => ({ match: [{ port: 443, sniHosts: [HOST] }], route: toHost, ...fields });

const egress = (spec: Obj = {}, m: Obj = {}): KubeObject =>
  ({
    apiVersion: 'policy.openservicemesh.io/v1alpha1',
    kind: 'Egress',
    metadata: meta(m),
    spec: {
      sources: [{ kind: 'ServiceAccount', name: SA, namespace: NS }],
      hosts: [HOST],
      ports: [{ number: 443, protocol: 'https' }],
      ...spec,
    },
  }) as KubeObject;
const smi = (name: string) => ({ apiGroup: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', name });
const routeGroup = (matches: unknown, name = OTHER): KubeObject =>
  ({ apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: meta({ name }), spec: { matches } }) as KubeObject;

const istioMesh = (mode: string): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'istio-system', name: 'istio' },
    data: { mesh: `outboundTrafficPolicy:\n  mode: ${mode}\n` },
  }) as KubeObject;
const osmMesh = (spec: Obj): KubeObject =>
  ({
    apiVersion: 'config.openservicemesh.io/v1alpha2',
    kind: 'MeshConfig',
    metadata: { namespace: 'osm-system', name: 'osm-mesh-config' },
    spec,
  }) as KubeObject;

// capture: a namespace and a pod of it, both with long values
const CAPTURE = 'egress-warden.io/outbound-capture';
const BYPASS = 'egress-warden.io/bypass-ip-ranges';
const EXTRA = 'egress-warden.io/capture-ip-ranges';
const ISTIO_EXCLUDE = 'traffic.sidecar.istio.io/excludeOutboundIPRanges';
const OSM_EXCLUDE = 'openservicemesh.io/outbound-ip-range-exclusion-list';
const ISTIO_NS = { 'istio-injection': 'enabled' };
const OSM_NS = { 'openservicemesh.io/monitored-by': 'osm' };
const OSM_INJECT = { 'openservicemesh.io/sidecar-injection': 'enabled' };
/** The namespace under review: review() gives it the mode of the run. */
const nsUnder = (annotations: Record<string, unknown>, labels: Record<string, string> = ISTIO_NS): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NS, labels, annotations },
  }) as KubeObject;
/** The namespace a pod row's pod lives in. */
const podNamespace = (labels: Record<string, string> = ISTIO_NS, annotations: Record<string, string> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels, annotations } }) as KubeObject;
/** A Deployment's pod in NS: `fixture` is one of test/fixtures/objects/pod-*.json. */
function pod(annotations: Record<string, string>, more: Obj = {}, file = 'objects/pod-deployment.json'): KubeObject {
  const p = fixture(file) as { metadata: Obj; spec: Obj };
  return {
    ...p,
    metadata: { ...p.metadata, namespace: NS, generateName: `${NAME}-`, annotations, ...(more.labels ? { labels: more.labels } : {}) },
    spec: { ...p.spec, ...((more.spec as Obj) ?? {}) },
  } as KubeObject;
}
const cluster = (mode = 'cluster') => ({ [CAPTURE]: mode });
const partialPods: ClusterCidrs = {
  pod: [{ cidr: parseCidr('10.244.0.0/24')!, origin: 'Node podCIDRs', partial: true }],
  service: [{ cidr: parseCidr('10.96.0.0/12')!, origin: 'ServiceCIDR kubernetes' }],
};

// --- one row per code

type Row = {
  /** the object under review */
  readonly judged: KubeObject;
  /** what the cluster already stores */
  readonly stored?: readonly KubeObject[];
  /** what the line must carry whole: the value that is wrong, the other object's name */
  readonly keep: readonly string[];
  /** the cluster ranges, when not kubeadm's defaults */
  readonly cidrs?: ClusterCidrs;
  /**
   * A message owned outside src/rules that still loses what `keep` names, with the wording asked
   * of its owner: the row then asserts the loss, so that the fix shows up as a failing row to turn
   * into an ordinary one.
   */
  readonly pending?: string;
};

const ROWS: Partial<Record<Code, Row>> = {
  // the size gate in front of the rules (src/rules/budget.ts)
  EW001: {
    judged: route({ headers: { request: { set: { 'x-settlement-reconciliation-batch': 'a'.repeat(70_000) } } } }),
    keep: ['70,000'],
  },

  // ServiceEntry
  EW101: {
    judged: se({}, { annotations: { 'internal.istio.io/webhook-always-reject': 'true' } }),
    keep: ['internal.istio.io/webhook-always-reject'],
  },
  EW102: { judged: staticSe({ workloadSelector: { labels: { 'app.kubernetes.io/name': '*' } } }), keep: ['app.kubernetes.io/name'] },
  EW103: { judged: staticSe({ workloadSelector: {} }), keep: [] },
  EW104: { judged: staticSe({ workloadSelector: { labels: { app: 'settlement' } }, endpoints: [{ address: '203.0.113.10' }] }), keep: [] },
  EW105: { judged: se({ hosts: [] }), keep: [] },
  EW106: { judged: se({ hosts: [`${HOST}.*`] }), keep: ['label "*" invalid'] },
  EW107: { judged: se({ resolution: 'NONE', hosts: [`*${HOST}`] }), keep: [`*${HOST}`] },
  EW108: { judged: se({ resolution: 'NONE', addresses: ['203.0.113.256/24'] }), keep: ['203.0.113.256/24'] },
  EW109: { judged: se({ addresses: ['203.0.113.0/24'] }), keep: ['NONE/STATIC'] },
  EW110: { judged: se({ ports: [port(PORT, 443, 'TLS'), null] }), keep: [] },
  EW111: { judged: se({ ports: [port(PORT, 443, 'TLS'), port(PORT, 8443, 'TLS')] }), keep: [PORT] },
  EW112: { judged: se({ ports: [port(PORT, 8443, 'TLS'), port(`${PORT}-secondary`, 8443, 'TLS')] }), keep: ['8443'] },
  EW113: { judged: se({ ports: [port(PORT, 84430, 'TLS')] }), keep: ['84430'] },
  EW114: { judged: se({ resolution: 'NONE', ports: [port('tcp-settlement-reconciliation-ledger', 5432, 'TCP')] }), keep: [] },
  EW115: {
    judged: se({ ports: [port('https_settlement_reconciliation_api', 443, 'TLS')] }),
    keep: ['https_settlement_reconciliation_api'],
  },
  EW116: { judged: se({ ports: [port(PORT, 443, 'HTTPS-SETTLEMENT')] }), keep: ['HTTPS-SETTLEMENT'] },
  EW117: { judged: se({ resolution: 'NONE', endpoints: [{ address: '203.0.113.10' }] }), keep: [] },
  EW118: { judged: se({ resolution: 'NONE', workloadSelector: { labels: { app: 'settlement' } } }), keep: [] },
  EW119: { judged: staticSe({ endpoints: [null] }), keep: [] },
  EW120: { judged: staticSe({ endpoints: [{ address: HOST }] }), keep: [HOST] },
  EW121: {
    judged: staticSe({ endpoints: [{ network: 'network-eu-west-1-partner-interconnect' }] }),
    keep: ['network-eu-west-1-partner-interconnect'],
  },
  EW122: {
    judged: staticSe({ endpoints: [{ address: 'unix:///var/run/settlement/reconciliation-api.sock', ports: { [PORT]: 8443 } }] }),
    keep: ['unix:///var/run/settlement/reconciliation-api.sock'],
  },
  EW123: {
    judged: staticSe({ endpoints: [{ address: '203.0.113.10', ports: { 'https-settlement-reconciliation-backup': 8443 } }] }),
    keep: ['https-settlement-reconciliation-backup'],
  },
  EW124: {
    judged: staticSe({ endpoints: [{ address: '203.0.113.10', labels: { 'settlement reconciliation tier': 'x' } }] }),
    keep: ['settlement reconciliation tier'],
  },
  EW125: { judged: se({ hosts: [`*.${HOST}`] }), keep: ['label "*" invalid'] },
  EW126: {
    judged: se({ resolution: 'DNS_ROUND_ROBIN', endpoints: [{ address: `primary.${HOST}` }, { address: `secondary.${HOST}` }] }),
    keep: [],
  },
  EW127: {
    judged: se({ hosts: [HOST, `backup.${HOST}`], addresses: ['203.0.113.10'], ports: [port(PORT, 443, 'HTTPS')] }),
    keep: [],
  },
  EW128: { judged: se({ resolution: 'DYNAMIC_DNS' }), keep: ['DYNAMIC_DNS'] },
  EW129: { judged: se({ resolution: 'DYNAMIC_DNS', hosts: [`*.${HOST}`], addresses: ['203.0.113.10'] }), keep: [] },
  EW130: {
    judged: se({ resolution: 'DYNAMIC_DNS', hosts: [`*.${HOST}`], ports: [port('tcp-settlement-reconciliation-ledger', 5432, 'TCP')] }),
    keep: ['DYNAMIC_DNS'],
  },
  EW131: {
    judged: se(
      { resolution: 'DYNAMIC_DNS', hosts: [`*.${HOST}`], location: 'MESH_INTERNAL' },
      { labels: { 'istio.io/use-waypoint': 'settlement-reconciliation-waypoint' } },
    ),
    keep: [],
  },
  EW132: { judged: se({ resolution: 'DNS_CACHED_SETTLEMENT' }), keep: ['DNS_CACHED_SETTLEMENT'] },
  EW133: { judged: se({ hosts: [HOST, `backup.${HOST}`], ports: [port('tcp-settlement-reconciliation-ledger', 5432, 'TCP')] }), keep: [] },
  EW134: { judged: se({ exportTo: ['*', 'payments-settlement-reconciliation-eu-west-1-staging-cluster'] }), keep: [] },

  // VirtualService
  EW201: { judged: vs({}, { annotations: { 'istio.io/dry-run': 'true' } }), keep: ['istio.io/dry-run'] },
  EW202: { judged: vs({ hosts: [], gateways: [`istio-system/${NAME}`] }), keep: [] },
  EW203: { judged: vs({ gateways: [`${NS}/${NAME}_ingress`] }), keep: [`${NAME}_ingress`] },
  EW204: { judged: vs({ gateways: [`${NAME}.${NS}`] }), keep: [`${NS}/${NAME}`] },
  EW205: { judged: vs({ hosts: [`${HOST}_`] }), keep: ['label "com_" invalid'] },
  EW206: { judged: vs({ hosts: ['*'] }), keep: [] },
  EW207: { judged: vs({ hosts: [HOST, `*.${HOST.split('.').slice(1).join('.')}`] }), keep: [HOST] },
  EW208: { judged: vs({ http: undefined }), keep: [] },
  EW209: { judged: vs({ http: undefined, tls: [{ route: toHost }] }), keep: [] },
  EW210: { judged: vs({ http: undefined, tcp: [{ match: [null], route: toHost }] }), keep: [] },
  EW211: { judged: vs({ http: undefined, tls: [{ match: [{ port: 443 }], route: toHost }] }), keep: [] },
  EW212: {
    judged: vs({ http: undefined, tls: [tlsRoute({ match: [{ port: 443, sniHosts: ['203.0.113.10'] }] })] }),
    keep: ['203.0.113.10'],
  },
  EW213: {
    judged: vs({ http: undefined, tls: [tlsRoute({ match: [{ port: 443, sniHosts: [`${HOST}_`] }] })] }),
    keep: ['label "com_" invalid'],
  },
  EW214: {
    judged: vs({ http: undefined, tls: [tlsRoute({ match: [{ port: 443, sniHosts: [`backup.${HOST}`] }] })] }),
    keep: [HOST],
  },
  EW215: {
    judged: vs({ http: undefined, tcp: [{ match: [{ destinationSubnets: ['203.0.113.0/33'] }], route: toHost }] }),
    keep: ['203.0.113.0/33'],
  },
  EW216: { judged: vs({ http: undefined, tcp: [{ match: [{ port: 654320 }], route: toHost }] }), keep: ['654320'] },
  EW217: {
    judged: vs({ http: undefined, tcp: [{ match: [{ sourceLabels: { 'app.kubernetes.io/name': 'settlement worker' } }], route: toHost }] }),
    keep: ['settlement worker'],
  },
  EW218: { judged: vs({ http: undefined, tcp: [{ match: [{ port: 5432 }] }] }), keep: [] },
  EW219: { judged: vs({ http: [{ route: [{ destination: { host: HOST }, weight: -25 }] }] }), keep: ['-25'] },
  EW220: { judged: vs({ http: [{ route: [{ destination: { host: HOST, subset: 'settlement_v2' } }] }] }), keep: ['settlement_v2'] },
  EW221: {
    judged: vs({ exportTo: ['payments-settlement-reconciliation-eu-west-1-staging_cluster'] }),
    keep: [],
  },
  EW222: {
    judged: vs({
      http: [
        { match: [{ uri: { prefix: '/settlement/reconciliation' } }], route: toHost },
        { match: [{ uri: { prefix: '/settlement/reconciliation/v2' } }], route: toHost },
      ],
    }),
    keep: ['/settlement/reconciliation/v2', '/settlement/reconciliation'],
  },
  EW223: { judged: vs({ http: [null] }), keep: [] },
  EW224: { judged: route({ name: 'settlement-reconciliation', delegate: { name: OTHER, namespace: NS } }), keep: [] },
  EW225: { judged: route({ redirect: { uri: '/settlement/reconciliation/v2' } }), keep: [] },
  EW226: { judged: vs({ http: [{ match: [{ uri: { prefix: '/settlement' } }] }] }), keep: [] },
  EW227: { judged: route({ match: [{ uri: { regex: '/settlement/(?=reconciliation)' } }] }), keep: ['(?='] },
  EW228: {
    judged: route({ match: [{ headers: { '@request.auth.claims.settlement-group': { exact: 'reconciliation' } } }] }),
    keep: ['@request.auth.claims.settlement-group'],
  },
  EW229: {
    judged: route({ headers: { request: { set: { 'x-settlement-reconciliation-id': '%SETTLEMENT_ID' } } } }),
    keep: ['%SETTLEMENT_ID'],
  },
  EW230: {
    judged: route({ rewrite: { authority: HOST }, headers: { request: { set: { ':authority': `backup.${HOST}` } } } }),
    keep: [HOST],
  },
  EW231: { judged: route({ corsPolicy: { allowMethods: ['SETTLE'] } }), keep: ['SETTLE'] },
  EW232: { judged: route({ fault: { abort: { httpStatus: 6000 } } }), keep: ['6000'] },
  EW233: { judged: route({ fault: { abort: { percentage: { value: 5 } } } }), keep: [] },
  EW234: { judged: route({ mirrorPercentage: { value: 150 } }), keep: ['150'] },
  EW235: { judged: route({ mirror: { host: `shadow.${HOST}` }, mirrorPercent: 5 }), keep: ['mirrorPercentage'] },
  EW236: { judged: vs({ http: [{ redirect: { uri: '/settlement/reconciliation/v2', redirectCode: 200 } }] }), keep: ['200'] },
  EW237: { judged: vs({ http: [{ directResponse: { status: 7000 } }] }), keep: ['7000'] },
  EW238: { judged: vs({ http: [{ directResponse: { status: 200, body: { string: 'a'.repeat(101 * 1024) } } }] }), keep: [] },
  EW239: {
    judged: route({ retries: { attempts: 3, retryOn: '5xx,settlement-reconciliation-failure' } }),
    keep: ['settlement-reconciliation-failure'],
  },
  EW240: { judged: route({ rewrite: { uri: '/settlement', uriRegexRewrite: { match: '^/s(.*)$', rewrite: '/\\1' } } }), keep: [] },
  EW241: { judged: route({ timeout: '1.0000001s' }), keep: [] },

  // Egress and HTTPRouteGroup
  EW301: {
    judged: egress({ matches: [{ apiGroup: 'specs.smi-spec.io', kind: 'HTTPRouteGroup', name: OTHER }] }),
    keep: ['specs.smi-spec.io'],
  },
  EW302: { judged: egress({ matches: [{ ...smi(OTHER), kind: 'TCPRoute' }] }), keep: ['TCPRoute'] },
  EW303: {
    judged: egress({ matches: [{ apiGroup: 'policy.openservicemesh.io/v1alpha1', kind: 'Egress', name: OTHER }] }),
    keep: ['Egress'],
  },
  EW304: {
    judged: egress({
      matches: [
        { apiGroup: 'policy.openservicemesh.io/v1alpha1', kind: 'UpstreamTrafficSetting', name: NAME },
        { apiGroup: 'policy.openservicemesh.io/v1alpha1', kind: 'UpstreamTrafficSetting', name: OTHER },
      ],
    }),
    keep: [],
  },
  EW305: { judged: egress({ matches: [{ apiGroup: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup' }] }), keep: [] },
  EW310: { judged: egress({ sources: undefined }), keep: [] },
  EW311: { judged: egress({ sources: [{ kind: 'Deployment', name: SA, namespace: NS }] }), keep: ['Deployment'] },
  EW312: { judged: egress({ sources: [{ kind: 'ServiceAccount', name: `${SA}_worker`, namespace: NS }] }), keep: [`${SA}_worker`] },
  EW313: { judged: egress({ sources: [{ kind: 'ServiceAccount', name: SA }] }), keep: [] },
  EW314: { judged: egress({ sources: [] }), keep: [] },
  EW320: { judged: egress({ ports: undefined }), keep: [] },
  EW321: { judged: egress({ ports: [{ number: 84430, protocol: 'https' }] }), keep: ['84430'] },
  EW322: { judged: egress({ ports: [{ number: 443, protocol: 'HTTPS' }] }), keep: ['HTTPS'] },
  EW323: { judged: egress({ ports: [{ number: 443, protocol: 'grpc' }] }), keep: ['grpc'] },
  EW324: { judged: egress({ ports: [] }), keep: [] },
  EW325: {
    judged: egress({
      ports: [
        { number: 8080, protocol: 'http' },
        { number: 8080, protocol: 'http' },
      ],
    }),
    keep: ['8080'],
  },
  EW330: {
    judged: egress({ hosts: undefined, ports: [{ number: 5432, protocol: 'tcp' }], ipAddresses: ['2001:db8:5e77:1e::/64'] }),
    keep: ['2001:db8:5e77:1e::/64'],
  },
  EW331: {
    judged: egress({ hosts: undefined, ports: [{ number: 5432, protocol: 'tcp' }], ipAddresses: ['203.0.113.300/24'] }),
    keep: ['203.0.113.300/24'],
  },
  EW332: {
    judged: egress({ hosts: undefined, ports: [{ number: 5432, protocol: 'tcp' }], ipAddresses: ['203.0.113.77/24'] }),
    keep: ['203.0.113.77/24', '203.0.113.0/24'],
  },
  EW340: { judged: egress({ hosts: [`${HOST}_`] }), keep: ['label "com_" invalid'] },
  EW341: { judged: egress({ hosts: [`settlement*.${HOST}`] }), keep: [`settlement*.${HOST}`] },
  EW342: { judged: egress({ hosts: [], ports: [{ number: 80, protocol: 'http' }] }), keep: [] },
  EW343: { judged: egress({ matches: [smi(OTHER)] }), stored: [routeGroup([{ name: 'settlement' }])], keep: [OTHER] },
  EW344: { judged: egress({ ports: [{ number: 80, protocol: 'http' }], matches: [smi(OTHER)] }), keep: [OTHER] },
  EW345: { judged: egress({ ports: [{ number: 5432, protocol: 'tcp' }] }), keep: [] },
  EW346: { judged: egress({ ports: [{ number: 80, protocol: 'http' }], matches: [smi(OTHER)] }), stored: [routeGroup([])], keep: [OTHER] },
  EW348: {
    judged: egress(),
    stored: [osmMesh({ traffic: { enableEgress: false }, featureFlags: { enableEgressPolicy: false } })],
    keep: ['osm-system/osm-mesh-config'],
  },
  EW349: {
    judged: egress(),
    stored: [osmMesh({ traffic: { enableEgress: true }, featureFlags: { enableEgressPolicy: true } })],
    keep: ['osm-system/osm-mesh-config'],
  },
  EW350: { judged: routeGroup([{ pathRegex: '/settlement' }]), keep: [] },
  EW351: { judged: routeGroup([]), keep: [] },
  EW352: { judged: routeGroup([{ name: 'settlement', pathRegex: '/settlement/(?=reconciliation)' }]), keep: ['(?='] },
  EW353: { judged: routeGroup([{ name: 'settlement', methods: ['SETTLE'] }]), keep: ['SETTLE'] },
  EW354: { judged: routeGroup([{ name: 'settlement', headers: [{ 'x-settlement-reconciliation-id': 'v2' }] }]), keep: [] },
  EW355: {
    judged: routeGroup([{ name: 'settlement', headers: { 'x-settlement-reconciliation-id': { exact: 'v2' } } }]),
    keep: ['x-settlement-reconciliation-id'],
  },
  EW356: {
    judged: routeGroup(Array.from({ length: 300 }, (_, i) => ({ name: `settlement-${i}`, pathRegex: `/settlement/${i}/.*` }))),
    keep: [],
  },

  // cross-object
  EW401: {
    judged: vs({ http: undefined, tls: [tlsRoute()] }),
    stored: [se({ ports: [port('http-settlement-reconciliation-api', 443, 'HTTP')] }, { name: OTHER })],
    keep: [ref(OTHER)],
  },
  EW402: {
    judged: vs({ http: [{ match: [{ port: 443 }], route: toHost }] }),
    stored: [se({}, { name: OTHER })],
    keep: [ref(OTHER)],
  },
  EW403: { judged: se({ ports: [port('grpc-settlement-reconciliation-api', 443, 'TLS')] }), keep: ['grpc-settlement-reconciliation-api'] },
  EW404: {
    judged: se({ ports: [port(PORT, 443, 'HTTPS')] }),
    stored: [se({}, { name: OTHER })],
    keep: [ref(OTHER), '443'],
  },
  EW405: {
    judged: se({ hosts: [`ledger.${HOST}`], resolution: 'NONE', ports: [port('tcp-settlement-reconciliation-ledger', 5432, 'TCP')] }),
    stored: [
      se(
        { hosts: [`backup.${HOST}`], resolution: 'NONE', ports: [port('tcp-settlement-reconciliation-ledger', 5432, 'TCP')] },
        { name: OTHER },
      ),
    ],
    keep: [ref(OTHER), '5432'],
  },
  EW406: {
    judged: se({ resolution: 'STATIC', addresses: ['10.244.17.0/24'], endpoints: [{ address: '10.244.17.5' }] }),
    keep: ['10.244.17.0/24', '10.244.0.0/16'],
  },
  EW407: { judged: vs(), stored: [istioMesh('REGISTRY_ONLY')], keep: [HOST, 'istio-system/istio'] },
  EW409: { judged: se({ ports: [port(PORT, 443, 'TLS'), port('http-settlement-reconciliation-health', 15021, 'HTTP')] }), keep: ['15021'] },
  EW410: { judged: se({ resolution: 'NONE', ports: [port('tcp-settlement-reconciliation-ledger', 15001, 'TCP')] }), keep: ['15001'] },
  EW420: {
    judged: egress({ ports: [{ number: 3306, protocol: 'http' }] }),
    stored: [egress({ hosts: undefined, ports: [{ number: 3306, protocol: 'tcp-server-first' }] }, { name: OTHER })],
    keep: [ref(OTHER), '3306'],
  },
  EW421: {
    judged: egress({ ports: [{ number: 3306, protocol: 'https' }] }),
    stored: [egress({ hosts: undefined, ports: [{ number: 3306, protocol: 'tcp-server-first' }] }, { name: OTHER })],
    keep: [ref(OTHER), '3306'],
  },
  EW422: {
    judged: egress({ hosts: undefined, ports: [{ number: 3306, protocol: 'tcp' }] }),
    stored: [egress({ hosts: undefined, ports: [{ number: 3306, protocol: 'tcp-server-first' }] }, { name: OTHER })],
    // the port is its field, spec.ports[0]: its number is the first thing cut beside two long names
    keep: [ref(OTHER)],
  },
  EW423: {
    judged: egress({ hosts: undefined, ports: [{ number: 3306, protocol: 'tcp' }], ipAddresses: ['203.0.113.0/24'] }),
    stored: [
      egress(
        { hosts: undefined, ports: [{ number: 3306, protocol: 'tcp-server-first' }], ipAddresses: ['198.51.100.0/24'] },
        { name: OTHER },
      ),
    ],
    keep: [ref(OTHER), '3306'],
  },
  EW424: {
    judged: egress({ hosts: undefined, ports: [{ number: 3306, protocol: 'tcp' }] }),
    stored: [egress({ hosts: undefined, ports: [{ number: 3306, protocol: 'https' }] }, { name: OTHER })],
    // the port is its field, spec.ports[0]: its number is the first thing cut beside two long names
    keep: [ref(OTHER)],
  },
  EW425: {
    judged: egress({ hosts: undefined, ports: [{ number: 3306, protocol: 'tcp' }] }),
    stored: [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: OTHER, namespace: NS },
        spec: { ports: [{ name: 'mysql', port: 3306, appProtocol: 'tcp-server-first' }] },
      } as KubeObject,
    ],
    keep: [ref(OTHER), '3306'],
  },
  // capture annotations (src/capture), through the namespace rule and the pod mutation
  EW501: { judged: nsUnder({ [CAPTURE]: 'cluster-only-for-settlement' }), keep: ['cluster-only-for-settlement'] },
  EW502: {
    judged: nsUnder({ [BYPASS]: '203.0.113.0/24,198.51.100.0/24,192.0.2.256/24' }),
    keep: ['192.0.2.256/24'],
  },
  EW503: { judged: nsUnder({ [BYPASS]: '203.0.113.77/24' }), keep: ['203.0.113.77/24'] },
  EW504: { judged: nsUnder({ [BYPASS]: '10.96.0.10/32' }), keep: ['10.96.0.10/32', '10.96.0.0/12'] },
  EW505: { judged: nsUnder({ [BYPASS]: '0.0.0.0/0' }), keep: ['0.0.0.0/0'] },
  EW506: {
    judged: pod({ ...cluster(), [EXTRA]: '192.0.2.0/24', [BYPASS]: '192.0.2.8/29' }),
    stored: [podNamespace()],
    keep: ['192.0.2.8/29', '192.0.2.0/24'],
  },
  EW507: {
    judged: pod({ [ISTIO_EXCLUDE]: '10.0.0.0/8, 192.168.0.0/33' }),
    stored: [podNamespace()],
    keep: ['192.168.0.0/33'],
  },
  EW508: { judged: pod({ [OSM_EXCLUDE]: '10.0.0.0/8,' }), stored: [podNamespace(OSM_NS, OSM_INJECT)], keep: [OSM_EXCLUDE] },
  EW509: {
    judged: pod({ ...cluster(), [BYPASS]: '2001:db8:5e77::/48' }),
    stored: [podNamespace(OSM_NS, OSM_INJECT)],
    keep: ['2001:db8:5e77::/48'],
  },
  EW510: { judged: nsUnder({ [EXTRA]: '192.0.2.0/24' }), keep: [] },
  EW511: { judged: pod(cluster()), stored: [podNamespace()], cidrs: { pod: [], service: [] }, keep: [] },
  EW512: { judged: nsUnder({ 'egress-warden.io/bypass-ranges': '192.0.2.0/24' }), keep: [] },
  EW513: {
    judged: pod({ ...cluster(), 'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8' }),
    stored: [podNamespace()],
    keep: ['10.96.0.0/12,10.244.0.0/16'],
  },
  EW514: {
    judged: pod(cluster(), { spec: { initContainers: [{ name: 'osm-init', command: ['/bin/sh', '-c', 'iptables-restore'] }] } }),
    stored: [podNamespace(OSM_NS, OSM_INJECT)],
    keep: [],
  },
  EW515: { judged: nsUnder({ [ISTIO_EXCLUDE]: '192.0.2.0/24' }), keep: [] },
  EW516: {
    judged: { ...nsUnder({}), metadata: { name: NS, labels: { ...ISTIO_NS, 'egress-warden.io/mode': 'Warn' } } } as KubeObject,
    keep: ['Warn'],
  },
  EW517: {
    judged: pod(cluster(), { spec: { initContainers: [{ name: 'istio-init', command: ['/bin/sh', '-c', 'setup'], args: ['x'] }] } }),
    stored: [podNamespace()],
    keep: [],
  },
  EW518: { judged: nsUnder({ [CAPTURE]: true }), keep: [] },
  EW519: { judged: pod(cluster()), stored: [podNamespace()], cidrs: partialPods, keep: [] },
  EW520: { judged: nsUnder(cluster()), stored: [istioMesh('REGISTRY_ONLY')], keep: ['istio-system/istio'] },
  EW521: { judged: pod({}, { labels: { 'sidecar.istio.io/inject': 'yes' } }), stored: [podNamespace()], keep: ['yes'] },
  EW522: { judged: pod({ [ISTIO_EXCLUDE]: '10.0.0.0/8, 192.168.0.0/16,' }), stored: [podNamespace()], keep: [] },
  EW523: {
    judged: (() => {
      const p = pod(cluster(), {}, 'objects/pod-istio-init.json') as { spec: { initContainers: { args: string[] }[] } };
      const args = p.spec.initContainers[0]!.args;
      args[args.indexOf('-i') + 1] = '10.0.0.0/8,172.16.0.0/12';
      return p as unknown as KubeObject;
    })(),
    stored: [podNamespace()],
    keep: ['10.0.0.0/8,172.16.0.0/12'],
  },
};

/** Codes no rule in src/rules emits, each with where it comes from and where its wording is tested. */
const NOT_FROM_A_RULE: Readonly<Partial<Record<Code, string>>> = {
  EW000: 'a rule that threw: review/validate.ts and check/items.ts name the rule and its error (test/review)',
  EW002: 'a file check cannot read: check/report.ts, with the file and line in the report (test/check-inputs.test.ts)',
  EW599: 'an internal error while computing a pod patch: review/mutate.ts (test/review/mutate.test.ts renders it)',
};

// --- the review, as the webhook runs it

const warnNamespace: KubeObject = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: NS, labels: { 'egress-warden.io/mode': 'warn', 'openservicemesh.io/monitored-by': 'osm' } },
} as KubeObject;
const enforceNamespace: KubeObject = {
  ...warnNamespace,
  metadata: { name: NS, labels: { 'openservicemesh.io/monitored-by': 'osm' } },
} as KubeObject;

const MODE = 'egress-warden.io/mode';

/** The row's objects in `ns`'s enforcement mode: a pod's own namespace takes that mode too. */
function review(row: Row, ns: KubeObject): Decision {
  const mode = ns.metadata?.labels?.[MODE];
  const own = (o: KubeObject) => o.kind === 'Namespace' && o.metadata?.name === NS;
  // a mode the row sets itself (EW516's invalid one) is what the row is about
  const inMode = (o: KubeObject) =>
    own(o) && mode && o.metadata?.labels?.[MODE] === undefined
      ? ({ ...o, metadata: { ...o.metadata, labels: { ...o.metadata?.labels, [MODE]: mode } } } as KubeObject)
      : o;
  const stored = (row.stored ?? []).map(inMode);
  const objects = stored.some(own) ? stored : [ns, ...stored];
  const snapshot: ClusterSnapshot = {
    ...snapshotFromObjects(objects, row.cidrs ?? cidrsOf(['10.244.0.0/16'], ['10.96.0.0/12'])),
    mesh: meshConfigFrom(objects, DEFAULT_MESH_LOCATIONS),
  };
  const obj = inMode(row.judged);
  const req: AdmissionRequest = {
    uid: 'u',
    kind: objectGvk(obj),
    operation: 'CREATE',
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    object: obj,
  };
  return obj.kind === 'Pod' ? admitPod(req, snapshot) : judge(req, snapshot);
}

const findingsOf = (d: Decision): Issue[] => [...(d.findings?.errors ?? []), ...(d.findings?.warnings ?? [])];

function lost(line: string, code: Code, issue: Issue, keep: readonly string[]): string[] {
  const missing = [`[${code}]`, `${issue.path}:`, `(egress-warden help ${code})`, ...keep].filter((s) => !line.includes(s));
  return line.length > WARNING_LIMIT ? [...missing, `${line.length} characters`] : missing;
}

const ruleCodes = (Object.keys(FINDINGS) as Code[]).filter((c) => !(c in NOT_FROM_A_RULE) && c < 'EW600');

Messages('every code a rule emits has a row, and the codes without one say where they come from', () => {
  // Codes from EW600 on are added with their rules, and their rows live with those rules' tests.
  const missing = ruleCodes.filter((c) => !(c in ROWS));
  assert.equal(missing, []);
});

for (const code of Object.keys(ROWS) as Code[]) {
  const row = ROWS[code]!;
  if (row.pending) {
    Messages(`${code} still loses its values in a 256-character warning, until ${row.pending}`, () => {
      const d = review(row, warnNamespace);
      const issue = findingsOf(d).find((i) => i.code === code);
      assert.ok(issue, `no ${code} among ${JSON.stringify(findingsOf(d))}`);
      const line = (d.warnings ?? []).find((w) => w.startsWith(`[${code}]`)) ?? '';
      assert.ok(lost(line, code, issue, row.keep).length > 0, `${code} keeps its values now: drop \`pending\` from its row`);
    });
    continue;
  }
  Messages(`${code} keeps its code, field, values and page pointer within 256 characters as a warning`, () => {
    const d = review(row, warnNamespace);
    const issue = findingsOf(d).find((i) => i.code === code);
    assert.ok(issue, `no ${code} among ${JSON.stringify(findingsOf(d))}`);
    const line = (d.warnings ?? []).find((w) => w.startsWith(`[${code}]`)) ?? '';
    assert.equal(lost(line, code, issue, row.keep), [], line);
  });
  if (FINDINGS[code].severity === 'error') {
    Messages(`${code} is denied with a line that names its field and values`, () => {
      const d = review(row, enforceNamespace);
      assert.is(d.allowed, false);
      const line = (d.message ?? '').split('\n').find((l) => l.startsWith(`[${code}]`)) ?? '';
      const issue = findingsOf(d).find((i) => i.code === code)!;
      assert.equal(
        lost(line, code, issue, row.keep).filter((m) => !m.endsWith('characters')),
        [],
        line,
      );
    });
  }
}

Messages.run();
