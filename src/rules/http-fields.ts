/**
 * Field checks for VirtualService http routes, read from istiod's validation: durations, header
 * names and values, string matches and their RE2 regexes. Like fields.ts, the `…Problem` functions
 * return a message (or undefined) and carry no code.
 */
import { isObj, q, type Obj } from '../json.ts';
import { got } from './fields.ts';

/** Istio's limit on a regex (a stand-in for Envoy's RE2 program size). */
const REGEX_MAX = 1024;
const RE2_SYNTAX = 'Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)';

/** RFC 7230 token characters: Istio's header name check. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
// Control characters but horizontal tab (Istio's copy of protoc-gen-validate's header value rule).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const HEADER_VALUE_BAD = /[\u0000-\u0008\u000A-\u001F\u007F]/;

const NANOS_PER_MS = 1_000_000n;
const NANOS_PER_S = 1_000_000_000n;
const TWO_63 = 1n << 63n;
const UINT64_MASK = (1n << 64n) - 1n;

/** Go's time.ParseDuration units, in nanoseconds (both micro signs, U+00B5 and U+03BC). */
const DURATION_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n],
  ['\u03bcs', 1_000n],
  ['ms', NANOS_PER_MS],
  ['s', NANOS_PER_S],
  ['m', 60n * NANOS_PER_S],
  ['h', 3_600n * NANOS_PER_S],
]);

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Go's time.quote: ASCII as is (with `"` and `\` escaped), every other byte as \xNN. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c >= 0x80) for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
  }
  return `${out}"`;
}

/**
 * Go's time.ParseDuration, step for step: a signed sequence of decimal numbers, each with an
 * optional fraction and a unit ("300ms", "-1.5h", "2h45m", "24h", "86400s"), or a bare "0". The
 * fraction goes through float64 as in Go, so sub-nanosecond digits are dropped the same way; a
 * total beyond int64 nanoseconds is refused. Returns nanoseconds, or Go's error text.
 */
export function goParseDuration(orig: string): bigint | string {
  const invalid = (): string => `time: invalid duration ${goQuote(orig)}`;
  let s = orig;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return invalid();
  let d = 0n;
  while (s !== '') {
    if (s[0] !== '.' && !isDigit(s[0])) return invalid();
    let i = 0;
    let v = 0n;
    for (; isDigit(s[i]); i++) {
      if (v > TWO_63 / 10n) return invalid();
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > TWO_63) return invalid();
    }
    const pre = i > 0;
    s = s.slice(i);
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === '.') {
      // leadingFraction: digits past int64 precision are read but no longer counted
      let j = 1;
      let overflow = false;
      for (; isDigit(s[j]); j++) {
        if (overflow) continue;
        const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
        if (f > (TWO_63 - 1n) / 10n || y > TWO_63) overflow = true;
        else {
          f = y;
          scale *= 10;
        }
      }
      post = j > 1;
      s = s.slice(j);
    }
    if (!pre && !post) return invalid();
    let k = 0;
    while (k < s.length && s[k] !== '.' && !isDigit(s[k])) k++;
    if (k === 0) return `time: missing unit in duration ${goQuote(orig)}`;
    const u = s.slice(0, k);
    s = s.slice(k);
    const unit = DURATION_UNITS.get(u);
    if (unit === undefined) return `time: unknown unit ${goQuote(u)} in duration ${goQuote(orig)}`;
    if (v > TWO_63 / unit) return invalid();
    v *= unit;
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO_63) return invalid();
    }
    // Go adds in uint64: 2^63 + 2^63 wraps to 0, and the parse goes on from there
    d = (d + v) & UINT64_MASK;
    if (d > TWO_63) return invalid();
  }
  if (neg) return -d;
  return d > TWO_63 - 1n ? invalid() : d;
}

/**
 * A Duration as istiod decodes it, in nanoseconds, or why it cannot. istiod's webhook decodes the
 * spec with the legacy jsonpb unmarshaler (protomarshal.ApplyJSON), whose google.protobuf.Duration
 * is a JSON string read by time.ParseDuration ("bad Duration: …"), not proto JSON's "1.5s" only;
 * the CRD's `duration(self) >= duration('1ms')` rule parses it the same way.
 */
