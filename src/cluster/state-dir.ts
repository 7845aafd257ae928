/**
 * Cluster objects from files: a folder (walked recursively) or one file of YAML or JSON
 * documents, `List` kinds expanded. Lets `serve --state` and `check` run the cross-object rules
 * without a cluster.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../admission/types.ts';
import { parseDocuments } from '../yaml.ts';

export type Located = { readonly object: KubeObject; readonly file: string; readonly line: number };

export type StateDir = {
  readonly objects: readonly KubeObject[];
  /** the same objects with the file and line each came from */
  readonly located: readonly Located[];
  /** "file:line: problem", in file order */
  readonly errors: readonly string[];
  readonly files: number;
};

const EXTENSIONS = /\.(ya?ml|json)$/i;

function walk(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? walk(join(path, e.name)) : EXTENSIONS.test(e.name) ? [join(path, e.name)] : []));
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A document's objects: itself, or the items of a List ("List", "ServiceEntryList", …). */
function objectsOf(value: unknown, where: string, errors: string[]): KubeObject[] {
  if (!isObject(value) || typeof value.kind !== 'string' || typeof value.apiVersion !== 'string') {
    errors.push(`${where}: not a Kubernetes object (apiVersion and kind are required)`);
    return [];
  }
  if (!value.kind.endsWith('List') || !Array.isArray(value.items)) return [value as KubeObject];
  const listKind = value.kind.slice(0, -'List'.length);
  const out: KubeObject[] = [];
  value.items.forEach((item, i) => {
    // items of a typed list (ServiceEntryList) may leave out their own apiVersion and kind
    const it = isObject(item) && listKind && !item.kind ? { apiVersion: value.apiVersion, kind: listKind, ...item } : item;
    out.push(...objectsOf(it, `${where} items[${i}]`, errors));
  });
  return out;
}

/** Never throws for bad content; a path that cannot be read is an error too. */
export function loadStateDir(path: string): StateDir {
  const located: Located[] = [];
  const errors: string[] = [];
  let files: string[];
  try {
    files = walk(path);
  } catch (e) {
    return { objects: [], located, errors: [`${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`], files: 0 };
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      errors.push(`${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      continue;
    }
    const parsed = parseDocuments(text);
    if ('error' in parsed) {
      errors.push(`${file}:${parsed.error.line}: ${parsed.error.message}`);
      continue;
    }
    for (const doc of parsed.docs) {
      for (const object of objectsOf(doc.value, `${file}:${doc.line}`, errors)) located.push({ object, file, line: doc.line });
    }
  }
  return { objects: located.map((l) => l.object), located, errors, files: files.length };
}
