/**
 * Manifests from files, directories and stdin: the one reader behind `check PATH…`, `check --state`
 * and `serve --state`. Arguments in order, directories walked recursively in byte order of their
 * names (.yaml, .yml, .json; entries whose name starts with a dot skipped; symbolic links followed,
 * each folder read once), documents in file order, List items in list order. Each object keeps its
 * file and line.
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { extname, join, sep } from 'node:path';
import type { KubeObject } from '../admission/types.ts';
import { asArr, errorText, isObj } from '../json.ts';
import { parseDocuments } from '../yaml.ts';

/** Name under which stdin (`-`) appears in findings. */
export const STDIN = '<stdin>';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * What a document that is not a Kubernetes object (no apiVersion or kind) is: `lenient` counts it
 * as skipped (manifest trees hold other YAML: chart values, CI files); `strict` makes it an error
 * (a state folder claims to hold cluster objects, and a dropped one would silently weaken the checks).
 */
export type Strictness = 'strict' | 'lenient';

export type InputItem = {
  readonly object: KubeObject;
  readonly file: string;
  /** line of the object's first field */
  readonly line: number;
  /** line of a field path inside this object (see LocatedDocument.lineOf) */
  readonly lineOf: (path: string) => number;
};

export type InputError = { readonly file: string; readonly line?: number; readonly message: string };

/** Where a document that is not a Kubernetes object was read (lenient reading only). */
export type SkippedDocument = { readonly file: string; readonly line: number };

export type Inputs = {
  readonly items: InputItem[];
  /** documents that are not Kubernetes objects (lenient reading only) */
  readonly skipped: number;
  /** the same documents, each with its file and line */
  readonly skippedDocuments: SkippedDocument[];
  readonly files: number;
  /**
   * unreadable paths, YAML syntax errors, files over the limits, links that lead nowhere and
   * (strict) documents that are not objects; when not empty, the inputs are incomplete
   */
  readonly errors: InputError[];
  /** links that loop (into a folder that holds them, or never resolving) or lead nowhere, when not named like a manifest */
  readonly warnings: InputError[];
};

/**
 * What is read at most. Everything read is held at once (the set is judged as a whole), so the
 * limits bound the memory a run can take: bytes per file and in all, and documents in all (a List's
 * items count one each), since a file of many tiny documents costs far more per byte than
 * manifests do. A file over a limit is an error, and is not parsed.
 */
export type ReadLimits = { readonly fileBytes: number; readonly totalBytes: number; readonly documents: number };

const NOT_AN_OBJECT = 'not a Kubernetes object (apiVersion and kind are required)';

/** "file:line: message", or "file: message" when there is no line. */
export const showInputError = (e: InputError): string => `${e.line === undefined ? e.file : `${e.file}:${e.line}`}: ${e.message}`;

const isKubeObject = (v: unknown): v is KubeObject =>
  isObj(v) && typeof v.apiVersion === 'string' && v.apiVersion !== '' && typeof v.kind === 'string' && v.kind !== '';

/** `v1/List`, `ServiceEntryList`…: a kind ending in List with an items array. */
const isList = (v: KubeObject): boolean => v.kind!.endsWith('List') && Array.isArray(v.items);

/** Names in byte (UTF-16 code unit) order: the same on every machine, whatever its locale. */
const byName = (a: Dirent, b: Dirent): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const isManifest = (name: string): boolean => EXTENSIONS.has(extname(name).toLowerCase());

type Found = { readonly errors: InputError[]; readonly warnings: InputError[] };

/**
 * Every file a path names: the file itself (whatever its extension), or a directory's manifest
 * files. Links are followed, so a tree may share folders through them; each real folder is read
 * once, and a link into a folder that holds it is a loop, reported and not followed.
 */
function filesOf(path: string, found: Found): string[] {
  let root: string;
  try {
    if (!statSync(path).isDirectory()) return [path];
    root = realpathSync(path);
  } catch (e) {
    found.errors.push({ file: path, message: reason(e) });
    return [];
  }
  const out: string[] = [];
  /** real path of each folder read, and the path it was read as */
  const read = new Map<string, string>();
  const walk = (dir: string, real: string) => {
    read.set(real, dir);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      found.errors.push({ file: dir, message: reason(e) });
      return;
    }
    for (const d of entries.sort(byName)) {
      // .git, .github, .gitlab-ci.yml, editor backups: YAML that is not meant for the cluster
      if (d.name.startsWith('.')) continue;
      const p = join(dir, d.name);
      if (d.isSymbolicLink()) follow(p, d.name, real);
      else if (d.isDirectory()) {
        const inner = join(real, d.name);
        if (!read.has(inner)) walk(p, inner);
      } else if (d.isFile() && isManifest(d.name)) out.push(p);
    }
  };
  const follow = (p: string, name: string, within: string) => {
    let target: Stats;
    let real: string;
    try {
      target = statSync(p);
      real = realpathSync(p);
    } catch (e) {
      // A manifest's name that cannot be read is a manifest missing from the check; any other name may have been a folder.
      const problem = { file: p, message: brokenLink(p, e) };
      if (isManifest(name)) found.errors.push(problem);
      else found.warnings.push(problem);
      return;
    }
    if (target.isFile()) {
      if (isManifest(name)) out.push(p);
      return;
    }
    if (!target.isDirectory()) return;
    // A way back into a folder that holds the link is a loop, even above the folder the walk began
    // in; a second way into a folder read already loses nothing.
    if (within === real || within.startsWith(`${real}${sep}`)) {
      found.warnings.push({
        file: p,
        message: `symbolic link loop: leads back to ${read.get(real) ?? real}, which holds it: not followed`,
      });
    } else if (!read.has(real)) walk(p, real);
  };
  walk(path, root);
  return out;
}

