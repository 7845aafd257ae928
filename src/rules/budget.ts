/**
 * The size gate in front of every validating rule: an object whose spec is far beyond anything the
 * mesh accepts is refused with one finding, before a rule spends time (and memory for findings)
 * proportional to its size. Only `spec` is walked: metadata is bounded by the API server itself
 * (names of at most 253 characters, 256 KiB of annotations). The limits are what the mesh accepts,
 * field by field where a field goes further, so that nothing the mesh accepts is refused here.
 */
import type { KubeObject } from '../admission/types.ts';
import { DIRECT_RESPONSE_BODY_CHARS_MAX, LIST_ITEMS_MAX, SPEC_VALUES_MAX, STRING_CHARS_MAX } from '../catalogue/budget.ts';
import { finding, type Result } from '../catalogue/result.ts';

const count = (n: number): string => n.toLocaleString('en-US');

/** A list or object still to walk, with the way back to `spec` for the message (paths are built only for it). */
type Frame = { readonly value: object; readonly up: Frame | undefined; readonly key: string | number };

function pathOf(frame: Frame | undefined, key?: string | number): string {
  const keys: (string | number)[] = key === undefined ? [] : [key];
  for (let f = frame; f; f = f.up) keys.push(f.key);
  return keys
    .reverse()
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`))
    .join('');
}

/**
 * Whether `key` of `up` is a VirtualService direct response body, `spec.http[i].directResponse.body.string`
 * or `.bytes`: the one string istiod accepts far past the general limit. Matched by path alone; in
 * other kinds the path names no field, and the API server prunes unknown fields before any webhook.
 */
function isDirectResponseBody(up: Frame, key: string | number): boolean {
  const body = up;
  const response = body.up;
  const route = response?.up;
  const http = route?.up;
  const spec = http?.up;
  return (
    (key === 'string' || key === 'bytes') &&
    body.key === 'body' &&
    response?.key === 'directResponse' &&
    typeof route?.key === 'number' &&
    http?.key === 'http' &&
    spec?.key === 'spec' &&
    spec.up === undefined
  );
}

const tooLong = (what: string, n: number, max: number) =>
  `${what} of ${count(n)} ${what === 'a list' ? 'items' : 'characters'} is longer than any the mesh accepts (at most ${count(max)} are reviewed)`;

/** One finding naming the first thing over budget, or undefined when the spec is within it. */
export function overBudget(obj: KubeObject): Result | undefined {
  const spec = (obj as { readonly spec?: unknown }).spec;
  if (typeof spec !== 'object' || spec === null) return undefined;
  const stack: Frame[] = [{ value: spec, up: undefined, key: 'spec' }];
  let values = 1;
  const child = (up: Frame, key: string | number, v: unknown): Result | undefined => {
    values++;
    if (typeof v === 'string') {
      if (v.length > STRING_CHARS_MAX) {
        const max = isDirectResponseBody(up, key) ? DIRECT_RESPONSE_BODY_CHARS_MAX : STRING_CHARS_MAX;
        if (v.length > max) return finding('EW001', pathOf(up, key), tooLong('a string', v.length, max));
      }
    } else if (typeof v === 'object' && v !== null) {
      stack.push({ value: v, up, key });
    }
    return undefined;
  };
  while (stack.length) {
    const frame = stack.pop()!;
    const v = frame.value;
    if (Array.isArray(v)) {
      if (v.length > LIST_ITEMS_MAX) return finding('EW001', pathOf(frame), tooLong('a list', v.length, LIST_ITEMS_MAX));
      for (let i = 0; i < v.length; i++) {
        const problem = child(frame, i, v[i]);
        if (problem) return problem;
      }
    } else {
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        if (key.length > STRING_CHARS_MAX) return finding('EW001', pathOf(frame), tooLong('a key', key.length, STRING_CHARS_MAX));
        const problem = child(frame, key, (v as Record<string, unknown>)[key]);
        if (problem) return problem;
      }
    }
    if (values > SPEC_VALUES_MAX)
      return finding('EW001', 'spec', `more than ${count(SPEC_VALUES_MAX)} values, far more than any object the mesh accepts`);
  }
  return undefined;
}
