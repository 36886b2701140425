import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
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
  /** Milliseconds, from each request's send time. */
  latency: LatencySummary;
  statusCodes: Record<string, number>;
  /** Failures without an answer, by kind (timeout, ECONNREFUSED, ECONNRESET…). */
  errorsByKind: Record<string, number>;
  /** Open model: requests the schedule called for that the generator never sent. */
  dropped?: number;
}

/** One second of the run, for charts and recovery measurements. */
export interface SecondSample {
  second: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

export interface LoadResult {
  kind: 'load';
  target: string;
  startedAt: string;
  durationMs: number;
  config: Record<string, unknown>;
  summary: LoadSummary;
  series: SecondSample[];
  slos: SloVerdict[];
  passed: boolean;
}

export const RESULTS_DIR = '.scaffold/results';

/** Saves a result as JSON under the project's results folder; returns the file. */
export async function saveResult(projectDir: string, result: LoadResult): Promise<string> {
  const dir = path.join(projectDir, RESULTS_DIR);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${result.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}-${result.kind}.json`);
  const temp = `${file}.tmp`;
  await writeFile(temp, `${JSON.stringify(result, null, 2)}\n`);
  await rename(temp, file);
  return file;
}
