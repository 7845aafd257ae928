/**
 * Every finding code, once: its severity, a one-line title, what it means and how to fix it.
 * Rules and capture name a code and get its severity from here; docs/codes.md is generated from
 * this table (npm run docs), so the reference cannot drift from the code.
 */
export type Severity = 'error' | 'warning';

export type FindingSpec = {
  readonly severity: Severity;
  /** one line, lowercase: what was found */
  readonly title: string;
  /** markdown: what the finding means and why it matters */
  readonly meaning: string;
  /** markdown: what to change */
  readonly fix: string;
};

export const FINDINGS = {
  EW000: {
    severity: 'error',
    title: 'a rule threw while judging the object',
    meaning: 'A rule failed with an internal error (a bug) instead of judging the object. The webhook denies the object with HTTP code 500 and names the rule; `egress-warden check` reports it as this error.',
    fix: 'Report the bug with the message and the object that triggers it.',
  },
  EW001: {
    severity: 'error',
    title: 'the object is far larger than anything the mesh accepts; it was not reviewed',
    meaning: 'A list in the spec holds more than 4,096 items (the longest list any Istio CRD accepts), a string is longer than 64 KiB, or the spec holds more than 250,000 values. Istio\'s own CRDs accept at most 256 hosts, addresses and ports and 4096 endpoints in a ServiceEntry, and names of at most 256 characters, so no object this large can be a working configuration. The webhook refuses it without running the rules, so that one object cannot stall or exhaust the webhook for every other write (see [reliability](reliability.md#bounded-work-per-review)).',
    fix: 'Split the object, or remove the repeated items; the message names the first list or string over the limit.',
  },
  EW101: {
    severity: 'error',
    title: 'annotation istiod rejects on a ServiceEntry (istio.io/dry-run, internal.istio.io/*)',
    meaning: 'Annotation istiod rejects (`istio.io/dry-run`, `internal.istio.io/webhook-always-reject`, `internal.istio.io/parent-namespace`, `internal.istio.io/parents`); nothing else is checked.',
    fix: 'Remove the annotation: istiod refuses any object that carries it.',
  },
  EW102: {
    severity: 'error',
    title: 'workloadSelector label with an empty key, a wildcard or a value that is not a string',
    meaning: '`workloadSelector` label with an empty key, a `*`, or a value that is not a string; nothing else is checked.',
    fix: 'Give every workloadSelector label a non-empty key without `*` and a string value.',
  },
  EW103: {
    severity: 'warning',
    title: 'workloadSelector without labels selects every workload in the namespace',
    meaning: '`workloadSelector` without labels applies to every workload in the namespace.',
    fix: 'Add labels to the workloadSelector, or remove the selector if the entry is meant for every workload.',
  },
  EW104: {
    severity: 'error',
    title: 'workloadSelector and endpoints are both set',
    meaning: '`workloadSelector` and `endpoints` are both set.',
    fix: 'Keep either workloadSelector or endpoints, not both.',
  },
  EW105: {
    severity: 'error',
    title: 'no hosts',
    meaning: 'No `hosts`.',
    fix: 'Add at least one host.',
  },
  EW106: {
    severity: 'error',
    title: 'host is "*", not a string or not a valid (wildcard) domain name',
    meaning: 'Host is `*`, not a string, or not a valid domain name (a wildcard is allowed only as the first label; upper case and a trailing dot are allowed; the top-level domain cannot be all digits).',
    fix: 'Write a domain name such as `api.example.com` or `*.example.com`; `*` alone is not allowed.',
  },
  EW107: {
    severity: 'warning',
    title: 'partial wildcard host such as "*foo.com"',
    meaning: 'Partial wildcard host such as `*foo.com` (not reported for `DYNAMIC_DNS`).',
    fix: 'Use a whole leading wildcard label (`*.example.com`) or the exact host.',
  },
  EW108: {
    severity: 'error',
    title: 'address is not a string holding a valid IP or CIDR',
    meaning: 'Address is not a string holding an IP or CIDR (Go syntax: no leading zeros; host bits may be set).',
    fix: 'Write an IP address or CIDR in Go syntax (`203.0.113.7`, `203.0.113.0/24`), without leading zeros.',
  },
  EW109: {
    severity: 'error',
    title: 'CIDR address with a resolution other than NONE or STATIC',
    meaning: 'CIDR address with a resolution other than `NONE` or `STATIC`.',
    fix: 'Set resolution to NONE or STATIC, or replace the CIDR with single addresses.',
  },
  EW110: {
    severity: 'error',
    title: 'null port',
    meaning: 'Null port.',
    fix: 'Remove the empty entry from `ports`.',
  },
  EW111: {
    severity: 'error',
    title: 'port name already defined',
    meaning: 'Port name already defined.',
    fix: 'Give each port its own name.',
  },
  EW112: {
    severity: 'error',
    title: 'port number already defined',
    meaning: 'Port number already defined.',
    fix: 'Declare each port number once.',
  },
  EW113: {
    severity: 'error',
    title: 'port number or targetPort that is not an integer in 1..65535',
    meaning: '`number` or `targetPort` not an integer in 1..65535.',
    fix: 'Use an integer from 1 to 65535.',
  },
  EW114: {
    severity: 'warning',
    title: 'TCP or unset-protocol port without addresses where IP auto-allocation does not apply',
    meaning: 'A `TCP` or unset-protocol port without `addresses` where istiod cannot auto-allocate one (resolution `NONE`, or label `networking.istio.io/enable-autoallocate-ip: "false"`). As in istiod, only the exact string `TCP` counts.',
    fix: 'Add `addresses`, or let istiod auto-allocate one (resolution other than NONE, auto-allocation enabled).',
  },
  EW115: {
    severity: 'error',
    title: 'port name is not a string holding a DNS-1123 label',
    meaning: 'Port name is not a string holding a DNS-1123 label (upper case is allowed, as in istiod).',
    fix: 'Name the port with lowercase letters, digits and `-` (a DNS-1123 label), such as `https-api`.',
  },
  EW116: {
    severity: 'error',
    title: 'unsupported protocol, or a protocol that is not a string',
    meaning: 'Unsupported protocol, or one that is not a string (valid ones, in any case: HTTP, HTTPS, HTTP2, HTTP_PROXY, GRPC, GRPC-Web, TCP, TLS, UDP, Mongo, Redis, MySQL).',
    fix: 'Use one of HTTP, HTTPS, HTTP2, HTTP_PROXY, GRPC, GRPC-Web, TCP, TLS, UDP, Mongo, Redis, MySQL.',
  },
  EW117: {
    severity: 'error',
    title: 'endpoints with resolution NONE',
    meaning: '`endpoints` with resolution `NONE`.',
    fix: 'Remove the endpoints, or set resolution to STATIC or DNS.',
  },
  EW118: {
    severity: 'warning',
    title: 'workloadSelector with resolution NONE',
    meaning: '`workloadSelector` with resolution `NONE`.',
    fix: 'Use resolution STATIC with the workloadSelector, or remove the selector.',
  },
  EW119: {
    severity: 'error',
    title: 'null endpoint',
    meaning: 'Null endpoint.',
    fix: 'Remove the empty entry from `endpoints`.',
  },
  EW120: {
    severity: 'error',
    title: 'endpoint address missing, not a string, not an IP (STATIC), not an IP or FQDN (DNS), or a bad unix socket',
    meaning: 'Endpoint address: missing, not a string, not an IP (`STATIC`), not an IP or FQDN (`DNS`), or a `unix://` path that is not absolute.',
    fix: 'Give each endpoint an IP (STATIC), an IP or FQDN (DNS), or an absolute `unix://` path.',
  },
  EW121: {
    severity: 'warning',
    title: 'endpoint without address but with a network',
    meaning: 'Endpoint has a `network` but no `address`.',
    fix: 'Add the endpoint `address`, or remove its `network`.',
  },
  EW122: {
    severity: 'error',
    title: 'unix socket endpoint with ports, or with other than exactly one service port',
    meaning: '`unix://` endpoint with `ports`, or on an entry that does not have exactly one port.',
    fix: 'Give a `unix://` endpoint no `ports`, on an entry with exactly one port.',
  },
  EW123: {
    severity: 'error',
    title: 'endpoint port name not declared by the entry, or invalid port name or number',
    meaning: 'Endpoint `ports` key not declared by the entry, or an invalid port name or number.',
    fix: 'Key endpoint `ports` by a port name the entry declares, with a number in 1..65535.',
  },
  EW124: {
    severity: 'error',
    title: 'invalid endpoint label key or value',
    meaning: 'Invalid endpoint label key or value.',
    fix: 'Use valid label keys and string values on the endpoint.',
  },
  EW125: {
    severity: 'error',
    title: 'DNS or DNS_ROUND_ROBIN without endpoints and a host that is not an FQDN (wildcards included)',
    meaning: '`DNS` or `DNS_ROUND_ROBIN` without endpoints, and a host that is not an FQDN (wildcards included; only the first such host is reported).',
    fix: 'Add endpoints, or make every host a fully qualified name without wildcards.',
  },
  EW126: {
    severity: 'error',
    title: 'DNS_ROUND_ROBIN with more than one endpoint',
    meaning: '`DNS_ROUND_ROBIN` with more than one endpoint.',
    fix: 'Keep one endpoint, or use resolution DNS.',
  },
  EW127: {
    severity: 'warning',
    title: 'DNS resolution with addresses, a TCP-class port and more than one host',
    meaning: '`DNS` with `addresses`, a TCP-class port and more than one host.',
    fix: 'Split the hosts into one ServiceEntry each, or give the port an HTTP or TLS protocol.',
  },
  EW128: {
    severity: 'error',
    title: 'DYNAMIC_DNS without hosts, or with a host that is not wildcarded',
    meaning: '`DYNAMIC_DNS` without hosts, or with a host that does not start with `*`.',
    fix: 'List hosts that start with `*`.',
  },
  EW129: {
    severity: 'error',
    title: 'DYNAMIC_DNS with addresses or endpoints',
    meaning: '`DYNAMIC_DNS` with `addresses` or `endpoints`.',
    fix: 'Remove `addresses` and `endpoints`: DYNAMIC_DNS resolves the host itself.',
  },
  EW130: {
    severity: 'error',
    title: 'DYNAMIC_DNS port whose protocol is not HTTP, TLS, GRPC or HTTP2',
    meaning: '`DYNAMIC_DNS` port whose protocol is not HTTP, TLS, GRPC or HTTP2 (an unset protocol is rejected too).',
    fix: 'Give every port the protocol HTTP, TLS, GRPC or HTTP2.',
  },
  EW131: {
    severity: 'error',
    title: 'DYNAMIC_DNS with location MESH_INTERNAL on a waypoint',
    meaning: '`DYNAMIC_DNS` with `location: MESH_INTERNAL` on a waypoint (label `istio.io/use-waypoint` other than `none`).',
    fix: 'Use location MESH_EXTERNAL, or a resolution other than DYNAMIC_DNS.',
  },
  EW132: {
    severity: 'error',
    title: 'unsupported resolution',
    meaning: 'Unsupported `resolution`.',
    fix: 'Use one of NONE, STATIC, DNS, DNS_ROUND_ROBIN, DYNAMIC_DNS.',
  },
  EW133: {
    severity: 'error',
    title: 'more than one host with a port that is neither HTTP-class nor HTTPS/TLS (resolution other than NONE)',
    meaning: 'Several hosts, a resolution other than `NONE`, and a port that is neither HTTP-class nor HTTPS/TLS (unset counts as neither). Only the Host header or SNI can tell the hosts apart.',
    fix: 'Give the port an HTTP-class or HTTPS/TLS protocol, or split the hosts into one ServiceEntry each.',
  },
  EW134: {
    severity: 'error',
    title: 'invalid exportTo',
    meaning: 'Invalid `exportTo`: repeated entry, `.` plus the own namespace, `*` with other entries, `~` with other entries, or an entry that is not `.`, `*`, `~` or a namespace name.',
    fix: 'List `.`, `*`, `~` or namespace names, each once, and `*` or `~` alone.',
  },
  EW201: {
    severity: 'error',
    title: 'annotation istiod rejects on a VirtualService (istio.io/dry-run, internal.istio.io/*)',
    meaning: 'Annotation istiod rejects (as EW101); nothing else is checked.',
    fix: 'Remove the annotation: istiod refuses any object that carries it.',
  },
  EW202: {
    severity: 'error',
    title: 'delegate VirtualService (no hosts) with gateways, tls or tcp routes',
    meaning: 'Delegate VirtualService (no `hosts`) with `gateways`, `tls` or `tcp`.',
    fix: 'Remove `gateways`, `tls` and `tcp` from the delegate, or give it hosts.',
  },
  EW203: {
    severity: 'error',
    title: 'invalid gateway reference, or one that is not a string',
    meaning: 'Invalid gateway reference, or one that is not a string (`namespace/name`, both DNS labels). As in istiod, the first entry without a `/` (such as `mesh`) ends the check.',
    fix: 'Write gateways as `namespace/name`, both DNS labels, or `mesh`.',
  },
  EW204: {
    severity: 'warning',
    title: 'legacy gateway reference "name.namespace"',
    meaning: 'Legacy `name.namespace` gateway reference.',
    fix: 'Write the gateway as `namespace/name`.',
  },
  EW205: {
    severity: 'error',
    title: 'host is not a string or not a valid (wildcard) domain name',
    meaning: 'Host is not a string or not a valid domain name (IP addresses and short names are accepted; a gateway-bound VirtualService with SNI matches also accepts `outbound_.<PORT>_._.<HOSTNAME>`).',
    fix: 'Write a domain name, a short name or an IP address.',
  },
  EW206: {
    severity: 'error',
    title: 'host "*" on a VirtualService bound to the mesh',
    meaning: 'Host `*` on a VirtualService bound to the mesh.',
    fix: 'Name the hosts, or bind the VirtualService to a gateway only.',
  },
  EW207: {
    severity: 'error',
    title: 'two hosts of the VirtualService overlap',
    meaning: 'Two hosts overlap (for example `*.example.com` and `api.example.com`).',
    fix: 'Keep one of the overlapping hosts, or split them into separate VirtualServices.',
  },
  EW208: {
    severity: 'error',
    title: 'none of http, tcp or tls is provided',
    meaning: 'None of `http`, `tcp` or `tls` is provided.',
    fix: 'Add at least one `http`, `tcp` or `tls` route.',
  },
  EW209: {
    severity: 'error',
    title: 'tls route without match',
    meaning: '`tls` route without `match`.',
    fix: 'Add a `match` with `sniHosts` to the tls route.',
  },
  EW210: {
    severity: 'error',
    title: 'null tls or tcp match',
    meaning: 'Null `tls` or `tcp` match.',
    fix: 'Remove the empty entry from `match`.',
  },
  EW211: {
    severity: 'error',
    title: 'tls match without sniHosts',
    meaning: '`tls` match without `sniHosts`.',
    fix: 'Add `sniHosts` to the tls match.',
  },
  EW212: {
    severity: 'warning',
    title: 'SNI host is an IP address',
    meaning: 'SNI host is an IP address.',
    fix: 'Match the SNI by host name: clients send names, not addresses, in SNI.',
  },
  EW213: {
    severity: 'error',
    title: 'SNI host is not a string or not a valid domain name',
    meaning: 'SNI host is not a string or not a valid domain name.',
    fix: 'Write the SNI host as a domain name.',
  },
  EW214: {
    severity: 'error',
    title: 'SNI host is not within any host of the VirtualService',
    meaning: 'SNI host is not within any host of the VirtualService (exact, or under a wildcard host; short names are not expanded).',
    fix: 'Add the SNI host to `hosts`, or use an SNI host within them.',
  },
  EW215: {
    severity: 'error',
    title: 'match destinationSubnets entry is not a string holding an IP or CIDR',
    meaning: '`destinationSubnets` entry is not a string holding an IP or CIDR.',
    fix: 'Write an IP address or CIDR.',
  },
  EW216: {
    severity: 'error',
    title: 'match port that is not an integer in 1..65535',
    meaning: 'Match `port` not an integer in 1..65535.',
    fix: 'Use an integer from 1 to 65535.',
  },
  EW217: {
    severity: 'error',
    title: 'invalid match sourceLabels or gateways',
    meaning: 'Invalid match `sourceLabels` or `gateways`.',
    fix: 'Use valid label keys and values, and gateways as `namespace/name`.',
  },
  EW218: {
    severity: 'error',
    title: 'tls or tcp route without destinations',
    meaning: '`tls` or `tcp` route without destinations.',
    fix: 'Add at least one destination to the route.',
  },
  EW219: {
    severity: 'error',
    title: 'invalid route destination (null, missing, weight not an integer, negative or all-zero weights)',
    meaning: 'Null route entry, missing `destination`, a `weight` that is not an integer or is negative, or several destinations all weighing 0.',
    fix: 'Give every route entry a `destination`, and weights that are non-negative integers, not all 0.',
  },
  EW220: {
    severity: 'error',
    title: 'invalid destination host, subset or port (or one that is not a string)',
    meaning: 'Destination host `*`, invalid or not a string, subset not a DNS label, or port outside 1..65535.',
    fix: 'Name a destination host (not `*`), a subset that is a DNS label, and a port in 1..65535.',
  },
  EW221: {
    severity: 'error',
    title: 'invalid exportTo',
    meaning: 'Invalid `exportTo` (as EW134, and `~` is not allowed).',
    fix: 'List `.`, `*` or namespace names, each once, and `*` alone.',
  },
  EW222: {
    severity: 'warning',
    title: 'tls or tcp rule or match that earlier rules make unreachable',
    meaning: 'A `tls`/`tcp` rule after a rule without matches, or a match that repeats an earlier one (istiod\'s "virtualService rule #N not used").',
    fix: 'Move the rule before the rule that matches everything, or drop the repeated match.',
  },
  EW301: {
    severity: 'error',
    title: 'matches[].apiGroup is not specs.smi-spec.io/v1alpha4 or policy.openservicemesh.io/v1alpha1 (OSM\'s check)',
    meaning: '`matches[].apiGroup` is not `specs.smi-spec.io/v1alpha4` or `policy.openservicemesh.io/v1alpha1`. OSM wants group/version here, not the bare group (OSM\'s check).',
    fix: 'Write `specs.smi-spec.io/v1alpha4` or `policy.openservicemesh.io/v1alpha1` (group and version).',
  },
  EW302: {
    severity: 'error',
    title: 'an SMI match (specs.smi-spec.io/v1alpha4) must be of kind HTTPRouteGroup (OSM\'s check)',
    meaning: 'An SMI match must be of kind `HTTPRouteGroup` (OSM\'s check).',
    fix: 'Set kind to HTTPRouteGroup.',
  },
  EW303: {
    severity: 'error',
    title: 'a policy match (policy.openservicemesh.io/v1alpha1) must be of kind UpstreamTrafficSetting (OSM\'s check)',
    meaning: 'A `policy.openservicemesh.io/v1alpha1` match must be of kind `UpstreamTrafficSetting` (OSM\'s check).',
    fix: 'Set kind to UpstreamTrafficSetting.',
  },
  EW304: {
    severity: 'error',
    title: 'more than one UpstreamTrafficSetting match (OSM\'s check)',
    meaning: 'More than one `UpstreamTrafficSetting` match (OSM\'s check).',
    fix: 'Keep one UpstreamTrafficSetting match.',
  },
  EW305: {
    severity: 'error',
    title: 'a match without apiGroup, kind or name',
    meaning: 'A match without `apiGroup`, `kind` or `name`.',
    fix: 'Give the match `apiGroup`, `kind` and `name`.',
  },
  EW310: {
    severity: 'error',
    title: 'spec.sources is missing or empty: the Egress applies to no client',
    meaning: '`spec.sources` is missing or empty, so the Egress allows no client.',
    fix: 'List the ServiceAccounts allowed out under `spec.sources`.',
  },
  EW311: {
    severity: 'error',
    title: 'a source whose kind is not ServiceAccount',
    meaning: 'A source whose `kind` is not `ServiceAccount`.',
    fix: 'Set the source kind to ServiceAccount.',
  },
  EW312: {
    severity: 'error',
    title: 'a source without a valid ServiceAccount name',
    meaning: 'A source without a valid ServiceAccount `name`.',
    fix: 'Name the ServiceAccount (a DNS subdomain).',
  },
  EW313: {
    severity: 'error',
    title: 'a source without a valid namespace',
    meaning: 'A source without a valid `namespace`.',
    fix: 'Name the ServiceAccount\'s namespace.',
  },
  EW320: {
    severity: 'error',
    title: 'spec.ports is missing or empty',
    meaning: '`spec.ports` is missing or empty.',
    fix: 'List at least one port under `spec.ports`.',
  },
  EW321: {
    severity: 'error',
    title: 'a port number that is not an integer in 1..65535',
    meaning: 'A port `number` that is not an integer in 1..65535.',
    fix: 'Use an integer from 1 to 65535.',
  },
  EW322: {
    severity: 'error',
    title: 'a protocol in the wrong case (OSM compares case-sensitively and silently ignores it)',
    meaning: 'The protocol has the wrong case (`HTTP`, `Tcp`). OSM compares protocols case-sensitively and silently builds nothing for such a port. The message gives the correct spelling.',
    fix: 'Write the protocol in lower case, as the message shows.',
  },
  EW323: {
    severity: 'error',
    title: 'a protocol missing or not one of http, https, tcp, tcp-server-first',
    meaning: 'The protocol is missing or is not one of `http`, `https`, `tcp`, `tcp-server-first`. `grpc` and anything else are ignored by OSM Egress.',
    fix: 'Use one of http, https, tcp, tcp-server-first.',
  },
  EW330: {
    severity: 'error',
    title: 'an IPv6 ipAddresses entry (OSM egress is IPv4-only)',
    meaning: 'An IPv6 `ipAddresses` entry: OSM\'s egress data plane matches IPv4 destinations only.',
    fix: 'Remove the IPv6 entry; OSM egress matches IPv4 only.',
  },
  EW331: {
    severity: 'error',
    title: 'an ipAddresses entry that is not an IPv4 CIDR (OSM drops it, which can open the port to every IP)',
    meaning: 'An `ipAddresses` entry that is not a strict IPv4 CIDR `a.b.c.d/n` (octet > 255, prefix > 32, a bare address, leading zeros, spaces). The CRD\'s unanchored pattern lets these through, and OSM then drops the entry. If no valid entry is left, the port opens to **every** IP.',
    fix: 'Write a strict IPv4 CIDR `a.b.c.d/n`, such as `203.0.113.0/24`.',
  },
  EW332: {
    severity: 'warning',
    title: 'an ipAddresses entry with host bits set',
    meaning: 'An `ipAddresses` entry with host bits set. `10.1.2.3/8` means `10.0.0.0/8`.',
    fix: 'Write the network address (`10.0.0.0/8`, not `10.1.2.3/8`).',
  },
  EW340: {
    severity: 'error',
    title: 'a host that is not a valid DNS name',
    meaning: 'A host that is not a valid DNS name, or a wildcard anywhere but a whole leading `*.` label.',
    fix: 'Write a DNS name, with a wildcard only as a whole leading `*.` label.',
  },
  EW341: {
    severity: 'error',
    title: 'an https host with a partial wildcard (Envoy rejects the listener)',
    meaning: 'A host with a partial wildcard (`api*.example.com`) on an Egress with an `https` port. Envoy rejects the listener: `partial wildcards are not supported in "server_names"`.',
    fix: 'Use a whole leading wildcard label (`*.example.com`) or list the hosts.',
  },
  EW342: {
    severity: 'warning',
    title: 'an http port without hosts: no routes, the port answers 404',
    meaning: 'An `http` port without `hosts`. OSM builds no routes, so the port answers 404.',
    fix: 'Add `hosts` to the Egress, or use protocol tcp with `ipAddresses`.',
  },
  EW343: {
    severity: 'warning',
    title: 'an HTTPRouteGroup match on an Egress with non-http ports, where it is ignored',
    meaning: 'An `HTTPRouteGroup` match on an Egress that has non-`http` ports. OSM applies route groups to `http` ports only and ignores them elsewhere.',
    fix: 'Move the HTTPRouteGroup match to an Egress with http ports only.',
  },
  EW344: {
    severity: 'warning',
    title: 'a referenced HTTPRouteGroup that does not exist',
    meaning: 'The referenced `HTTPRouteGroup` does not exist in the Egress\'s namespace. OSM logs it and the match allows nothing.',
    fix: 'Create the HTTPRouteGroup in the Egress\'s namespace, or fix the name.',
  },
  EW345: {
    severity: 'warning',
    title: 'hosts on an Egress with only tcp / tcp-server-first ports, where hosts are ignored',
    meaning: '`hosts` on an Egress with only `tcp` / `tcp-server-first` ports. OSM ignores hosts there; use `ipAddresses`.',
    fix: 'Use `ipAddresses` for tcp ports, or remove the hosts.',
  },
  EW401: {
    severity: 'warning',
    title: 'tls route for a host and port that a ServiceEntry declares HTTP, HTTP2 or GRPC: Istio ignores the route',
    meaning: '`tls` route for a host and port that a ServiceEntry declares HTTP, HTTP2 or GRPC. Istio applies `tls` routes only on HTTPS/TLS ports and ignores this one. A route without a port is reported when every port of the host is HTTP-class. Reported on the VirtualService and on the ServiceEntry.',
    fix: 'Declare the port HTTPS or TLS in the ServiceEntry, or route it with an http route.',
  },
  EW402: {
    severity: 'warning',
    title: 'http route for a host and port that a ServiceEntry declares HTTPS or TLS: Istio ignores the route',
    meaning: '`http` route for a host and port that a ServiceEntry declares HTTPS or TLS, which Istio ignores. A route without a port is reported when every port of the host is HTTPS/TLS. Reported on both objects.',
    fix: 'Declare the port HTTP in the ServiceEntry, or route it with a tls route.',
  },
  EW403: {
    severity: 'warning',
    title: 'ServiceEntry port name announces one protocol and its protocol field says another',
    meaning: 'A port whose name announces one protocol while its `protocol` field says another (for example `name: http`, `protocol: TLS`). Istio uses only the field. Names of the same class agree (`grpc` on HTTP2, `https` on TLS, `tcp` on any TCP-class protocol).',
    fix: 'Rename the port after its protocol (`https-api` for HTTPS), or fix the protocol field.',
  },
  EW404: {
    severity: 'warning',
    title: 'two ServiceEntries visible to the same namespace declare one host and port with different protocols',
    meaning: 'Another ServiceEntry that shares a namespace audience (`exportTo`) declares the same host and port number with a different protocol, and Istio keeps one of the two. The message names the other entry.',
    fix: 'Declare the same protocol in both ServiceEntries, or narrow their exportTo so no namespace sees both.',
  },
  EW405: {
    severity: 'warning',
    title: 'TCP or unset-protocol port without addresses under resolution NONE takes the same plain-TCP port of other entries without addresses',
    meaning: 'A `TCP` or unset-protocol port without `addresses` under resolution `NONE` listens on `0.0.0.0:<port>`. Another entry on the same port number loses its traffic when it has no `addresses` of its own and its port is TCP, Mongo, Redis, MySQL or unset; HTTPS/TLS entries are told apart by SNI and HTTP entries by sniffing. Reported on both sides, naming up to three other entries.',
    fix: 'Add `addresses` to the entry, or give it a resolution other than NONE.',
  },
  EW406: {
    severity: 'warning',
    title: 'ServiceEntry address overlaps the cluster pod or service CIDRs',
    meaning: 'A ServiceEntry address or CIDR overlaps the cluster\'s pod or service CIDRs, so in-cluster traffic to those IPs would match this entry. The message names the range and where it was detected.',
    fix: 'Remove the address, or use one outside the cluster\'s pod and service CIDRs.',
  },
  EW420: {
    severity: 'error',
    title: 'tcp-server-first and http on the same port for the same client: the http match never applies',
    meaning: '`tcp-server-first` and `http` on the same port for the same client: the `http` match never applies.',
    fix: 'Use another port for one of the two, or make the http side tcp-server-first too.',
  },
  EW421: {
    severity: 'error',
    title: 'tcp-server-first and https with hosts on the same port for the same client: no SNI is read, hosts never match',
    meaning: '`tcp-server-first` and `https` with hosts on the same port for the same client: no SNI is read, so the hosts never match.',
    fix: 'Use another port for one of the two, or match the https side by ipAddresses.',
  },
  EW422: {
    severity: 'error',
    title: 'tcp-server-first and tcp (or https without hosts) with the same destination match: Envoy rejects the listener',
    meaning: '`tcp-server-first` and `tcp` (or `https` without hosts) with the same destination match. Envoy rejects the client\'s whole outbound listener.',
    fix: 'Give the two matches distinct, non-overlapping ipAddresses, or use one protocol.',
  },
  EW423: {
    severity: 'warning',
    title: 'tcp-server-first and tcp on the same port for the same client with distinct IP matches: works, OSM docs forbid it',
    meaning: '`tcp-server-first` and `tcp` on the same port for the same client, with distinct IP matches. Envoy accepts this, but OSM\'s docs forbid it.',
    fix: 'Use another port for one of the two, as OSM\'s docs ask.',
  },
  EW424: {
    severity: 'error',
    title: 'tcp/https matches of the same client and port that collide without tcp-server-first: Envoy rejects the listener',
    meaning: '`tcp` / `https` matches of the same client and port that collide without `tcp-server-first` (for example `tcp` and `https` both without hosts or IPs). Envoy rejects the listener.',
    fix: 'Give the matches distinct ipAddresses or hosts, or merge them into one port entry.',
  },
  EW425: {
    severity: 'warning',
    title: 'an in-mesh Service makes the port tcp-server-first, which breaks this Egress port for mesh clients',
    meaning: 'An in-mesh Service declares the port `tcp-server-first` (through `appProtocol: tcp-server-first` or a port name `tcp-server-first-…`). This breaks this Egress\'s `http` / `https` port for mesh clients that reach that Service.',
    fix: 'Use another port, or stop declaring the Service port tcp-server-first.',
  },
  EW501: {
    severity: 'error',
    title: 'egress-warden.io/outbound-capture is not one of all, cluster, off',
    meaning: '`egress-warden.io/outbound-capture` is not one of `all`, `cluster`, `off`.',
    fix: 'Set `egress-warden.io/outbound-capture` to all, cluster or off.',
  },
  EW502: {
    severity: 'error',
    title: 'an egress-warden.io CIDR list holds an entry that is not an IP address or CIDR',
    meaning: 'An `egress-warden.io` CIDR list holds an entry that is not an IP address or CIDR.',
    fix: 'Write IP addresses or CIDRs, separated by commas or spaces.',
  },
  EW503: {
    severity: 'warning',
    title: 'a range has host bits set; the network address is what takes effect',
    meaning: 'A range has host bits set (`10.1.2.3/8`); the network address (`10.0.0.0/8`) is what takes effect.',
    fix: 'Write the network address (`10.0.0.0/8`, not `10.1.2.3/8`).',
  },
  EW504: {
    severity: 'warning',
    title: 'an excluded range overlaps a cluster CIDR: in-cluster traffic to it skips the sidecar (and mTLS)',
    meaning: 'An excluded range overlaps a cluster CIDR: in-cluster traffic to it skips the sidecar, and so skips mTLS.',
    fix: 'Narrow the bypass range so it leaves out the cluster\'s pod and service CIDRs.',
  },
  EW505: {
    severity: 'warning',
    title: 'an excluded range is 0.0.0.0/0 or ::/0: all traffic of that family skips the sidecar',
    meaning: 'An excluded range is `0.0.0.0/0` or `::/0`: all traffic of that family bypasses the sidecar.',
    fix: 'Bypass the destinations that need it, not the whole address family.',
  },
  EW506: {
    severity: 'warning',
    title: 'an excluded range overlaps an included range: the exclusion wins',
    meaning: 'An excluded range overlaps an included range: the exclusion wins.',
    fix: 'Remove the range from one of the two lists.',
  },
  EW507: {
    severity: 'error',
    title: 'an Istio capture annotation on the pod fails Istio\'s own validation (Istio would reject the pod)',
    meaning: 'An Istio capture annotation on the pod fails Istio\'s own validation (Istio would reject the pod).',
    fix: 'Write the value as Istio expects: CIDRs separated by `,` without spaces, `*` only in the include list.',
  },
  EW508: {
    severity: 'error',
    title: 'an OSM capture annotation on the pod fails OSM\'s own validation (OSM would reject the pod)',
    meaning: 'An OSM capture annotation on the pod fails OSM\'s own validation (OSM would reject the pod).',
    fix: 'Write the value as OSM expects: CIDRs separated by `,`, no empty items.',
  },
  EW509: {
    severity: 'warning',
    title: 'OSM captures IPv4 only: an IPv6 range is left out, or breaks osm-init when set by hand',
    meaning: 'OSM is IPv4 only: an IPv6 range was left out, or an IPv6 range set by hand will make `osm-init` fail.',
    fix: 'Remove the IPv6 range; OSM captures IPv4 only.',
  },
  EW510: {
    severity: 'warning',
    title: 'egress-warden.io/capture-ip-ranges is set but the capture mode is not cluster: it is ignored',
    meaning: '`capture-ip-ranges` is set, but the mode is not `cluster`, so it is ignored.',
    fix: 'Set `egress-warden.io/outbound-capture: cluster`, or remove `capture-ip-ranges`.',
  },
  EW511: {
    severity: 'warning',
    title: 'cluster mode, but no cluster CIDRs are known: the include list is left at the mesh default',
    meaning: '`cluster` mode, but no cluster CIDRs are known: the include list is left at the mesh default instead of capturing only the extra ranges.',
    fix: 'Wait for CIDR detection, or give the ranges with `--pod-cidrs` and `--service-cidrs`.',
  },
  EW512: {
    severity: 'warning',
    title: 'unknown egress-warden.io annotation (a typo is otherwise silently ignored)',
    meaning: 'Unknown `egress-warden.io/*` annotation (probably a typo), or `egress-warden.io/mode` set as an annotation instead of a label.',
    fix: 'Fix the annotation name, or set `egress-warden.io/mode` as a namespace label.',
  },
  EW513: {
    severity: 'warning',
    title: 'a mesh annotation set on the pod replaces the computed value',
    meaning: 'A mesh annotation set on the pod replaces the computed value.',
    fix: 'Remove the mesh annotation from the pod to get the computed value, or keep it on purpose.',
  },
  EW514: {
    severity: 'warning',
    title: 'osm-init was injected before this webhook ran: its iptables rules do not use the computed ranges',
    meaning: '`osm-init` was injected before egress-warden ran, so its iptables rules do not use the computed ranges.',
    fix: 'Order the webhooks so egress-warden runs before OSM\'s injector (reinvocationPolicy or names).',
  },
  EW515: {
    severity: 'warning',
    title: 'a mesh capture annotation on a namespace: the mesh reads it from pods only',
    meaning: 'A mesh capture annotation (`traffic.sidecar.istio.io/*`, OSM\'s range and port lists) on a namespace: the meshes read these from pods only.',
    fix: 'Set the annotation on the pods (their template), or use the egress-warden.io annotations on the namespace.',
  },
  EW516: {
    severity: 'warning',
    title: 'the egress-warden.io/mode label is not one of enforce, warn, audit: the namespace is enforced',
    meaning: 'The `egress-warden.io/mode` label is not `enforce`, `warn` or `audit`, so the namespace is enforced.',
    fix: 'Set the label to enforce, warn or audit.',
  },
  EW517: {
    severity: 'warning',
    title: 'an istio-init/istio-validation container does not run istio-iptables: its args are left alone',
    meaning: 'An `istio-init` / `istio-validation` container does not run `istio-iptables` (custom template), so its args are left alone.',
    fix: 'Pass the ranges through the template yourself, or use the standard istio-iptables init container.',
  },
  EW518: {
    severity: 'error',
    title: 'a label or annotation egress-warden reads has a value that is not a string (unquoted true, a number, or no value in YAML)',
    meaning: 'A label or annotation egress-warden reads has a value that is not a string: an unquoted `true` or number, or a key with no value, in YAML. Quote it (`"true"`), or write `""` for an empty value. Keys egress-warden does not read are never checked.',
    fix: 'Quote the value in YAML (`"true"`, `"8080"`), or write `""` for an empty one.',
  },
  EW599: {
    severity: 'warning',
    title: 'an unexpected internal error (a bug) while computing the pod patch: the pod is admitted unchanged',
    meaning: 'An unexpected internal error (a bug) while computing the patch: the pod was admitted unchanged. The message names the error.',
    fix: 'Report the bug with the message; the pod was admitted unchanged.',
  },
} as const satisfies Readonly<Record<string, FindingSpec>>;

/** A finding code; a code missing from FINDINGS does not type-check. */
export type Code = keyof typeof FINDINGS;

export const CODES: readonly Code[] = Object.keys(FINDINGS) as Code[];

export const severityOf = (code: Code): Severity => FINDINGS[code].severity;

/** The anchor of the code's section in docs/codes.md. */
export const docsSlug = (code: Code): string => code.toLowerCase();
