import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AdmissionRequest, KubeObject, ObjectMeta } from '../../src/admission/types.ts';
import { CODES } from '../../src/catalogue/findings.ts';
import type { Result } from '../../src/catalogue/result.ts';
import { judge } from '../../src/review/validate.ts';
import { validateServiceEntry } from '../../src/rules/service-entry.ts';
import { accepts, clean, fixture, snapshotWith, messageOf, ruleCases, type RuleCase } from '../support.ts';

const SE = suite('rules/service-entry');

const base = (): KubeObject => fixture('objects/service-entry.valid.json');
/** The valid fixture with some spec fields (and metadata fields) replaced. */
function se(spec: Record<string, unknown>, meta: Partial<ObjectMeta> = {}): KubeObject {
  const o = base();
  return { ...o, metadata: { ...o.metadata, ...meta }, spec: { ...(o.spec as object), ...spec } };
}
const run = (o: KubeObject): Result => validateServiceEntry(o, { snapshot: snapshotWith(), namespace: 'shop', operation: 'CREATE' });

const review = fixture<{ review: { request: AdmissionRequest } }>('reviews/003-validate-create-serviceentry.review-v1.json').review.request;

const message = messageOf;

const tcp = (name = 'tcp', number = 5432, protocol = 'TCP') => ({ name, number, protocol });
const staticEntry = (extra: Record<string, unknown>) => se({ resolution: 'STATIC', addresses: ['203.0.113.10'], ports: [tcp()], ...extra });

type Case = RuleCase;

