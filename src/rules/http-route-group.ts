/**
 * SMI HTTPRouteGroup (specs.smi-spec.io/v1alpha4), as OSM reads it for Egress matches. OSM builds one
 * Envoy route per match and method: `pathRegex` becomes the route's `safe_regex` (RE2; none means
 * `.*`), each method a `:method` header match (`*` means any), and each header a `safe_regex` header
 * match (`host` on `:authority`). Envoy rejects a route configuration whose regex RE2 cannot compile;
 * the client then keeps its stale routes. Nobody checks these objects before that: OSM's webhook
 * registration does not list them.
 */
import type { KubeObject } from '../admission/types.ts';
import { finding, merge, mergeAll, ok, type Result } from '../catalogue/result.ts';
import { describe, isObj, q } from '../json.ts';
import { re2Problem } from './re2.ts';
import type { Rule } from './rule.ts';

/** The methods OSM's CRD allows (its enum); OSM turns `*` into `.*`. */
export const HTTP_ROUTE_METHODS: readonly string[] = ['*', 'GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/**
 * Patterns compiled per object. A compile costs about a millisecond and the webhook answers within
 * seconds, so a group with more distinct patterns than this gets the rest reported as not compiled.
 */
export const PATTERNS_COMPILED = 200;

/** RE2 messages quote the pattern; a long one is cut. */
const MESSAGE_MAX = 200;

// Without one of these a pattern is a run of literals, `.`, `^` and `$`, which RE2 always accepts.
const META = /[\\()[\]{}*+?|]/;

// Envoy's HeaderMatcher.name: at least one character, none of NUL, LF, CR.
const BAD_HEADER_NAME = /[\0\n\r]/;

const cut = (s: string): string => (s.length > MESSAGE_MAX ? `${s.slice(0, MESSAGE_MAX)}…` : s);

/** Compiles the patterns of one object within PATTERNS_COMPILED; counts the ones left out. */
function compiler() {
  let compiled = 0;
  let skipped = 0;
  return {
    /** RE2's error, undefined when it compiles, or null when the budget is spent. */
    problem(pattern: string): string | undefined | null {
      if (!META.test(pattern)) return undefined;
      if (compiled >= PATTERNS_COMPILED) {
        skipped++;
        return null;
      }
      compiled++;
      return re2Problem(pattern);
    },
    skipped: (): number => skipped,
  };
}

type Compiler = ReturnType<typeof compiler>;

function checkRegex(pattern: string, at: string, what: string, re2: Compiler): Result {
  const problem = re2.problem(pattern);
  if (problem === undefined || problem === null) return ok;
  return finding(
    'EW352',
    at,
    `${what} ${describe(pattern)} is not valid RE2 (${cut(problem)}): Envoy rejects the route configuration, and every client whose Egress uses this group keeps stale routes`,
  );
}

function checkMethods(methods: unknown, at: string): Result {
  if (methods === undefined) return ok;
  if (!Array.isArray(methods)) return finding('EW353', at, `methods must be a list, got ${describe(methods)}`);
  return mergeAll(
    methods.map((m, i): Result => {
      if (typeof m === 'string' && HTTP_ROUTE_METHODS.includes(m)) return ok;
      const upper = typeof m === 'string' ? m.toUpperCase() : '';
      const hint = HTTP_ROUTE_METHODS.includes(upper)
        ? `write ${q(upper)}: methods are matched case-sensitively`
        : `use one of ${HTTP_ROUTE_METHODS.join(', ')}`;
      return finding('EW353', `${at}[${i}]`, `${describe(m)} is not an HTTP method OSM's CRD allows; ${hint}`);
    }),
  );
}

function checkHeaders(headers: unknown, at: string, re2: Compiler): Result {
  if (headers === undefined) return ok;
  if (Array.isArray(headers)) {
    // OSM's CRD declares a list of maps, but smi-sdk-go v1alpha4 (which OSM decodes with) declares
    // HTTPHeaders as one map: the list cannot be decoded, and OSM's HTTPRouteGroup informer fails.
    return finding(
      'EW354',
      at,
      'headers is a list: OSM reads SMI v1alpha4 headers as one map of header name to RE2 value and cannot decode a list, so its HTTPRouteGroup informer stops updating; remove the header matches',
    );
  }
  if (!isObj(headers)) return finding('EW355', at, `headers must be a map of header name to RE2 value, got ${describe(headers)}`);
  return mergeAll(
    Object.entries(headers).map(([name, value]): Result => {
      const here = `${at}.${name}`;
      if (name === '' || BAD_HEADER_NAME.test(name))
        return finding(
          'EW355',
          here,
          `header name ${describe(name)} is empty or holds NUL, CR or LF: Envoy rejects the route configuration`,
        );
      if (typeof value !== 'string')
        return finding('EW355', here, `the value of header ${q(name)} must be a string (an RE2 pattern), got ${describe(value)}`);
      return checkRegex(value, here, `the value of header ${q(name)}`, re2);
    }),
  );
}

function checkMatch(m: unknown, at: string, re2: Compiler): Result {
  if (!isObj(m)) return finding('EW350', at, `a match must be an object with a name, got ${describe(m)}`);
  const pathRegex = m.pathRegex;
  return merge(
    typeof m.name === 'string' && m.name !== '' ? ok : finding('EW350', `${at}.name`, 'a match needs a name (the CRD requires it)'),
    pathRegex === undefined
      ? ok
      : typeof pathRegex !== 'string'
        ? finding('EW352', `${at}.pathRegex`, `pathRegex must be a string (an RE2 pattern), got ${describe(pathRegex)}`)
        : checkRegex(pathRegex, `${at}.pathRegex`, 'pathRegex', re2),
    checkMethods(m.methods, `${at}.methods`),
    checkHeaders(m.headers, `${at}.headers`, re2),
  );
}

export const validateHttpRouteGroup: Rule = (o: KubeObject) => {
  const spec = isObj(o.spec) ? o.spec : {};
  const matches = spec.matches;
  if (!Array.isArray(matches)) return finding('EW350', 'spec.matches', 'spec.matches is required: a list of matches (the CRD requires it)');
  if (matches.length === 0) {
    return finding('EW351', 'spec.matches', 'no matches: an Egress using this group answers 404 on its http ports (OSM builds no route)');
  }
  const re2 = compiler();
  const found = mergeAll(matches.map((m, i) => checkMatch(m, `spec.matches[${i}]`, re2)));
  const skipped = re2.skipped();
  return skipped === 0
    ? found
    : merge(
        found,
        finding(
          'EW356',
          'spec.matches',
          `${skipped} more ${skipped === 1 ? 'pattern' : 'patterns'} not compiled: at most ${PATTERNS_COMPILED} are compiled per object`,
        ),
      );
};
