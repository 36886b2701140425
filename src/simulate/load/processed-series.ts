import { latencySummary, MICROS, newHistogram, percentileMs, type Histogram } from './recorder.js';
import type { LatencySummary, ProcessedSecond } from './result.js';

/**
 * The asynchronous work a load left (events published, jobs enqueued), second by second
 * of the run: how many were processed in each and their end-to-end p99, and the backlog at
 * the end of each. One for `--publish` and for a load that enqueues jobs alike.
 */
export class ProcessedSeries {
  readonly #seconds: { processed: number; backlog: number; histogram: Histogram }[] = [];
  readonly #endToEnd = newHistogram();

  /** One item processed during `second` of the run, `ms` after it was published or enqueued. */
  processed(second: number, ms: number): void {
    const micros = Math.max(1, Math.round(ms * MICROS));
    const entry = this.#at(second);
    this.#endToEnd.recordValue(micros);
    entry.histogram.recordValue(micros);
    entry.processed += 1;
  }

  /** The backlog seen during `second`: the last one seen in a second stays. */
  backlog(second: number, count: number): void {
    this.#at(second).backlog = count;
  }

  get count(): number {
    return this.#endToEnd.totalCount;
  }

  endToEnd(): LatencySummary {
    return latencySummary(this.#endToEnd);
  }

  series(): ProcessedSecond[] {
    return this.#seconds.map(({ processed, backlog, histogram }, second) => ({
      second,
      processed,
      backlog,
      p99: percentileMs(histogram, 99),
    }));
  }

  #at(second: number) {
    const index = Math.max(0, Math.floor(second));
    while (this.#seconds.length <= index) this.#seconds.push({ processed: 0, backlog: 0, histogram: newHistogram() });
    return this.#seconds[index]!;
  }
}