const cases: Case[] = [
  // metadata
  {
    it: 'denies the istio.io/dry-run annotation as istiod does',
    code: 'EW101',
    verdict: 'denies',
    path: 'metadata.annotations[istio.io/dry-run]',
    obj: () => se({}, { annotations: { 'istio.io/dry-run': 'true' } }),
    message: 'unsupported annotation istio.io/dry-run, please remove the annotation',
  },
  {
    it: 'denies the webhook-always-reject annotation',
    code: 'EW101',
    verdict: 'denies',
    obj: () => se({}, { annotations: { 'internal.istio.io/webhook-always-reject': '' } }),
    message: '"internal.istio.io/webhook-always-reject" annotation found, rejecting',
  },
  {
    it: 'denies internal parent annotations that users may not set',
    code: 'EW101',
    verdict: 'denies',
    obj: () => se({}, { annotations: { 'internal.istio.io/parents': 'x' } }),
    message: '"internal.istio.io/parents" annotation found, this may not be set by users',
  },
  {
    it: 'accepts ordinary annotations',
    code: 'EW101',
    verdict: 'passes',
    obj: () => se({}, { annotations: { 'sidecar.istio.io/foo': 'bar' } }),
  },

  // workloadSelector
  {
    it: 'denies a workloadSelector label with an empty key',
    code: 'EW102',
    verdict: 'denies',
    path: 'spec.workloadSelector.labels[]',
    obj: () => se({ resolution: 'STATIC', workloadSelector: { labels: { '': 'db' } } }),
    message: 'empty key is not supported in selector: "=db"',
  },
  {
    it: 'denies a wildcard in a workloadSelector label value',
    code: 'EW102',
    verdict: 'denies',
    obj: () => se({ resolution: 'STATIC', workloadSelector: { labels: { app: '*' } } }),
    message: 'wildcard is not supported in selector: "app=*"',
  },
  {
    it: 'accepts a workloadSelector with plain labels',
    code: 'EW102',
    verdict: 'passes',
    obj: () => se({ resolution: 'STATIC', addresses: ['203.0.113.10'], workloadSelector: { labels: { app: 'db' } } }),
  },
  {
    it: 'warns about a workloadSelector without labels',
    code: 'EW103',
    verdict: 'warns',
    path: 'spec.workloadSelector',
    obj: () => se({ resolution: 'STATIC', workloadSelector: {} }),
  },
  {
    it: 'does not warn about a workloadSelector with labels',
    code: 'EW103',
    verdict: 'passes',
    obj: () => se({ resolution: 'STATIC', workloadSelector: { labels: { app: 'db' } } }),
  },
  {
    it: 'denies workloadSelector and endpoints together',
    code: 'EW104',
    verdict: 'denies',
    path: 'spec.endpoints',
    obj: () => staticEntry({ workloadSelector: { labels: { app: 'db' } }, endpoints: [{ address: '203.0.113.10' }] }),
  },
  {
    it: 'accepts endpoints without a workloadSelector',
    code: 'EW104',
    verdict: 'passes',
    obj: () => staticEntry({ endpoints: [{ address: '203.0.113.10' }] }),
  },

  // hosts
  { it: 'denies an entry without hosts', code: 'EW105', verdict: 'denies', path: 'spec.hosts', obj: () => se({ hosts: [] }) },
  {
    it: 'denies the host "*"',
    code: 'EW106',
    verdict: 'denies',
    path: 'spec.hosts[0]',
    obj: () => se({ hosts: ['*'] }),
    message: 'invalid host *',
  },
  {
    it: 'denies a wildcard in a later label, quoting the rest of the host as istiod does',
    code: 'EW106',
    verdict: 'denies',
    obj: () => se({ resolution: 'NONE', hosts: ['foo.*.example.com'] }),
    message: 'domain name "*.example.com" invalid (label "*" invalid)',
  },
  {
    it: 'denies an IP address as a host (all-numeric top level domain)',
    code: 'EW106',
    verdict: 'denies',
    obj: () => se({ resolution: 'NONE', hosts: ['10.1.2.3'] }),
    message: 'domain name "1.2.3" invalid (top level domain "3" cannot be all-numeric)',
  },
  {
    it: 'denies a host longer than 255 characters',
    code: 'EW106',
    verdict: 'denies',
    obj: () => se({ hosts: [`${'a.'.repeat(128)}com`] }),
  },
  { it: 'accepts upper case hosts and a trailing dot', code: 'EW106', verdict: 'passes', obj: () => se({ hosts: ['HttpBin.ORG.'] }) },
  {
    it: 'warns about a partial wildcard host',
    code: 'EW107',
    verdict: 'warns',
    path: 'spec.hosts[0]',
    obj: () => se({ resolution: 'NONE', hosts: ['*foo.example.com'] }),
    message: 'partial wildcard "*foo.example.com" not allowed',
  },
  {
    it: 'does not warn about a leading "*." wildcard',
    code: 'EW107',
    verdict: 'passes',
    obj: () => se({ resolution: 'NONE', hosts: ['*.example.com'] }),
  },
  {
    it: 'does not warn about partial wildcards under DYNAMIC_DNS',
    code: 'EW107',
    verdict: 'passes',
    obj: () => se({ resolution: 'DYNAMIC_DNS', hosts: ['*foo.example.com'], ports: [{ name: 'https', number: 443, protocol: 'TLS' }] }),
  },

  // addresses
  {
    it: 'denies an address that is not an IP',
    code: 'EW108',
    verdict: 'denies',
    path: 'spec.addresses[0]',
    obj: () => se({ resolution: 'NONE', addresses: ['10.0.0.256'] }),
    message: '10.0.0.256 is not a valid IP',
  },
  {
    it: 'denies an IPv4 address with a leading zero, as Go does',
    code: 'EW108',
    verdict: 'denies',
    obj: () => se({ resolution: 'NONE', addresses: ['010.0.0.1'] }),
  },
  {
    it: 'denies a CIDR with a prefix longer than the address',
    code: 'EW108',
    verdict: 'denies',
    obj: () => se({ resolution: 'NONE', addresses: ['10.0.0.0/33'] }),
    message: '10.0.0.0/33 is not a valid CIDR block',
  },
  {
    it: 'accepts a CIDR with host bits set and an IPv6 CIDR',
    code: 'EW108',
    verdict: 'passes',
    obj: () => se({ resolution: 'NONE', addresses: ['10.0.0.7/24', '2001:db8::/64', '2001:db8::1'] }),
  },
  {
    it: 'denies CIDR addresses with DNS resolution',
    code: 'EW109',
    verdict: 'denies',
    path: 'spec.addresses',
    obj: () => se({ addresses: ['203.0.113.0/24'] }),
    message: 'CIDR addresses are allowed only for NONE/STATIC resolution types',
  },
  {
    it: 'accepts CIDR addresses with STATIC resolution',
    code: 'EW109',
    verdict: 'passes',
    obj: () => staticEntry({ addresses: ['203.0.113.0/24'] }),
  },

  // ports
  {
    it: 'denies a null port',
    code: 'EW110',
    verdict: 'denies',
    path: 'spec.ports[1]',
    obj: () => se({ ports: [tcp('http', 80, 'HTTP'), null] }),
  },
  {
    it: 'denies a repeated port name',
    code: 'EW111',
    verdict: 'denies',
    path: 'spec.ports[1].name',
    obj: () => se({ ports: [tcp('http', 80, 'HTTP'), tcp('http', 8080, 'HTTP')] }),
    message: 'service entry port name "http" already defined',
  },
  {
    it: 'denies a repeated port number',
    code: 'EW112',
    verdict: 'denies',
    path: 'spec.ports[1].number',
    obj: () => se({ ports: [tcp('http', 80, 'HTTP'), tcp('http-alt', 80, 'HTTP')] }),
    message: 'service entry port 80 already defined',
  },
  { it: 'accepts distinct port names and numbers', code: 'EW111', verdict: 'passes', obj: () => se({}) },
  {
    it: 'denies a port number out of range',
    code: 'EW113',
    verdict: 'denies',
    path: 'spec.ports[0].number',
    obj: () => se({ ports: [tcp('http', 70000, 'HTTP')] }),
    message: 'port number 70000 must be in the range 1..65535',
  },
  {
    it: 'denies a missing port number',
    code: 'EW113',
    verdict: 'denies',
    path: 'spec.ports[0].number',
    obj: () => se({ ports: [{ name: 'http', protocol: 'HTTP' }] }),
    message: 'port number must be an integer, got undefined',
  },
  {
    it: 'says a port number written as a string must be an integer',
    code: 'EW113',
    verdict: 'denies',
    path: 'spec.ports[0].number',
    obj: () => se({ ports: [{ name: 'https', number: '443', protocol: 'HTTPS' }] }),
    message: 'port number must be an integer, got string "443"',
  },
  {
    it: 'denies a targetPort out of range',
    code: 'EW113',
    verdict: 'denies',
    path: 'spec.ports[0].targetPort',
    obj: () => se({ ports: [{ name: 'http', number: 80, protocol: 'HTTP', targetPort: 65536 }] }),
  },
  {
    it: 'accepts a valid targetPort',
    code: 'EW113',
    verdict: 'passes',
    obj: () => se({ ports: [{ name: 'http', number: 80, protocol: 'HTTP', targetPort: 8080 }] }),
  },
  {
    it: 'warns about a TCP port without addresses under resolution NONE',
    code: 'EW114',
    verdict: 'warns',
    path: 'spec.ports[0]',
    obj: () => se({ resolution: 'NONE', ports: [tcp()] }),
    message: 'addresses are required for ports serving TCP (or unset) protocol without IP autoallocation',
  },
  {
    it: 'warns about an unset protocol without addresses under resolution NONE',
    code: 'EW114',
    verdict: 'warns',
    obj: () => se({ resolution: 'NONE', ports: [{ name: 'db', number: 5432 }] }),
  },
  {
    it: 'warns under DNS resolution when the entry opts out of IP auto-allocation',
    code: 'EW114',
    verdict: 'warns',
    obj: () => se({ ports: [tcp()] }, { labels: { 'networking.istio.io/enable-autoallocate-ip': 'False' } }),
  },
  {
    it: 'does not warn under DNS resolution, where istiod auto-allocates an address',
    code: 'EW114',
    verdict: 'passes',
    obj: () => se({ ports: [tcp()] }),
  },
  {
    it: 'does not warn for lower-case "tcp", like istiod (its comparison is case-sensitive)',
    code: 'EW114',
    verdict: 'passes',
    obj: () => se({ resolution: 'NONE', ports: [tcp('tcp', 5432, 'tcp')] }),
  },
  {
    it: 'does not warn when the entry has addresses',
    code: 'EW114',
    verdict: 'passes',
    obj: () => se({ resolution: 'NONE', addresses: ['203.0.113.10'], ports: [tcp()] }),
  },
  {
    it: 'denies a port name that is not a DNS label',
    code: 'EW115',
    verdict: 'denies',
    path: 'spec.ports[0].name',
    obj: () => se({ ports: [tcp('http_alt', 80, 'HTTP')] }),
    message: 'invalid port name: http_alt',
  },
  { it: 'denies an empty port name', code: 'EW115', verdict: 'denies', obj: () => se({ ports: [{ number: 80, protocol: 'HTTP' }] }) },
  {
    it: 'accepts upper case port names, as istiod does',
    code: 'EW115',
    verdict: 'passes',
    obj: () => se({ ports: [tcp('HTTP-Web', 80, 'HTTP')] }),
  },
  {
    it: 'denies an unsupported protocol',
    code: 'EW116',
    verdict: 'denies',
    path: 'spec.ports[0].protocol',
    obj: () => se({ ports: [tcp('hbone', 15008, 'HBONE')] }),
    message: 'unsupported protocol: HBONE',
  },
  {
    it: 'accepts protocols in any case',
    code: 'EW116',
    verdict: 'passes',
    obj: () => se({ ports: [tcp('http', 80, 'http2'), tcp('https', 443, 'Https'), tcp('web', 81, 'GRPC-Web')] }),
  },

  // resolution NONE
  {
    it: 'denies endpoints with resolution NONE',
    code: 'EW117',
    verdict: 'denies',
    path: 'spec.endpoints',
    obj: () => se({ resolution: 'NONE', endpoints: [{ address: '203.0.113.10' }] }),
    message: 'no endpoints should be provided for resolution type none',
  },
  { it: 'accepts resolution NONE without endpoints', code: 'EW117', verdict: 'passes', obj: () => se({ resolution: 'NONE' }) },
  {
    it: 'warns about a workloadSelector with resolution NONE',
    code: 'EW118',
    verdict: 'warns',
    path: 'spec.workloadSelector',
    obj: () => se({ resolution: 'NONE', workloadSelector: { labels: { app: 'db' } } }),
  },
  {
    it: 'does not warn about a workloadSelector with resolution STATIC',
    code: 'EW118',
    verdict: 'passes',
    obj: () => se({ resolution: 'STATIC', workloadSelector: { labels: { app: 'db' } } }),
  },

  // STATIC endpoints
  {
    it: 'denies a null STATIC endpoint',
    code: 'EW119',
    verdict: 'denies',
    path: 'spec.endpoints[0]',
    obj: () => staticEntry({ endpoints: [null] }),
  },
  {
    it: 'denies a STATIC endpoint that is a name',
    code: 'EW120',
    verdict: 'denies',
    path: 'spec.endpoints[0].address',
    obj: () => staticEntry({ endpoints: [{ address: 'db.example.com' }] }),
    message: 'endpoint address "db.example.com" is not a valid IP address',
  },
  {
    it: 'denies a STATIC endpoint without address or network',
    code: 'EW120',
    verdict: 'denies',
    obj: () => staticEntry({ endpoints: [{}] }),
    message: 'address is required',
  },
  {
    it: 'denies a unix socket endpoint that is not an absolute path',
    code: 'EW120',
    verdict: 'denies',
    obj: () => staticEntry({ endpoints: [{ address: 'unix://run/db.sock' }] }),
    message: 'run/db.sock is not an absolute path to a file',
  },
  {
    it: 'denies an empty unix socket path',
    code: 'EW120',
    verdict: 'denies',
    obj: () => staticEntry({ endpoints: [{ address: 'unix://' }] }),
    message: 'unix address must not be empty',
  },
  {
    it: 'accepts IP, absolute and abstract unix socket endpoints',
    code: 'EW120',
    verdict: 'passes',
    obj: () => staticEntry({ endpoints: [{ address: '203.0.113.10' }, { address: 'unix:///run/db.sock' }, { address: 'unix://@db' }] }),
  },
  {
    it: 'warns about an endpoint with a network but no address',
    code: 'EW121',
    verdict: 'warns',
    path: 'spec.endpoints[0].address',
    obj: () => staticEntry({ endpoints: [{ network: 'net-2' }] }),
    message: 'address is unset with network "net-2"',
  },
  {
    it: 'does not warn about an endpoint with an address and a network',
    code: 'EW121',
    verdict: 'passes',
    obj: () => staticEntry({ endpoints: [{ address: '203.0.113.10', network: 'net-2' }] }),
  },
  {
    it: 'denies ports on a unix socket endpoint',
    code: 'EW122',
    verdict: 'denies',
    path: 'spec.endpoints[0].ports',
    obj: () => staticEntry({ endpoints: [{ address: 'unix:///run/db.sock', ports: { tcp: 5432 } }] }),
  },
  {
    it: 'denies a unix socket endpoint on an entry with two ports',
    code: 'EW122',
    verdict: 'denies',
    path: 'spec.endpoints[0]',
    obj: () => staticEntry({ ports: [tcp(), tcp('tcp-2', 5433)], endpoints: [{ address: 'unix:///run/db.sock' }] }),
    message: 'exactly 1 service port required for unix endpoints',
  },
  {
    it: 'accepts a unix socket endpoint on an entry with one port',
    code: 'EW122',
    verdict: 'passes',
    obj: () => staticEntry({ endpoints: [{ address: 'unix:///run/db.sock' }] }),
  },
  {
    it: 'denies an endpoint port the entry does not declare, naming its number as istiod does',
    code: 'EW123',
    verdict: 'denies',
    path: 'spec.endpoints[0].ports[postgres]',
    obj: () => staticEntry({ endpoints: [{ address: '203.0.113.10', ports: { postgres: 15432 } }] }),
    message: 'endpoint port 15432 is not defined by the service entry',
  },
  {
    it: 'denies an endpoint port number out of range',
    code: 'EW123',
    verdict: 'denies',
    obj: () => staticEntry({ endpoints: [{ address: '203.0.113.10', ports: { tcp: 0 } }] }),
    message: 'port number 0 must be in the range 1..65535',
  },
  {
    it: 'accepts an endpoint port mapping a declared port',
    code: 'EW123',
    verdict: 'passes',
    obj: () => staticEntry({ endpoints: [{ address: '203.0.113.10', ports: { tcp: 15432 } }] }),
  },
  {
    it: 'denies an invalid endpoint label key',
    code: 'EW124',
    verdict: 'denies',
    path: 'spec.endpoints[0].labels',
    obj: () => staticEntry({ endpoints: [{ address: '203.0.113.10', labels: { 'bad key': 'x' } }] }),
    message: 'invalid tag key: "bad key"',
  },
  {
    it: 'denies an invalid endpoint label value',
    code: 'EW124',
    verdict: 'denies',
    obj: () => staticEntry({ endpoints: [{ address: '203.0.113.10', labels: { app: 'not ok' } }] }),
    message: 'invalid tag value: "not ok"',
  },
  {
    it: 'accepts prefixed label keys and empty label values',
    code: 'EW124',
    verdict: 'passes',
    obj: () => staticEntry({ endpoints: [{ address: '203.0.113.10', labels: { 'topology.kubernetes.io/zone': 'eu-1a', tier: '' } }] }),
  },

  // DNS
  {
    it: 'denies a wildcard host under DNS resolution without endpoints',
    code: 'EW125',
    verdict: 'denies',
    path: 'spec.hosts[0]',
    obj: () => se({ hosts: ['*.example.com'] }),
    message:
      'hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode DNS, domain name "*.example.com" invalid (label "*" invalid)',
  },
  {
    it: 'accepts a wildcard host under DNS resolution with an endpoint',
    code: 'EW125',
    verdict: 'passes',
    obj: () => se({ hosts: ['*.example.com'], endpoints: [{ address: 'proxy.example.com' }] }),
  },
  {
    it: 'denies more than one endpoint under DNS_ROUND_ROBIN',
    code: 'EW126',
    verdict: 'denies',
    path: 'spec.endpoints',
    obj: () => se({ resolution: 'DNS_ROUND_ROBIN', endpoints: [{ address: 'a.example.com' }, { address: 'b.example.com' }] }),
  },
  {
    it: 'accepts one endpoint under DNS_ROUND_ROBIN',
    code: 'EW126',
    verdict: 'passes',
    obj: () => se({ resolution: 'DNS_ROUND_ROBIN', endpoints: [{ address: 'a.example.com' }] }),
  },
  {
    it: 'denies a DNS endpoint that is neither an IP nor a name',
    code: 'EW120',
    verdict: 'denies',
    path: 'spec.endpoints[0].address',
    obj: () => se({ endpoints: [{ address: 'unix:///run/x.sock' }] }),
    message: 'endpoint address "unix:///run/x.sock" is not a valid FQDN or an IP address',
  },
  {
    it: 'accepts DNS endpoints that are names or IPs',
    code: 'EW120',
    verdict: 'passes',
    obj: () => se({ endpoints: [{ address: 'eu.httpbin.org' }, { address: '203.0.113.7' }] }),
  },
  {
    it: 'denies an undeclared port on a DNS endpoint',
    code: 'EW123',
    verdict: 'denies',
    obj: () => se({ endpoints: [{ address: 'eu.httpbin.org', ports: { grpc: 9000 } }] }),
  },
  {
    it: 'warns about DNS with addresses, a TCP-class port and several hosts',
    code: 'EW127',
    verdict: 'warns',
    path: 'spec.hosts',
    obj: () => se({ hosts: ['a.example.com', 'b.example.com'], addresses: ['203.0.113.10'], ports: [tcp('https', 443, 'HTTPS')] }),
  },
  {
    it: 'does not warn about DNS with addresses and one host',
    code: 'EW127',
    verdict: 'passes',
    obj: () => se({ addresses: ['203.0.113.10'], ports: [tcp('https', 443, 'HTTPS')] }),
  },

  // DYNAMIC_DNS
  {
    it: 'denies a DYNAMIC_DNS host that is not wildcarded',
    code: 'EW128',
    verdict: 'denies',
    path: 'spec.hosts[0]',
    obj: () => se({ resolution: 'DYNAMIC_DNS', ports: [tcp('https', 443, 'TLS')] }),
    message: 'host must be wildcarded for resolution mode DYNAMIC_DNS',
  },
  {
    it: 'accepts a wildcard DYNAMIC_DNS host',
    code: 'EW128',
    verdict: 'passes',
    obj: () => se({ resolution: 'DYNAMIC_DNS', hosts: ['*.httpbin.org'], ports: [tcp('https', 443, 'TLS')] }),
  },
  {
    it: 'denies addresses under DYNAMIC_DNS',
    code: 'EW129',
    verdict: 'denies',
    path: 'spec.addresses',
    obj: () => se({ resolution: 'DYNAMIC_DNS', hosts: ['*.httpbin.org'], addresses: ['203.0.113.10'], ports: [tcp('https', 443, 'TLS')] }),
  },
  {
    it: 'denies endpoints under DYNAMIC_DNS',
    code: 'EW129',
    verdict: 'denies',
    path: 'spec.endpoints',
    obj: () =>
      se({
        resolution: 'DYNAMIC_DNS',
        hosts: ['*.httpbin.org'],
        endpoints: [{ address: 'a.httpbin.org' }],
        ports: [tcp('https', 443, 'TLS')],
      }),
  },
  {
    it: 'accepts DYNAMIC_DNS without addresses or endpoints',
    code: 'EW129',
    verdict: 'passes',
    obj: () => se({ resolution: 'DYNAMIC_DNS', hosts: ['*.httpbin.org'] }),
  },
  {
    it: 'denies a TCP port under DYNAMIC_DNS',
    code: 'EW130',
    verdict: 'denies',
    path: 'spec.ports[0].protocol',
    obj: () => se({ resolution: 'DYNAMIC_DNS', hosts: ['*.httpbin.org'], ports: [tcp()] }),
  },
  {
    it: 'denies an unset protocol under DYNAMIC_DNS',
    code: 'EW130',
    verdict: 'denies',
    obj: () => se({ resolution: 'DYNAMIC_DNS', hosts: ['*.httpbin.org'], ports: [{ name: 'web', number: 80 }] }),
  },
  {
    it: 'accepts HTTP and TLS ports under DYNAMIC_DNS',
    code: 'EW130',
    verdict: 'passes',
    obj: () => se({ resolution: 'DYNAMIC_DNS', hosts: ['*.httpbin.org'], ports: [tcp('http', 80, 'HTTP'), tcp('tls', 443, 'TLS')] }),
  },
  {
    it: 'denies DYNAMIC_DNS with MESH_INTERNAL on a waypoint',
    code: 'EW131',
    verdict: 'denies',
    path: 'spec.location',
    obj: () =>
      se(
        { resolution: 'DYNAMIC_DNS', hosts: ['*.httpbin.org'], location: 'MESH_INTERNAL' },
        { labels: { 'istio.io/use-waypoint': 'waypoint' } },
      ),
  },
  {
    it: 'accepts DYNAMIC_DNS with MESH_INTERNAL when the waypoint is "none"',
    code: 'EW131',
    verdict: 'passes',
    obj: () =>
      se(
        { resolution: 'DYNAMIC_DNS', hosts: ['*.httpbin.org'], location: 'MESH_INTERNAL' },
        { labels: { 'istio.io/use-waypoint': 'none' } },
      ),
  },
  {
    it: 'accepts DYNAMIC_DNS with MESH_INTERNAL when the waypoint label is "None" or "NONE" (usesWaypoint compares with EqualFold)',
    code: 'EW131',
    verdict: 'passes',
    obj: () =>
      se(
        { resolution: 'DYNAMIC_DNS', hosts: ['*.httpbin.org'], location: 'MESH_INTERNAL' },
        { labels: { 'istio.io/use-waypoint': 'NONE' } },
      ),
  },
  {
    it: 'accepts DYNAMIC_DNS with MESH_INTERNAL when the waypoint label is empty (usesWaypoint: val != "")',
    code: 'EW131',
    verdict: 'passes',
    obj: () =>
      se({ resolution: 'DYNAMIC_DNS', hosts: ['*.httpbin.org'], location: 'MESH_INTERNAL' }, { labels: { 'istio.io/use-waypoint': '' } }),
  },
  {
    it: 'denies an unknown resolution',
    code: 'EW132',
    verdict: 'denies',
    path: 'spec.resolution',
    obj: () => se({ resolution: 'DNS_CACHED' }),
    message: 'unsupported resolution type DNS_CACHED',
  },

  // several hosts
  {
    it: 'denies several hosts with a TCP port when the entry resolves',
    code: 'EW133',
    verdict: 'denies',
    path: 'spec.ports[0].protocol',
    obj: () => se({ hosts: ['a.example.com', 'b.example.com'], ports: [tcp()] }),
    message: 'multiple hosts provided with non-HTTP, non-TLS ports',
  },
  {
    it: 'denies several hosts with an unset protocol (sniffed is not HTTP)',
    code: 'EW133',
    verdict: 'denies',
    obj: () => se({ hosts: ['a.example.com', 'b.example.com'], ports: [{ name: 'web', number: 80 }] }),
  },
  {
    it: 'accepts several hosts on HTTP and TLS ports',
    code: 'EW133',
    verdict: 'passes',
    obj: () => se({ hosts: ['a.example.com', 'b.example.com'] }),
  },
  {
    it: 'accepts several hosts with a TCP port under resolution NONE',
    code: 'EW133',
    verdict: 'passes',
    obj: () => se({ resolution: 'NONE', hosts: ['a.example.com', 'b.example.com'], addresses: ['203.0.113.10'], ports: [tcp()] }),
  },

  // exportTo
  {
    it: 'denies exportTo mixing "*" with a namespace',
    code: 'EW134',
    verdict: 'denies',
    path: 'spec.exportTo',
    obj: () => se({ exportTo: ['*', 'billing'] }),
    message: 'cannot have both public (*) and non-public exportTo values for a resource',
  },
  {
    it: 'denies "." after the own namespace in exportTo',
    code: 'EW134',
    verdict: 'denies',
    path: 'spec.exportTo[1]',
    obj: () => se({ exportTo: ['shop', '.'] }),
    message: 'duplicate entries in exportTo: . and current namespace shop',
  },
  {
    it: 'denies exportTo to no one and someone',
    code: 'EW134',
    verdict: 'denies',
    obj: () => se({ exportTo: ['~', 'billing'] }),
    message: 'cannot export service entry to no one (~) and someone',
  },
  {
    it: 'denies an exportTo entry that is not a namespace name',
    code: 'EW134',
    verdict: 'denies',
    path: 'spec.exportTo[0]',
    obj: () => se({ exportTo: ['bad_ns'] }),
    message: 'only .,*, or a valid DNS 1123 label is allowed as exportTo entry',
  },
  { it: 'accepts exportTo "~" on a ServiceEntry', code: 'EW134', verdict: 'passes', obj: () => se({ exportTo: ['~'] }) },
  {
    it: 'accepts exportTo to its own and other namespaces',
    code: 'EW134',
    verdict: 'passes',
    obj: () => se({ exportTo: ['.', 'billing'] }),
  },
];

