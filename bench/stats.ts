/** Small numeric and formatting helpers shared by the benchmark parts. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of a sorted array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** A growable list of latencies in milliseconds. */
export class Samples {
  #data = new Float64Array(1 << 14);
  #size = 0;

  push(value: number): void {
    if (this.#size === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#size++] = value;
  }

  get size(): number {
    return this.#size;
  }

  sorted(): Float64Array {
    return this.#data.slice(0, this.#size).sort();
  }
}

const group = (n: number): string => Math.round(n).toLocaleString('en-US');

export const fmt = {
  int: (n: number): string => (Number.isFinite(n) ? group(n) : '—'),
  ms: (n: number): string => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '—'),
  ratio: (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(0)}%` : '—'),
  times: (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : '—'),
  mb: (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / (1024 * 1024)).toFixed(0)}` : '—'),
  pct: (n: number): string => (Number.isFinite(n) ? `${n.toFixed(0)}%` : '—'),
};

/** A GitHub-flavoured markdown table; the columns in `right` (figures) are right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string {
  const align = headers.map((_, i) => (right.has(i) ? '---:' : '---'));
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(align), ...rows.map(line)].join('\n');
}

/** The column indexes first..count-1: the figures of a table whose first columns name the row. */
export const numericFrom = (first: number, count: number): Set<number> =>
  new Set(Array.from({ length: count - first }, (_, i) => i + first));
