/**
 * The destination `explain` is asked about, and how the meshes match a host name against the names
 * their objects list: exact (case-insensitive), or a leading `*.` wildcard that matches any name
 * ending in the rest.
 */
import { isIp } from '../net/cidr.ts';

/** http and https as a client speaks them; tls for TLS that is not HTTPS; tcp for anything else. */
export type Scheme = 'http' | 'https' | 'tls' | 'tcp';

export type Destination = {
  readonly scheme: Scheme;
  /** lower case; an IP address when the destination was given as one */
  readonly host: string;
  readonly port: number;
  /** the address the host resolves to, when known (the host itself for an IP) */
  readonly address?: string;
};

const DEFAULT_PORT: Readonly<Record<Scheme, number | undefined>> = { http: 80, https: 443, tls: 443, tcp: undefined };

/** "https://www.google.com:443", "tcp://10.0.0.5:5432"; returns why not when it cannot be read. */
export function parseDestination(text: string, address?: string): Destination | { readonly problem: string } {
  const m = /^([a-z]+):\/\/(\[[0-9a-fA-F:.]+\]|[^/:\s[\]]+)(?::(\d+))?\/?$/.exec(text.trim());
  if (!m) return { problem: `--to must be SCHEME://HOST[:PORT] (SCHEME http, https, tls or tcp), got "${text}"` };
  const scheme = m[1] as Scheme;
  if (!(scheme in DEFAULT_PORT)) return { problem: `--to: scheme must be http, https, tls or tcp, got "${m[1]}"` };
  const host = m[2]!.replace(/^\[|\]$/g, '').toLowerCase();
  const port = m[3] !== undefined ? Number(m[3]) : DEFAULT_PORT[scheme];
  if (port === undefined) return { problem: `--to: ${scheme} needs a port, as in ${scheme}://${host}:5432` };
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { problem: `--to: port must be 1..65535, got ${m[3]}` };
  if (address !== undefined && !isIp(address)) return { problem: `--address must be an IP address, got "${address}"` };
  const known = isIp(host) ? host : address;
  return { scheme, host, port, ...(known !== undefined ? { address: known } : {}) };
}

/** Whether `pattern` (a host as an object lists it) covers `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const h = host.replace(/\.$/, '');
  if (p === h) return true;
  return p.startsWith('*.') && h.endsWith(p.slice(1)) && h.length > p.length - 1;
}

/** The index keys that can cover `host`: itself and every wildcard above it. */
export function candidateKeys(host: string): string[] {
  const labels = host.split('.');
  return [host, ...labels.slice(1).map((_, i) => `*.${labels.slice(i + 1).join('.')}`)];
}

/** In-cluster names resolve to Service addresses, which every capture mode captures. */
export const isClusterName = (host: string): boolean => /(^|\.)svc(\.cluster\.local)?$/.test(host) || host.endsWith('.cluster.local');

/** "www-google-com": a name for generated objects. */
export const slug = (host: string): string =>
  host
    .replace(/^\*\./, 'wildcard.')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'destination';