ruleCases(SE, cases, run);

/**
 * Ports on the sidecar's own listeners, from istiod's listener building (pilot/pkg/model/context.go
 * conflictWithReservedListener, pilot/pkg/networking/core/listener.go buildSidecarOutboundListeners
 * and buildSidecarOutboundListener): skipped when HTTP, unchecked (and refused by Envoy) on 0.0.0.0.
 */
const none = (ports: unknown[], extra: Record<string, unknown> = {}) =>
  se({ hosts: ['db.example.com'], resolution: 'NONE', ports, ...extra });
const listenerCases: Case[] = [
  {
    it: 'conflictWithReservedListener: warns that sidecars skip an HTTP port on 15021',
    code: 'EW409',
    verdict: 'warns',
    path: 'spec.ports[1].number',
    obj: () =>
      se({
        ports: [
          { name: 'http', number: 80, protocol: 'HTTP' },
          { name: 'http-health', number: 15021, protocol: 'HTTP' },
        ],
      }),
    message: 'sidecars skip HTTP port 15021: it is their own health check listener',
  },
  {
    it: 'conflictWithReservedListener: an HTTP port is skipped even with addresses',
    code: 'EW409',
    verdict: 'warns',
    obj: () => none([{ name: 'grpc', number: 15090, protocol: 'GRPC' }], { addresses: ['203.0.113.7'] }),
  },
  { it: 'conflictWithReservedListener: no warning for ordinary ports', code: 'EW409', verdict: 'passes', obj: () => se({}) },
  {
    it: 'buildSidecarOutboundListener: denies a TCP port 15001 on a NONE entry without addresses',
    code: 'EW410',
    verdict: 'denies',
    path: 'spec.ports[0].number',
    obj: () => none([tcp('tcp', 15001)]),
    message: "0.0.0.0:15001 is the sidecar's outbound capture listener; every sidecar that sees this entry rejects its listeners",
  },
  {
    it: 'buildSidecarOutboundListener: denies an unset-protocol port 15006 behind a CIDR address',
    code: 'EW410',
    verdict: 'denies',
    obj: () => none([{ name: 'db', number: 15006 }], { addresses: ['10.80.68.0/29'] }),
  },
  {
    it: 'buildSidecarOutboundListener: accepts a TCP port 15001 on single-IP addresses (its own listener address)',
    code: 'EW410',
    verdict: 'passes',
    obj: () => none([tcp('tcp', 15001)], { addresses: ['203.0.113.7', '203.0.113.8/32'] }),
  },
  {
    it: 'buildSidecarOutboundListener: accepts a TCP port 15090 on a DNS entry (given an address by auto-allocation)',
    code: 'EW410',
    verdict: 'passes',
    obj: () => se({ hosts: ['db.example.com'], resolution: 'DNS', ports: [tcp('tcp', 15090)] }),
  },
  {
    it: 'buildSidecarOutboundListener: accepts a TCP port 15001 on an entry exported to no one',
    code: 'EW410',
    verdict: 'passes',
    obj: () => none([tcp('tcp', 15001)], { exportTo: ['~'] }),
  },
  {
    it: 'buildSidecarOutboundListener: ports Envoy does not listen on (15020, 15053) are left alone',
    code: 'EW410',
    verdict: 'passes',
    obj: () => none([tcp('tcp', 15020), tcp('dns', 15053)]),
  },
];
ruleCases(SE, listenerCases, run);

