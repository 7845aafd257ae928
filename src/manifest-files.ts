/**
 * Manifests from files, directories and stdin, in the order kubectl would apply them: arguments in
 * order, directories walked recursively in lexical order (.yaml, .yml, .json), documents in file
 * order, List items in list order. Each object keeps its file and line.
 */
import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { extname, join } from 'node:path';
import type { KubeObject } from './admission/types.ts';
import type { CommandIo } from './commands/io.ts';
import { parseDocuments } from './yaml.ts';

/** Name under which stdin (`-`) appears in findings. */
export const STDIN = '<stdin>';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

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
  /** documents that are not Kubernetes objects (no apiVersion or kind) */
  readonly skipped: number;
  readonly files: number;
  /** unreadable paths and YAML syntax errors; when not empty, the inputs are incomplete */
  readonly errors: InputError[];
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const isKubeObject = (v: unknown): v is KubeObject =>
  isObject(v) && typeof v.apiVersion === 'string' && v.apiVersion !== '' && typeof v.kind === 'string' && v.kind !== '';

/** `v1/List`, `ServiceEntryList`…: a kind ending in List with an items array. */
const isList = (v: KubeObject): boolean => v.kind!.endsWith('List') && Array.isArray(v.items);

/** Every file a path names: the file itself, or a directory's manifest files (hidden folders skipped). */
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
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of entries) {
      const p = join(dir, d.name);
      // .git, .github and the like hold YAML that is not meant for the cluster.
      if (d.isDirectory()) {
        if (!d.name.startsWith('.')) walk(p);
      } else if (EXTENSIONS.has(extname(d.name).toLowerCase()) && (d.isFile() || isFileLink(p))) {
        out.push(p);
      }
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
  return e instanceof Error ? e.message : String(e);
}

/** Objects of one text, List kinds expanded; `skipped` counts documents that are not objects. */
export function objectsOf(text: string, file: string): { items: InputItem[]; skipped: number } | { error: InputError } {
  const parsed = parseDocuments(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if ('error' in parsed) return { error: { file, line: parsed.error.line, message: parsed.error.message } };
  const items: InputItem[] = [];
  let skipped = 0;
  const visit = (value: unknown, line: number, lineOf: (path: string) => number) => {
    if (!isKubeObject(value)) {
      skipped++;
      return;
    }
    if (!isList(value)) {
      items.push({ object: value, file, line, lineOf });
      return;
    }
    // Items of a typed list (ServiceEntryList) may leave out their apiVersion and kind.
    const kind = value.kind!.slice(0, -'List'.length);
    (value.items as unknown[]).forEach((item, i) => {
      const at = (p: string) => lineOf(p ? `items[${i}].${p}` : `items[${i}]`);
      visit(isObject(item) && kind && !item.kind ? { apiVersion: value.apiVersion, kind, ...item } : item, at(''), at);
    });
  };
  for (const d of parsed.docs) visit(d.value, d.line, d.lineOf);
  return { items, skipped };
}

/** Reads every path (`-` is stdin, read once) and collects objects, skips and errors. */
export async function readInputs(paths: readonly string[], io: Pick<CommandIo, 'readStdin'>): Promise<Inputs> {
  const items: InputItem[] = [];
  const errors: InputError[] = [];
  let skipped = 0;
  let files = 0;
  let stdinRead = false;
  for (const path of paths) {
    let sources: { file: string; text: () => Promise<string> }[];
    if (path === '-') {
      if (stdinRead) continue;
      stdinRead = true;
      sources = [{ file: STDIN, text: () => io.readStdin() }];
    } else {
      sources = filesOf(path, errors).map((file) => ({ file, text: async () => readFileSync(file, 'utf8') }));
    }
    for (const s of sources) {
      let text: string;
      try {
        text = await s.text();
      } catch (e) {
        errors.push({ file: s.file, message: reason(e) });
        continue;
      }
      files++;
      const r = objectsOf(text, s.file);
      if ('error' in r) {
        errors.push(r.error);
        continue;
      }
      for (const it of r.items) items.push(it);
      skipped += r.skipped;
    }
  }
  return { items, skipped, files, errors };
}
