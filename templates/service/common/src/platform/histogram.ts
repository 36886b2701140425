import type { Metric, Registry } from 'prom-client';

/**
 * A Prometheus histogram whose series are fixed label sets, each observed through the
 * function `series()` returns: bucket counts kept as plain numbers and written out by
 * prom-client's registry when Prometheus scrapes. prom-client's own Histogram hashes the
 * label set on every observation, even through a labelled child — the largest of the
 * metrics' costs per request at the bench (see BENCHMARKS.md); the text it serves is the
 * same (`_bucket` with `le`, `_sum`, `_count`).
 */
export class SeriesHistogram<Label extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series: Series<Label>[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending; +Inf is implied. */
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    // the registry reads any object with name, help, type and get(); its types list only
    // its own classes
    registry.registerMetric(this as unknown as Metric);
  }

  /** What records one observation of this label set. */
  series(labels: Record<Label, string>): (value: number) => void {
    const series: Series<Label> = { labels, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
    this.#series.push(series);
    const { buckets } = this;
    return (value) => {
      let bucket = 0;
      while (bucket < buckets.length && value > buckets[bucket]!) bucket += 1;
      series.counts[bucket]! += 1;
      series.sum += value;
      series.count += 1;
    };
  }

  /** For prom-client's registry: the values to write out, buckets cumulative. */
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const { labels, counts, sum, count } of this.#series) {
      let cumulative = 0;
      for (const [index, bound] of [...this.buckets, '+Inf' as const].entries()) {
        cumulative += counts[index]!;
        values.push({ labels: { ...labels, le: bound }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const series of this.#series) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

interface Series<Label extends string> {
  labels: Record<Label, string>;
  /** Observations per bucket (not cumulative); the last is above every bound. */
  counts: number[];
  sum: number;
  count: number;
}