SE('accepts the canonical fixture with no findings', () => {
  clean(run(base()));
});

SE('accepts the ServiceEntries the API server sent in the recorded reviews', () => {
  for (const name of [
    '003-validate-create-serviceentry.review-v1.json',
    '005-validate-update-serviceentry.review-v1.json',
    '006-validate-create-serviceentry.review-v1.json',
  ]) {
    const review = fixture<{ review: { request: { object: KubeObject } } }>(`reviews/${name}`);
    accepts(run(review.review.request.object));
  }
});

SE('stops at a rejected annotation, reporting nothing else (like istiod)', () => {
  const r = run(se({ hosts: [] }, { annotations: { 'istio.io/dry-run': 'true' } }));
  assert.equal(
    r.errors.map((e) => e.code),
    ['EW101'],
  );
});

SE('stops at a bad workloadSelector, reporting nothing else (like istiod)', () => {
  const r = run(se({ hosts: [], workloadSelector: { labels: { app: '*', '': 'x' } } }));
  assert.equal(new Set(r.errors.map((e) => e.code)), new Set(['EW102']));
  assert.is(r.errors.length, 2);
});

SE('reports only the first host that is not an FQDN under DNS resolution', () => {
  const r = run(se({ hosts: ['*.a.example.com', '*.b.example.com'] }));
  assert.is(r.errors.filter((e) => e.code === 'EW125').length, 1);
});

