/**
 * Cluster objects from files, for `serve --state` and `check --state`: a folder (walked
 * recursively) or one file of YAML or JSON documents, read strictly by the shared manifest reader,
 * so both commands see the same objects in the same order and fail on the same problems.
 */
import type { KubeObject } from '../admission/types.ts';
import { readPaths, showInputError, type InputError, type InputItem } from './manifest-files.ts';

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

/** Never throws; a path that cannot be read, YAML that does not parse and a document that is not an object are errors. */
export function loadStateDir(path: string): StateDir {
  const r = readPaths([path], 'strict');
  return {
    objects: r.items.map((i) => i.object),
    located: r.items,
    errors: r.errors.map(showInputError),
    problems: r.errors,
    files: r.files,
  };
}
