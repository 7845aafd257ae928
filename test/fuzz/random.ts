/**
 * A small seeded PRNG (mulberry32) and the draws the fuzzer needs. Every case gets its own stream,
 * derived from the run's seed and the case's index, so one case replays alone and concurrency
 * cannot change what is generated.
 */

export type Rng = {
  /** uniform in [0, 1) */
  readonly next: () => number;
  /** integer in [0, n) */
  readonly int: (n: number) => number;
  /** integer in [lo, hi], spread evenly over orders of magnitude */
  readonly logInt: (lo: number, hi: number) => number;
  readonly chance: (p: number) => boolean;
  readonly pick: <T>(items: readonly T[]) => T;
};

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes the run seed with a case index (splitmix32-style), so neighbouring cases get unrelated streams. */
export function caseSeed(seed: number, index: number): number {
  let z = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export function rng(seed: number): Rng {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    logInt: (lo, hi) => Math.min(hi, Math.floor(Math.exp(Math.log(lo) + next() * (Math.log(hi + 1) - Math.log(lo))))),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(items.length)]!;
    },
  };
}

/** A seed from the command line or environment: decimal or 0x-hex, 32 bits. */
export function parseSeed(text: string): number {
  const n = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text.slice(2), 16) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff)
    throw new Error(`seed must be an integer 0..4294967295 (decimal or 0x hex), got "${text}"`);
  return n;
}

export const freshSeed = (): number => (Math.floor(Math.random() * 0x100000000) ^ Date.now()) >>> 0;
