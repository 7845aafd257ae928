/**
 * The pod patch: the JSON Patch operations that write capture annotations and istio-iptables args,
 * including what hand-written patches get wrong: a missing annotations map (one `add` of the whole
 * map) and "/" in annotation keys (escaped as "~1").
 */
import jsonpatch from 'fast-json-patch'; // CJS: default import, never `{ escapePathComponent }`
import type { Operation } from 'fast-json-patch';
import type { KubeObject } from '../admission/types.ts';
import { isObj } from '../json.ts';

/** An istio-iptables flag in both spellings. */
export type Flag = { readonly short: string; readonly long: string };

export const INCLUDE_FLAG: Flag = { short: '-i', long: '--istio-service-cidr' };
export const EXCLUDE_FLAG: Flag = { short: '-x', long: '--istio-service-exclude-cidr' };

export type PodChanges = {
  /** value to set, or null to remove a key this webhook wrote earlier */
  readonly annotations: Readonly<Record<string, string | null>>;
  /** init containers (by index) whose istio-iptables args get new -i/-x values */
  readonly args?: {
    readonly containers: readonly number[];
    readonly include?: string | undefined;
    readonly exclude?: string | undefined;
  };
};

/**
 * Sets every occurrence of a flag's value (pflag: the last one wins, so all must agree), in the
 * spelling it was written: `-i v`, `-i=v`, `--istio-service-cidr v`, `--istio-service-cidr=v`.
 * Appends `-i v` when the flag is absent. Every other argument is kept as it is.
 */
export function setFlag(args: readonly string[], flag: Flag, value: string): string[] {
  const out = [...args];
  let found = false;
  for (let i = 0; i < out.length; i++) {
    const a = out[i]!;
    if (a === '--') break;
    if (a === flag.short || a === flag.long) {
      found = true;
      if (i + 1 < out.length) out[i + 1] = value;
      else out.push(value);
      i++;
    } else if (a.startsWith(`${flag.short}=`) || a.startsWith(`${flag.long}=`)) {
      found = true;
      out[i] = `${a.slice(0, a.indexOf('='))}=${value}`;
    }
  }
  if (!found) out.push(flag.short, value);
  return out;
}

/** The value a flag is given (the last occurrence wins, as pflag reads it), or undefined when it is absent. */
export function flagValue(args: readonly unknown[], flag: Flag): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a !== 'string' || a === '--') break;
    if (a === flag.short || a === flag.long) value = typeof args[i + 1] === 'string' ? (args[++i] as string) : undefined;
    else if (a.startsWith(`${flag.short}=`) || a.startsWith(`${flag.long}=`)) value = a.slice(a.indexOf('=') + 1);
  }
  return value;
}

/** A JSON Pointer segment: "~" and "/" escaped (RFC 6901), as in annotation keys like "traffic.sidecar.istio.io/…". */
const segment = (key: string): string => jsonpatch.escapePathComponent(key);

/**
 * The operations that set the annotations and the istio-iptables args, written directly: the pod is
 * only read, never cloned. They are the operations, in the order, that a diff (fast-json-patch's
 * compare) of the pod before and after the change gives, so the patches answered stay the same:
 * init containers first, last index first; then the annotations, replaced or removed in reverse
 * order of the map, then added in the order they are set; a missing map is added whole.
 */
export function patchPod(pod: KubeObject, changes: PodChanges): Operation[] {
  const ops: Operation[] = [];
  const spec = isObj(pod.spec) ? pod.spec : undefined;
  const inits = spec && Array.isArray(spec.initContainers) ? (spec.initContainers as unknown[]) : undefined;
  const rewritten = new Map<number, string[]>();
  for (const index of changes.args?.containers ?? []) {
    const c = inits?.[index];
    if (!isObj(c) || !Array.isArray(c.args)) continue;
    let args = rewritten.get(index) ?? c.args.map(String);
    if (changes.args?.include !== undefined) args = setFlag(args, INCLUDE_FLAG, changes.args.include);
    if (changes.args?.exclude !== undefined) args = setFlag(args, EXCLUDE_FLAG, changes.args.exclude);
    rewritten.set(index, args);
  }
  for (const index of [...rewritten.keys()].sort((a, b) => b - a)) {
    const before = (inits![index] as { args: unknown[] }).args;
    const after = rewritten.get(index)!;
    const at = `/spec/initContainers/${index}/args/`;
    // setFlag only replaces items and appends: nothing is ever removed
    for (let i = before.length - 1; i >= 0; i--) if (before[i] !== after[i]) ops.push({ op: 'replace', path: at + i, value: after[i] });
    for (let i = before.length; i < after.length; i++) ops.push({ op: 'add', path: at + i, value: after[i] });
  }

  const current = pod.metadata?.annotations;
  if (!isObj(current)) {
    const set: Record<string, string> = {};
    for (const [key, value] of Object.entries(changes.annotations)) if (value !== null) set[key] = value;
    if (Object.keys(set).length) ops.push({ op: 'add', path: '/metadata/annotations', value: set });
    return ops;
  }
  const keys = Object.keys(current);
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!;
    if (!Object.hasOwn(changes.annotations, key)) continue;
    const value = changes.annotations[key];
    if (value === null) ops.push({ op: 'remove', path: `/metadata/annotations/${segment(key)}` });
    else if (value !== current[key]) ops.push({ op: 'replace', path: `/metadata/annotations/${segment(key)}`, value });
  }
  for (const [key, value] of Object.entries(changes.annotations)) {
    if (value !== null && !Object.hasOwn(current, key)) ops.push({ op: 'add', path: `/metadata/annotations/${segment(key)}`, value });
  }
  return ops;
}
