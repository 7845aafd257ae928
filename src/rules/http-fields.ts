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
// Proto JSON's Duration: seconds with up to nine fractional digits and an "s" suffix.
const PROTO_DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

/** A Duration as proto JSON writes it, in nanoseconds; undefined when istiod cannot decode it. */
export function parseDuration(v: unknown): bigint | undefined {
  if (typeof v !== 'string') return undefined;
  const m = PROTO_DURATION.exec(v);
  if (!m) return undefined;
  const nanos = BigInt(m[2]!) * NANOS_PER_S + BigInt((m[3] ?? '').padEnd(9, '0'));
  return m[1] ? -nanos : nanos;
}

/** Istio's ValidateDuration: at least 1ms, in whole milliseconds; and decodable at all. */
export function durationProblem(v: unknown): string | undefined {
  const nanos = parseDuration(v);
  if (nanos === undefined) {
    return typeof v === 'string'
      ? `invalid duration ${q(v)}: write seconds with an "s" suffix, such as "1.5s"`
      : `duration must be a string such as "1.5s", got ${got(v)}`;
  }
  if (nanos < NANOS_PER_MS) return 'duration must be greater than 1ms';
  if (nanos % NANOS_PER_MS !== 0n) return 'only durations to ms precision are supported';
  return undefined;
}

/** Whether a duration has a fraction of a second (CORS maxAge is sent in seconds). */
export const hasSubSecond = (v: unknown): boolean => {
  const nanos = parseDuration(v);
  return nanos !== undefined && nanos % NANOS_PER_S !== 0n;
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
