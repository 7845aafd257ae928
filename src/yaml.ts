/**
 * YAML in and out: the only module that imports `yaml`. Reads multi-document YAML (JSON is YAML)
 * keeping each document's line, and writes manifests.
 */
import { LineCounter, parseAllDocuments, stringify } from 'yaml';

export type Document = { readonly value: unknown; readonly line: number };

export type ParseFailure = { readonly line: number; readonly message: string };

/** All documents of a YAML or JSON text, or the first syntax error with its line. */
export function parseDocuments(text: string): { readonly docs: Document[] } | { readonly error: ParseFailure } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: Document[] = [];
  for (const d of list) {
    const e = d.errors[0];
    if (e) return { error: { line: lines.linePos(e.pos[0]).line, message: e.message.split('\n')[0] ?? e.message } };
    const value: unknown = d.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    const start = d.contents?.range?.[0] ?? 0;
    out.push({ value, line: lines.linePos(start).line });
  }
  return { docs: out };
}

/** Documents joined with `---`, keys in insertion order. */
export const toYaml = (docs: readonly unknown[]): string =>
  docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
