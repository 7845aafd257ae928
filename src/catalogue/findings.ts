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
    meaning:
      'A rule failed with an internal error (a bug) instead of judging the object. The webhook denies the object with HTTP code 500 and names the rule; `egress-warden check` reports it as this error.',
    fix: 'Report the bug with the message and the object that triggers it.',
  },
  EW001: {
    severity: 'error',
    title: 'the object is far larger than anything the mesh accepts; it was not reviewed',
    meaning:
      "A list in the spec holds more than 4,096 items (the longest list any Istio CRD accepts), a string is longer than 64 KiB (a VirtualService `directResponse` body: longer than 1,398,104 characters, the base64 text of the 1 MiB istiod accepts), or the spec holds more than 250,000 values. Istio's own CRDs accept at most 256 hosts, addresses and ports and 4096 endpoints in a ServiceEntry, and names of at most 256 characters, so no object this large can be a working configuration. The webhook refuses it without running the rules, so that one object cannot stall or exhaust the webhook for every other write (see [reliability](reliability.md#bounded-work-per-review)).",
    fix: 'Split the object, or remove the repeated items; the message names the first list or string over the limit.',
  },
  EW002: {
    severity: 'error',
    title: 'a file that cannot be read or parsed: nothing in it was checked',
    meaning:
      '`egress-warden check` could not read the file, or not as YAML or JSON: a path that does not exist or cannot be opened, a YAML syntax error (an unclosed `[`, `{` or quote is reported at the line it is opened on), a key written twice, a file over the input limits (10 MiB per file, 100 MiB and 250,000 documents and List items in all), or a symbolic link that is broken or loops. Nothing in the file is judged; the other files are. A symbolic link that loops back into a folder that is read anyway is reported as a warning.',
    fix: 'Fix the YAML at the line given, or the path or link; split a file over the limits, or check fewer files in one run.',
  },
  EW101: {
    severity: 'error',
    title: 'annotation istiod rejects on a ServiceEntry (istio.io/dry-run, internal.istio.io/*)',
    meaning:
      'Annotation istiod rejects (`istio.io/dry-run`, `internal.istio.io/webhook-always-reject`, `internal.istio.io/parent-namespace`, `internal.istio.io/parents`); nothing else is checked.',
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
    meaning:
      'Host is `*`, not a string, or not a valid domain name (a wildcard is allowed only as the first label; upper case and a trailing dot are allowed; the top-level domain cannot be all digits).',
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
    meaning:
      'A `TCP` or unset-protocol port without `addresses` where istiod cannot auto-allocate one (resolution `NONE`, or label `networking.istio.io/enable-autoallocate-ip: "false"`). As in istiod, only the exact string `TCP` counts.',
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
    meaning:
      'Unsupported protocol, or one that is not a string (valid ones, in any case: HTTP, HTTPS, HTTP2, HTTP_PROXY, GRPC, GRPC-Web, TCP, TLS, UDP, Mongo, Redis, MySQL).',
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
    meaning:
      'Endpoint address: missing, not a string, not an IP (`STATIC`), not an IP or FQDN (`DNS`), or a `unix://` path that is not absolute.',
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
    meaning:
      '`DNS` or `DNS_ROUND_ROBIN` without endpoints, and a host that is not an FQDN (wildcards included; only the first such host is reported).',
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
    meaning:
      'Several hosts, a resolution other than `NONE`, and a port that is neither HTTP-class nor HTTPS/TLS (unset counts as neither). Only the Host header or SNI can tell the hosts apart.',
    fix: 'Give the port an HTTP-class or HTTPS/TLS protocol, or split the hosts into one ServiceEntry each.',
  },
  EW134: {
    severity: 'error',
    title: 'invalid exportTo',
    meaning:
      'Invalid `exportTo`: repeated entry, `.` plus the own namespace, `*` with other entries, `~` with other entries, or an entry that is not `.`, `*`, `~` or a namespace name.',
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
    meaning:
      'Invalid gateway reference, or one that is not a string (`namespace/name`, both DNS labels). As in istiod, the first entry without a `/` (such as `mesh`) ends the check.',
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
    meaning:
      'Host is not a string or not a valid domain name (IP addresses and short names are accepted; a gateway-bound VirtualService with SNI matches also accepts `outbound_.<PORT>_._.<HOSTNAME>`).',
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
    meaning:
      'Null route entry, missing `destination`, a `weight` that is not an integer or is negative, or several destinations all weighing 0.',
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
    title: 'http, tls or tcp rule or match that earlier rules make unreachable',
    meaning:
      'A rule after a rule without matches, a match that repeats an earlier one, or an http match whose `uri` prefix is covered by an earlier, shorter prefix with the same port, method, authority, headers and query parameters (istiod\'s "virtualService rule … not used" warnings; rules and matches are named `#<index>`, or by their `name` in http routes).',
    fix: 'Move the broader rule after the narrower one, or drop the repeated match.',
  },
  EW223: {
    severity: 'error',
    title: 'null http route',
    meaning: 'An entry of `http` is null.',
    fix: 'Remove the empty entry from `http`.',
  },
  EW224: {
    severity: 'error',
    title: "delegate misuse: a root http route with route or redirect, or a delegate's route that delegates again",
    meaning:
      'An http route with `delegate` hands the request to another VirtualService, so it cannot also have `route` or `redirect`; and a delegate VirtualService (no `hosts`) cannot delegate again.',
    fix: 'Remove `route` / `redirect` from the route that delegates, or remove `delegate` from the delegate VirtualService.',
  },
  EW225: {
    severity: 'error',
    title: 'http route combines actions that exclude each other (route, redirect, directResponse, fault, rewrite, mirror and mirrors)',
    meaning:
      'An http route with `redirect` cannot also have `route`, `fault`, `rewrite` or `directResponse`; one with `directResponse` cannot also have `route`, `fault` or `rewrite`; and `mirror` and `mirrors` cannot both be set.',
    fix: 'Keep one action per http route, and list mirrors only under `mirrors`.',
  },
  EW226: {
    severity: 'error',
    title: 'http route without route, redirect or directResponse',
    meaning:
      'An http route that is not a delegating route has none of `route`, `redirect` or `directResponse`, so it has nowhere to send the request.',
    fix: 'Add a `route` with a destination, a `redirect` or a `directResponse`.',
  },
  EW227: {
    severity: 'error',
    title: 'invalid http match (string match, regex, header name, port, sourceLabels, gateways or sourceNamespace)',
    meaning:
      "An http match field istiod refuses: a string match with more than one of `exact`/`prefix`/`regex` (the CRD schema refuses it), an empty `prefix` (allowed on `uri` only) or `regex`, a regex longer than 1024 characters or that Go's RE2 does not compile (lookarounds and backreferences are not RE2), a null header match or a header name that is not a token, a port outside 1..65535, invalid `sourceLabels` or `gateways`, or a `sourceNamespace` that is not a DNS label.",
    fix: 'Set one match type per string match, write regexes in RE2 syntax, and use valid header names, ports, labels, gateways and namespaces.',
  },
  EW228: {
    severity: 'error',
    title: 'JWT claim routing in a VirtualService that is not bound to gateways only',
    meaning:
      'A header match on `@request.auth.claims…` routes on a JWT claim, which istiod supports only on gateways; a VirtualService with no `gateways`, or with `mesh` among them, cannot use it.',
    fix: 'Bind the VirtualService to gateways only, or match on a header the client sends.',
  },
  EW229: {
    severity: 'error',
    title: 'invalid header operation: a header name istiod refuses or a value Envoy cannot parse',
    meaning:
      'A `headers` add/set/remove (of the route or of a destination) names an empty header, a `:` pseudo-header (only `:authority` may be added or set on the request), or `host` where it cannot be changed; or a value holds control characters or a `%` expression Envoy cannot parse (a lone `%` must be written `%%`).',
    fix: 'Use a regular header name, and write a literal percent sign as `%%`.',
  },
  EW230: {
    severity: 'error',
    title: 'the authority is rewritten in more than one place',
    meaning:
      'The request authority is set by `rewrite.authority` and by a `:authority` or `host` header operation, or by two header operations.',
    fix: 'Set the authority in one place: `rewrite.authority` or one header operation.',
  },
  EW231: {
    severity: 'error',
    title: 'invalid corsPolicy',
    meaning:
      'A `corsPolicy` entry istiod refuses: an allowed origin without a value or with an invalid regex, a method Go does not name (`GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`, `CONNECT`, `OPTIONS`, `TRACE` or `*`), a header name that is not a token or `*`, or a `maxAge` that istiod cannot read as a Go duration (`"1d"` or a bare number), that is under 1ms, or that has a fraction of a second.',
    fix: 'Use upper-case method names, token header names, and `maxAge` in whole seconds, such as `"24h"` or `"86400s"`.',
  },
  EW232: {
    severity: 'error',
    title: 'invalid fault injection',
    meaning:
      'A `fault` with neither `abort` nor `delay`, a percentage that is not 0 or within 0.0001..100, an abort `httpStatus` outside 200..600, an unknown `grpcStatus`, an `http2Error` abort or an `exponentialDelay` (both unsupported), or a delay that is not a duration of at least 1ms in whole milliseconds.',
    fix: 'Give the fault an abort with an `httpStatus` or `grpcStatus`, and/or a `fixedDelay` such as `"5s"`.',
  },
  EW233: {
    severity: 'warning',
    title: 'fault abort without an error type',
    meaning: 'A fault `abort` sets none of `httpStatus`, `grpcStatus` or `http2Error`, so it does not say how to fail the request.',
    fix: 'Set `httpStatus` (or `grpcStatus`) on the abort.',
  },
  EW234: {
    severity: 'error',
    title: 'invalid mirror, mirrors or mirror percentage',
    meaning:
      'A `mirrors` entry that is null or has no `destination`, a mirror percentage (`mirrorPercent`, `mirrorPercentage`, `mirrors[].percentage`) above 100 or below 0, or a `mirrorPercent` that is not a whole number (a UInt32Value istiod cannot decode).',
    fix: 'Give every mirror a destination, and a percentage from 0 to 100.',
  },
  EW235: {
    severity: 'warning',
    title: 'deprecated mirrorPercent',
    meaning: '`mirrorPercent` is deprecated in favour of `mirrorPercentage`.',
    fix: 'Replace `mirrorPercent: N` with `mirrorPercentage: {value: N}`.',
  },
  EW236: {
    severity: 'error',
    title: 'invalid redirect',
    meaning:
      'A `redirect` with both `uri` and `prefixRewrite`, a `prefixRewrite` while a match uses a non-prefix `uri`, none of `uri`, `prefixRewrite`, `authority`, `scheme` or a port, a `redirectCode` outside 300..399, a scheme other than `http`/`https`, or a port outside 1..65535; or a negative `port`, or a `derivePort` other than `FROM_PROTOCOL_DEFAULT`/`FROM_REQUEST_PORT`, which istiod cannot decode. istiod reports the first of these only.',
    fix: 'Say where to redirect (uri, authority, scheme or port) with a 3xx code.',
  },
  EW237: {
    severity: 'error',
    title: 'invalid directResponse: status outside 200..600 or a body over 1 MiB',
    meaning: 'A `directResponse` whose `status` is missing or outside 200..600, or whose body is over 1 MiB.',
    fix: 'Set a status from 200 to 599, and keep the body under 1 MiB.',
  },
  EW238: {
    severity: 'warning',
    title: 'directResponse body over 100 KiB',
    meaning: 'A `directResponse` body over 100 KiB is pushed to every proxy with the route and may slow the control plane.',
    fix: 'Keep direct response bodies small, or serve large content from a backend.',
  },
  EW239: {
    severity: 'error',
    title: 'invalid retries',
    meaning:
      'A `retries` policy with negative `attempts`, with `perTryTimeout`, `retryOn` or `retryRemoteLocalities` while `attempts` is 0 (retries off), a `retryOn` entry that is neither an HTTP status code nor an Envoy retry policy (entries are split on `,` without trimming spaces), or a `perTryTimeout` / `backoff` that is not a duration of at least 1ms in whole milliseconds.',
    fix: 'Set `attempts` above 0, and write `retryOn` as Envoy policies or status codes separated by `,` without spaces.',
  },
  EW240: {
    severity: 'error',
    title: 'invalid rewrite',
    meaning:
      'A `rewrite` with both `uri` and `uriRegexRewrite`, with none of `uri`, `uriRegexRewrite` or `authority`, or a `uriRegexRewrite` without `match` and `rewrite` or whose `match` is not RE2.',
    fix: 'Rewrite the uri one way (uri or uriRegexRewrite with match and rewrite), and/or the authority.',
  },
  EW241: {
    severity: 'error',
    title: 'invalid http route timeout',
    meaning:
      'A route `timeout` that is not a duration istiod can read (Go\'s duration syntax, such as `"1.5s"`, `"1m"` or `"1h30m"`; `"1d"`, `"30"` or a number is refused), is under 1ms, or is not in whole milliseconds.',
    fix: 'Write the timeout as a Go duration with a unit, such as `"30s"`, `"500ms"` or `"1m"`.',
  },
  EW301: {
    severity: 'error',
    title: "matches[].apiGroup is not specs.smi-spec.io/v1alpha4 or policy.openservicemesh.io/v1alpha1 (OSM's check)",
    meaning:
      "`matches[].apiGroup` is not `specs.smi-spec.io/v1alpha4` or `policy.openservicemesh.io/v1alpha1`. OSM wants group/version here, not the bare group (OSM's check).",
    fix: 'Write `specs.smi-spec.io/v1alpha4` or `policy.openservicemesh.io/v1alpha1` (group and version).',
  },
  EW302: {
    severity: 'error',
    title: "an SMI match (specs.smi-spec.io/v1alpha4) must be of kind HTTPRouteGroup (OSM's check)",
    meaning: "An SMI match must be of kind `HTTPRouteGroup` (OSM's check).",
    fix: 'Set kind to HTTPRouteGroup.',
  },
  EW303: {
    severity: 'error',
    title: "a policy match (policy.openservicemesh.io/v1alpha1) must be of kind UpstreamTrafficSetting (OSM's check)",
    meaning: "A `policy.openservicemesh.io/v1alpha1` match must be of kind `UpstreamTrafficSetting` (OSM's check).",
    fix: 'Set kind to UpstreamTrafficSetting.',
  },
  EW304: {
    severity: 'error',
    title: "more than one UpstreamTrafficSetting match (OSM's check)",
    meaning: "More than one `UpstreamTrafficSetting` match (OSM's check).",
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
    title: 'spec.sources is missing or not a list',
    meaning: '`spec.sources` is missing or not a list. The CRD requires it, so the API server rejects the object.',
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
    fix: "Name the ServiceAccount's namespace.",
  },
  EW314: {
    severity: 'warning',
    title: 'spec.sources is empty: the Egress applies to no client',
    meaning:
      '`spec.sources` is an empty list. The CRD allows it (no `minItems`), but OSM selects Egress policies by source ServiceAccount, so this Egress is never selected and allows nothing.',
    fix: 'List the ServiceAccounts allowed out under `spec.sources`, or delete the Egress.',
  },
  EW320: {
    severity: 'error',
    title: 'spec.ports is missing or not a list',
    meaning: '`spec.ports` is missing or not a list. The CRD requires it, so the API server rejects the object.',
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
    meaning:
      'The protocol has the wrong case (`HTTP`, `Tcp`). OSM compares protocols case-sensitively and silently builds nothing for such a port. The message gives the correct spelling.',
    fix: 'Write the protocol in lower case, as the message shows.',
  },
  EW323: {
    severity: 'error',
    title: 'a protocol missing or not one of http, https, tcp, tcp-server-first',
    meaning:
      'The protocol is missing or is not one of `http`, `https`, `tcp`, `tcp-server-first`. `grpc` and anything else are ignored by OSM Egress.',
    fix: 'Use one of http, https, tcp, tcp-server-first.',
  },
  EW324: {
    severity: 'warning',
    title: 'spec.ports is empty: the Egress opens nothing',
    meaning:
      '`spec.ports` is an empty list. The CRD allows it (no `minItems`), but OSM builds egress filter chains, clusters and routes per port, so this Egress opens nothing.',
    fix: 'List the ports the clients need under `spec.ports`, or delete the Egress.',
  },
  EW325: {
    severity: 'error',
    title: 'an http port listed twice in one Egress with hosts: Envoy rejects the route configuration',
    meaning:
      "The same port number appears twice with protocol `http` in an Egress that has hosts (a second listing counts in any case: OSM lower-cases the protocol when it builds routes). OSM builds the routes of an http port once per listing, so each host becomes two virtual hosts with the same domains in the port's route configuration (`rds-egress.<port>`). Envoy rejects a route configuration with duplicate domains, and the client keeps stale routes.",
    fix: 'List each http port once.',
  },
  EW330: {
    severity: 'error',
    title: 'an IPv6 ipAddresses entry (OSM egress is IPv4-only)',
    meaning: "An IPv6 `ipAddresses` entry: OSM's egress data plane matches IPv4 destinations only.",
    fix: 'Remove the IPv6 entry; OSM egress matches IPv4 only.',
  },
  EW331: {
    severity: 'error',
    title: 'an ipAddresses entry that is not an IPv4 CIDR (OSM drops it, which can open the port to every IP)',
    meaning:
      "An `ipAddresses` entry that is not a strict IPv4 CIDR `a.b.c.d/n` (octet > 255, prefix > 32, a bare address, leading zeros, spaces). The CRD's unanchored pattern lets these through, and OSM then drops the entry. If no valid entry is left, the port opens to **every** IP.",
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
    meaning:
      'A host with a partial wildcard (`api*.example.com`) on an Egress with an `https` port. Envoy rejects the listener: `partial wildcards are not supported in "server_names"`.',
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
    meaning:
      'An `HTTPRouteGroup` match on an Egress that has non-`http` ports. OSM applies route groups to `http` ports only and ignores them elsewhere.',
    fix: 'Move the HTTPRouteGroup match to an Egress with http ports only.',
  },
  EW344: {
    severity: 'warning',
    title: 'a referenced HTTPRouteGroup that does not exist',
    meaning: "The referenced `HTTPRouteGroup` does not exist in the Egress's namespace. OSM logs it and the match allows nothing.",
    fix: "Create the HTTPRouteGroup in the Egress's namespace, or fix the name.",
  },
  EW345: {
    severity: 'warning',
    title: 'hosts on an Egress with only tcp / tcp-server-first ports, where hosts are ignored',
    meaning: '`hosts` on an Egress with only `tcp` / `tcp-server-first` ports. OSM ignores hosts there; use `ipAddresses`.',
    fix: 'Use `ipAddresses` for tcp ports, or remove the hosts.',
  },
  EW346: {
    severity: 'warning',
    title: 'a referenced HTTPRouteGroup has no matches: the http ports answer 404',
    meaning:
      "The referenced `HTTPRouteGroup` exists but has no matches. OSM then builds no route for the Egress's http hosts (a group reference replaces the match-everything route), so every request on its http ports gets 404.",
    fix: 'Add matches to the HTTPRouteGroup, or remove the reference to allow every path and method.',
  },
  EW350: {
    severity: 'error',
    title: 'an HTTPRouteGroup without spec.matches, or a match that is not an object with a name',
    meaning:
      "An `HTTPRouteGroup` without `spec.matches`, or a match that is not an object or has no `name`. OSM's CRD requires both, so the API server rejects the object.",
    fix: 'Give the group a `spec.matches` list, and every match a name.',
  },
  EW351: {
    severity: 'warning',
    title: 'an HTTPRouteGroup with no matches: an Egress that uses it allows nothing',
    meaning:
      'An `HTTPRouteGroup` whose `spec.matches` is empty. OSM builds one route per match, and a group reference replaces the match-everything route, so an Egress that uses this group answers 404 on its http ports.',
    fix: 'Add matches (a match without `pathRegex` and `methods` allows every path and method).',
  },
  EW352: {
    severity: 'error',
    title: 'an HTTPRouteGroup pathRegex or header value that RE2 rejects',
    meaning:
      "A `pathRegex` or header value that is not a string or that RE2 cannot compile. OSM sends both to Envoy as `safe_regex` (RE2), and Envoy rejects the whole route configuration; every client whose Egress uses the group keeps stale routes. The message carries RE2's own error, the one Envoy reports. Lookaround (`(?=`), backreferences (`\\1`) and other syntax RE2 lacks are the usual cause.",
    fix: 'Rewrite the pattern in RE2 syntax (no lookaround or backreferences; escape `(`, `[`, `{` meant literally).',
  },
  EW353: {
    severity: 'error',
    title: 'an HTTPRouteGroup method that is not an HTTP method or *',
    meaning:
      "A `methods` entry outside OSM's CRD enum (`*`, `GET`, `HEAD`, `PUT`, `POST`, `DELETE`, `CONNECT`, `OPTIONS`, `TRACE`, `PATCH`), or `methods` that is not a list. The API server rejects it; OSM would match it case-sensitively against `:method`.",
    fix: 'Write the method in upper case, or `*` for any method.',
  },
  EW354: {
    severity: 'error',
    title: 'HTTPRouteGroup headers written as a list, which OSM cannot decode',
    meaning:
      "OSM's CRD declares `headers` as a list of maps, but OSM decodes HTTPRouteGroups with smi-sdk-go v1alpha4, where `headers` is one map of header name to RE2 value. A list cannot be decoded, so OSM's HTTPRouteGroup informer fails and stops updating (the map form is what OSM reads, and its CRD rejects it).",
    fix: "Remove the header matches: with OSM's CRD they cannot be used. Match on the path and methods instead.",
  },
  EW355: {
    severity: 'error',
    title: 'a malformed HTTPRouteGroup header match',
    meaning:
      "`headers` is not a map of header name to string, or a header name is empty or holds NUL, CR or LF, which Envoy rejects in a route's header matcher.",
    fix: 'Write headers as `name: RE2 pattern` pairs with non-empty names.',
  },
  EW356: {
    severity: 'warning',
    title: 'an HTTPRouteGroup with more patterns than are compiled per object',
    meaning:
      "The group holds more distinct patterns (path and header regexes with RE2 operators) than egress-warden compiles for one object (200), to keep the webhook's answer within its timeout. The rest were not checked.",
    fix: 'Split the group into smaller groups, each under the limit.',
  },
  EW348: {
    severity: 'warning',
    title: 'an Egress in a mesh whose egress policy is off (enableEgressPolicy false): it has no effect',
    meaning:
      "OSM's MeshConfig sets `spec.featureFlags.enableEgressPolicy` to false (or leaves it unset): OSM ignores every Egress, so this one allows nothing. Read from the MeshConfig egress-warden finds (see cluster-state.md, mesh settings).",
    fix: 'Set `spec.featureFlags.enableEgressPolicy: true` in the MeshConfig, or drop the Egress.',
  },
  EW349: {
    severity: 'warning',
    title: 'an Egress in a mesh whose egress is open to all (enableEgress true): it restricts nothing',
    meaning:
      "OSM's MeshConfig sets `spec.traffic.enableEgress` to true: every external destination is let through whether an Egress names it or not, so this Egress grants nothing that was not already allowed.",
    fix: 'Set `spec.traffic.enableEgress: false` to make Egress policies the only way out, or drop the Egress.',
  },
  EW401: {
    severity: 'warning',
    title: 'tls route for a host and port that a ServiceEntry declares HTTP, HTTP2 or GRPC: Istio ignores the route',
    meaning:
      '`tls` route for a host and port that a ServiceEntry declares HTTP, HTTP2 or GRPC. Istio applies `tls` routes only on HTTPS/TLS ports and ignores this one. A route without a port is reported when every port of the host is HTTP-class. Reported on the VirtualService and on the ServiceEntry.',
    fix: 'Declare the port HTTPS or TLS in the ServiceEntry, or route it with an http route.',
  },
  EW402: {
    severity: 'warning',
    title: 'http route for a host and port that a ServiceEntry declares HTTPS or TLS: Istio ignores the route',
    meaning:
      '`http` route for a host and port that a ServiceEntry declares HTTPS or TLS, which Istio ignores. A route without a port is reported when every port of the host is HTTPS/TLS. Reported on both objects.',
    fix: 'Declare the port HTTP in the ServiceEntry, or route it with a tls route.',
  },
  EW403: {
    severity: 'warning',
    title: 'ServiceEntry port name announces one protocol and its protocol field says another',
    meaning:
      'A port whose name announces one protocol while its `protocol` field says another (for example `name: http`, `protocol: TLS`). Istio uses only the field. Names of the same class agree (`grpc` on HTTP2, `https` on TLS, `tcp` on any TCP-class protocol).',
    fix: 'Rename the port after its protocol (`https-api` for HTTPS), or fix the protocol field.',
  },
  EW404: {
    severity: 'warning',
    title: 'two ServiceEntries visible to the same namespace declare one host and port with different protocols',
    meaning:
      'Another ServiceEntry that shares a namespace audience (`exportTo`) declares the same host and port number with a different protocol, and Istio keeps one of the two. The message names the other entry.',
    fix: 'Declare the same protocol in both ServiceEntries, or narrow their exportTo so no namespace sees both.',
  },
  EW405: {
    severity: 'warning',
    title:
      'TCP or unset-protocol port without addresses under resolution NONE takes the same plain-TCP port of other entries without addresses',
    meaning:
      'A `TCP` or unset-protocol port without `addresses` under resolution `NONE` listens on `0.0.0.0:<port>`. Another entry on the same port number loses its traffic when it has no `addresses` of its own and its port is TCP, Mongo, Redis, MySQL or unset; HTTPS/TLS entries are told apart by SNI and HTTP entries by sniffing. Reported on both sides, naming up to three other entries.',
    fix: 'Add `addresses` to the entry, or give it a resolution other than NONE.',
  },
  EW406: {
    severity: 'warning',
    title: 'ServiceEntry address overlaps the cluster pod or service CIDRs',
    meaning:
      "A ServiceEntry address or CIDR overlaps the cluster's pod or service CIDRs, so in-cluster traffic to those IPs would match this entry. The message names the range and where it was detected.",
    fix: "Remove the address, or use one outside the cluster's pod and service CIDRs.",
  },
  EW407: {
    severity: 'warning',
    title: 'a VirtualService names an external host no ServiceEntry registers, in a REGISTRY_ONLY mesh',
    meaning:
      "Istio's mesh config sets `outboundTrafficPolicy.mode: REGISTRY_ONLY`, and this mesh-bound VirtualService names (in `hosts` or a route destination) a host outside the cluster that no ServiceEntry visible to its namespace registers. A VirtualService never registers a host: traffic to it goes to BlackHoleCluster (HTTP 502, or a reset). Read from the Istio mesh config egress-warden finds (see cluster-state.md, mesh settings).",
    fix: 'Add a ServiceEntry for the host and port (`egress-warden explain` prints one), or fix the host name.',
  },
  EW409: {
    severity: 'warning',
    title: "HTTP-class ServiceEntry port on a sidecar's own listener port (15001, 15006, 15021, 15090): sidecars skip it",
    meaning:
      'Every sidecar already listens on 15001 (outbound capture), 15006 (inbound capture), 15021 (health checks) and 15090 (Prometheus stats). istiod skips an HTTP, HTTP2, gRPC or HTTP_PROXY service port with one of these numbers for every sidecar (it logs "conflicts with static listener"), so the entry has no effect on that port: traffic to it takes the passthrough or blackhole route.',
    fix: 'Use another port number for the service, or declare the port TCP with `addresses`.',
  },
  EW410: {
    severity: 'error',
    title:
      "TCP or unset-protocol ServiceEntry port on a sidecar's own listener port that Istio puts on 0.0.0.0: every sidecar rejects its listeners",
    meaning:
      'A TCP-class or unset-protocol port numbered 15001, 15006, 15021 or 15090 on an entry istiod listens for on `0.0.0.0` (resolution `NONE` without `addresses` or `workloadSelector`, or a CIDR address wider than one IP). istiod does not check this case, and Envoy refuses a second listener on the address of its own (`has duplicate address`): every sidecar the entry is exported to rejects the listener update, and new pods never become ready.',
    fix: 'Use another port number, or give the entry single-IP `addresses` so its listener has its own address.',
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
    meaning:
      "`tcp-server-first` and `tcp` (or `https` without hosts) with the same destination match. Envoy rejects the client's whole outbound listener.",
    fix: 'Give the two matches distinct, non-overlapping ipAddresses, or use one protocol.',
  },
  EW423: {
    severity: 'warning',
    title:
      "tcp-server-first and tcp on the same port for the same client with distinct IP matches: works, but OSM's docs ask for separate ports",
    meaning:
      "`tcp-server-first` and `tcp` (or `https` without hosts) on the same port for the same client, with distinct IP matches. OSM accepts this and builds a filter chain for each. Both proxy to the original destination through the port's cluster, and neither uses the TLS and HTTP inspectors that `tcp-server-first` turns off on the port, so both work. Only OSM's egress guide says a server-first port must not be shared with other protocols.",
    fix: "Nothing breaks; to follow OSM's docs, use another port for one of the two, or `tcp-server-first` for both.",
  },
  EW424: {
    severity: 'error',
    title: 'tcp/https matches of the same client and port that collide without tcp-server-first: Envoy rejects the listener',
    meaning:
      '`tcp` / `https` matches of the same client and port that collide without `tcp-server-first` (for example `tcp` and `https` both without hosts or IPs). Envoy rejects the listener.',
    fix: 'Give the matches distinct ipAddresses or hosts, or merge them into one port entry.',
  },
  EW425: {
    severity: 'warning',
    title: 'an in-mesh Service makes the port tcp-server-first, which breaks this Egress port for mesh clients',
    meaning:
      "An in-mesh Service declares the port `tcp-server-first` (through `appProtocol: tcp-server-first` or a port name `tcp-server-first-…`). This breaks this Egress's `http` / `https` port for mesh clients that reach that Service. A `tcp` port (or `https` without hosts) still works, as it needs no protocol detection; OSM's docs ask for a port of its own.",
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
    fix: "Narrow the bypass range so it leaves out the cluster's pod and service CIDRs.",
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
    title: "an Istio capture annotation on the pod fails Istio's own validation (Istio would reject the pod)",
    meaning: "An Istio capture annotation on the pod fails Istio's own validation (Istio would reject the pod).",
    fix: 'Write the value as Istio expects: CIDRs separated by `,` without spaces, `*` only in the include list.',
  },
  EW508: {
    severity: 'error',
    title: "an OSM capture annotation on the pod fails OSM's own validation (OSM would reject the pod)",
    meaning: "An OSM capture annotation on the pod fails OSM's own validation (OSM would reject the pod).",
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
    meaning:
      '`cluster` mode, but no cluster CIDRs are known: the include list is left at the mesh default instead of capturing only the extra ranges.',
    fix: 'Wait for CIDR detection, or give the ranges with `--pod-cidrs` and `--service-cidrs`.',
  },
  EW512: {
    severity: 'warning',
    title: 'unknown egress-warden.io annotation (a typo is otherwise silently ignored)',
    meaning:
      'Unknown `egress-warden.io/*` annotation (probably a typo), or `egress-warden.io/mode` set as an annotation instead of a label.',
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
    fix: "Order the webhooks so egress-warden runs before OSM's injector (reinvocationPolicy or names).",
  },
  EW515: {
    severity: 'warning',
    title: 'a mesh capture annotation on a namespace: the mesh reads it from pods only',
    meaning:
      "A mesh capture annotation (`traffic.sidecar.istio.io/*`, OSM's range and port lists) on a namespace: the meshes read these from pods only.",
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
    meaning:
      'A label or annotation egress-warden reads has a value that is not a string: an unquoted `true` or number, or a key with no value, in YAML. Quote it (`"true"`), or write `""` for an empty value. Keys egress-warden does not read are never checked.',
    fix: 'Quote the value in YAML (`"true"`, `"8080"`), or write `""` for an empty one.',
  },
  EW519: {
    severity: 'warning',
    title: "cluster capture mode with a pod range known only from the current nodes' podCIDRs",
    meaning:
      "The pod CIDRs were detected only as the union of the nodes' `spec.podCIDRs` (no ServiceCIDR, kubeadm-config, kube-proxy or configured range named the whole pod range), the usual case on managed clusters. A pod in `cluster` capture mode captures exactly those slices: when a node joins with a new podCIDR, traffic from existing pods to pods on it goes around the sidecar (no mTLS, no policy) until they are restarted.",
    fix: "Give the whole pod range with `serve --pod-cidrs` (or `EW_POD_CIDRS`), for instance the cluster's `--cluster-cidr`; `egress-warden audit` lists the pods whose ranges went stale and need a restart.",
  },
  EW520: {
    severity: 'warning',
    title: "a capture mode that takes external traffic out of a REGISTRY_ONLY mesh's control",
    meaning:
      "Istio's mesh config sets `outboundTrafficPolicy.mode: REGISTRY_ONLY`, and `egress-warden.io/outbound-capture: cluster` on this namespace or pod captures only the cluster's ranges: connections to external addresses leave the pod without the sidecar, so the lockdown (and every ServiceEntry, VirtualService and telemetry for them) does not apply. This may be intended; it is a warning.",
    fix: 'Use capture mode `all` (the default) to keep external traffic under the registry, or accept that these pods reach any external address directly.',
  },
  EW521: {
    severity: 'warning',
    title: "a sidecar.istio.io/inject value Istio's injector does not accept",
    meaning:
      'Istio\'s injector accepts exactly `"true"` and `"false"` in the `sidecar.istio.io/inject` label (and the deprecated annotation): any other value, such as `yes`, `no` or `False`, is ignored with a warning in istiod\'s log, and the pod gets the namespace\'s default, which injects (`injectRequired` in `pkg/kube/inject/inject.go`). egress-warden follows the injector, so such a pod is treated as injected.',
    fix: 'Write `"true"` or `"false"`.',
  },
  EW522: {
    severity: 'warning',
    title: "an Istio capture range list with spaces or empty items, rewritten in the form both of Istio's parsers read",
    meaning:
      'istio-iptables (the istio-init container) skips spaces and empty items in `traffic.sidecar.istio.io/includeOutboundIPRanges` and `excludeOutboundIPRanges`, so `10.0.0.1/32, 10.0.0.2/32,` works there; the istio-cni plugin splits the value on `,` and parses every item strictly, so the same value fails the pod\'s network set-up ("redirect failed due to bad params") and the pod never starts. egress-warden writes the value back without the spaces and empty items, and keeps the ranges as written.',
    fix: 'Write the ranges separated by `,` alone, with no trailing comma.',
  },
  EW523: {
    severity: 'warning',
    title: 'capture mode cluster replaces an include list the mesh operator narrowed for every pod',
    meaning:
      "Istio's operator narrowed what every sidecar captures (`values.global.proxy.includeIPRanges` other than `*`, in the injector's config or in the injected istio-init's `-i`), and `egress-warden.io/outbound-capture: cluster` on this namespace or pod writes the cluster's pod and service ranges instead. The namespace's choice wins; the warning names the list it replaces, so that nothing the operator set is dropped silently.",
    fix: "If the operator's list must stay, add its ranges with `egress-warden.io/capture-ip-ranges`, or use capture mode `all` and leave the include list to the mesh.",
  },
  EW599: {
    severity: 'warning',
    title: 'an unexpected internal error (a bug) while computing the pod patch: the pod is admitted unchanged',
    meaning: 'An unexpected internal error (a bug) while computing the patch: the pod was admitted unchanged. The message names the error.',
    fix: 'Report the bug with the message; the pod was admitted unchanged.',
  },
  EW601: {
    severity: 'error',
    title: 'a Sidecar that configures nothing',
    meaning:
      'The Sidecar has no `egress`, `ingress`, `outboundTrafficPolicy` or `inboundConnectionPool`: istiod refuses it ("sidecar: empty configuration provided", `ValidateSidecar`).',
    fix: 'Add the egress listeners (`hosts`) or the outboundTrafficPolicy the Sidecar is meant to set, or delete it.',
  },
  EW602: {
    severity: 'error',
    title: 'Sidecar workloadSelector label with an empty key, a wildcard or a value that is not a string',
    meaning:
      '`workloadSelector` label with an empty key, a `*` in its key or value, or a value that is not a string: istiod refuses the Sidecar (`ValidateAlphaWorkloadSelector`).',
    fix: 'Give every workloadSelector label a non-empty key without `*` and a string value.',
  },
  EW603: {
    severity: 'warning',
    title: 'Sidecar workloadSelector without labels applies to every workload in the namespace',
    meaning:
      'A `workloadSelector` without labels selects every workload of the namespace, like a Sidecar without a selector, which most likely is not what was meant (istiod warns the same, `ValidateSidecar`).',
    fix: 'Add labels to the workloadSelector, or remove it if the Sidecar is meant for the whole namespace.',
  },
  EW604: {
    severity: 'error',
    title: 'a Sidecar egress listener that is null or has no hosts',
    meaning:
      'An `egress` listener must list at least one host in `namespace/dnsName` form; istiod refuses a listener without hosts ("egress listener must contain at least one host") and a null one (`ValidateSidecar`).',
    fix: 'List the hosts the workloads reach, such as `./*` (this namespace), `istio-system/*` or `*/api.example.com`.',
  },
  EW605: {
    severity: 'error',
    title: 'a Sidecar egress host that is not namespace/dnsName, or whose namespace or name is invalid',
    meaning:
      "Every `egress[].hosts` entry is `namespace/dnsName`: the namespace is where the *configuration* (ServiceEntry, VirtualService, Service) lives, not where the clients run; `.` is the Sidecar's own namespace, `*` any namespace, `~` none; the name is a fully qualified name, `*`, or a leading wildcard (`*.example.com`), never a short name or a partial wildcard. istiod refuses anything else (`ValidateNamespaceSlashWildcardHostname`).",
    fix: 'Write the host as `<namespace of the ServiceEntry>/<host>`, for instance `egress/api.example.com`, `./*` or `*/api.example.com`.',
  },
  EW606: {
    severity: 'error',
    title: 'a Sidecar egress listener without a port that is not the last one, or more than one',
    meaning:
      'The egress listener without `port` catches every port not named by another listener; istiod accepts one, and only as the last listener ("the egress listener with empty port should be the last listener in the list", `ValidateSidecar`).',
    fix: 'Move the listener without a port to the end of `egress`, and merge the hosts of a second one into it.',
  },
  EW607: {
    severity: 'error',
    title: 'a Sidecar egress port, bind or captureMode istiod refuses',
    meaning:
      'An egress listener `port` with a number outside 1..65535 (0 only with a `unix://` bind), an invalid name or protocol, a number used by another listener, a `targetPort` (no effect on Sidecars), a `bind` that is not an IP address, or a unix-socket listener with a captureMode other than DEFAULT or NONE (`validateSidecarEgressPortBindAndCaptureMode`).',
    fix: 'Give each listener its own port number in 1..65535, a DNS-1123 name and a valid protocol; bind to an IP or a `unix://` path.',
  },
  EW608: {
    severity: 'warning',
    title: 'a Sidecar egress host listed twice, or covered by a namespace wildcard of the same listener',
    meaning:
      'The same `namespace/host` appears twice in one listener, or `ns/*` already imports it: istiod warns ("duplicated egress host") and uses the broader entry (`ValidateSidecar`).',
    fix: 'Keep one entry per host; drop hosts already covered by `ns/*`.',
  },
  EW609: {
    severity: 'warning',
    title: 'a Sidecar egress listener with */* and other hosts',
    meaning:
      '`*/*` imports every host of every namespace, so the other hosts of the listener change nothing and the Sidecar scopes nothing on that listener (istiod warns: "`*/*` host select all resources, no other hosts can be added").',
    fix: 'Remove `*/*` to scope the listener to the hosts listed, or remove the other hosts.',
  },
  EW610: {
    severity: 'error',
    title: 'a Sidecar outboundTrafficPolicy istiod refuses',
    meaning:
      '`outboundTrafficPolicy.mode` must be `REGISTRY_ONLY` or `ALLOW_ANY`: `ALLOW_ANY_DYNAMIC_DNS` exists only in MeshConfig ("sidecar: ALLOW_ANY_DYNAMIC_DNS mode is only supported in MeshConfig", `validateSidecarOutboundTrafficPolicy`); `egressProxy` needs mode ALLOW_ANY, a fully qualified host and a port.',
    fix: 'Use REGISTRY_ONLY or ALLOW_ANY here (set ALLOW_ANY_DYNAMIC_DNS in the mesh config), and give egressProxy a host and port under ALLOW_ANY.',
  },
  EW611: {
    severity: 'warning',
    title: 'a second Sidecar without workloadSelector in the namespace: istiod uses only one',
    meaning:
      "A namespace takes one Sidecar without a `workloadSelector` as its default. With two, istiod uses the oldest and ignores the other, without saying so on the object (istioctl analyze IST0111). The other's egress hosts and outboundTrafficPolicy never apply.",
    fix: 'Merge the two into one Sidecar, or give one a workloadSelector.',
  },
  EW612: {
    severity: 'warning',
    title: 'a Sidecar whose workloadSelector selects pods another Sidecar selects too',
    meaning:
      'Every pod this Sidecar selects is also selected by another Sidecar of the namespace (one selector is contained in the other). A pod gets one Sidecar, the oldest, and istiod does not say which (istioctl analyze IST0110).',
    fix: 'Make the selectors disjoint (add a label that tells the workloads apart), or merge the two Sidecars.',
  },
  EW613: {
    severity: 'warning',
    title: 'a Sidecar egress host that imports no ServiceEntry: the entry for it lives in another namespace or is not exported here',
    meaning:
      "In `namespace/host` the namespace is where the ServiceEntry lives (istio/istio#13319). The ServiceEntries that register this host live in other namespaces, or are not exported (`exportTo`) to the Sidecar's namespace, so the listener imports nothing for the host: under REGISTRY_ONLY its traffic goes to BlackHoleCluster, otherwise around every rule for it (istio/istio#36712, #13087). A VirtualService of the namespace written for the host is imported instead, with its destinations from any namespace, and is not reported.",
    fix: 'Write the namespace of the ServiceEntry (the message names it) or `*/host`, and export the ServiceEntry to this namespace.',
  },
  EW621: {
    severity: 'warning',
    title: 'a DYNAMIC_DNS MESH_INTERNAL ServiceEntry in a namespace that uses a waypoint: the waypoint skips it',
    meaning:
      'The ServiceEntry\'s namespace carries `istio.io/use-waypoint`, so the entry is bound to that waypoint; istiod admits it (its `usesWaypoint` reads only the entry\'s own labels) and then leaves it out of the waypoint ("DYNAMIC_DNS is supported only for MESH_EXTERNAL services; skipping waypoint service", `findWaypointResources`). Labelled on the entry itself, istiod refuses it (EW131).',
    fix: 'Use location MESH_EXTERNAL, a resolution other than DYNAMIC_DNS, or label the entry `istio.io/use-waypoint: none`.',
  },
  EW622: {
    severity: 'warning',
    title: 'a ServiceEntry on a waypoint without addresses where istiod allocates none: ztunnel never sends its traffic to the waypoint',
    meaning:
      'ztunnel redirects traffic to a waypoint by destination address. Without `addresses`, the entry gets one only from istiod\'s IP auto-allocation, which skips resolution NONE, entries labelled `networking.istio.io/enable-autoallocate-ip: "false"` and wildcard hosts (except DYNAMIC_DNS) (`ShouldV2AutoAllocateIP`). The entry is Accepted and its traffic goes straight out, around the waypoint and its policies (istio/istio#54981, #54896, #53620).',
    fix: 'Add `addresses`, or use resolution DNS/STATIC with exact hosts and leave auto-allocation on (PILOT_ENABLE_IP_AUTOALLOCATE, the default).',
  },
  EW623: {
    severity: 'warning',
    title: 'a ServiceEntry on a waypoint whose ports are all TCP: its traffic is reported not to pass the waypoint',
    meaning:
      'Plain TCP (or unset-protocol) ports of a ServiceEntry bound to a waypoint are reported to reach the destination without traversing the waypoint, while TLS and HTTP ports of the same setup do (istio/istio#59576, open): AuthorizationPolicies attached to the waypoint or the entry do not see that traffic.',
    fix: 'Declare the port as TLS or HTTPS when the traffic is TLS, and check with `istioctl ztunnel-config` that the connection goes through the waypoint.',
  },
  EW624: {
    severity: 'warning',
    title: 'a ServiceEntry on a waypoint with a narrowed exportTo: ztunnel does not honour exportTo',
    meaning:
      "ztunnel sends traffic for the entry's addresses to its waypoint from every namespace, whatever `exportTo` says (istio/istio#55163, open), and a waypoint in another namespace serves the entry regardless. `exportTo` does not confine who reaches the destination in ambient mode.",
    fix: 'Confine access with an AuthorizationPolicy whose targetRefs name the ServiceEntry (or the waypoint), and keep exportTo for the sidecars.',
  },
  EW625: {
    severity: 'warning',
    title: 'istio.io/use-waypoint names a waypoint Gateway that does not exist',
    meaning:
      'The ServiceEntry (or its namespace) names a waypoint (`istio.io/use-waypoint`, namespace from `istio.io/use-waypoint-namespace`) for which no Gateway exists: istiod marks the binding not ready (`ReportWaypointIsNotReady`, `fetchWaypointForTarget`) and the traffic goes straight out, around every policy the waypoint would enforce.',
    fix: 'Create the waypoint (`istioctl waypoint apply -n <namespace> --name <name>`), or fix the label.',
  },
  EW626: {
    severity: 'warning',
    title: 'istio.io/use-waypoint names a Gateway that is not of class istio-waypoint',
    meaning:
      'The Gateway the label names has a `gatewayClassName` other than `istio-waypoint` (or `istio-agentgateway-waypoint`): istiod deploys no waypoint for it, so the bound traffic either goes to a Gateway that does not serve HBONE (`gatewayToWaypointTransform` takes any Gateway with addresses) or waits for a waypoint that never becomes ready.',
    fix: "Name a Gateway of class `istio-waypoint`, or change the Gateway's class.",
  },
  EW627: {
    severity: 'warning',
    title: 'the waypoint does not serve service traffic (istio.io/waypoint-for is workload or none)',
    meaning:
      'A ServiceEntry is service traffic; a waypoint serves it only when its `istio.io/waypoint-for` label (on the Gateway, else its GatewayClass, default `service`) is `service` or `all`. Otherwise istiod refuses the binding (`ReportWaypointUnsupportedTrafficType`, `fetchWaypointForService`) and the traffic bypasses the waypoint.',
    fix: 'Label the waypoint Gateway `istio.io/waypoint-for: service` (or `all`), or use a waypoint that serves services.',
  },
  EW628: {
    severity: 'warning',
    title: "the waypoint's allowedRoutes do not admit the ServiceEntry's namespace",
    meaning:
      "A waypoint in another namespace serves only namespaces its HBONE listener's `allowedRoutes.namespaces` admits (`Same` by default; `All`, or a `Selector` on namespace labels). istiod refuses the binding (`ReportWaypointAttachmentDenied`, `AllowsAttachmentFromNamespace`) and the traffic bypasses the waypoint.",
    fix: "Set the waypoint listener's `allowedRoutes.namespaces.from` to `All`, or to a `Selector` matching this namespace.",
  },
  EW630: {
    severity: 'warning',
    title: 'an AuthorizationPolicy targetRef names a ServiceEntry that does not exist',
    meaning:
      "An AuthorizationPolicy attached by `targetRefs` to a ServiceEntry (group `networking.istio.io`) applies at that entry's waypoint. No ServiceEntry of that name exists in the policy's namespace, so the policy applies nowhere (istiod reports it only in the policy's status).",
    fix: "Fix the name, or create the ServiceEntry in the policy's namespace.",
  },
  EW631: {
    severity: 'warning',
    title: 'an AuthorizationPolicy targetRef names a ServiceEntry that is bound to no waypoint',
    meaning:
      'A policy attached to a ServiceEntry is enforced by the waypoint the entry uses. Neither the entry nor its namespace carries `istio.io/use-waypoint` (or it says `none`), so no proxy enforces the policy.',
    fix: 'Label the ServiceEntry (or its namespace) `istio.io/use-waypoint: <waypoint>`.',
  },
  EW641: {
    severity: 'error',
    title: 'a Hostname backendRef with a namespace',
    meaning:
      'A backendRef of `group: networking.istio.io, kind: Hostname` names a host of the mesh registry, which has no namespace; istiod refuses the backend ("namespace may not be set with Hostname type", `buildDestination`) and reports it only in the route\'s status: the rule never forwards.',
    fix: 'Remove `namespace` from the backendRef.',
  },
  EW642: {
    severity: 'error',
    title: 'a Service backendRef named with a hostname',
    meaning:
      'A Service backendRef takes the Service\'s name; a name with a dot is a hostname, which istiod refuses ("the name of the Service must be used, not the hostname", `buildDestination`) in the route\'s status only.',
    fix: "Use the Service's name and namespace, or `group: networking.istio.io, kind: Hostname` for a ServiceEntry host.",
  },
  EW643: {
    severity: 'warning',
    title: "a Hostname backendRef names a host no ServiceEntry visible from the route's namespace declares",
    meaning:
      "istiod resolves a Hostname backendRef in the mesh registry as seen from the route's namespace; no ServiceEntry exported there declares the host, so the backend is not found (`InvalidDestinationNotFound`, `buildDestination`) and the rule answers 500.",
    fix: "Create a ServiceEntry for the host exported to the route's namespace, or fix the host.",
  },
  EW644: {
    severity: 'warning',
    title: 'a route parentRef names a ServiceEntry that does not exist',
    meaning:
      'A route whose `parentRefs` names a ServiceEntry applies to that entry\'s hosts. No ServiceEntry of that name exists, so istiod marks the parent not accepted ("parent service entry … not found", `referenceAllowed`) and the route applies to nothing.',
    fix: 'Fix the parentRef name or namespace, or create the ServiceEntry.',
  },
  EW645: {
    severity: 'warning',
    title: 'a route parentRef names an EgressNetwork that does not exist',
    meaning:
      "No Linkerd EgressNetwork of that name exists in the parentRef's namespace: the route attaches to nothing, and the traffic follows the trafficPolicy of whichever EgressNetwork matches.",
    fix: 'Fix the parentRef name or namespace, or create the EgressNetwork.',
  },
  EW646: {
    severity: 'error',
    title: 'a route parentRef to an EgressNetwork without a port',
    meaning:
      'Linkerd refuses an HTTPRoute, GRPCRoute, TLSRoute or TCPRoute whose parent is an EgressNetwork without `port` ("cannot target an EgressNetwork without specifying a port", policy-controller admission).',
    fix: 'Set `port` on the parentRef to the destination port (443, 80…).',
  },
  EW647: {
    severity: 'error',
    title: 'a Service backendRef without a port in a route to an EgressNetwork',
    meaning:
      'Linkerd refuses a Service backendRef without `port` ("cannot reference a Service without a port", policy-controller admission).',
    fix: 'Set `port` on the backendRef.',
  },
  EW648: {
    severity: 'error',
    title: 'a TLSRoute or TCPRoute to an EgressNetwork with other than exactly one rule',
    meaning:
      'Linkerd accepts TLSRoutes and TCPRoutes with exactly one rule ("TlsRoute supports a single rule only", policy-controller admission).',
    fix: 'Keep one rule, and split the others into routes of their own.',
  },
  EW649: {
    severity: 'warning',
    title: 'a mesh egress route with nothing to route',
    meaning:
      "Toward a ServiceEntry, a rule without backendRefs (or with weight 0 only) and without a redirect answers HTTP 500, or refuses TLS and TCP connections (Istio, per the Gateway API). Toward an EgressNetwork, a route without rules matches nothing and the EgressNetwork's trafficPolicy decides (linkerd/linkerd2#13425).",
    fix: 'Add backendRefs (a Hostname backendRef for the ServiceEntry host), or the rules the route is meant to carry.',
  },
  EW650: {
    severity: 'warning',
    title: 'a route parentRef port the ServiceEntry does not declare',
    meaning:
      'A parentRef `port` narrows the route to that port of the ServiceEntry (istiod adds a port match); the entry declares no such port, so the route never matches.',
    fix: 'Use a port the ServiceEntry declares, or add it to the ServiceEntry.',
  },
  EW651: {
    severity: 'warning',
    title: "a route whose kind does not fit the protocol of the ServiceEntry's ports: it is ignored",
    meaning:
      "istiod turns an HTTPRoute or GRPCRoute into http routes, a TLSRoute into tls routes and a TCPRoute into tcp routes of the ServiceEntry's hosts; the sidecar uses http routes only on HTTP ports, tls routes on HTTPS/TLS ports, and ignores the others without a word (the route-level form of EW401/EW402).",
    fix: 'Use the route kind that fits the port (TLSRoute for TLS and HTTPS, HTTPRoute for HTTP), or fix the ServiceEntry port protocol.',
  },
  EW661: {
    severity: 'error',
    title: 'an EgressNetwork with an empty networks list',
    meaning:
      'Linkerd refuses `networks: []` ("at least one network must be specified", policy-controller admission). Leaving `networks` out means every address outside the cluster networks.',
    fix: 'List the networks, or remove `networks` to cover every address outside the cluster.',
  },
  EW662: {
    severity: 'error',
    title: 'an EgressNetwork cidr or except that is not a CIDR or IP address',
    meaning: 'Each `networks[].cidr` and each `except` item must be a CIDR or an IP address; Linkerd cannot read the object otherwise.',
    fix: 'Write a CIDR such as `203.0.113.0/24`, or a single address.',
  },
  EW663: {
    severity: 'error',
    title: 'an EgressNetwork except outside its cidr, or covering all of it',
    meaning:
      'Each `except` must lie inside its network\'s `cidr` and leave part of it: Linkerd refuses "cidr … does not include exception …" and "cidr … is completely negated by exception …" (`validate_networks`).',
    fix: 'Move the exception under the network that contains it, or remove the network it negates entirely.',
  },
  EW664: {
    severity: 'error',
    title: 'an EgressNetwork trafficPolicy other than Allow or Deny',
    meaning: '`trafficPolicy` is required and is `Allow` or `Deny` (case-sensitive); Linkerd cannot read the object otherwise.',
    fix: 'Set `trafficPolicy: Allow` or `trafficPolicy: Deny`.',
  },
  EW665: {
    severity: 'error',
    title: "an EgressNetwork network overlapping the cluster's pod or service range",
    meaning:
      'Linkerd admits it and only later sets `Accepted=False` (`EgressReasonNetworkOverlap`, "networks overlap with clusterNetworks"); its outbound index still matches the overlapping addresses that are not Services, so pod-to-pod traffic by IP from this namespace falls under the EgressNetwork\'s trafficPolicy. egress-warden denies it at admission, against the detected pod and service CIDRs.',
    fix: "Narrow the network, or add the cluster's ranges as `except` items (the message names the range).",
  },
  EW666: {
    severity: 'warning',
    title: 'an EgressNetwork outside the global egress namespace: its namespace stops using the global ones',
    meaning:
      "Linkerd considers only the EgressNetworks of a pod's own namespace once that namespace has any, and the global egress namespace's (`linkerd-egress` by default, `--global-egress-network-namespace`) only when it has none (`resolve_egress_network`). This EgressNetwork therefore takes every address, not only its own networks, out of the global EgressNetworks for the pods of its namespace: a global `trafficPolicy: Deny` stops applying to them, and addresses none of the namespace's networks match leave as plain external traffic.",
    fix: 'Create the EgressNetwork in the global egress namespace, or repeat in this namespace the global EgressNetworks its pods still need.',
  },
} as const satisfies Readonly<Record<string, FindingSpec>>;

/** A finding code; a code missing from FINDINGS does not type-check. */
export type Code = keyof typeof FINDINGS;

export const CODES: readonly Code[] = Object.keys(FINDINGS) as Code[];

export const severityOf = (code: Code): Severity => FINDINGS[code].severity;

/** The anchor of the code's section in docs/codes.md. */
export const docsSlug = (code: Code): string => code.toLowerCase();
