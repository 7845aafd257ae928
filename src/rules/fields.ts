/**
 * Field checks shared by the rule files: DNS labels, host names, IP subnets, port numbers, exportTo,
 * host and annotation checks.
 * The `…Problem` functions return the problem's message (or undefined) and carry no code; the
 * `check…` functions wrap them into a Result under the caller's code and field path. Messages follow
 * Istio's validation (pkg/config/validation/agent) so users see the words they can search for.
 */
import type { Code } from '../catalogue/findings.ts';
import { ISTIO_REJECTED_ANNOTATIONS } from '../catalogue/keys.ts';
import { finding, mergeAll, ok, type Result } from '../catalogue/result.ts';
import { asObj, describe, q } from '../json.ts';
import { isIp, parseCidrDetailed } from '../net/cidr.ts';

export const DNS1123_LABEL_MAX = 63;
export const DOMAIN_MAX = 255;

const LABEL_ANY_CASE = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const LABEL_LOWER = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
// Istio's wildcard first label: "*", or an optional "*" / "*-" prefix on a DNS label ("*foo" parses,
// and is then caught by the partial-wildcard check).
const WILDCARD_LABEL = /^(?:\*|(?:\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

/**
 * A DNS-1123 label (1..63 characters, alphanumerics and inner dashes). Kubernetes names are lower
 * case; Istio's check (port names, exportTo, domain labels) also accepts upper case: pass allowUpper.
 */
export function isDns1123Label(value: string, opts: { readonly allowUpper?: boolean } = {}): boolean {
  return value.length <= DNS1123_LABEL_MAX && (opts.allowUpper ? LABEL_ANY_CASE : LABEL_LOWER).test(value);
}

/** The first label of an Istio wildcard host: "*", "*foo", "*-foo" or a plain label. */
export const isWildcardDns1123Label = (value: string): boolean => value.length <= DNS1123_LABEL_MAX && WILDCARD_LABEL.test(value);

// Go's strconv.Atoi: optional sign, decimal digits, within int64.
function isGoInt(s: string): boolean {
  if (!/^[+-]?\d+$/.test(s)) return false;
  const n = BigInt(s);
  return n <= 9223372036854775807n && n >= -9223372036854775808n;
}

function preconditionProblem(name: string): string | undefined {
  if (name.length > DOMAIN_MAX) return `domain name ${q(name)} too long (max ${DOMAIN_MAX})`;
  if (name.length === 0) return 'empty domain name not allowed';
  return undefined;
}

/** Labels after the first; `domain` is what Istio quotes, i.e. the remainder of the host. */
function labelsProblem(domain: string): string | undefined {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1]!;
  if (isGoInt(tld)) return `domain name ${q(domain)} invalid (top level domain ${q(tld)} cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i]!;
    // a trailing dot is allowed: "istio.io."
    if (i === parts.length - 1 && label === '') return undefined;
    if (!isDns1123Label(label, { allowUpper: true })) return `domain name ${q(domain)} invalid (label ${q(label)} invalid)`;
  }
  return undefined;
}

/** A fully qualified (or short) name without wildcards: Istio's ValidateFQDN. */
export function fqdnProblem(name: string): string | undefined {
  return preconditionProblem(name) ?? labelsProblem(name);
}

/** A host whose first label may be a wildcard: Istio's ValidateWildcardDomain. */
export function wildcardDomainProblem(name: string): string | undefined {
  const pre = preconditionProblem(name);
  if (pre) return pre;
  const dot = name.indexOf('.');
  const first = dot < 0 ? name : name.slice(0, dot);
  if (!isWildcardDns1123Label(first)) return `domain name ${q(name)} invalid (label ${q(first)} invalid)`;
  return dot < 0 ? undefined : labelsProblem(name.slice(dot + 1));
}

/** A wildcard anywhere but as a whole leading "*." label ("*foo.com", "foo.*.com"). */
export function partialWildcardProblem(host: string): string | undefined {
  return host.includes('*') && host.length !== 1 && !host.startsWith('*.') ? `partial wildcard ${q(host)} not allowed` : undefined;
}

/** Go netip.ParseAddr: a strict IPv4 or IPv6 address; IPv6 may carry a non-empty zone. */
export function isIpAddress(text: string): boolean {
  const pct = text.indexOf('%');
  if (pct < 0) return isIp(text);
  const zone = text.slice(pct + 1);
  return zone.length > 0 && text.includes(':') && isIp(text.slice(0, pct));
}

/**
 * An IP or a CIDR (host bits may be set, as in Go's netip.ParsePrefix): Istio's ValidateIPSubnet.
 * Exactly one "/" means a CIDR; anything else must be an address.
 */
export function ipSubnetProblem(text: string): string | undefined {
  if (text.split('/').length === 2) {
    return text.trim() === text && parseCidrDetailed(text) ? undefined : `${text} is not a valid CIDR block`;
  }
  return isIpAddress(text) ? undefined : `${text} is not a valid IP`;
}

/** Whether `text` is a CIDR (contains "/"), the form Istio restricts to NONE/STATIC resolution. */
export const isCidrText = (text: string): boolean => text.includes('/');

export const isPortNumber = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;

/**
 * A value's type and a short rendering, for "must be …, got …" messages: `string "443"`,
 * `number 1.5`, `an object`. Safe for any JSON value (see describe).
 */
export const got = (v: unknown): string => (typeof v === 'string' ? `string ${describe(v)}` : describe(v));

/** "must be a string" for a value that should be one, else undefined. */
export const notStringProblem = (what: string, v: unknown): string | undefined =>
  typeof v === 'string' ? undefined : `${what} must be a string, got ${got(v)}`;

// A number written as a string ("443") is a type mistake, not a range one: say so.
export const portNumberProblem = (n: unknown): string | undefined =>
  typeof n !== 'number' || !Number.isInteger(n)
    ? `port number must be an integer, got ${got(n)}`
    : isPortNumber(n)
      ? undefined
      : `port number ${n} must be in the range 1..65535`;

/** A port number in 1..65535, under the caller's code. */
export function checkPortNumber(n: unknown, path: string, code: Code): Result {
  const p = portNumberProblem(n);
  return p ? finding(code, path, p) : ok;
}

export type HostOptions = {
  readonly code: Code;
  /** allow a wildcard first label ("*.example.com"); default true */
  readonly wildcard?: boolean;
};

/** A host name: FQDN or short name, with a leading wildcard label when allowed. */
export function checkHost(host: unknown, path: string, opts: HostOptions): Result {
  if (typeof host !== 'string') return finding(opts.code, path, `host must be a string, got ${got(host)}`);
  const p = opts.wildcard === false ? fqdnProblem(host) : wildcardDomainProblem(host);
  return p ? finding(opts.code, path, p) : ok;
}

export type ExportToOptions = {
  /** ServiceEntry only: "~" (exported to no one) is allowed */
  readonly allowNone?: boolean;
};

/**
 * Istio's validateExportTo: messages in order, each naming the offending entry where Istio does.
 * Returns [index, message] pairs so callers can point at spec.exportTo[i].
 */
export function exportToProblems(
  exportTo: readonly string[],
  namespace: string,
  opts: ExportToOptions = {},
): Array<[number | undefined, string]> {
  const out: Array<[number | undefined, string]> = [];
  if (exportTo.length === 0) return out;
  const seen = new Set<string>();
  exportTo.forEach((e, i) => {
    // "." stands for the object's own namespace, so ". + own name" is a duplicate
    const key = e === '.' && namespace ? namespace : e;
    if (seen.has(key)) {
      out.push([
        i,
        key !== e ? `duplicate entries in exportTo: . and current namespace ${namespace}` : `duplicate entries in exportTo for entry ${e}`,
      ]);
      return;
    }
    if (key === '~' && opts.allowNone) {
      seen.add(key);
      return;
    }
    const p =
      key === '.' || key === '*'
        ? undefined
        : key === '~'
          ? 'exportTo ~ (none) is not allowed for Istio configuration objects'
          : isDns1123Label(key, { allowUpper: true })
            ? undefined
            : 'only .,*, or a valid DNS 1123 label is allowed as exportTo entry';
    if (p) out.push([i, p]);
    else seen.add(key);
  });
  if (seen.has('*') && exportTo.length > 1)
    out.push([undefined, 'cannot have both public (*) and non-public exportTo values for a resource']);
  if (seen.has('~') && exportTo.length > 1) out.push([undefined, 'cannot export service entry to no one (~) and someone']);
  return out;
}

/** exportTo as a Result under the caller's code; `path` is the list's path ("spec.exportTo"). */
export function checkExportTo(
  exportTo: readonly string[],
  namespace: string,
  path: string,
  code: Code,
  opts: ExportToOptions = {},
): Result {
  const problems = exportToProblems(exportTo, namespace, opts);
  return problems.length ? mergeAll(problems.map(([i, m]) => finding(code, i === undefined ? path : `${path}[${i}]`, m))) : ok;
}

/**
 * Whether an object in `owner` namespace exported with `exportTo` is visible from `viewer` namespace.
 * Empty or "*" is everywhere (the mesh default), "." the owner's namespace, "~" nowhere, names those.
 */
export function visibleFrom(exportTo: readonly string[], owner: string, viewer: string): boolean {
  if (exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || (e === '.' ? owner === viewer : e !== '~' && e === viewer));
}

/** Two objects can be seen together by at least one namespace (exportTo of each, namespaces known). */
export function shareAudience(
  a: { readonly exportTo: readonly string[]; readonly namespace: string },
  b: { readonly exportTo: readonly string[]; readonly namespace: string },
): boolean {
  const scope = (x: typeof a): Set<string> | '*' => {
    if (x.exportTo.length === 0 || x.exportTo.includes('*')) return '*';
    return new Set(x.exportTo.filter((e) => e !== '~').map((e) => (e === '.' ? x.namespace : e)));
  };
  const sa = scope(a);
  const sb = scope(b);
  if (sa === '*') return sb === '*' || sb.size > 0;
  if (sb === '*') return sa.size > 0;
  for (const n of sa) if (sb.has(n)) return true;
  return false;
}

// Kubernetes label syntax as Istio checks it (pkg/config/labels): optional DNS prefix, qualified name.
const DNS_PREFIX = '[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)*/';
const QUALIFIED_NAME = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_KEY = new RegExp(`^(${DNS_PREFIX})?(${QUALIFIED_NAME})$`);
const LABEL_VALUE = new RegExp(`^(?:${QUALIFIED_NAME})?$`);

/** Problems with a label map (endpoint labels, sourceLabels), Istio's labels.Instance.Validate. */
export function labelProblems(labels: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const m = LABEL_KEY.exec(k);
    if (!m) out.push(`invalid tag key: ${q(k)}`);
    else if (m[1] && m[1].length - 1 > 253) out.push(`invalid tag key: ${q(k)} (DNS prefix is too long)`);
    else if (m[2]!.length > DNS1123_LABEL_MAX) out.push(`invalid tag key: ${q(k)} (name is too long)`);
    if (typeof v !== 'string') out.push(`invalid tag value for ${q(k)}: must be a string, got ${got(v)}`);
    else if (!LABEL_VALUE.test(v)) out.push(`invalid tag value: ${q(v)}`);
  }
  return out;
}

const isWildcarded = (h: string): boolean => h.startsWith('*');

/** Istio's host.Name.Matches: the two hosts overlap (either may be a wildcard), case-sensitive. */
export function hostsOverlap(a: string, b: string): boolean {
  const aw = isWildcarded(a);
  const bw = isWildcarded(b);
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Istio's host.Name.SubsetOf: every name `inner` covers is covered by `outer`. */
export function hostSubsetOf(inner: string, outer: string): boolean {
  const iw = isWildcarded(inner);
  const ow = isWildcarded(outer);
  if (iw) return ow && inner.length >= outer.length && inner.slice(1).endsWith(outer.slice(1));
  return ow ? inner.endsWith(outer.slice(1)) : inner === outer;
}

/**
 * The index keys under which objects for `host` may be stored: the host itself and every wildcard
 * that covers it ("a.b.com" → "*.b.com", "*.com", "*"). Lets rules use exact-key indexes for
 * wildcard-aware lookups at a cost bounded by the number of labels.
 */
export function coveringHosts(host: string): string[] {
  const out = [host];
  let rest = isWildcarded(host) ? host.slice(2) : host;
  while (rest) {
    const dot = rest.indexOf('.');
    rest = dot < 0 ? '' : rest.slice(dot + 1);
    out.push(rest ? `*.${rest}` : '*');
  }
  return out;
}

/** Annotations Istio's validating webhook rejects on every kind but AuthorizationPolicy. */

/**
 * Istio's metadata wrapper (validateMetadata): the first rejected annotation, with its message.
 * When it fires Istio validates nothing else.
 */
export function istioMetadataProblem(meta: { readonly annotations?: unknown } | undefined): [key: string, message: string] | undefined {
  const ann = asObj(meta?.annotations);
  for (const key of ISTIO_REJECTED_ANNOTATIONS) {
    if (!Object.hasOwn(ann, key)) continue;
    if (key === 'istio.io/dry-run')
      // istiod prefixes the object's own namespace/name, which the review already names: at 63
      // characters each it crowded the annotation out of a 256-character warning
      return [key, `unsupported annotation ${key}, please remove the annotation`];
    if (key === 'internal.istio.io/webhook-always-reject') return [key, `${q(key)} annotation found, rejecting`];
    return [key, `${q(key)} annotation found, this may not be set by users`];
  }
  return undefined;
}