SE('warns once per TCP port without addresses', () => {
  const r = run(se({ resolution: 'NONE', ports: [tcp(), tcp('tcp-2', 5433)] }));
  assert.equal(
    r.warnings.filter((w) => w.code === 'EW114').map((w) => w.path),
    ['spec.ports[0]', 'spec.ports[1]'],
  );
});

SE('survives malformed specs without throwing', () => {
  for (const spec of [
    null,
    'x',
    { hosts: 'a', ports: {}, endpoints: 'x' },
    { hosts: [1, null], ports: [1, 'x'], addresses: [null], exportTo: [3] },
  ]) {
    const r = run({ ...base(), spec });
    assert.ok(r.errors.length > 0);
  }
});

/** What the API server sends for `{"toString": 1}`: String() and template literals throw on it. */
const odd = (): unknown => JSON.parse('{"toString":1,"valueOf":1}');

SE('reports fields holding objects, even ones with their own toString, instead of failing', () => {
  const r = run(
    se({
      resolution: 'STATIC',
      hosts: [odd()],
      addresses: [odd()],
      ports: [
        { name: odd(), number: odd(), protocol: odd(), targetPort: odd() },
        { name: 'tcp', number: odd() },
      ],
      endpoints: [
        { address: odd(), ports: { tcp: odd() }, labels: { app: odd() } },
        { address: '203.0.113.9', ports: { db: odd() } },
      ],
    }),
  );
  const says = (path: string) => r.errors.filter((e) => e.path === path).map((e) => `[${e.code}] ${e.message}`);
  assert.equal(says('spec.hosts[0]'), ['[EW106] host must be a string, got an object']);
  assert.equal(says('spec.addresses[0]'), ['[EW108] address must be a string, got an object']);
  assert.equal(says('spec.ports[0].name'), ['[EW115] port name must be a string, got an object']);
  assert.equal(says('spec.ports[0].protocol'), ['[EW116] protocol must be a string, got an object']);
  assert.equal(says('spec.ports[0].targetPort'), ['[EW113] port number must be an integer, got an object']);
  assert.equal(says('spec.ports[0].number'), ['[EW113] port number must be an integer, got an object']);
  assert.equal(says('spec.endpoints[0].address'), ['[EW120] endpoint address must be a string, got an object']);
  assert.equal(says('spec.endpoints[0].ports[tcp]'), ['[EW123] port number must be an integer, got an object']);
  assert.equal(says('spec.endpoints[0].labels'), ['[EW124] invalid tag value for "app": must be a string, got an object']);
  assert.equal(says('spec.endpoints[1].ports[db]'), [
    '[EW123] endpoint port an object is not defined by the service entry',
    '[EW123] port number must be an integer, got an object',
  ]);
});

