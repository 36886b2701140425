import autocannon from 'autocannon';
import hdr from 'hdr-histogram-js';
import type { PreparedRequest } from './scenario.js';
import type { LatencySummary, LoadSummary, PercentilePoint, PhaseSummary, SecondSample } from './result.js';

/** A stretch of the run whose target (a rate, or connections) ramps linearly to `target`. */
export interface Stage {
  durationMs: number;
  target: number;
}

export interface LoadOptions {
  url: URL;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  /** One of duration, amount or stages bounds the run. */
  durationMs?: number;
  amount?: number;
  timeoutMs: number;
  /** Requests per second for the whole run (open model); absent: as fast as answers come. */
  rate?: number;
  /** Ramps of the arrival rate (open model), or of connections with `model: 'closed'`. */
  stages?: Stage[];
  model?: 'open' | 'closed';
  /** Names the phase a moment of the run belongs to (ms since the start): requests are
   * summed per phase too, e.g. before / during / after a fault. */
  phaseOf?: (elapsedMs: number) => string;
  /** The `performance.now()` the run's clock (phases, seconds) counts from; default: its
   * start. A caller that times its own moments (a fault's start) passes its own origin, so
   * that both are read on one clock. */
  origin?: number;
  /** Each request drawn from here instead of method/url path/headers/body. */
  nextRequest?: () => PreparedRequest;
  onSecond?: (sample: SecondSample) => void;
  signal?: AbortSignal;
}

export interface LoadRun {
  startedAt: string;
  durationMs: number;
  summary: LoadSummary;
  series: SecondSample[];
  distribution: PercentilePoint[];
  phases: Record<string, PhaseSummary>;
}

const DISTRIBUTION_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100];

/** Latencies are recorded in microseconds: milliseconds with three decimals. */
const MICROS = 1000;
/** Stages advance in steps this long, each at the ramp's value for its middle. */
const STEP_MS = 1000;

/**
 * autocannon does the sending; this adds what it lacks: per-second samples, stages (run as
 * consecutive one-second autocannon steps feeding one recorder) and, in the open model,
 * latency corrected for coordinated omission — a stalled server delays the requests that
 * should have been sent meanwhile, and HdrHistogram back-fills them as wrk2 does — plus a
 * count of requests the schedule called for but never left.
 */
export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const recorder = new Recorder(options.onSecond, options.phaseOf, options.origin);
  const startedAt = new Date();
  const segments = options.stages ? stageSteps(options) : [{ durationMs: options.durationMs, amount: options.amount, rate: options.rate, connections: options.connections }];
  for (const segment of segments) {
    if (options.signal?.aborted) break;
    if (segment.connections === 0 || segment.rate === 0) {
      await sleep(segment.durationMs ?? 0, options.signal);
      continue;
    }
    await runSegment(recorder, { ...options, ...segment }, options.signal);
  }
  return { startedAt: startedAt.toISOString(), ...recorder.finish() };
}

interface Segment {
  durationMs?: number;
  amount?: number;
  rate?: number;
  connections: number;
}

function stageSteps(options: LoadOptions): Segment[] {
  const closed = options.model === 'closed';
  const steps: Segment[] = [];
  let from = 0;
  for (const stage of options.stages!) {
    const count = Math.max(1, Math.round(stage.durationMs / STEP_MS));
    for (let step = 0; step < count; step += 1) {
      const value = from + ((stage.target - from) * (step + 0.5)) / count;
      steps.push(
        closed
          ? { durationMs: stage.durationMs / count, connections: Math.round(value) }
          : { durationMs: stage.durationMs / count, rate: Math.round(value), connections: Math.max(1, Math.min(options.connections, Math.round(value))) },
      );
    }
    from = stage.target;
  }
  return steps;
}

