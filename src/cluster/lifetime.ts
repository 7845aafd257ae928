/**
 * The clock and timers of a running view. Once it ends, nothing more is scheduled, so stop() is final
 * whatever is still in flight (a discovery, a list, a gather) when it is called. Tests pass one whose
 * time they move by hand.
 */
export type Lifetime = {
  /** milliseconds since the epoch */
  readonly now: () => number;
  /** runs fn after ms, unless the view has ended by then; the timer keeps no process alive */
  readonly later: (fn: () => void, ms: number) => NodeJS.Timeout | undefined;
  readonly cancel: (t: NodeJS.Timeout | undefined) => void;
  readonly ended: () => boolean;
  readonly end: () => void;
};

export function lifetime(now: () => number = Date.now): Lifetime {
  const timers = new Set<NodeJS.Timeout>();
  let ended = false;
  return {
    now,
    later: (fn, ms) => {
      if (ended) return undefined;
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      t.unref();
      timers.add(t);
      return t;
    },
    cancel: (t) => {
      if (t) {
        clearTimeout(t);
        timers.delete(t);
      }
    },
    ended: () => ended,
    end: () => {
      ended = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