export function parseDuration(v: unknown): bigint | string {
  if (typeof v !== 'string') return `duration must be a string such as "30s" or "1m", got ${got(v)}`;
  const d = goParseDuration(v);
  return typeof d === 'string' ? `bad Duration: ${d}` : d;
}

/** Istio's ValidateDuration: at least 1ms, in whole milliseconds; and decodable at all. */
export function durationProblem(v: unknown): string | undefined {
  const nanos = parseDuration(v);
  if (typeof nanos === 'string') return nanos;
  if (nanos < NANOS_PER_MS) return 'duration must be greater than 1ms';
  if (nanos % NANOS_PER_MS !== 0n) return 'only durations to ms precision are supported';
  return undefined;
}

/**
 * validateCORSPolicy's `MaxAge.Nanos > 0`: jsonpb stores the nanoseconds as the remainder of the
 * total by a second, truncated toward zero as Go's `%` is, so a negative duration never has them.
 */
export const hasSubSecond = (v: unknown): boolean => {
  const nanos = parseDuration(v);
  return typeof nanos === 'bigint' && nanos % NANOS_PER_S > 0n;
};

/** The `@request.auth.claims.<a>.<b>` / `@request.auth.claims[a][b]` header names of JWT claim routing. */
export function isJwtClaimRoute(name: string): boolean {
  const PREFIX = '@request.auth.claims';
  if (!name.toLowerCase().startsWith(PREFIX)) return false;
  const rest = name.slice(PREFIX.length);
  return (rest.startsWith('.') && rest.length > 1) || (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2);
}

/** A header name in a match: a token, a pseudo header or a JWT claim (ValidateHTTPHeaderNameOrJwtClaimRoute). */
export function matchHeaderNameProblem(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (isJwtClaimRoute(name) || PSEUDO_HEADERS.has(name)) return undefined;
  return HEADER_NAME.test(name) ? undefined : `header name ${name} is not a valid header name`;
}

/** A CORS allow/expose header: a token or "*" (ValidateCORSHTTPHeaderName). */
export function corsHeaderNameProblem(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (name === '*') return undefined;
  return HEADER_NAME.test(name) ? undefined : `header name ${name} is not a valid header name`;
}

const isInternalHeader = (name: string): boolean => name.startsWith(':') || name.toLowerCase() === 'host';
export const isAuthorityHeader = (name: string): boolean => name.toLowerCase() === ':authority' || name.toLowerCase() === 'host';

/** A request header to add or set: ":authority" and "host" allowed, other ":" headers not. */
export function setRequestHeaderNameProblem(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (isInternalHeader(name) && !isAuthorityHeader(name)) return `invalid header ${q(name)}: header cannot have ":" prefix`;
  return undefined;
}

/** A request header to remove, or a response header to change: no "host", no ":" headers. */
export function headerOperationNameProblem(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (name.toLowerCase() === 'host') return `invalid header ${q(name)}: cannot set Host header`;
  if (isInternalHeader(name)) return `invalid header ${q(name)}: header cannot have ":" prefix`;
  return undefined;
}

/**
 * A header value as Envoy's header parser reads it: literal text, "%%" for a percent sign, and
 * `%VAR%` / `%VAR(args)%` / `%VAR(["a","b"])%` expressions (Istio's port of Envoy's parser).
 */
export function headerValueProblem(value: string): string | undefined {
  if (HEADER_VALUE_BAD.test(value)) return `header value configuration ${value} is invalid`;
  const p = headerExpressionProblem(value);
  return p ? `header value configuration: ${p}` : undefined;
}

type ParseState = 'literal' | 'name' | 'array' | 'string' | 'inString' | 'delimiter' | 'argsEnd' | 'varEnd';