async function runSegment(recorder: Recorder, options: LoadOptions & Segment, signal?: AbortSignal): Promise<void> {
  // per connection, the gap between two intended sends
  const expectedIntervalUs = options.rate ? Math.round((options.connections / options.rate) * 1e6) : undefined;
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
      requests: options.nextRequest && [{ setupRequest: (request: object) => ({ ...request, ...options.nextRequest!() }) }],
      setupClient: dropUnansweredOnReconnect,
    }).filter(([, value]) => value !== undefined),
  ) as unknown as autocannon.Options;

  const sentBefore = recorder.requests;
  const started = performance.now();
  let finished!: (error: Error | null) => void;
  const done = new Promise<void>((resolve, reject) => (finished = (error) => (error ? reject(error) : resolve())));
  const instance = autocannon(settings, (error) => finished(error));
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => recorder.answer(status, ms, expectedIntervalUs));
  const due = options.rate ? new Schedule(options.rate, options.connections) : undefined;
  instance.on('reqError', (error: Error & { code?: string }) => {
    const kind = error.message === 'request timed out' ? 'timeout' : (error.code ?? error.message);
    // a timeout is a request that was sent; a connection that failed may have carried none
    if (kind !== 'timeout' && due && !due.take()) return;
    recorder.fail(kind);
  });
  const abort = () => instance.stop();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    await done;
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  if (options.rate && options.amount === undefined) {
    const scheduled = Math.floor((options.rate * (performance.now() - started)) / 1000);
    recorder.dropped += Math.max(0, scheduled - (recorder.requests - sentBefore));
  }
}

/**
 * In the open model, the requests due: autocannon opens a new connection at once when one
 * fails, whether or not a request is due, so a target that refuses or resets connections (a
 * partition, a port nobody listens on) read thousands of failed requests a second under a
 * load of 100 req/s. A failed connection counts as a failed request only while one is due:
 * a token bucket at the run's rate, holding one per connection (as many as can be in flight).
 */
class Schedule {
  readonly #rate: number;
  readonly #capacity: number;
  #tokens: number;
  #at = performance.now();

  constructor(rate: number, capacity: number) {
    this.#rate = rate;
    this.#capacity = capacity;
    this.#tokens = capacity;
  }

  /** Whether a request is due, which this takes. */
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#at) * this.#rate) / 1000);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** The part of autocannon's (9.x) Client that `dropUnansweredOnReconnect` reaches into. */
interface AutocannonClient {
  _connect?: () => void;
  pipelinedRequests?: { clear(): void };
}

/**
 * autocannon keeps a connection's unanswered requests queued when it opens the next one, so
 * once a server closes a connection — after a `connection: close` answer, as injected
 * errors, a 503 with no instance and a draining instance give — each later response is
 * timed from an older request, and latency grows without bound (10 connections answered
 * at 8 000 req/s read a p50 of 266 ms). What a closed connection held died with it (a
 * reset is counted as an error on its own): each new connection starts with an empty queue.
 */
function dropUnansweredOnReconnect(client: AutocannonClient): void {
  const connect = client._connect;
  const queue = client.pipelinedRequests;
  if (!connect || !queue) throw new Error('autocannon changed its Client: see dropUnansweredOnReconnect in src/simulate/load/engine.ts');
  client._connect = function (this: AutocannonClient) {
    this.pipelinedRequests!.clear();
    connect.call(this);
  };
}

/** Everything measured, across the segments of one run. */
class Recorder {
  requests = 0;
  errors = 0;
  dropped = 0;
  readonly #start: number;
  readonly #histogram = newHistogram();
  readonly #seconds: { requests: number; errors: number; histogram: hdr.Histogram }[] = [];
  readonly #statusCodes: Record<string, number> = {};
  readonly #errorsByKind: Record<string, number> = {};
  readonly #onSecond?: (sample: SecondSample) => void;
  readonly #phaseOf?: (elapsedMs: number) => string;
  readonly #phases = new Map<string, Phase>();

  constructor(onSecond?: (sample: SecondSample) => void, phaseOf?: (elapsedMs: number) => string, origin = performance.now()) {
    this.#start = origin;
    this.#onSecond = onSecond;
    this.#phaseOf = phaseOf;
  }

  answer(status: number, ms: number, expectedIntervalUs?: number): void {
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
    if (expectedIntervalUs) this.#histogram.recordValueWithExpectedInterval(micros, expectedIntervalUs);
    else this.#histogram.recordValue(micros);
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

  finish(): Omit<LoadRun, 'startedAt'> {
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
          : DISTRIBUTION_PERCENTILES.map((percentile) => ({ percentile, ms: this.#histogram.getValueAtPercentile(percentile) / MICROS })),
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
      this.#seconds.push({ requests: 0, errors: 0, histogram: newHistogram() });
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
    const at = (percentile: number) => (this.histogram.totalCount === 0 ? 0 : this.histogram.getValueAtPercentile(percentile) / MICROS);
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

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
