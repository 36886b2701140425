import path from 'node:path';
import { writeFileAtomic } from '../../atomic-write.js';
import { RESULTS_DIR } from '../../scaffold-dir.js';
import type { RunTraces } from './run-traces.js';
import type { SloVerdict } from './slo.js';

export interface LatencySummary {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LoadSummary {
  /** Requests that got an answer or failed: what left the generator. */
  requests: number;
  /** 2xx and 3xx answers. */
  ok: number;
  /** Everything else: other statuses, connection errors and timeouts. */
  errors: number;
  rps: number;
  /** Milliseconds: in the open model from each request's intended send time (free of
   * coordinated omission), in the closed model from its send time. */
  latency: LatencySummary;
  statusCodes: Record<string, number>;
  /** Failures without an answer, by kind (timeout, ECONNREFUSED, ECONNRESET…). */
  errorsByKind: Record<string, number>;
  /** Open model: requests due while every connection was busy and the pool at its cap
   * (--max-connections), so never sent (k6's dropped_iterations); 0 in the closed model. */
  dropped?: number;
}

/** One second of the run, for charts and recovery measurements. */
export interface SecondSample {
  second: number;
  requests: number;
  errors: number;
  /** Open model: requests due this second that were never sent (absent in older results). */
  dropped?: number;
  p50: number;
  p99: number;
}

/** One phase of a run (e.g. before, during and after a fault). */
export interface PhaseSummary {
  requests: number;
  errors: number;
  /** Share of requests answered without error. */
  availability: number;
  p50: number;
  p99: number;
  errorsByKind: Record<string, number>;
  /** ms since the start of the run of its first failure, or null. */
  firstErrorAtMs: number | null;
  /** ms since the start of the run of its last failure, or null. */
  lastErrorAtMs: number | null;
  /** ms since the start of the run of its last answer without error, or null. */
  lastOkAtMs: number | null;
}

/** The latency distribution: `ms` is the latency at `percentile`. */
export interface PercentilePoint {
  percentile: number;
  ms: number;
}

/** One second of a load's asynchronous work: events processed by every group (a
 * `--publish` load), or jobs a load enqueued that finished; their end-to-end p99, and the
 * backlog at the end of the second. */
export interface ProcessedSecond {
  second: number;
  processed: number;
  backlog: number;
  p99: number;
}

/** A publish load's events end to end: published (due) → acknowledged by every group. */
export interface EventsMeasured {
  topic: string;
  groups: string[];
  processed: number;
  /** Stored but not processed when the run ended. */
  unprocessed: number;
  endToEnd: LatencySummary;
  series: ProcessedSecond[];
}

/** The jobs a load enqueued (POST /orders), end to end: enqueued → finished, by BullMQ's
 * own timestamps on the job (`timestamp` → `finishedOn`), read from the queue's Redis. */
export interface JobsMeasured {
  queues: string[];
  /** Finished (done) after the run began, having been enqueued after it began. */
  processed: number;
  /** Failed for good (their last attempt failed). */
  failed: number;
  /** Enqueued during the run and still waiting, running or retrying when it ended. */
  unprocessed: number;
  endToEnd: LatencySummary;
  /** Each second: jobs finished in it, their p99, and the queues' backlog (waiting,
   * running and retrying) at its end. */
  series: ProcessedSecond[];
}

export interface LoadResult {
  kind: 'load';
  target: string;
  /** The wall-clock start of the series' second 0: second i is [startedAt + i s, + 1 s),
   * each request counted in the second it ended in (answered or failed). */
  startedAt: string;
  durationMs: number;
  config: Record<string, unknown>;
  summary: LoadSummary;
  series: SecondSample[];
  distribution: PercentilePoint[];
  /** Only when the run was split into phases. */
  phases?: Record<string, PhaseSummary>;
  slos: SloVerdict[];
  passed: boolean;
  /** The traces the run's requests left (the process runtime's receiver), when there are any. */
  traces?: RunTraces;
  /** A publish load (`--publish`): the events end to end. */
  events?: EventsMeasured;
  /** A load that enqueued jobs on the running system's queues: the jobs end to end. */
  jobs?: JobsMeasured;
}


/** Saves a result as JSON under the project's results folder; returns the file. */
export async function saveResult(projectDir: string, result: LoadResult): Promise<string> {
  const name = `${result.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}-${result.kind}.json`;
  const file = path.join(projectDir, RESULTS_DIR, name);
  await writeFileAtomic(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