function headerExpressionProblem(v: string): string | undefined {
  let state: ParseState = 'literal';
  for (let pos = 0; pos < v.length; pos++) {
    const ch = v[pos]!;
    const hasNext = pos + 1 < v.length;
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (!hasNext) return 'invalid header configuration. Un-escaped %';
        if (v[pos + 1] === '%') pos++;
        else state = 'name';
        break;
      case 'name':
        if (ch === '%') state = 'literal';
        else if (ch === '(') state = 'array';
        break;
      case 'array':
        if (ch === '[') state = 'string';
        else if (ch !== ' ') state = 'inString';
        break;
      case 'delimiter':
        if (ch === ',') state = 'string';
        else if (ch === ']') state = 'argsEnd';
        else if (ch !== ' ') return "invalid header configuration. Expecting ',', ']', or whitespace";
        break;
      case 'string':
        if (ch === '"') state = 'inString';
        else if (ch !== ' ') return "invalid header configuration. Expecting '\"'";
        break;
      case 'inString':
        if (ch === '\\') {
          if (!hasNext) return 'invalid header configuration. Un-terminated backslash in JSON string';
          pos++;
        } else if (ch === ')') state = 'varEnd';
        else if (ch === '"') state = 'delimiter';
        break;
      case 'argsEnd':
        if (ch === ')') state = 'varEnd';
        else if (ch !== ' ') return "invalid header configuration. Expecting ')' or whitespace after '{}', but found '{}'";
        break;
      case 'varEnd':
        if (ch === '%') state = 'literal';
        else if (ch !== ' ') return "invalid header configuration. Expecting '%' or whitespace after";
        break;
    }
  }
  return state === 'literal' ? undefined : `invalid header configuration. Un-terminated variable expression '${v}'`;
}

