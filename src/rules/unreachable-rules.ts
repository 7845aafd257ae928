/**
 * istiod's unreachable-rule analysis of a VirtualService (analyzeUnreachableHTTPRules and its tcp
 * and tls twins), all EW222 warnings: a rule after a rule without matches, a match repeating an
 * earlier one, and for http a uri prefix match covered by an earlier, shorter prefix with the same
 * other conditions. Rules and matches are named "#<index>", or by their quoted `name` in http.
 */
import { finding, mergeAll, ok, type Result } from '../catalogue/result.ts';
import { asArr, asObj, asStr, isObj, q } from '../json.ts';

/** Nesting followed when comparing matches; deeper values compare as one opaque value. */
const MATCH_DEPTH = 64;
/** Prefix-overlap findings listed per VirtualService. */
const OVERLAPS_SHOWN = 50;
/** Prefix lookups and pairs of prefix matches compared at most, so a VirtualService with thousands of routes stays cheap. */
const OVERLAP_COMPARISONS = 200_000;

/**
 * Canonical JSON of a match (keys sorted), so equal matches compare equal whatever their key order.
 * Values nested deeper than MATCH_DEPTH compare as one opaque value: real matches are a few levels
 * deep, and following an arbitrarily deep input would overflow the stack.
 */
function canonical(v: unknown, depth = 0): string {
  if (depth > MATCH_DEPTH) return '"<deep>"';
  if (Array.isArray(v)) return `[${v.map((x) => canonical(x, depth + 1)).join(',')}]`;
  if (isObj(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k], depth + 1)}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

type Kind = 'http' | 'tcp' | 'tls';

const named = (kind: Kind, o: unknown, i: number): string => {
  const name = kind === 'http' ? asStr(asObj(o).name) : '';
  return name ? q(name) : `#${i}`;
};

/** A match's key for duplicate detection: an http match's name does not route, so it is left out. */
function matchKey(kind: Kind, m: unknown): string {
  if (kind !== 'http' || !isObj(m) || m.name === undefined) return canonical(m);
  const { name: _, ...rest } = m;
  return canonical(rest);
}

/** The unreachable rules and matches among one kind of routes (`path` is "spec.http" etc.). */
export function unreachableRules(routes: readonly unknown[], kind: Kind, path: string): Result {
  const out: Result[] = [];
  const seen = new Map<string, number>();
  const prefixed: PrefixMatch[] = [];
  let catchAll = -1;
  routes.forEach((raw, i) => {
    if (!isObj(raw)) return;
    const at = `${path}[${i}]`;
    const rule = named(kind, raw, i);
    const matches = asArr(raw.match);
    if (matches.length === 0) {
      if (catchAll >= 0) out.push(finding('EW222', at, `virtualService rule ${rule} not used (only the last rule can have no matches)`));
      catchAll = i;
      return;
    }
    if (catchAll >= 0) {
      out.push(finding('EW222', at, `virtualService rule ${rule} not used (route without matches defined before)`));
      return;
    }
    let duplicates = 0;
    matches.forEach((m, j) => {
      const key = matchKey(kind, m);
      const prior = seen.get(key);
      if (prior === undefined) {
        seen.set(key, i);
        if (kind === 'http') {
          const p = prefixMatch(m, rule, named(kind, m, j), `${at}.match[${j}]`);
          if (p) prefixed.push(p);
        }
        return;
      }
      duplicates++;
      out.push(
        finding(
          'EW222',
          `${at}.match[${j}]`,
          `virtualService rule ${rule} match ${named(kind, m, j)} is not used (duplicate/overlapping match in rule ${named(kind, routes[prior], prior)})`,
        ),
      );
    });
    if (duplicates === matches.length)
      out.push(finding('EW222', at, `virtualService rule ${rule} not used (all matches used by prior rules)`));
  });
  out.push(prefixOverlaps(prefixed));
  return mergeAll(out);
}

/** What istiod compares of an http match with a uri prefix (genMatchHTTPRoutes). */
type PrefixMatch = {
  readonly rule: string;
  readonly match: string;
  readonly at: string;
  readonly prefix: string;
  readonly port: unknown;
  readonly method: string;
  readonly authority: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly queryParams: ReadonlyMap<string, string>;
  readonly withoutHeaders: ReadonlyMap<string, string>;
};

