/**
 * CIDR values. The only module that imports ipaddr.js: everything else handles `Cidr`, a small
 * normalized value (network address with host bits cleared, prefix length, family) that never
 * throws and compares across families safely.
 */
import ipaddr from 'ipaddr.js'; // CJS `export =`: default import only

export type Family = 4 | 6;

export type Cidr = {
  readonly family: Family;
  /** network address, host bits cleared, as a bigint for cheap range arithmetic */
  readonly base: bigint;
  readonly bits: number;
  /** canonical text, e.g. "10.96.0.0/12", "fd00::/108" */
  readonly text: string;
};

export type ParsedCidr = { readonly cidr: Cidr; readonly hostBitsSet: boolean };

// ipaddr.js alone accepts inet_aton forms (0x0a.1, 010.0.0.1, 167772161); Go's parser, which Istio,
// OSM and Kubernetes use, accepts only four decimal octets without leading zeros.
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const PREFIX = /^(?:0|[1-9]\d{0,2})$/;

const width = (f: Family): number => (f === 4 ? 32 : 128);

function addressValue(text: string): { family: Family; value: bigint } | undefined {
  if (IPV4.test(text)) {
    return { family: 4, value: text.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  }
  if (!text.includes(':') || text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined;
  const bytes = ipaddr.IPv6.parse(text).toByteArray();
  return { family: 6, value: bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n) };
}

function formatAddress(family: Family, value: bigint): string {
  const n = family === 4 ? 4 : 16;
  const bytes = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return family === 4 ? bytes.join('.') : ipaddr.fromByteArray(bytes).toString();
}

const mask = (family: Family, bits: number): bigint => {
  const w = BigInt(width(family));
  return ((1n << w) - 1n) ^ ((1n << (w - BigInt(bits))) - 1n);
};

function make(family: Family, value: bigint, bits: number): Cidr {
  const base = value & mask(family, bits);
  return { family, base, bits, text: `${formatAddress(family, base)}/${bits}` };
}

/** Strict CIDR ("10.0.0.0/8", "fd00::/64"); tells whether host bits were set. Never throws. */
export function parseCidrDetailed(text: string): ParsedCidr | undefined {
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0 || slash !== s.lastIndexOf('/')) return undefined;
  const addr = addressValue(s.slice(0, slash));
  const prefix = s.slice(slash + 1);
  if (!addr || !PREFIX.test(prefix)) return undefined;
  const bits = Number(prefix);
  if (bits > width(addr.family)) return undefined;
  const cidr = make(addr.family, addr.value, bits);
  return { cidr, hostBitsSet: cidr.base !== addr.value };
}

/** Strict CIDR, host bits cleared. */
export const parseCidr = (text: string): Cidr | undefined => parseCidrDetailed(text)?.cidr;

/** A bare address (as a /32 or /128) or a CIDR. */
export function parseIpOrCidr(text: string): ParsedCidr | undefined {
  const s = text.trim();
  if (s.includes('/')) return parseCidrDetailed(s);
  const addr = addressValue(s);
  return addr && { cidr: make(addr.family, addr.value, width(addr.family)), hostBitsSet: false };
}

/** A bare IPv4 or IPv6 address, strictly. */
export const isIp = (text: string): boolean => addressValue(text) !== undefined;

const last = (c: Cidr): bigint => c.base | ((1n << BigInt(width(c.family) - c.bits)) - 1n);

/** `outer` contains all of `inner`; false across families. */
export const contains = (outer: Cidr, inner: Cidr): boolean =>
  outer.family === inner.family && inner.bits >= outer.bits && (inner.base & mask(outer.family, outer.bits)) === outer.base;

/** The two ranges share at least one address; false across families. */
export const overlaps = (a: Cidr, b: Cidr): boolean => contains(a, b) || contains(b, a);

/** Whether an address (text) falls in any of the ranges. */
export function containsAddress(ranges: readonly Cidr[], address: string): boolean {
  const a = parseIpOrCidr(address);
  return a !== undefined && ranges.some((r) => contains(r, a.cidr));
}

export const compareCidrs = (a: Cidr, b: Cidr): number =>
  a.family - b.family || (a.base < b.base ? -1 : a.base > b.base ? 1 : a.bits - b.bits);

/** Largest aligned blocks exactly covering [lo, hi]. */
function cover(family: Family, lo: bigint, hi: bigint): Cidr[] {
  const w = width(family);
  const out: Cidr[] = [];
  while (lo <= hi) {
    let size = 0;
    while (size < w && (lo & ((1n << BigInt(size + 1)) - 1n)) === 0n && lo + (1n << BigInt(size + 1)) - 1n <= hi) size++;
    out.push(make(family, lo, w - size));
    lo += 1n << BigInt(size);
  }
  return out;
}

/**
 * Merge overlapping and adjacent ranges into the fewest CIDRs covering exactly the same addresses,
 * sorted IPv4 first, then by address. Stable output for annotations and idempotent patches.
 */
export function mergeCidrs(ranges: readonly Cidr[]): Cidr[] {
  const sorted = [...ranges].sort(compareCidrs);
  const out: Cidr[] = [];
  let run: { family: Family; lo: bigint; hi: bigint } | undefined;
  const flush = () => {
    if (run) out.push(...cover(run.family, run.lo, run.hi));
  };
  for (const c of sorted) {
    if (run && run.family === c.family && c.base <= run.hi + 1n) {
      if (last(c) > run.hi) run.hi = last(c);
      continue;
    }
    flush();
    run = { family: c.family, lo: c.base, hi: last(c) };
  }
  flush();
  return out;
}

export const formatCidrs = (ranges: readonly Cidr[], separator = ','): string => ranges.map((c) => c.text).join(separator);

/** 0.0.0.0/0 or ::/0 */
export const isAll = (c: Cidr): boolean => c.bits === 0;
