/** A Lifetime whose time moves only when the test says, so waits of minutes take none. */
import type { Lifetime } from '../../src/cluster/lifetime.ts';

export type ManualClock = Lifetime & {
  /** moves time forward by `ms`, firing each timer that falls due in order and letting what it started settle */
  readonly advance: (ms: number) => Promise<void>;
  /** lets pending promise callbacks run without moving time */
  readonly settle: () => Promise<void>;
};

type Timer = { readonly at: number; readonly fn: () => void; readonly id: NodeJS.Timeout };

export function manualClock(start = 1_000_000): ManualClock {
  let now = start;
  let ended = false;
  let timers: Timer[] = [];
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  return {
    now: () => now,
    later: (fn, ms) => {
      if (ended) return undefined;
      // a real handle that never fires: only its identity is used, to cancel
      const id = setTimeout(() => {}, 0);
      clearTimeout(id);
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    cancel: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
    ended: () => ended,
    end: () => {
      ended = true;
      timers = [];
    },
    settle,
    advance: async (ms) => {
      const until = now + ms;
      await settle();
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
        await settle();
      }
      now = until;
    },
  };
}
