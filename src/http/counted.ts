/**
 * A counter and a histogram for the hot path, registered in a prom-client Registry and printed by
 * it like its own. prom-client hashes the label values on every increment, even through a child
 * from `labels()`; here a label set is resolved once into a handle that adds to plain numbers, and
 * the figures are read only when scraped.
 */
import type { Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

/** What the registry reads of a metric: prom-client's own metrics have the same shape. */
type Exported = {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly values: readonly {
    readonly labels: Readonly<Record<string, string | number>>;
    readonly sharedLabels?: Labels;
    readonly value: number;
    readonly metricName?: string;
  }[];
  readonly aggregator: 'sum';
};

type Definition = { readonly name: string; readonly help: string; readonly labelNames: readonly string[] };

const labelsOf = (names: readonly string[], values: readonly string[]): Labels =>
  Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));

/** One handle per label set, made on first use; the label values a caller passes are few and fixed. */
function memo<H>(make: (values: readonly string[]) => H): (...values: string[]) => H {
  const handles = new Map<string, H>();
  return (...values) => {
    const key = values.join('\0');
    let h = handles.get(key);
    if (h === undefined) handles.set(key, (h = make(values)));
    return h;
  };
}

export type CountedHandle = { readonly inc: () => void };

export function countedCounter(registry: Registry, d: Definition): { readonly labels: (...values: string[]) => CountedHandle } {
  const sets: { labels: Labels; value: number }[] = [];
  registry.registerMetric({
    name: d.name,
    type: 'counter',
    get: (): Exported => ({
      name: d.name,
      help: d.help,
      type: 'counter',
      values: sets.map((s) => ({ labels: s.labels, value: s.value })),
      aggregator: 'sum',
    }),
  } as never);
  return {
    labels: memo((values) => {
      const set = { labels: labelsOf(d.labelNames, values), value: 0 };
      sets.push(set);
      return {
        inc: () => {
          set.value++;
        },
      };
    }),
  };
}

export type TimedHandle = { readonly observe: (value: number) => void };

export function countedHistogram(
  registry: Registry,
  d: Definition & { readonly buckets: readonly number[] },
): { readonly labels: (...values: string[]) => TimedHandle } {
  const bounds = [...d.buckets].sort((a, b) => a - b);
  const sets: { labels: Labels; counts: number[]; sum: number; count: number }[] = [];
  registry.registerMetric({
    name: d.name,
    type: 'histogram',
    get: (): Exported => ({
      name: d.name,
      help: d.help,
      type: 'histogram',
      values: sets.flatMap((s): Exported['values'] => {
        let below = 0;
        return [
          ...bounds.map((le, i) => {
            below += s.counts[i]!;
            return { labels: { le }, sharedLabels: s.labels, value: below, metricName: `${d.name}_bucket` };
          }),
          { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${d.name}_bucket` },
          { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${d.name}_sum` },
          { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${d.name}_count` },
        ];
      }),
      aggregator: 'sum',
    }),
  } as never);
  return {
    labels: memo((values) => {
      const set = { labels: labelsOf(d.labelNames, values), counts: bounds.map(() => 0), sum: 0, count: 0 };
      sets.push(set);
      return {
        observe: (value) => {
          if (!Number.isFinite(value)) return;
          let i = 0;
          while (i < bounds.length && value > bounds[i]!) i++;
          if (i < bounds.length) set.counts[i]!++;
          set.sum += value;
          set.count++;
        },
      };
    }),
  };
}