/** "exact:v" or "prefix:v" of a StringMatch, "" for regex or nothing (assignExactOrPrefix). */
function exactOrPrefix(sm: unknown): string {
  const o = asObj(sm);
  const exact = asStr(o.exact);
  if (exact) return `exact:${exact}`;
  const prefix = asStr(o.prefix);
  return prefix ? `prefix:${prefix}` : '';
}

const conditions = (v: unknown): Map<string, string> => new Map(Object.entries(asObj(v)).map(([k, sm]) => [k, exactOrPrefix(sm)]));

function prefixMatch(m: unknown, rule: string, match: string, at: string): PrefixMatch | undefined {
  if (!isObj(m)) return undefined;
  const prefix = asStr(asObj(m.uri).prefix);
  if (!prefix) return undefined;
  return {
    rule,
    match,
    at,
    prefix,
    port: m.port ?? 0,
    // no method condition is counted as GET, as istiod does
    method: exactOrPrefix(m.method) || 'exact:GET',
    authority: exactOrPrefix(m.authority),
    headers: conditions(m.headers),
    queryParams: conditions(m.queryParams),
    withoutHeaders: conditions(m.withoutHeaders),
  };
}

/** istiod's coveredValidation: the same maps, each value of `a` equal to or starting with the one of `b`. */
function sameConditions(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || (v !== w && !v.startsWith(w))) return false;
  }
  return true;
}

/** Whether the earlier match `a` covers the later `b` (coveredValidation, with its asymmetries). */
function covers(a: PrefixMatch, b: PrefixMatch): boolean {
  if (!b.prefix.startsWith(a.prefix)) return false;
  if (a.port !== b.port) return false;
  if (a.method !== b.method && !a.method.startsWith(b.method)) return false;
  if (a.authority !== b.authority && !a.authority.startsWith(b.authority)) return false;
  return (
    sameConditions(a.headers, b.headers) &&
    sameConditions(a.queryParams, b.queryParams) &&
    sameConditions(a.withoutHeaders, b.withoutHeaders)
  );
}

/**
 * Later prefix matches covered by earlier ones with a shorter prefix. The prefixes that are proper
 * prefixes of one another form a tree, read off the sorted list with a stack (a string's nearest
 * ancestor is the last earlier one it starts with), so candidates are found without comparing every
 * pair; the lookups and the findings are capped.
 */
function prefixOverlaps(list: readonly PrefixMatch[]): Result {
  if (list.length < 2) return ok;
  const parent = new Map<string, string | undefined>();
  const stack: string[] = [];
  for (const p of [...new Set(list.map((m) => m.prefix))].sort()) {
    while (stack.length && !p.startsWith(stack[stack.length - 1]!)) stack.pop();
    parent.set(p, stack[stack.length - 1]);
    stack.push(p);
  }
  const byPrefix = new Map<string, number[]>();
  list.forEach((m, j) => {
    const same = byPrefix.get(m.prefix);
    if (same) same.push(j);
    else byPrefix.set(m.prefix, [j]);
  });
  const out: Result[] = [];
  let compared = 0;
  for (let j = 0; j < list.length; j++) {
    const b = list[j]!;
    for (let p = parent.get(b.prefix); p !== undefined; p = parent.get(p)) {
      for (const i of byPrefix.get(p)!) {
        if (i > j) break;
        if (++compared > OVERLAP_COMPARISONS || out.length >= OVERLAPS_SHOWN) return mergeAll(out);
        const a = list[i]!;
        if (covers(a, b)) {
          out.push(
            finding(
              'EW222',
              b.at,
              `virtualService rule ${b.rule} match ${b.match} of prefix ${b.prefix} is not used (duplicate/overlapping match in rule ${a.match} of prefix ${a.prefix} on ${a.rule})`,
            ),
          );
        }
      }
      if (++compared > OVERLAP_COMPARISONS) return mergeAll(out);
    }
  }
  return mergeAll(out);
}
