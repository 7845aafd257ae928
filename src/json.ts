/**
 * Reading untyped JSON: admission objects, informer objects and `check` inputs can hold anything,
 * so code reads fields through these instead of trusting a TypeScript shape. None of them throws.
 */

export type Obj = Readonly<Record<string, unknown>>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const asObj = (v: unknown): Obj => (isObj(v) ? v : {});
export const asArr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
export const asStr = (v: unknown): string => (typeof v === 'string' ? v : '');
/** A list of strings; other items become "" so that indexes (and field paths) stay aligned. */
export const asStrs = (v: unknown): string[] => asArr(v).map(asStr);
/**
 * Only the string items of a list, in a new array of exactly their number: snapshot records keep
 * these for every stored object, and `filter` leaves room for 16 more items in each.
 */
export const onlyStrs = (v: unknown): string[] => {
  const items = asArr(v);
  return (items.every((x) => typeof x === 'string') ? items.slice() : items.filter((x) => typeof x === 'string')) as string[];
};
export const asInt = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) ? v : 0);

/** Go's %q for the plain strings messages quote. */
export const q = (s: string): string => JSON.stringify(s);

/**
 * A short, safe rendering of any value for a message: strings quoted and cut, other values by
 * type. Never serializes deep structures (which could overflow the stack) and never calls a
 * user-supplied toString.
 */
export function describe(v: unknown, max = 64): string {
  if (typeof v === 'string') return JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${v}`;
  return typeof v;
}

/** What went wrong, from anything thrown: an Error's message, else the value itself described. */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : `thrown ${describe(e)}`);

/**
 * Whether a parsed JSON value serializes to at most `chars` characters; a value nested past what
 * JSON.stringify can walk does not.
 */
export function fitsJson(value: unknown, chars: number): boolean {
  try {
    return JSON.stringify(value).length <= chars;
  } catch {
    return false;
  }
}

/**
 * Whether two parsed JSON values are equal, object keys in the same order (what a reader that
 * walks them in order sees alike). Values nested too deep to walk count as different.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  try {
    return same(a, b);
  } catch {
    return false;
  }
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i] || !same((a as Obj)[k], (b as Obj)[k])) return false;
  }
  return true;
}