SE('reports a repeated port number of the wrong type with its type', () => {
  const r = run(
    se({
      ports: [
        { name: 'a', number: '80', protocol: 'HTTP' },
        { name: 'b', number: '80', protocol: 'HTTP' },
      ],
    }),
  );
  assert.is(message(r, 'EW112'), 'service entry port string "80" already defined');
});

SE('reports a workloadSelector label value that is not a string', () => {
  const r = run(se({ resolution: 'STATIC', workloadSelector: { labels: { app: odd() } } }));
  assert.equal(r.errors, [
    { code: 'EW102', path: 'spec.workloadSelector.labels[app]', message: 'selector label "app" must have a string value, got an object' },
  ]);
});

SE('reports a resolution that is not a string', () => {
  const r = run(se({ resolution: odd() }));
  assert.is(message(r, 'EW132'), 'unsupported resolution type an object');
});

SE('denies a rejected annotation when metadata.namespace is not a string', () => {
  const r = run(se({}, { namespace: odd() as string, annotations: { 'istio.io/dry-run': 'true' } }));
  assert.is(message(r, 'EW101'), 'unsupported annotation istio.io/dry-run, please remove the annotation');
});

SE('the rule judges a ServiceEntry with 100,000 ports without failing', () => {
  const ports = Array.from({ length: 100_000 }, (_, i) => ({ name: `tcp-${i}`, number: 1 + (i % 65_535), protocol: 'TCP' }));
  const r = validateServiceEntry(se({ resolution: 'NONE', ports }), { snapshot: snapshotWith(), namespace: 'shop', operation: 'CREATE' });
  assert.is(r.errors.filter((e) => e.code === 'EW112').length, 100_000 - 65_535);
  // the four sidecar listener ports appear twice each, on 0.0.0.0 (NONE without addresses)
  assert.is(r.errors.filter((e) => e.code === 'EW410').length, 8);
  assert.ok(r.errors.every((e) => e.code === 'EW112' || e.code === 'EW410'));
  assert.is(r.warnings.filter((w) => w.code === 'EW114').length, 100_000);
});

