import hdr from 'hdr-histogram-js';
import type { LatencySummary, LoadSummary, PercentilePoint, PhaseSummary, SecondSample } from './result.js';

export interface Measured {
  durationMs: number;
  summary: LoadSummary;
  series: SecondSample[];
  distribution: PercentilePoint[];
  phases: Record<string, PhaseSummary>;
}

const DISTRIBUTION_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100];

/** Latencies are recorded in microseconds: milliseconds with three decimals. */
export const MICROS = 1000;

/** Everything measured, across the segments of one run, by the second and by phase. */
export class Recorder {
  requests = 0;
  errors = 0;
  dropped = 0;
  /** performance.now() when the run's clock began: seconds and phases count from here. */
  #start: number;
  /** Set by the caller: the start stays where it was put. */
  readonly #fixed: boolean;
  readonly #histogram = newHistogram();
  readonly #seconds: Second[] = [];
  readonly #statusCodes: Record<string, number> = {};
  readonly #errorsByKind: Record<string, number> = {};
  readonly #onSecond?: (sample: SecondSample) => void;
  readonly #phaseOf?: (elapsedMs: number) => string;
  readonly #phases = new Map<string, Phase>();

  constructor(onSecond?: (sample: SecondSample) => void, phaseOf?: (elapsedMs: number) => string, origin?: number) {
    this.#start = origin ?? performance.now();
    this.#fixed = origin !== undefined;
    this.#onSecond = onSecond;
    this.#phaseOf = phaseOf;
  }

  get start(): number {
    return this.#start;
  }

  /** Moves the start to now, before anything was measured (after a warm-up), unless the
   * caller set it. */
  restart(): void {
    if (!this.#fixed) this.#start = performance.now();
  }

  /** An answer, `ms` after its request was due (open model) or sent (closed). */
  answer(status: number, ms: number): void {
    const second = this.#second();
    const phase = this.#phase();
    this.requests += 1;
    second.requests += 1;
    this.#statusCodes[status] = (this.#statusCodes[status] ?? 0) + 1;
    if (status >= 400) {
      this.errors += 1;
      second.errors += 1;
    }
    const micros = Math.max(1, Math.round(ms * MICROS));
    if (phase) {
      phase.requests += 1;
      phase.histogram.recordValue(micros);
      if (status >= 400) phase.failed(String(status), this.#elapsed());
      else phase.lastOkAtMs = Math.round(this.#elapsed());
    }
    this.#histogram.recordValue(micros);
    second.histogram.recordValue(micros);
  }

  fail(kind: string): void {
    const second = this.#second();
    const phase = this.#phase();
    if (phase) {
      phase.requests += 1;
      phase.failed(kind, this.#elapsed());
    }
    this.requests += 1;
    this.errors += 1;
    second.requests += 1;
    second.errors += 1;
    this.#errorsByKind[kind] = (this.#errorsByKind[kind] ?? 0) + 1;
  }

  /** A request due while every connection was busy and the pool at its cap: never sent. */
  drop(): void {
    this.dropped += 1;
    this.#second().dropped += 1;
  }

  finish(): Measured {
    const durationMs = performance.now() - this.#start;
    if (this.#seconds.length > 0) this.#onSecond?.(sample(this.#seconds.length - 1, this.#seconds.at(-1)!));
    return {
      durationMs,
      summary: {
        requests: this.requests,
        ok: this.requests - this.errors,
        errors: this.errors,
        rps: this.requests / (durationMs / 1000),
        latency: latencySummary(this.#histogram),
        statusCodes: this.#statusCodes,
        errorsByKind: this.#errorsByKind,
        dropped: this.dropped,
      },
      series: this.#seconds.map((second, index) => sample(index, second)),
      phases: Object.fromEntries([...this.#phases].map(([name, phase]) => [name, phase.summary()])),
      distribution:
        this.#histogram.totalCount === 0
          ? []
          : DISTRIBUTION_PERCENTILES.map((percentile) => ({ percentile, ms: percentileMs(this.#histogram, percentile) })),
    };
  }

  #elapsed(): number {
    return performance.now() - this.#start;
  }

  #phase(): Phase | undefined {
    if (!this.#phaseOf) return undefined;
    const name = this.#phaseOf(this.#elapsed());
    let phase = this.#phases.get(name);
    if (!phase) this.#phases.set(name, (phase = new Phase()));
    return phase;
  }

  #second() {
    const index = Math.floor((performance.now() - this.#start) / 1000);
    while (this.#seconds.length <= index) {
      if (this.#seconds.length > 0) this.#onSecond?.(sample(this.#seconds.length - 1, this.#seconds.at(-1)!));
      this.#seconds.push({ requests: 0, errors: 0, dropped: 0, histogram: newHistogram() });
    }
    return this.#seconds[index]!;
  }
}

class Phase {
  requests = 0;
  errors = 0;
  firstErrorAtMs: number | null = null;
  lastErrorAtMs: number | null = null;
  lastOkAtMs: number | null = null;
  readonly histogram = newHistogram();
  readonly errorsByKind: Record<string, number> = {};

  failed(kind: string, atMs: number): void {
    this.errors += 1;
    this.errorsByKind[kind] = (this.errorsByKind[kind] ?? 0) + 1;
    this.firstErrorAtMs ??= Math.round(atMs);
    this.lastErrorAtMs = Math.round(atMs);
  }

  summary(): PhaseSummary {
    const at = (percentile: number) => percentileMs(this.histogram, percentile);
    return {
      requests: this.requests,
      errors: this.errors,
      availability: this.requests === 0 ? 1 : (this.requests - this.errors) / this.requests,
      p50: at(50),
      p99: at(99),
      errorsByKind: this.errorsByKind,
      firstErrorAtMs: this.firstErrorAtMs,
      lastErrorAtMs: this.lastErrorAtMs,
      lastOkAtMs: this.lastOkAtMs,
    };
  }
}

export type Histogram = hdr.Histogram;

export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

/**
 * A percentile of a histogram of microseconds, in milliseconds (0 when empty). HdrHistogram
 * answers with an end of the value's bucket, which can lie beyond every value recorded (a
 * p99.9 of 41.919 ms beside a max of 41.902, a p0 of 41.888), so it is held to the range
 * recorded: no percentile reads above the max, and no SLO fails on a latency nothing took.
 */
export function percentileMs(histogram: hdr.Histogram, percentile: number): number {
  return histogram.totalCount === 0 ? 0 : withinRecorded(histogram, histogram.getValueAtPercentile(percentile)) / MICROS;
}

function withinRecorded(histogram: hdr.Histogram, micros: number): number {
  return Math.min(Math.max(micros, histogram.minNonZeroValue), histogram.maxValue);
}

/** A histogram of microseconds, in milliseconds. */
export function latencySummary(histogram: hdr.Histogram): LatencySummary {
  // whole microseconds (the histogram's values are), in milliseconds
  const ms = (micros: number) => Math.round(micros) / MICROS;
  const at = (percentile: number) => percentileMs(histogram, percentile);
  return {
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: histogram.totalCount === 0 ? 0 : ms(histogram.maxValue),
    // bucket middles: held to the range recorded as well
    mean: histogram.totalCount === 0 ? 0 : ms(withinRecorded(histogram, histogram.mean)),
  };
}

interface Second {
  requests: number;
  errors: number;
  dropped: number;
  histogram: hdr.Histogram;
}

function sample(index: number, second: Second): SecondSample {
  return {
    second: index,
    requests: second.requests,
    errors: second.errors,
    dropped: second.dropped,
    p50: percentileMs(second.histogram, 50),
    p99: percentileMs(second.histogram, 99),
  };
}
