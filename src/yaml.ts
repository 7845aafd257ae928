/**
 * YAML in and out: the only module that imports js-yaml. Reads multi-document YAML (JSON is
 * YAML) keeping each document's line and, on demand, the line of any field path; writes manifests.
 *
 * Manifests are read as kubectl reads them: sigs.k8s.io/yaml decodes with go-yaml v2 (YAML 1.1
 * plain scalars: `yes`/`on` are booleans, `0777` is octal, `1_000` is a number; timestamps stay
 * strings) and converts to JSON. A reader that disagrees with kubectl about what a file says
 * would deny or pass objects the cluster never sees; test/yaml.test.ts lists each difference.
 *
 * Reading goes through js-yaml's event stream: it is about ten times faster than `yaml` on large
 * manifest sets, and its events carry source offsets, so field lines are found without a second
 * parser.
 */
import {
  constructFromEvents,
  defineMappingTag,
  defineScalarTag,
  defineSequenceTag,
  dump,
  FAILSAFE_SCHEMA,
  getScalarValue,
  NOT_RESOLVED,
  parseEvents,
  YAMLException,
  type Event,
} from 'js-yaml';

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
const PLAIN = 1;
const FLOW = 2;

/** Aliases are legal YAML but no manifest needs many; a cap stops alias bombs from expanding later. */
const MAX_ALIASES = 100;

// --- go-yaml v2 plain scalars (sigs.k8s.io/yaml/goyaml.v2/resolve.go), as kubectl reads them

type Resolved = { readonly tag: 'null' | 'bool' | 'int' | 'float' | 'str'; readonly value: unknown };

const words = (list: readonly string[], r: Resolved): Array<[string, Resolved]> => list.map((w) => [w, r]);