SE('refuses a ServiceEntry with more ports than any mesh accepts with one finding, before the rules run', () => {
  const ports = Array.from({ length: 100_000 }, (_, i) => ({ name: `tcp-${i}`, number: 1 + (i % 65_535), protocol: 'TCP' }));
  const v = judge({ ...review, object: se({ resolution: 'NONE', ports }) }, snapshotWith());
  assert.is(v.code, 403);
  assert.is(
    v.message,
    '[EW001] spec.ports: a list of 100,000 items is longer than any the mesh accepts (at most 4,096 are reviewed) (egress-warden help EW001)',
  );
  assert.equal(v.warnings, []);
});

SE('folds a finding repeated at many paths into one line with a count', () => {
  const ports = Array.from({ length: 4_000 }, () => ({ name: 'tls', number: 443, protocol: 'TLS' }));
  const v = judge({ ...review, object: se({ resolution: 'NONE', addresses: ['10.0.0.1'], ports }) }, snapshotWith());
  assert.is(
    v.message,
    [
      '[EW111] spec.ports[1].name: service entry port name "tls" already defined (and at 3,998 more paths) (egress-warden help EW111)',
      '[EW112] spec.ports[1].number: service entry port 443 already defined (and at 3,998 more paths) (egress-warden help EW112)',
    ].join('\n'),
  );
});

SE('has a test case for every EW1xx code', () => {
  const tested = new Set(cases.map((c) => c.code));
  for (const code of CODES.filter((c) => c.startsWith('EW1'))) assert.ok(tested.has(code), `no test for ${code}`);
});

SE.run();
