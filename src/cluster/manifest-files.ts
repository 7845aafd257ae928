/**
 * Manifests from files, directories and stdin: the one reader behind `check PATH…`, `check --state`
 * and `serve --state`. Arguments in order, directories walked recursively in byte order of their
 * names (.yaml, .yml, .json; entries whose name starts with a dot skipped), documents in file order,
 * List items in list order. Each object keeps its file and line.
 */
import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { extname, join } from 'node:path';
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

export type Inputs = {
  readonly items: InputItem[];
  /** documents that are not Kubernetes objects (lenient reading only) */
  readonly skipped: number;
  readonly files: number;
  /** unreadable paths, YAML syntax errors and (strict) documents that are not objects; when not empty, the inputs are incomplete */
  readonly errors: InputError[];
};

const NOT_AN_OBJECT = 'not a Kubernetes object (apiVersion and kind are required)';

/** "file:line: message", or "file: message" when there is no line. */
export const showInputError = (e: InputError): string => `${e.line === undefined ? e.file : `${e.file}:${e.line}`}: ${e.message}`;

const isKubeObject = (v: unknown): v is KubeObject =>
  isObj(v) && typeof v.apiVersion === 'string' && v.apiVersion !== '' && typeof v.kind === 'string' && v.kind !== '';

/** `v1/List`, `ServiceEntryList`…: a kind ending in List with an items array. */
const isList = (v: KubeObject): boolean => v.kind!.endsWith('List') && Array.isArray(v.items);

/** Names in byte (UTF-16 code unit) order: the same on every machine, whatever its locale. */
const byName = (a: Dirent, b: Dirent): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Every file a path names: the file itself (whatever its extension), or a directory's manifest files. */
function filesOf(path: string, errors: InputError[]): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    errors.push({ file: path, message: reason(e) });
    return [];
  }
  if (!isDir) return [path];
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      errors.push({ file: dir, message: reason(e) });
      return;
    }
    for (const d of entries.sort(byName)) {
      // .git, .github, .gitlab-ci.yml, editor backups: YAML that is not meant for the cluster
      if (d.name.startsWith('.')) continue;
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (EXTENSIONS.has(extname(d.name).toLowerCase()) && (d.isFile() || isFileLink(p))) out.push(p);
    }
  };
  walk(path);
  return out;
}

function isFileLink(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function reason(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return errorText(e);
}

/** Objects of one text, List kinds expanded. */
function objectsOf(text: string, file: string, strictness: Strictness): { items: InputItem[]; skipped: number; errors: InputError[] } {
  // State folders can be whole cluster dumps: read their JSON fast. Inputs judged by `check` keep
  // exact parsing, which reports duplicate keys as kubectl does.
  const parsed = parseDocuments(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, { exact: strictness === 'lenient' });
  if ('error' in parsed) return { items: [], skipped: 0, errors: [{ file, line: parsed.error.line, message: parsed.error.message }] };
  const items: InputItem[] = [];
  const errors: InputError[] = [];
  let skipped = 0;
  // An item's own line costs a second, exact parse of a JSON file: state folders ask for it only
  // to report an error, and give their items the line of the document they came from.
  const visit = (value: unknown, at: string, line: () => number, lineOf: (path: string) => number, docLine: number) => {
    if (!isKubeObject(value)) {
      if (strictness === 'lenient') skipped++;
      else errors.push({ file, line: line(), message: at ? `${at}: ${NOT_AN_OBJECT}` : NOT_AN_OBJECT });
      return;
    }
    if (!isList(value)) {
      items.push({ object: value, file, line: strictness === 'lenient' ? line() : docLine, lineOf });
      return;
    }
    // Items of a typed list (ServiceEntryList) may leave out their apiVersion and kind.
    const kind = value.kind!.slice(0, -'List'.length);
    asArr(value.items).forEach((item, i) => {
      const path = `items[${i}]`;
      const itemLineOf = (p: string) => lineOf(p ? `${path}.${p}` : path);
      const filled = isObj(item) && kind && !item.kind ? { apiVersion: value.apiVersion, kind, ...item } : item;
      visit(filled, at ? `${at}.${path}` : path, () => itemLineOf(''), itemLineOf, docLine);
    });
  };
  for (const d of parsed.docs) visit(d.value, '', () => d.line, d.lineOf, d.line);
  return { items, skipped, errors };
}

type Source = { readonly file: string; readonly text: () => string };

/** Everything read from the sources, in order; a source that cannot be read is an error. */
function collect(
  sources: Iterable<Source>,
  strictness: Strictness,
  errors: InputError[],
): { items: InputItem[]; skipped: number; files: number } {
  const items: InputItem[] = [];
  let skipped = 0;
  let files = 0;
  for (const s of sources) {
    let text: string;
    try {
      text = s.text();
    } catch (e) {
      errors.push({ file: s.file, message: reason(e) });
      continue;
    }
    files++;
    const r = objectsOf(text, s.file, strictness);
    for (const it of r.items) items.push(it);
    for (const e of r.errors) errors.push(e);
    skipped += r.skipped;
  }
  return { items, skipped, files };
}

const fileSources = (path: string, errors: InputError[]): Source[] =>
  filesOf(path, errors).map((file) => ({ file, text: () => readFileSync(file, 'utf8') }));

/** Reads files and directories (no stdin), synchronously: what a server does before it starts. */
export function readPaths(paths: readonly string[], strictness: Strictness): Inputs {
  const errors: InputError[] = [];
  const r = collect(
    paths.flatMap((p) => fileSources(p, errors)),
    strictness,
    errors,
  );
  return { items: r.items, skipped: r.skipped, files: r.files, errors };
}

/** Reads every path in order; `-` is stdin, read once. */
export async function readInputs(
  paths: readonly string[],
  io: { readonly readStdin: () => Promise<string> },
  strictness: Strictness,
): Promise<Inputs> {
  const items: InputItem[] = [];
  const errors: InputError[] = [];
  let skipped = 0;
  let files = 0;
  let stdinRead = false;
  for (const path of paths) {
    let sources: Source[];
    if (path === '-') {
      if (stdinRead) continue;
      stdinRead = true;
      let text: string;
      try {
        text = await io.readStdin();
      } catch (e) {
        errors.push({ file: STDIN, message: reason(e) });
        continue;
      }
      sources = [{ file: STDIN, text: () => text }];
    } else {
      sources = fileSources(path, errors);
    }
    const r = collect(sources, strictness, errors);
    for (const it of r.items) items.push(it);
    skipped += r.skipped;
    files += r.files;
  }
  return { items, skipped, files, errors };
}