function brokenLink(p: string, e: unknown): string {
  if ((e as { code?: string }).code === 'ELOOP') return 'symbolic link loop: following the link never reaches a file or folder';
  let to = '';
  try {
    to = ` to ${readlinkSync(p)}`;
  } catch {
    // the target is only named when it can be read
  }
  return `broken symbolic link${to}: ${reason(e)}`;
}

function reason(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'ELOOP') return 'symbolic link loop';
  return errorText(e);
}

/**
 * Objects of one text, List kinds expanded. Past `room` documents and List items it stops and says
 * so: a List of millions of items would otherwise cost a line lookup each.
 */
function objectsOf(
  text: string,
  file: string,
  strictness: Strictness,
  room = Number.POSITIVE_INFINITY,
): { items: InputItem[]; skipped: SkippedDocument[]; errors: InputError[]; over?: number } {
  // State folders can be whole cluster dumps: read their JSON fast. Inputs judged by `check` keep
  // exact parsing, which reports duplicate keys as kubectl does.
  const parsed = parseDocuments(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, { exact: strictness === 'lenient' });
  if ('error' in parsed) return { items: [], skipped: [], errors: [{ file, line: parsed.error.line, message: parsed.error.message }] };
  const items: InputItem[] = [];
  const errors: InputError[] = [];
  const skipped: SkippedDocument[] = [];
  // An item's own line costs a second, exact parse of a JSON file: state folders ask for it only
  // to report an error, and give their items the line of the document they came from.
  let seen = 0;
  const visit = (value: unknown, at: string, line: () => number, lineOf: (path: string) => number, docLine: number) => {
    if (++seen > room) return;
    if (!isKubeObject(value)) {
      if (strictness === 'lenient') skipped.push({ file, line: line() });
      else errors.push({ file, line: line(), message: at ? `${at}: ${NOT_AN_OBJECT}` : NOT_AN_OBJECT });
      return;
    }
    if (!isList(value)) {
      items.push({ object: value, file, line: strictness === 'lenient' ? line() : docLine, lineOf });
      return;
    }
    // Items of a typed list (ServiceEntryList) may leave out their apiVersion and kind.
    const kind = value.kind!.slice(0, -'List'.length);
    const list = asArr(value.items);
    // counted before any item's line is looked up, which builds the whole document's tree
    seen += list.length - 1;
    if (seen > room) return;
    seen -= list.length;
    list.forEach((item, i) => {
      const path = `items[${i}]`;
      const itemLineOf = (p: string) => lineOf(p ? `${path}.${p}` : path);
      const filled = isObj(item) && kind && !item.kind ? { apiVersion: value.apiVersion, kind, ...item } : item;
      visit(filled, at ? `${at}.${path}` : path, () => itemLineOf(''), itemLineOf, docLine);
    });
  };
  for (const d of parsed.docs) visit(d.value, '', () => d.line, d.lineOf, d.line);
  return seen > room ? { items: [], skipped: [], errors, over: seen } : { items, skipped, errors };
}

/**
 * A file or stdin: its size in bytes, then its content, read only when it is within the limits.
 * `cut`: reading stopped past the limit per file (stdin has no size before it is read), so the
 * size is only a lower bound.
 */
type Source = { readonly file: string; readonly size: () => number; readonly data: () => Buffer | string; readonly cut?: boolean };

const MIB = 2 ** 20;

/** `12.4 MiB`; in bytes below 1 MiB, or when tenths of a MiB would not tell the size from the limit it is over. */
function size(bytes: number, limit?: number): string {
  const m = bytes / MIB;
  if (bytes < MIB || (limit !== undefined && m.toFixed(1) === (limit / MIB).toFixed(1))) return `${count(bytes)} bytes`;
  return `${Number.isInteger(m) ? m : m.toFixed(1)} MiB`;
}

/** A file's objects as it is read; a reader given one keeps none of them (`Inputs.items` stays empty). */
export type EachFile = (items: readonly InputItem[]) => void;

