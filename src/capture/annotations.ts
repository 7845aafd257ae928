/**
 * The capture annotations: this project's keys (read from namespaces and pods), the keys each mesh
 * reads from pods, and how each side parses and formats a CIDR list. Istio and OSM parse their own
 * annotations differently (strict netip vs trimmed net.ParseCIDR), so each gets its own parser that
 * accepts exactly what that mesh accepts, with that mesh's words in the message.
 */
import { APPLIED, BYPASS, CAPTURE, CAPTURE_RANGES, MESH_KEYS, MODE_LABEL, OWN_PREFIX, type Mesh, type Side } from '../catalogue/keys.ts';
import { finding, merge, mergeAll, ok, type Result } from '../catalogue/result.ts';
import { asObj, describe, isObj, q, type Obj } from '../json.ts';
import { compareCidrs, formatCidrs, isAll, isIp, parseIpOrCidr, type Cidr } from '../net/cidr.ts';

export type CaptureMode = 'all' | 'cluster' | 'off';

/** Where a setting was read: the pod itself or its namespace. */
export type Origin = { readonly kind: 'pod' } | { readonly kind: 'namespace'; readonly name: string };

export const originText = (o: Origin): string => (o.kind === 'pod' ? 'pod' : `namespace ${o.name}`);

/** Kube field-path syntax for an annotation: metadata.annotations[key]. */
export const annotationPath = (key: string): string => `metadata.annotations[${key}]`;

/** Which map of an object's metadata a value sits in, and whose object it is. */
export type MapAt = { readonly field: 'labels' | 'annotations'; readonly origin: Origin };

export type StringValues = {
  /** the keys read that hold a string, with their values */
  readonly values: Readonly<Record<string, string>>;
  /** the keys read that are present but hold something else: reported, and not to be used */
  readonly unreadable: ReadonlySet<string>;
  readonly findings: Result;
};

function notAString(v: unknown, origin: Origin): string {
  const fix =
    v === null
      ? 'give it a value, or "" for an empty one'
      : typeof v === 'boolean' || typeof v === 'number'
        ? 'quote it in YAML'
        : 'write it as one string';
  return `value on ${originText(origin)} must be a string, got ${describe(v)}: ${fix}`;
}

/**
 * The values of `keys` in a label or annotation map. Kubernetes only stores strings, but `check`
 * reads YAML, where `true`, `8080` and a key with no value are not strings: such a value of a key
 * read here is an error (EW518) and is left out. Keys not read are ignored whatever their value.
 */
export function stringValues(map: unknown, keys: readonly string[], at: MapAt): StringValues {
  const m = asObj(map);
  const values: Record<string, string> = {};
  const unreadable = new Set<string>();
  const findings: Result[] = [];
  for (const key of keys) {
    if (!Object.hasOwn(m, key)) continue;
    const v = m[key];
    if (typeof v === 'string') {
      values[key] = v;
    } else {
      unreadable.add(key);
      findings.push(finding('EW518', `metadata.${at.field}[${key}]`, notAString(v, at.origin)));
    }
  }
  return { values, unreadable, findings: mergeAll(findings) };
}

/** One parsed setting; `invalid` keeps the key's place so a bad pod value still replaces the namespace's. */
export type Setting<T> =
  | { readonly state: 'absent' }
  | { readonly state: 'invalid' }
  | { readonly state: 'valid'; readonly value: T; readonly origin: Origin };

export type CaptureSettings = {
  readonly mode: Setting<CaptureMode>;
  readonly bypass: Setting<readonly Cidr[]>;
  readonly capture: Setting<readonly Cidr[]>;
};

const MODES: readonly CaptureMode[] = ['all', 'cluster', 'off'];

/**
 * This project's CIDR lists are forgiving in form (commas and/or whitespace, bare addresses as /32
 * or /128) and strict in content (Go's address syntax: no inet_aton forms, no leading zeros).
 */
export function parseRangeList(value: string): {
  readonly ranges: { readonly cidr: Cidr; readonly text: string; readonly hostBitsSet: boolean }[];
  readonly bad: readonly string[];
} {
  const ranges: { cidr: Cidr; text: string; hostBitsSet: boolean }[] = [];
  const bad: string[] = [];
  for (const text of value.split(/[\s,]+/)) {
    if (text === '') continue;
    const p = parseIpOrCidr(text);
    if (p) ranges.push({ cidr: p.cidr, text, hostBitsSet: p.hostBitsSet });
    else bad.push(text);
  }
  return { ranges, bad };
}

