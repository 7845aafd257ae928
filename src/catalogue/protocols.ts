/**
 * Istio's protocol table (pkg/config/protocol): names parse case-insensitively; anything else is
 * unsupported, which for a ServiceEntry port means "sniffed" when unset and an error when written.
 */

export type Protocol =
  | 'TCP'
  | 'UDP'
  | 'GRPC'
  | 'GRPC-Web'
  | 'HTTP'
  | 'HTTP_PROXY'
  | 'HTTP2'
  | 'HTTPS'
  | 'TLS'
  | 'Mongo'
  | 'Redis'
  | 'MySQL';

const TABLE: ReadonlyMap<string, Protocol> = new Map<string, Protocol>([
  ['tcp', 'TCP'],
  ['udp', 'UDP'],
  ['grpc', 'GRPC'],
  ['grpc-web', 'GRPC-Web'],
  ['http', 'HTTP'],
  ['http_proxy', 'HTTP_PROXY'],
  ['http2', 'HTTP2'],
  ['https', 'HTTPS'],
  ['tls', 'TLS'],
  ['mongo', 'Mongo'],
  ['redis', 'Redis'],
  ['mysql', 'MySQL'],
]);

/** The canonical protocol, or undefined for unsupported (including ""). */
export const parseProtocol = (s: unknown): Protocol | undefined => (typeof s === 'string' ? TABLE.get(s.toLowerCase()) : undefined);

const HTTP = new Set<Protocol>(['HTTP', 'HTTP2', 'HTTP_PROXY', 'GRPC', 'GRPC-Web']);
const TCP = new Set<Protocol>(['TCP', 'HTTPS', 'TLS', 'Mongo', 'Redis', 'MySQL']);

export const isHttp = (p: Protocol | undefined): boolean => p !== undefined && HTTP.has(p);
export const isTls = (p: Protocol | undefined): boolean => p === 'HTTPS' || p === 'TLS';
/** Istio's IsTCP: carried by a TCP listener (TLS-ish protocols included). */
export const isTcp = (p: Protocol | undefined): boolean => p !== undefined && TCP.has(p);

/**
 * A ServiceEntry port protocol (as written, any case) that Envoy tells apart neither by SNI nor by
 * sniffing HTTP: TCP, Mongo, Redis, MySQL, or unset (""). On 0.0.0.0:<port> such ports of
 * different entries fall into one TCP filter chain, so one entry takes the other's traffic.
 */
export function isPlainTcp(protocol: string): boolean {
  if (protocol === '') return true;
  const p = parseProtocol(protocol);
  return p !== undefined && !isHttp(p) && !isTls(p) && p !== 'UDP';
}

/**
 * Which kind of VirtualService route a port of this protocol serves: http routes on HTTP-class
 * ports, tls routes on HTTPS/TLS, tcp routes on the other TCP-class ports; unset means sniffed.
 */
export type RouteClass = 'http' | 'tls' | 'tcp' | 'udp' | 'sniffed';

export function routeClass(p: Protocol | undefined): RouteClass {
  if (p === undefined) return 'sniffed';
  if (isHttp(p)) return 'http';
  if (isTls(p)) return 'tls';
  return p === 'UDP' ? 'udp' : 'tcp';
}

/**
 * The protocol a port name announces by Istio's naming convention (`<protocol>[-<suffix>]`,
 * case-insensitive, "grpc-web" matched before splitting on "-"); undefined when the name says none.
 */
export function protocolFromPortName(name: string): Protocol | undefined {
  const lower = name.toLowerCase();
  if (lower === 'grpc-web' || lower.startsWith('grpc-web-')) return 'GRPC-Web';
  const dash = lower.indexOf('-');
  return parseProtocol(dash < 0 ? lower : lower.slice(0, dash));
}

/**
 * Whether a port named for one protocol and declared another is inconsistent. Names and protocols
 * of the same route class agree (name "http" on HTTP2, "https" on TLS), as do "tcp" names on any
 * TCP-class protocol, since a name only tells Istio what a Kubernetes Service port carries.
 */
export function nameContradictsProtocol(named: Protocol, declared: Protocol): boolean {
  if (named === declared) return false;
  const a = routeClass(named);
  const b = routeClass(declared);
  if (a === b) return false;
  if (named === 'TCP' && isTcp(declared)) return false;
  return true;
}

/** OSM's protocol for server-first TCP (MySQL, PostgreSQL, SMTP): no HTTP inspector on its port. */
export const TCP_SERVER_FIRST = 'tcp-server-first';

/** OSM Egress protocols that produce a filter chain, compared case-sensitively as OSM's listener builder does. */
export const EGRESS_PROTOCOLS: readonly string[] = ['http', 'https', 'tcp', TCP_SERVER_FIRST];

/**
 * The protocol prefixes of a Service port name, longest match first where one is a prefix of
 * another (`http2` before `http`, `grpc-web` before `grpc`), as OSM and Istio read `<protocol>-<suffix>`.
 */
export const SERVICE_PORT_PROTOCOLS: readonly string[] = [
  TCP_SERVER_FIRST,
  'https',
  'http2',
  'http',
  'grpc-web',
  'grpc',
  'tls',
  'tcp',
  'udp',
  'mongo',
  'mysql',
  'redis',
];
