/**
 * Following files that a Kubernetes Secret mount changes in place. The kubelet updates a mounted
 * Secret by swapping a symlink in its directory, which fs.watch on the directory sees; a slow poll
 * covers filesystems where watching is unreliable.
 */
import { watch, type FSWatcher } from 'node:fs';

/**
 * Calls `read` after every change in `dir` (once the burst of a rotation is over) and every
 * `pollMs`, and `onChange` with what it read when that differs, by `same`, from what it read last.
 * A failed read (a half-written file) goes to `onError` and what was known stays. Returns the stop.
 */
export function followDirectory<T>(
  dir: string,
  current: T,
  read: () => Promise<T>,
  same: (a: T, b: T) => boolean,
  onChange: (next: T) => void,
  onError: (e: Error) => void,
  pollMs = 10_000,
): () => void {
  let known = current;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    try {
      const next = await read();
      if (same(next, known)) return;
      known = next;
      onChange(next);
    } catch (e) {
      onError(e as Error);
    }
  };
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void check(), 200); // the files of a rotation arrive one by one
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, soon);
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  const poll = setInterval(() => void check(), pollMs);
  poll.unref();
  return () => {
    clearTimeout(timer);
    clearInterval(poll);
    watcher?.close();
  };
}
