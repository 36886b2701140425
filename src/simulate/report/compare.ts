import type { LoadResult } from '../load/result.js';

export interface Delta {
  metric: string;
  before: number;
  after: number;
  /** (after − before) / before; null when before is 0. */
  change: number | null;
  /** Whether the change is for the better, with its direction taken into account. */
  better: boolean;
}

const METRICS: { metric: string; read: (result: LoadResult) => number; higherIsBetter: boolean }[] = [
  { metric: 'rps', read: (r) => r.summary.rps, higherIsBetter: true },
  { metric: 'p50 ms', read: (r) => r.summary.latency.p50, higherIsBetter: false },
  { metric: 'p90 ms', read: (r) => r.summary.latency.p90, higherIsBetter: false },
  { metric: 'p99 ms', read: (r) => r.summary.latency.p99, higherIsBetter: false },
  { metric: 'p99.9 ms', read: (r) => r.summary.latency.p999, higherIsBetter: false },
  { metric: 'max ms', read: (r) => r.summary.latency.max, higherIsBetter: false },
  { metric: 'error rate', read: (r) => (r.summary.requests === 0 ? 0 : r.summary.errors / r.summary.requests), higherIsBetter: false },
];

/** How `after` differs from `before`, metric by metric. */
export function compareResults(before: LoadResult, after: LoadResult): Delta[] {
  return METRICS.map(({ metric, read, higherIsBetter }) => {
    const a = read(before);
    const b = read(after);
    return { metric, before: a, after: b, change: a === 0 ? null : (b - a) / a, better: higherIsBetter ? b >= a : b <= a };
  });
}
