import type { ArrivalProcess } from './arrivals.js';
import { Recorder, type Measured } from './recorder.js';
import type { PreparedRequest } from './scenario.js';
import type { JobsTarget } from './job-watch.js';
import type { PublishTarget } from './publish-model.js';
import type { EventsMeasured, JobsMeasured, SecondSample } from './result.js';

/** The open model's pool cap unless told: enough for a stall of a few seconds at a few
 * hundred req/s, far below open-file limits. */
export const DEFAULT_MAX_CONNECTIONS = 1000;

/** The most connections a run may hold, in either model: below the open-file limits a
 * machine is usually given, where more would fail as EMFILE halfway through a run. */
export const MAX_CONNECTIONS = 10_000;

/** The highest arrival rate a run may ask for: ten times what one process sends here
 * (bench/load-engine.mjs). Past it the schedule, which sends or drops every request in
 * turn, would fall behind the clock and the run outlast its duration many times over
 * (`--rate 1e9 -d 2s` ran on for minutes dropping requests). */
export const MAX_RATE = 1_000_000;

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
  /** Closed model: the connections, each sending its next request once answered. Open
   * model: the connections opened before the first request (k6's preAllocatedVUs). */
  connections: number;
  /** Open model: the cap of the connection pool, which grows as requests need it (k6's
   * maxVUs; default 1000). */
  maxConnections?: number;
  /** One of duration, amount or stages bounds the run. */
  durationMs?: number;
  amount?: number;
  timeoutMs: number;
  /** Requests per second for the whole run (open model); absent: as fast as answers come. */
  rate?: number;
  /** Ramps of the arrival rate (open model), or of connections with `model: 'closed'`. */
  stages?: Stage[];
  model?: 'open' | 'closed';
  /** Open model: evenly spaced arrivals (default), or a Poisson process at the same rate. */
  arrival?: ArrivalProcess;
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
  /** Publish events to a topic instead of sending requests (always the open model). */
  publish?: PublishTarget;
  /** The system's job queues: the jobs the requests enqueue are measured end to end. */
  jobs?: JobsTarget;
}

export interface LoadRun extends Measured {
  startedAt: string;
  events?: EventsMeasured;
  jobs?: JobsMeasured;
}

/** One run of either model, measured the same way: per second, per phase, as a whole. */
export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const recorder = new Recorder(options.onSecond, options.phaseOf, options.origin);
  if (options.publish) {
    const events = await (await import('./publish-model.js')).runPublishModel(recorder, options, options.publish);
    return { startedAt: new Date(performance.timeOrigin + recorder.start).toISOString(), ...recorder.finish(), events };
  }
  const open = options.model === 'open' || (options.model === undefined && (options.rate !== undefined || options.stages !== undefined));
  // each model's client loaded only when used: the CLI starts (and hears Ctrl+C) sooner
  const run = open ? (await import('./open-model.js')).runOpenModel : (await import('./closed-model.js')).runClosedModel;
  const jobs = options.jobs ? await (await import('./job-watch.js')).watchJobs(options.jobs) : undefined;
  try {
    await run(recorder, options);
  } catch (error) {
    await jobs?.finish(recorder.start, 0);
    throw error;
  }
  const measured = recorder.finish();
  // then the jobs the requests left, for as long as a request may take
  const jobsMeasured = await jobs?.finish(recorder.start, options.timeoutMs, options.signal);
  // second 0 of the series (in the open model, once its connections were open)
  const startedAt = new Date(performance.timeOrigin + recorder.start);
  return { startedAt: startedAt.toISOString(), ...measured, ...(jobsMeasured ? { jobs: jobsMeasured } : {}) };
}