// Go's regexp (RE2) rejects Perl lookarounds, which JavaScript accepts (an escaped "(" is a literal).
const LOOKAROUND = /(?<!\\)\(\?<?[=!]/;
// Go caps a counted repetition at 1000.
const REPEAT_COUNT = /\{(\d+)(?:,(\d*))?\}/g;
const REPEAT_MAX = 1000;
// Letters and digits Go's regexp knows after a backslash (octal 1-7 only when another octal digit follows).
const GO_ESCAPES = new Set('0xafnrtvAbBzQEdDsSwWpP');

/**
 * The first escape Go's regexp refuses: a backreference (`\1`), or a backslash before a letter or
 * digit RE2 gives no meaning (`\q`, `\u`, `\Z`). Punctuation may always be escaped; `\Q…\E` is literal.
 */
function badEscape(re: string): string | undefined {
  for (let i = 0; i < re.length; i++) {
    if (re[i] !== '\\') continue;
    const c = re[i + 1] ?? '';
    if (c === 'Q') {
      const end = re.indexOf('\\E', i + 2);
      if (end < 0) return undefined;
      i = end + 1;
      continue;
    }
    i++;
    if (!/[A-Za-z0-9]/.test(c) || GO_ESCAPES.has(c)) continue;
    if (c >= '1' && c <= '7' && /[0-7]/.test(re[i + 1] ?? '')) continue;
    return `\\${c}`;
  }
  return undefined;
}

/**
 * Whether Go's regexp (RE2 syntax) compiles `re`, approximated in JavaScript: the RE2-only syntax
 * (inline flags, `(?P<name>`, `\A`, `\z`, `\Q…\E`, POSIX classes) is rewritten into JavaScript
 * first, the Perl-only syntax JavaScript would accept (lookarounds, backreferences, unknown
 * escapes, counts over 1000) is refused first. What remains compiles the same in both for the
 * patterns routes use.
 */
export function re2Problem(re: string): string | undefined {
  const look = LOOKAROUND.exec(stripEscapedBackslashes(re));
  if (look) return `error parsing regexp: invalid or unsupported Perl syntax: \`${look[0]}\``;
  const unknownEscape = badEscape(re);
  if (unknownEscape) return `error parsing regexp: invalid escape sequence: \`${unknownEscape}\``;
  for (const m of re.matchAll(REPEAT_COUNT)) {
    if (Number(m[1]) > REPEAT_MAX || (m[2] !== undefined && m[2] !== '' && Number(m[2]) > REPEAT_MAX)) {
      return `error parsing regexp: invalid repeat count: \`${m[0]}\``;
    }
  }
  try {
    new RegExp(toJavaScript(re));
    return undefined;
  } catch (e) {
    const text = e instanceof Error ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : 'invalid';
    return `error parsing regexp: ${text.toLowerCase()}`;
  }
}

/** `\\` pairs removed, so that an escaped backslash does not escape what follows it. */
const stripEscapedBackslashes = (re: string): string => re.replace(/\\\\/g, '');

function toJavaScript(re: string): string {
  return re
    .replace(/\\Q(.*?)(?:\\E|$)/gs, (_, lit: string) => lit.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))
    .replace(/\(\?[imsU-]+\)/g, '')
    .replace(/\(\?[imsU-]+:/g, '(?:')
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$')
    .replace(/\[:\^?[a-z]+:\]/g, 'a');
}

/** Istio's validateStringRegexp: at most 1024 characters and compiling as RE2. */
export function regexProblem(re: string, where: string): string | undefined {
  if (re.length > REGEX_MAX) return `${q(where)}: regex is too large, max length allowed is ${REGEX_MAX}`;
  const p = re2Problem(re);
  return p ? `${q(where)}: ${p}; ${RE2_SYNTAX}` : undefined;
}

const MATCH_TYPES = ['exact', 'prefix', 'regex'] as const;

/** The match type set in a StringMatch (its oneof), or a problem when more than one is, or one is not a string. */
function matchType(sm: Obj, where: string): { type?: (typeof MATCH_TYPES)[number]; problem?: string } {
  const set = MATCH_TYPES.filter((t) => sm[t] !== undefined && sm[t] !== null);
  if (set.length > 1) return { problem: `${q(where)}: only one of exact, prefix or regex may be set, got ${set.join(', ')}` };
  const type = set[0];
  if (type && typeof sm[type] !== 'string') return { problem: `${q(where)}: ${type} must be a string, got ${got(sm[type])}` };
  return { type };
}

/**
 * Istio's validateStringMatch (`regexOnly` false) and validateStringMatchRegexp (true, for uri,
 * which may be an empty prefix). Several match types at once are refused by the CRD schema.
 */
export function stringMatchProblem(sm: unknown, where: string, regexOnly = false): string | undefined {
  if (!isObj(sm)) return undefined;
  const { type, problem } = matchType(sm, where);
  if (problem) return problem;
  if (type === 'prefix' && !regexOnly && sm.prefix === '') return `${q(where)}: prefix string match should not be empty`;
  if (type !== 'regex') return undefined;
  const re = sm.regex as string;
  if (re === '') return `${q(where)}: regex string match should not be empty`;
  return regexProblem(re, where);
}

/** The value a StringMatch holds, whatever its type ("" when none is set). */
export const stringMatchValue = (sm: unknown): string => {
  if (!isObj(sm)) return '';
  for (const t of MATCH_TYPES) if (typeof sm[t] === 'string') return sm[t];
  return '';
};

const UINT32_MAX = 4_294_967_295;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

/**
 * A number jsonpb must decode into a proto uint32 (ports, mirrorPercent): Go's encoding/json
 * refuses a fraction, a negative number and anything past 2^32 - 1, so istiod cannot read the spec.
 */
export const uint32Problem = (n: number): string | undefined =>
  Number.isInteger(n) && n >= 0 && n <= UINT32_MAX ? undefined : `json: cannot unmarshal number ${n} into Go value of type uint32`;

/**
 * A proto enum as jsonpb decodes it (unmarshalSingularValue): a string must be one of the value
 * names, exactly; a number may be any int32, as proto3 enums are open.
 */
export function enumProblem(v: unknown, names: readonly string[], enumName: string): string | undefined {
  if (typeof v === 'string') return names.includes(v) ? undefined : `unknown value ${q(q(v))} for enum ${enumName}`;
  if (typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX) return undefined;
  return `enum ${enumName} must be one of ${names.join(', ')}, got ${got(v)}`;
}

/** Go's %v for a float64: shortest digits, exponent form ("1e-05", "1.5e+06") below 1e-4 and from 1e6. */
export function goFloat(n: number): string {
  if (n === 0 || !Number.isFinite(n)) return String(n);
  const [mantissa, exp] = n.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e >= -4 && e < 6) return String(n);
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** Go's %f: six decimals. */
export const goFixed = (n: number): string => n.toFixed(6);
