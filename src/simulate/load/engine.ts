import autocannon from 'autocannon';
import hdr from 'hdr-histogram-js';
import type { LatencySummary, LoadSummary, SecondSample } from './result.js';

export interface LoadOptions {
  url: URL;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  /** One of duration or amount bounds the run; both may. */
  durationMs?: number;
  amount?: number;
  timeoutMs: number;
  /** Requests per second for the whole run (open model); absent: as fast as answers come. */
  rate?: number;
  onSecond?: (sample: SecondSample) => void;
  signal?: AbortSignal;
}

export interface LoadRun {
  startedAt: string;
  durationMs: number;
  summary: LoadSummary;
  series: SecondSample[];
  /** Open model only: requests the schedule called for that the generator never sent. */
  dropped: number;
}

/** Latencies are recorded in microseconds: milliseconds with three decimals. */
const MICROS = 1000;

/**
 * autocannon does the sending; this adds what it lacks: per-second samples and, in the
 * open model, latency corrected for coordinated omission (a stalled server delays the
 * requests that should have been sent meanwhile; HdrHistogram back-fills them, as wrk2
 * does), plus a count of requests the schedule called for but never left.
 */
export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const histogram = newHistogram();
  const seconds: { requests: number; errors: number; histogram: hdr.Histogram }[] = [];
  const statusCodes: Record<string, number> = {};
  const errorsByKind: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  // per connection, the gap between two intended sends
  const expectedIntervalUs = options.rate ? Math.round((options.connections / options.rate) * 1e6) : undefined;

  const startedAt = new Date();
  const start = performance.now();
  const bucket = () => {
    const index = Math.floor((performance.now() - start) / 1000);
    while (seconds.length <= index) {
      if (seconds.length > 0) options.onSecond?.(sample(seconds.length - 1, seconds.at(-1)!));
      seconds.push({ requests: 0, errors: 0, histogram: newHistogram() });
    }
    return seconds[index]!;
  };

  let finished!: (error: Error | null) => void;
  const done = new Promise<void>((resolve, reject) => (finished = (error) => (error ? reject(error) : resolve())));
  // autocannon validates keys that are present, even when undefined
  const settings = Object.fromEntries(
    Object.entries({
      url: options.url.href,
      method: options.method ?? 'GET',
      headers: options.headers,
      body: options.body,
      connections: options.connections,
      duration: options.durationMs !== undefined ? options.durationMs / 1000 : undefined,
      amount: options.amount,
      timeout: options.timeoutMs / 1000,
      overallRate: options.rate,
    }).filter(([, value]) => value !== undefined),
  ) as unknown as autocannon.Options;
  const instance = autocannon(settings, (error) => finished(error));

  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
    const second = bucket();
    requests += 1;
    second.requests += 1;
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    if (statusCode >= 400) {
      errors += 1;
      second.errors += 1;
    }
    const micros = Math.max(1, Math.round(responseTimeMs * MICROS));
    if (expectedIntervalUs) histogram.recordValueWithExpectedInterval(micros, expectedIntervalUs);
    else histogram.recordValue(micros);
    second.histogram.recordValue(micros);
  });
  instance.on('reqError', (error: Error & { code?: string }) => {
    const second = bucket();
    requests += 1;
    errors += 1;
    second.requests += 1;
    second.errors += 1;
    const kind = error.message === 'request timed out' ? 'timeout' : (error.code ?? error.message);
    errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1;
  });

  const abort = () => instance.stop();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    await done;
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }

  const durationMs = performance.now() - start;
  if (seconds.length > 0) options.onSecond?.(sample(seconds.length - 1, seconds.at(-1)!));
  const scheduled = options.rate ? Math.floor((options.rate * durationMs) / 1000) : 0;
  return {
    startedAt: startedAt.toISOString(),
    durationMs,
    summary: {
      requests,
      ok: requests - errors,
      errors,
      rps: requests / (durationMs / 1000),
      latency: latencySummary(histogram),
      statusCodes,
      errorsByKind,
    },
    series: seconds.map((second, index) => sample(index, second)),
    dropped: options.amount === undefined ? Math.max(0, scheduled - requests) : 0,
  };
}

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

function latencySummary(histogram: hdr.Histogram): LatencySummary {
  const ms = (value: number) => Math.round((value / MICROS) * 1000) / 1000;
  const at = (percentile: number) => (histogram.totalCount === 0 ? 0 : ms(histogram.getValueAtPercentile(percentile)));
  return {
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: histogram.totalCount === 0 ? 0 : ms(histogram.maxValue),
    mean: histogram.totalCount === 0 ? 0 : ms(histogram.mean),
  };
}

function sample(index: number, second: { requests: number; errors: number; histogram: hdr.Histogram }): SecondSample {
  const empty = second.histogram.totalCount === 0;
  return {
    second: index,
    requests: second.requests,
    errors: second.errors,
    p50: empty ? 0 : second.histogram.getValueAtPercentile(50) / MICROS,
    p99: empty ? 0 : second.histogram.getValueAtPercentile(99) / MICROS,
  };
}