// A key whose value is not a string is invalid (EW518 says why): it still replaces the namespace's value.
function readMode(read: StringValues, origin: Origin): { setting: Setting<CaptureMode>; findings: Result } {
  if (read.unreadable.has(CAPTURE)) return { setting: { state: 'invalid' }, findings: ok };
  const raw = read.values[CAPTURE];
  if (raw === undefined) return { setting: { state: 'absent' }, findings: ok };
  const value = raw.trim();
  if ((MODES as readonly string[]).includes(value))
    return { setting: { state: 'valid', value: value as CaptureMode, origin }, findings: ok };
  return {
    setting: { state: 'invalid' },
    findings: finding('EW501', annotationPath(CAPTURE), `${q(raw)} on ${originText(origin)} is not one of ${MODES.join(', ')}`),
  };
}

function readList(read: StringValues, key: string, origin: Origin): { setting: Setting<readonly Cidr[]>; findings: Result } {
  if (read.unreadable.has(key)) return { setting: { state: 'invalid' }, findings: ok };
  const raw = read.values[key];
  if (raw === undefined) return { setting: { state: 'absent' }, findings: ok };
  const { ranges, bad } = parseRangeList(raw);
  const at = annotationPath(key);
  if (bad.length) {
    const what = bad.length === 1 ? `${q(bad[0]!)} is` : `${bad.map(q).join(', ')} are`;
    return {
      setting: { state: 'invalid' },
      findings: finding('EW502', at, `${what} not an IP or CIDR in ${q(raw)} on ${originText(origin)}`),
    };
  }
  const findings = mergeAll([
    ...ranges.filter((r) => r.hostBitsSet).map((r) => finding('EW503', at, `${r.text} has host bits set, means ${r.cidr.text}`)),
    ...(key === BYPASS
      ? ranges
          .filter((r) => isAll(r.cidr))
          .map((r) => finding('EW505', at, `${r.text}: all IPv${r.cidr.family} traffic bypasses the sidecar`))
      : []),
  ]);
  const cidrs = ranges.map((r) => r.cidr).sort(compareCidrs);
  return { setting: { state: 'valid', value: cidrs, origin }, findings };
}

function unknownKeys(annotations: Obj, origin: Origin): Result {
  const known = new Set([CAPTURE, BYPASS, CAPTURE_RANGES, ...(origin.kind === 'pod' ? [APPLIED] : [])]);
  return mergeAll(
    Object.keys(annotations)
      .filter((k) => k.startsWith(OWN_PREFIX) && !known.has(k))
      .map((k) =>
        finding(
          'EW512',
          annotationPath(k),
          k === MODE_LABEL ? 'the mode is a namespace label, not an annotation' : 'unknown egress-warden.io annotation (a typo?)',
        ),
      ),
  );
}

/**
 * Reads this project's annotations from one object's metadata.annotations, whatever it holds.
 * Shared by the namespace rule and the pod mutation.
 */
export function readCaptureAnnotations(
  annotations: unknown,
  origin: Origin,
): { readonly settings: CaptureSettings; readonly findings: Result } {
  const read = stringValues(annotations, [CAPTURE, BYPASS, CAPTURE_RANGES], { field: 'annotations', origin });
  const mode = readMode(read, origin);
  const bypass = readList(read, BYPASS, origin);
  const capture = readList(read, CAPTURE_RANGES, origin);
  return {
    settings: { mode: mode.setting, bypass: bypass.setting, capture: capture.setting },
    findings: merge(read.findings, mode.findings, bypass.findings, capture.findings, unknownKeys(asObj(annotations), origin)),
  };
}

/** A pod value, valid or not, replaces the namespace value of the same key (no merge). */
export function effectiveSettings(namespace: CaptureSettings, pod: CaptureSettings): CaptureSettings {
  const pick = <T>(p: Setting<T>, n: Setting<T>): Setting<T> => (p.state === 'absent' ? n : p);
  return {
    mode: pick(pod.mode, namespace.mode),
    bypass: pick(pod.bypass, namespace.bypass),
    capture: pick(pod.capture, namespace.capture),
  };
}

/** A mesh annotation value the mesh would accept: "*" (Istio include only) or a list of ranges. */
export type MeshValue = {
  readonly all: boolean;
  readonly cidrs: readonly Cidr[];
  /** entries with host bits set, as written, with the network they stand for */
  readonly hostBits: readonly { readonly text: string; readonly cidr: Cidr }[];
  readonly value: string;
};

const GO_BITS = /^(?:0|[1-9]\d*)$/;

/** Go's netip.ParsePrefix, which Istio's injector uses: strict, no spaces, host bits allowed. */
function netipProblem(s: string): string | undefined {
  const where = `netip.ParsePrefix(${q(s)})`;
  const slash = s.lastIndexOf('/');
  if (slash < 0) return `${where}: no '/'`;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (addr.includes('%')) return `${where}: IPv6 zones cannot be present in a prefix`;
  if (!isIp(addr)) return `${where}: ParseAddr(${q(addr)}): unable to parse IP`;
  if (!GO_BITS.test(bits)) return `${where}: bad bits after slash: ${q(bits)}`;
  if (Number(bits) > (addr.includes(':') ? 128 : 32)) return `${where}: prefix length out of range`;
  return undefined;
}