const WORDS: ReadonlyMap<string, Resolved> = new Map([
  ...words(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'], { tag: 'bool', value: true }),
  ...words(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'], { tag: 'bool', value: false }),
  ...words(['', '~', 'null', 'Null', 'NULL'], { tag: 'null', value: null }),
  ...words(['.nan', '.NaN', '.NAN'], { tag: 'float', value: NaN }),
  ...words(['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'], { tag: 'float', value: Infinity }),
  ...words(['-.inf', '-.Inf', '-.INF'], { tag: 'float', value: -Infinity }),
]);

/** Go's strconv.ParseInt(s, 0, 64) syntax (any size: go-yaml falls back to big integers). */
const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
/** go-yaml's yamlStyleFloat. */
const GO_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const DOT_FLOAT = /^\.[0-9]+(?:[eE][-+]?[0-9]+)?$/;

function goInt(s: string): number {
  const negative = s[0] === '-';
  const digits = s[0] === '-' || s[0] === '+' ? s.slice(1) : s;
  const prefix = digits.slice(0, 2).toLowerCase();
  const n =
    prefix === '0x'
      ? parseInt(digits.slice(2), 16)
      : prefix === '0o'
        ? parseInt(digits.slice(2), 8)
        : prefix === '0b'
          ? parseInt(digits.slice(2), 2)
          : digits.length > 1 && digits[0] === '0'
            ? parseInt(digits.slice(1), 8)
            : parseInt(digits, 10);
  return negative ? -n : n;
}

/** What go-yaml v2 makes of a plain scalar, by its first character as resolve() dispatches. */
function resolveGo(source: string): Resolved {
  const c = source[0];
  const word = WORDS.get(source);
  if (c === undefined || 'yYnNtTfFoO~'.includes(c)) return word ?? { tag: 'str', value: source };
  if (c === '.') return word ?? (DOT_FLOAT.test(source) ? { tag: 'float', value: Number(source) } : { tag: 'str', value: source });
  if (c !== '+' && c !== '-' && (c < '0' || c > '9')) return { tag: 'str', value: source };
  if (word) return word;
  // Timestamps (2024-01-02) resolve first and are kept as strings when decoded into interface{}.
  const plain = source.replaceAll('_', '');
  if (GO_INT.test(plain)) return { tag: 'int', value: goInt(plain) };
  if (GO_FLOAT.test(plain)) return { tag: 'float', value: Number(plain) };
  return { tag: 'str', value: source };
}

const goScalar = (tag: Resolved['tag'], firstChars: readonly string[]) =>
  defineScalarTag(`tag:yaml.org,2002:${tag}`, {
    implicit: true,
    implicitFirstChars: firstChars,
    resolve: (source) => {
      const r = resolveGo(source);
      return r.tag === tag ? r.value : NOT_RESOLVED;
    },
    identify: () => false,
  });

const NUMBER_START = ['+', '-', '.', ...'0123456789'];

/** A plain `<<`: go-yaml's merge key (a quoted "<<" is an ordinary key); anywhere else, the string "<<". */
const MERGE = Symbol('<<');
const text0 = (v: unknown): unknown => (v === MERGE ? '<<' : v);

const goMerge = defineScalarTag('tag:egress-warden.io,2026:merge', {
  implicit: true,
  implicitFirstChars: ['<'],
  resolve: (source) => (source === '<<' ? MERGE : NOT_RESOLVED),
  identify: () => false,
});

type GoMap = { readonly value: Record<string, unknown>; readonly merged: Set<string> };

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A key as sigs.k8s.io/yaml writes it into JSON; undefined for keys it refuses. */
function jsonKey(key: unknown): string | undefined {
  if (typeof key === 'string') return key;
  if (typeof key === 'number') return Number.isNaN(key) ? '.nan' : key === Infinity ? '.inf' : key === -Infinity ? '-.inf' : String(key);
  if (typeof key === 'boolean') return String(key);
  return undefined;
}

function setKey(m: GoMap, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(m.value, key, { value, enumerable: true, configurable: true, writable: true });
  else m.value[key] = value;
}

/**
 * Mappings as go-yaml v2 builds them: a merge (`<<`) writes its keys where it stands, over the keys
 * before it, and keys after it override it (of a merged list, the first map wins); a key written
 * twice is an error, as kubectl's strict field validation reports it.
 */
const goMap = defineMappingTag<GoMap, Record<string, unknown>>('tag:yaml.org,2002:map', {
  create: () => ({ value: {}, merged: new Set() }),
  has: (m, key) => {
    const k = jsonKey(key);
    return k !== undefined && Object.hasOwn(m.value, k) && !m.merged.has(k);
  },
  addPair: (m, key, value) => {
    if (key === MERGE) {
      const sources = Array.isArray(value) ? [...value].reverse() : [value];
      if (!sources.every(isMap)) return 'map merge requires map or sequence of maps as the value';
      for (const source of sources) {
        for (const k of Object.keys(source)) {
          setKey(m, k, source[k]);
          m.merged.add(k);
        }
      }
      return '';
    }
    const k = jsonKey(key);
    if (k === undefined) return `unsupported map key: ${key === null ? 'null' : typeof key}`;
    setKey(m, k, text0(value));
    m.merged.delete(k);
    return '';
  },
  keys: (v) => Object.keys(v),
  get: (v, key) => v[String(key)],
  finalize: (m) => m.value,
  identify: isMap,
});

const goSeq = defineSequenceTag<unknown[]>('tag:yaml.org,2002:seq', {
  create: () => [],
  addItem: (list, item) => {
    list.push(text0(item));
  },
  identify: Array.isArray,
});

const KUBECTL_SCHEMA = FAILSAFE_SCHEMA.withTags(
  goScalar('null', ['', '~', 'n', 'N']),
  goScalar('bool', [...'yYnNtTfFoO']),
  goScalar('int', NUMBER_START),
  goScalar('float', NUMBER_START),
  goMerge,
  goMap,
  goSeq,
);

/**
 * go-yaml ends a plain scalar in a flow collection only at a blank or a flow indicator, so in
 * `[1.2.3.4, 001:db8::]` the last item is the string "001:db8::"; YAML 1.2 (js-yaml) ends it before
 * a `:` that a flow indicator follows and reads a one-key map. Such scalars are quoted on the same
 * line (lines and the scalar's value unchanged: a plain scalar ending in ":" is always a string).
 */
function goFlowScalars(text: string, events: readonly Event[]): string | undefined {
  const cuts: Array<readonly [number, number]> = [];
  const styles: number[] = [];
  for (const e of events) {
    if (e.type === MAPPING || e.type === SEQUENCE) styles.push(e.style);
    else if (e.type === POP) styles.pop();
    else if (
      e.type === SCALAR &&
      e.style === PLAIN &&
      e.valueEnd >= 0 &&
      styles.at(-1) === FLOW &&
      text[e.valueEnd] === ':' &&
      ',]}'.includes(text[e.valueEnd + 1] ?? '')
    ) {
      cuts.push([e.valueStart, e.valueEnd + 1]);
    }
  }
  if (cuts.length === 0) return undefined;
  let out = text;
  for (const [from, to] of cuts.reverse()) out = `${out.slice(0, from)}'${out.slice(from, to).replaceAll("'", "''")}'${out.slice(to)}`;
  return out;
}

export type ParseOptions = {
  /**
   * false: a JSON text is read with JSON.parse, about ten times faster on large cluster dumps, at
   * the cost of not reporting duplicate keys (the last one wins, as in JSON.parse). Field lines
   * are still found on demand. For state folders, not for the manifests `check` judges.
   */
  readonly exact?: boolean;
};

/** All documents of a YAML or JSON text, or the first syntax error with its line. Empty documents are dropped. */
export function parseDocuments(
  text: string,
  { exact = true }: ParseOptions = {},
): { readonly docs: LocatedDocument[] } | { readonly error: ParseFailure } {
  if (!exact && /^\s*[[{]/.test(text)) {
    const fast = parseJson(text);
    if (fast) return { docs: [fast] };
  }
  let events: Event[];
  let values: unknown[];
  let parsed = false;
  try {
    events = parseEvents(text, {});
    const quoted = goFlowScalars(text, events);
    if (quoted !== undefined) {
      text = quoted;
      events = parseEvents(text, {});
    }
    parsed = true;
    values = constructFromEvents(events, { source: text, schema: KUBECTL_SCHEMA, maxAliases: MAX_ALIASES });
  } catch (e) {
    if (!(e instanceof YAMLException)) throw e;
    const error = { line: (e.mark?.line ?? 0) + 1, message: e.reason };
    // Once the events are read every bracket and quote is closed: only a syntax error can be an unclosed one.
    return { error: (parsed ? undefined : unclosedAt(text, error.line)) ?? error };
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
    const value = text0(values[index]);
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

// --- unclosed brackets and quotes

/** A `[`, `{` or quote left open, and where that shows: a line, the end of the document, or a closing bracket of the other kind. */
type Unclosed = {
  readonly open: '[' | '{' | '"' | "'";
  /** 1-based line of the opening character */
  readonly line: number;
  /** 1-based line by which it should have been closed: where block structure resumes, a document marker, or a wrong closing bracket */
  readonly until?: number;
  /** the closing bracket of the other kind that ends it, when that is what happens */
  readonly closedBy?: ']' | '}';
};

const NAMES = { '[': 'flow sequence', '{': 'flow mapping', '"': 'double-quoted string', "'": 'single-quoted string' } as const;
const CLOSERS = { '[': ']', '{': '}', '"': '"', "'": "'" } as const;

/** The message of an unclosed bracket or quote, naming the line it was opened on. */
function unclosedMessage(u: Unclosed): string {
  const q = (c: string) => (c === '"' ? `'"'` : `"${c}"`);
  const head = `unclosed ${NAMES[u.open]}: ${q(u.open)} on line ${u.line}`;
  if (u.closedBy) return `${head} is closed by ${q(u.closedBy)} on line ${u.until}`;
  return `${head} has no matching ${q(CLOSERS[u.open])} before ${u.until === undefined ? 'the end of the document' : `line ${u.until}`}`;
}

/**
 * js-yaml reports a bracket or quote left open where it gives up, often a line later and in terms
 * of what it found there ("deficient indentation", "missed comma between flow collection
 * entries"). When an unclosed one explains the error at `line` (it is opened at or before that
 * line and not closed by then), the error is reported at its opening line instead.
 */
function unclosedAt(text: string, line: number): ParseFailure | undefined {
  const u = findUnclosed(text);
  if (!u || u.line > line || (u.until !== undefined && u.until < line)) return undefined;
  return { line: u.line, message: unclosedMessage(u) };
}

const isBlank = (c: string | undefined): boolean => c === undefined || c === ' ' || c === '\t';

/**
 * The first bracket or quote that a YAML text leaves open, found by a scan that knows just enough
 * YAML to skip what cannot hold one: comments, quoted strings and block scalars. In a flow
 * collection or a quoted string that spans lines, every continuation line must be indented more
 * than the block node holding it. The first line that is not (and is not a closing bracket) is
 * where it should have been closed, unless it is closed later in the document: then it is only
 * indented too little, and the parser's own message says so.
 */
function findUnclosed(text: string): Unclosed | undefined {
  const lines = text.split('\n');
  const stack: Array<{ readonly open: '[' | '{'; readonly line: number }> = [];
  /** lines indented this much or less end an open collection */
  let limit = -1;
  let quote: { readonly open: '"' | "'"; readonly line: number; readonly limit: number } | undefined;
  /** what was open at the first line that should have closed it, and that line */
  let pending: Unclosed | undefined;
  /** content lines of a block scalar are indented more than this */
  let blockScalar: number | undefined;
  /** whether the document has a node yet: a collection at its very start is its root, whose lines may sit anywhere */
  let started = false;
  let nodeStart = true;
  const open = (): Unclosed => (quote ? { open: quote.open, line: quote.line } : { open: stack.at(-1)!.open, line: stack.at(-1)!.line });
  const ended = (line?: number): Unclosed => pending ?? { ...open(), ...(line === undefined ? {} : { until: line }) };
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.endsWith('\r') ? lines[n]!.slice(0, -1) : lines[n]!;
    const body = raw.trimStart();
    const indent = raw.length - body.length;
    const marker = /^(?:---|\.\.\.)(?:[ \t]|$)/.test(raw);
    if (blockScalar !== undefined) {
      if (body === '' || (indent > blockScalar && !marker)) continue;
      blockScalar = undefined;
    }
    let col = indent;
    if (quote) {
      if (marker) return ended(n + 1);
      if (!pending && body !== '' && indent <= quote.limit) pending = { ...open(), until: n + 1 };
      col = 0;
    } else {
      if (body === '' || body.startsWith('#')) continue;
      if (stack.length > 0) {
        if (marker) return ended(n + 1);
        if (!pending && indent <= limit && body[0] !== ']' && body[0] !== '}') pending = { ...open(), until: n + 1 };
      } else {
        if (raw.startsWith('%')) continue;
        if (marker) {
          started = false;
          col = 3;
        }
        nodeStart = true;
      }
    }
    /** column of the node a block scalar or a flow collection on this line belongs to */
    let owner = indent;
    let key = indent;
    for (; col < raw.length; col++) {
      const c = raw[col]!;
      if (quote) {
        if (quote.open === '"' && c === '\\') col++;
        else if (c === "'" && quote.open === "'" && raw[col + 1] === "'") col++;
        else if (c === quote.open) {
          quote = undefined;
          if (stack.length === 0) pending = undefined;
          nodeStart = false;
          // `"key":value` in a flow mapping: the colon after a quoted key is an indicator
          if (stack.length > 0 && raw[col + 1] === ':') {
            col++;
            nodeStart = true;
          }
        }
        continue;
      }
      if (c === ' ' || c === '\t') continue;
      if (c === '#' && isBlank(raw[col - 1])) break;
      if (nodeStart && (c === '"' || c === "'")) {
        if (stack.length === 0) key = col;
        quote = { open: c, line: n + 1, limit: stack.length > 0 ? limit : owner };
        started = true;
        continue;
      }
      if (nodeStart && (c === '&' || c === '!')) {
        while (col + 1 < raw.length && !isBlank(raw[col + 1])) col++;
        continue;
      }
      if (stack.length === 0) {
        if (nodeStart && (c === '[' || c === '{')) {
          limit = !started ? -1 : col === indent ? indent - 1 : owner;
          stack.push({ open: c, line: n + 1 });
          started = true;
          continue;
        }
        if (nodeStart && (c === '|' || c === '>')) {
          blockScalar = owner;
          break;
        }
        if ((c === '-' || c === '?' || c === ':') && isBlank(raw[col + 1])) {
          owner = c === ':' ? key : col;
          nodeStart = true;
          started = true;
          continue;
        }
        if (nodeStart) key = col;
        nodeStart = false;
        started = true;
        continue;
      }
      if (c === '[' || c === '{') {
        stack.push({ open: c, line: n + 1 });
        nodeStart = true;
      } else if (c === ']' || c === '}') {
        const top = stack.pop()!;
        if (CLOSERS[top.open] !== c) return pending ?? { open: top.open, line: top.line, until: n + 1, closedBy: c };
        if (stack.length === 0) pending = undefined;
        nodeStart = false;
      } else if (c === ',') {
        nodeStart = true;
      } else if ((c === ':' || c === '?') && (isBlank(raw[col + 1]) || ',[]{}'.includes(raw[col + 1]!))) {
        nodeStart = true;
      } else {
        nodeStart = false;
      }
    }
  }
  return quote || stack.length > 0 ? ended() : undefined;
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
export const toYaml = (docs: readonly unknown[]): string => docs.map((d) => dump(d, { lineWidth: -1, noRefs: true })).join('---\n');

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
