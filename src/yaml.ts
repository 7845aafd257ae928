/**
 * YAML in and out: the only module that imports js-yaml. Reads multi-document YAML (JSON is
 * YAML) keeping each document's line and, on demand, the line of any field path; writes manifests.
 *
 * Reading goes through js-yaml's event stream: it is about ten times faster than `yaml` on large
 * manifest sets, and its events carry source offsets, so field lines are found without a second
 * parser.
 */
import { constructFromEvents, dump, getScalarValue, parseEvents, YAMLException, type Event } from 'js-yaml';

export type Document = { readonly value: unknown; readonly line: number };

/** A document that can tell on which line a field is written. */
export type LocatedDocument = Document & {
  /**
   * Line (1-based) of a kube field path such as `spec.ports[1].name` or
   * `metadata.annotations[egress-warden.io/bypass-ip-ranges]`; when the path is not written in full,
   * the line of the deepest part that is; the document's line for an empty path.
   */
  readonly lineOf: (path: string) => number;
};

export type ParseFailure = { readonly line: number; readonly message: string };

const DOCUMENT = 1;
const SEQUENCE = 2;
const MAPPING = 3;
const SCALAR = 4;
const POP = 6;

/** Aliases are legal YAML but no manifest needs many; a cap stops alias bombs from expanding later. */
const MAX_ALIASES = 100;

export type ParseOptions = {
  /**
   * false: a JSON text is read with JSON.parse, about ten times faster on large cluster dumps, at
   * the cost of not reporting duplicate keys (the last one wins, as in JSON.parse). Field lines
   * are still found on demand. For state folders, not for the manifests `check` judges.
   */
  readonly exact?: boolean;
};

/** All documents of a YAML or JSON text, or the first syntax error with its line. Empty documents are dropped. */
export function parseDocuments(text: string, { exact = true }: ParseOptions = {}): { readonly docs: LocatedDocument[] } | { readonly error: ParseFailure } {
  if (!exact && /^\s*[[{]/.test(text)) {
    const fast = parseJson(text);
    if (fast) return { docs: [fast] };
  }
  let events: Event[];
  let values: unknown[];
  try {
    events = parseEvents(text, {});
    // Duplicate keys are an error, as for kubectl (sigs.k8s.io/yaml rejects them).
    values = constructFromEvents(events, { source: text, maxAliases: MAX_ALIASES });
  } catch (e) {
    if (e instanceof YAMLException) return { error: { line: (e.mark?.line ?? 0) + 1, message: e.reason } };
    throw e;
  }
  const lines = lineIndex(text);
  // Events are dropped once values are built (they are most of the garbage of a large run) and
  // parsed again, once per text, only when a line inside a document is asked for.
  let again: Event[] | undefined;
  const docs: LocatedDocument[] = [];
  let n = 0;
  for (let i = 0; i < events.length; i++) {
    if (events[i]!.type !== DOCUMENT) continue;
    const index = n++;
    const value = values[index];
    if (value === null || value === undefined) continue;
    const line = lines(startOf(events[i + 1]!));
    let tree: Node | undefined;
    const lineOf = (path: string): number => {
      if (!tree) {
        again ??= parseEvents(text, {});
        tree = buildTree(again, nthDocument(again, index) + 1, text)[0];
      }
      return lines(locate(tree, tokenize(path)));
    };
    docs.push({ value, line, lineOf });
  }
  return { docs };
}

/** One JSON document, its field lines found by the exact parser only when asked; undefined if it is not JSON. */
function parseJson(text: string): LocatedDocument | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // let the exact parser report the error with its line
  }
  let exact: LocatedDocument | undefined;
  const lineOf = (path: string): number => {
    if (!exact) {
      const r = parseDocuments(text);
      exact = 'docs' in r ? r.docs[0] : undefined;
    }
    return exact?.lineOf(path) ?? 1;
  };
  return { value, line: lines1(text), lineOf };
}

/** Line of the first non-blank character. */
const lines1 = (text: string): number => {
  const start = text.search(/\S/);
  return start <= 0 ? 1 : text.slice(0, start).split('\n').length;
};

