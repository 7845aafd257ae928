/**
 * Cluster objects from files, for `serve --state` and `check --state`: a folder (walked
 * recursively) or one file of YAML or JSON documents, read strictly by the shared manifest reader,
 * so both commands see the same objects in the same order and fail on the same problems.
 */
import type { KubeObject } from '../admission/types.ts';
import { readPaths, showInputError, type EachFile, type InputError, type InputItem, type ReadLimits } from './manifest-files.ts';

/**
 * What a state folder may hold. A dump of a cluster of 100,000 ServiceEntries and Egresses is about
 * 65 MB of JSON; these limits take four times that, and refuse a folder whose objects could not be
 * held in a webhook's memory at all before reading it, instead of failing later for lack of memory.
 * `kubectl get -o yaml` writes one file, so one file may hold the whole set.
 */
export const STATE_LIMITS: ReadLimits = { fileBytes: 256 * 2 ** 20, totalBytes: 256 * 2 ** 20, documents: 1_000_000 };

export type StateDir = {
  readonly objects: readonly KubeObject[];
  /** the same objects with the file and line each came from */
  readonly located: readonly InputItem[];
  /** "file:line: problem" (a path that cannot be read has no line), in file order */
  readonly errors: readonly string[];
  /** the same problems, with their file and line apart */
  readonly problems: readonly InputError[];
  readonly files: number;
};

/**
 * Never throws; a path that cannot be read, YAML that does not parse, a document that is not an
 * object and a set over STATE_LIMITS are errors.
 */
export function loadStateDir(path: string, limits: ReadLimits = STATE_LIMITS): StateDir {
  const r = readPaths([path], 'strict', limits);
  return {
    objects: r.items.map((i) => i.object),
    located: r.items,
    errors: r.errors.map(showInputError),
    problems: r.errors,
    files: r.files,
  };
}

/**
 * The state folder's objects handed to `visit` one file at a time, none of them kept: `serve
 * --state` holds only their compact records, and reading every whole object first made the heap
 * of a 100,000-object folder peak at about 200 MB, which the process kept as resident memory.
 * The same problems as loadStateDir; `objects` counts what was visited.
 */
export function visitStateDir(
  path: string,
  visit: (o: KubeObject) => void,
  limits: ReadLimits = STATE_LIMITS,
): Omit<StateDir, 'objects' | 'located'> & { readonly objects: number } {
  let objects = 0;
  const each: EachFile = (items) => {
    for (const i of items) visit(i.object);
    objects += items.length;
  };
  const r = readPaths([path], 'strict', limits, each);
  return { objects, errors: r.errors.map(showInputError), problems: r.errors, files: r.files };
}