/** Everything read from the sources, in order; a source that cannot be read is an error. */
function collect(
  sources: readonly Source[],
  strictness: Strictness,
  limits: ReadLimits | undefined,
  found: Found,
  each?: EachFile,
): Inputs {
  const items: InputItem[] = [];
  const skipped: SkippedDocument[] = [];
  let files = 0;
  const used = { bytes: 0, documents: 0 };
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i]!;
    const rest = notReadAfter(sources.length - i - 1);
    let r: ReturnType<typeof take>;
    try {
      r = take(s, used, limits);
    } catch (e) {
      found.errors.push({ file: s.file, message: reason(e) });
      continue;
    }
    if ('refused' in r) {
      found.errors.push({ file: s.file, message: r.last ? `${r.refused}${rest}` : r.refused });
      if (r.last) break;
      continue;
    }
    const read = objectsOf(r.text, s.file, strictness, limits && limits.documents - used.documents);
    if (limits && read.over !== undefined) {
      found.errors.push({ file: s.file, message: `${tooManyDocuments(read.over, used.documents, limits, 'at least ')}${rest}` });
      break;
    }
    const documents = read.items.length + read.skipped.length;
    used.bytes += r.bytes;
    used.documents += documents;
    files++;
    if (each) each(read.items);
    else for (const it of read.items) items.push(it);
    for (const e of read.errors) found.errors.push(e);
    for (const d of read.skipped) skipped.push(d);
  }
  return { items, skipped: skipped.length, skippedDocuments: skipped, files, errors: found.errors, warnings: found.warnings };
}

const notReadAfter = (n: number): string =>
  n === 0 ? '' : n === 1 ? '; the file after it was not read either' : `; the ${n} files after it were not read either`;

const count = (n: number): string => n.toLocaleString('en-US');

const tooManyDocuments = (documents: number, before: number, limits: ReadLimits, atLeast = ''): string =>
  `not read: ${atLeast}${count(documents)} documents here and ${count(before)} before this file, over the limit of ${count(limits.documents)} documents and List items in all`;

/** Document markers: a file's documents, give or take the first. */
function markers(text: string): number {
  let n = text.startsWith('---') ? 1 : 0;
  for (let i = text.indexOf('\n---'); i !== -1; i = text.indexOf('\n---', i + 4)) n++;
  return n;
}

/**
 * A source's text, or why it is not read (`last`: the sources after it are not read either, as a
 * limit in all is reached). Sized before reading, so a file over a limit costs no memory, and again
 * once read, as a file may grow meanwhile; its documents are counted before they are parsed.
 */
function take(
  s: Source,
  used: { readonly bytes: number; readonly documents: number },
  limits: ReadLimits | undefined,
): { readonly text: string; readonly bytes: number } | { readonly refused: string; readonly last: boolean } {
  const before = limits && refuse(s.size(), used.bytes, limits, s.cut);
  if (before) return before;
  const data = s.data();
  const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  const now = limits && refuse(bytes, used.bytes, limits, s.cut);
  if (now) return now;
  const text = typeof data === 'string' ? data : data.toString('utf8');
  const documents = limits ? markers(text) : 0;
  if (limits && used.documents + documents > limits.documents)
    return { refused: tooManyDocuments(documents, used.documents, limits), last: true };
  return { text, bytes };
}

function refuse(bytes: number, used: number, limits: ReadLimits, cut = false): { refused: string; last: boolean } | undefined {
  const limit = size(limits.fileBytes);
  if (bytes > limits.fileBytes)
    return {
      refused: `not read: ${cut ? `more than ${limit}` : size(bytes, limits.fileBytes)}, over the limit of ${limit} per file`,
      last: false,
    };
  if (used + bytes <= limits.totalBytes) return undefined;
  return {
    refused: `not read: ${size(bytes)} here and ${size(used)} before this file, over the limit of ${size(limits.totalBytes)} in all`,
    last: true,
  };
}

const fileSources = (path: string, found: Found): Source[] =>
  filesOf(path, found).map((file) => ({ file, size: () => statSync(file).size, data: () => readFileSync(file) }));

/**
 * Reads files and directories (no stdin), synchronously: what a server does before it starts.
 * With `each`, every file's objects go to it as the file is read, and none is kept.
 */
export function readPaths(paths: readonly string[], strictness: Strictness, limits?: ReadLimits, each?: EachFile): Inputs {
  const found: Found = { errors: [], warnings: [] };
  return collect(
    paths.flatMap((p) => fileSources(p, found)),
    strictness,
    limits,
    found,
    each,
  );
}

/** Reads every path in order; `-` is stdin, read once, and no further than one byte past the limit per file. */
export async function readInputs(
  paths: readonly string[],
  io: { readonly readStdin: (maxBytes?: number) => Promise<string> },
  strictness: Strictness,
  limits?: ReadLimits,
): Promise<Inputs> {
  const found: Found = { errors: [], warnings: [] };
  const sources: Source[] = [];
  let stdinRead = false;
  for (const path of paths) {
    if (path !== '-') {
      for (const source of fileSources(path, found)) sources.push(source);
      continue;
    }
    if (stdinRead) continue;
    stdinRead = true;
    try {
      const text = await io.readStdin(limits?.fileBytes);
      const bytes = Buffer.byteLength(text);
      sources.push({ file: STDIN, size: () => bytes, data: () => text, cut: limits !== undefined && bytes > limits.fileBytes });
    } catch (e) {
      found.errors.push({ file: STDIN, message: reason(e) });
    }
  }
  return collect(sources, strictness, limits, found);
}