function nthDocument(events: readonly Event[], n: number): number {
  for (let i = 0, seen = 0; i < events.length; i++) {
    if (events[i]!.type === DOCUMENT && seen++ === n) return i;
  }
  return events.length;
}

/** Documents joined with `---`, keys in insertion order. */
export const toYaml = (docs: readonly unknown[]): string =>
  docs.map((d) => dump(d, { lineWidth: -1, noRefs: true })).join('---\n');

// --- lines

/** Offset → 1-based line, by binary search over the line starts (computed once per text, on first use). */
function lineIndex(text: string): (offset: number) => number {
  let starts: number[] | undefined;
  return (offset) => {
    if (!starts) {
      starts = [0];
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** Where a node begins in the source: its anchor or tag when written, else its content. */
function startOf(e: Event): number {
  if (e.type === DOCUMENT || e.type === POP) return 0;
  const content = e.type === SCALAR ? e.valueStart : e.type === MAPPING || e.type === SEQUENCE ? e.start : e.anchorStart;
  const written = [e.anchorStart, 'tagStart' in e ? e.tagStart : -1, content].filter((m) => m >= 0);
  return written.length ? Math.min(...written) : 0;
}

// --- field paths

type Node = {
  readonly start: number;
  readonly entries?: Map<string, { readonly keyStart: number; readonly node: Node }>;
  readonly items?: Node[];
};

/** A document's node tree from its events, built only for documents someone asks a line of. */
function buildTree(events: readonly Event[], at: number, source: string): [Node, number] {
  const e = events[at];
  if (!e) return [{ start: 0 }, at];
  const start = startOf(e);
  if (e.type === MAPPING) {
    const entries = new Map<string, { keyStart: number; node: Node }>();
    let i = at + 1;
    while (i < events.length && events[i]!.type !== POP) {
      const k = events[i]!;
      const [, afterKey] = buildTree(events, i, source);
      const [node, afterValue] = buildTree(events, afterKey, source);
      if (k.type === SCALAR) entries.set(getScalarValue(source, k), { keyStart: startOf(k), node });
      i = afterValue;
    }
    return [{ start, entries }, i + 1];
  }
  if (e.type === SEQUENCE) {
    const items: Node[] = [];
    let i = at + 1;
    while (i < events.length && events[i]!.type !== POP) {
      const [node, next] = buildTree(events, i, source);
      items.push(node);
      i = next;
    }
    return [{ start, items }, i + 1];
  }
  return [{ start }, at + 1];
}

/** One step of a path: an index, a bracketed key, or a dotted name (which may join its neighbours: keys hold dots). */
type Step = { readonly index: number } | { readonly key: string; readonly dotted: boolean };

function tokenize(path: string): Step[] {
  const steps: Step[] = [];
  const re = /\[\s*(\d+)\s*\]|\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[\s*'([^']*)'\s*\]|\[([^\]]*)\]|([^.[\]]+)/g;
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) steps.push({ index: Number(m[1]) });
    else if (m[2] !== undefined) steps.push({ key: m[2].replace(/\\(.)/g, '$1'), dotted: false });
    else if (m[3] !== undefined) steps.push({ key: m[3], dotted: false });
    else if (m[4] !== undefined) steps.push({ key: m[4], dotted: false });
    else if (m[5] !== undefined) steps.push({ key: m[5], dotted: true });
  }
  return steps;
}

function locate(root: Node, steps: readonly Step[]): number {
  let node = root;
  let at = root.start;
  let i = 0;
  while (i < steps.length) {
    const s = steps[i]!;
    if ('index' in s) {
      const item = node.items?.[s.index];
      if (!item) break;
      node = item;
      at = item.start;
      i++;
      continue;
    }
    if (!node.entries) break;
    // `a.b.c` may name the key "b.c" (annotation and label keys): take the shortest join that exists.
    let key = s.key;
    let used = 1;
    let found = node.entries.get(key);
    while (!found && s.dotted && i + used < steps.length) {
      const next = steps[i + used]!;
      if (!('key' in next) || !next.dotted) break;
      key = `${key}.${next.key}`;
      used++;
      found = node.entries.get(key);
    }
    if (!found) break;
    node = found.node;
    at = found.keyStart;
    i += used;
  }
  return at;
}