/**
 * Istio's `validateCIDRList` (pkg/kube/inject/validate.go): split on ",", no trimming, each element
 * through netip.ParsePrefix. "" means no ranges; "*" is allowed for the include list only.
 */
export function parseIstioRanges(value: string, side: Side): { readonly ok: MeshValue } | { readonly problem: string } {
  const name = side === 'include' ? 'includeIPRanges' : 'excludeIPRanges';
  if (value === '') return { ok: { all: false, cidrs: [], hostBits: [], value } };
  if (value === '*' && side === 'include') return { ok: { all: true, cidrs: [], hostBits: [], value } };
  const cidrs: Cidr[] = [];
  const hostBits: { text: string; cidr: Cidr }[] = [];
  for (const item of value.split(',')) {
    const problem = netipProblem(item);
    const parsed = problem ? undefined : parseIpOrCidr(item);
    if (!parsed)
      return {
        // Istio's words without its "invalid value '<list>' for annotation '<key>'" prefix: the
        // finding's field names the annotation, and the whole list crowded the bad item out of a warning.
        problem: `${name} invalid: failed parsing cidr '${item}': ${problem}`,
      };
    cidrs.push(parsed.cidr);
    if (parsed.hostBitsSet) hostBits.push({ text: item, cidr: parsed.cidr });
  }
  return { ok: { all: false, cidrs, hostBits, value } };
}

/**
 * OSM's `getOutboundIPRangeListForPod` (pkg/injector/exclusions.go): split on ",", TrimSpace, Go
 * net.ParseCIDR (leading zeros in the prefix length allowed, host bits allowed). Empty items,
 * including an empty value, are rejected.
 */
export function parseOsmRanges(value: string, side: Side): { readonly ok: MeshValue } | { readonly problem: string } {
  const cidrs: Cidr[] = [];
  const hostBits: { text: string; cidr: Cidr }[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim();
    const slash = item.indexOf('/');
    const bits = slash < 0 ? '' : item.slice(slash + 1);
    const parsed =
      slash > 0 && /^\d+$/.test(bits) && isIp(item.slice(0, slash)) ? parseIpOrCidr(`${item.slice(0, slash)}/${Number(bits)}`) : undefined;
    if (!parsed) return { problem: `Invalid IP range '${item}' specified for annotation '${MESH_KEYS.osm[side]}'` };
    cidrs.push(parsed.cidr);
    if (parsed.hostBitsSet) hostBits.push({ text: item, cidr: parsed.cidr });
  }
  return { ok: { all: false, cidrs, hostBits, value } };
}

export const parseMeshRanges = (mesh: Mesh, value: string, side: Side) =>
  mesh === 'istio' ? parseIstioRanges(value, side) : parseOsmRanges(value, side);

/** Both meshes read a comma-separated list; Istio's parser rejects spaces, so none are written. */
export const formatMeshRanges = (cidrs: readonly Cidr[]): string => formatCidrs(cidrs, ',');

/**
 * What the pod got and why: the capture mode and where it was set, and per side either the value
 * this webhook wrote with the source of every input range, or the pod annotation that was kept.
 */
export type Applied = {
  readonly mesh: Mesh;
  readonly mode: CaptureMode;
  readonly modeFrom: string;
  readonly include?: AppliedSide;
  readonly exclude?: AppliedSide;
};

/** `from` is a map (input range → source) when this webhook wrote the value, or the key that was kept. */
export type AppliedSide = { readonly value: string; readonly from: Readonly<Record<string, string>> | string };

export const formatApplied = (a: Applied): string => JSON.stringify(a);

const isAppliedSide = (v: unknown): v is AppliedSide =>
  isObj(v) &&
  typeof v.value === 'string' &&
  (typeof v.from === 'string' || (isObj(v.from) && Object.values(v.from).every((s) => typeof s === 'string')));

const isApplied = (a: unknown): a is Applied =>
  isObj(a) &&
  (a.mesh === 'istio' || a.mesh === 'osm') &&
  (MODES as readonly unknown[]).includes(a.mode) &&
  typeof a.modeFrom === 'string' &&
  (a.include === undefined || isAppliedSide(a.include)) &&
  (a.exclude === undefined || isAppliedSide(a.exclude));

/**
 * The previous record on a reinvoked pod, if it has exactly the shape this webhook writes; anything
 * else (hand-edited, truncated, another tool's) was not written by us.
 */
export function parseApplied(text: unknown): Applied | undefined {
  if (typeof text !== 'string') return undefined;
  let a: unknown;
  try {
    a = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isApplied(a) ? a : undefined;
}

/** Whether the side's current annotation value is the one this webhook wrote (a reinvocation). */
export function writtenByUs(applied: Applied | undefined, side: Side, value: string): boolean {
  const s = applied?.[side];
  return s !== undefined && typeof s.from === 'object' && s.value === value;
}
