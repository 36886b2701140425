import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runPaths } from '../../runtime/process/paths.js';
import { failed, groupByTrace, summarize, traceOf } from '../../runtime/traces/query.js';
import type { StoredSpan } from '../../runtime/traces/span.js';
import { readSpans } from '../../runtime/traces/store.js';

/** One span of a report's waterfall. */
export interface RunTraceRow {
  depth: number;
  offsetMs: number;
  durationMs: number;
  service: string;
  name: string;
  kind: string;
  failed: boolean;
}

export interface RunTrace {
  traceId: string;
  durationMs: number;
  requestId?: string;
  rows: RunTraceRow[];
}

/** Who called whom during the run, from the spans: a client span and the server span under it. */
export interface ServiceCall {
  from: string;
  to: string;
  calls: number;
  /** Calls answered with a 5xx or failed. */
  errors: number;
}

/** What a load's report shows of the traces its requests left. */
export interface RunTraces {
  /** The slowest traces of each phase (of the whole run when it had none). */
  phases: { name: string; slowest: RunTrace[] }[];
  services: string[];
  calls: ServiceCall[];
}

/** The load generator, as the caller of the system's entry point on the service map. */
export const LOAD_NODE = 'load';
const SLOWEST_PER_PHASE = 3;
/** The services export every second: their last batches are in after this. */
const LAST_BATCHES_MS = 1500;

/**
 * The traces a run left in the process runtime's span store (none on another runtime, or
 * with tracing sent elsewhere): the traces whose root started during the run.
 */
export async function collectRunTraces(projectDir: string, run: { startedAt: string; durationMs: number; phaseOf?: (elapsedMs: number) => string }): Promise<RunTraces | undefined> {
  const dir = runPaths(projectDir).traces;
  if (!existsSync(dir)) return undefined;
  await sleep(LAST_BATCHES_MS);
  const start = Date.parse(run.startedAt);
  return runTraces(readSpans(dir), start, start + run.durationMs, run.phaseOf);
}

export function runTraces(spans: readonly StoredSpan[], startMs: number, endMs: number, phaseOf?: (elapsedMs: number) => string): RunTraces | undefined {
  const inRun: StoredSpan[][] = [];
  for (const trace of groupByTrace(spans).values()) {
    const started = Date.parse(summarize(trace).startedAt);
    if (started >= startMs && started <= endMs) inRun.push(trace);
  }
  if (inRun.length === 0) return undefined;

  const byPhase = new Map<string, { durationMs: number; spans: StoredSpan[] }[]>();
  for (const trace of inRun) {
    const summary = summarize(trace);
    const phase = phaseOf?.(Date.parse(summary.startedAt) - startMs) ?? 'the run';
    const list = byPhase.get(phase) ?? [];
    list.push({ durationMs: summary.durationMs, spans: trace });
    byPhase.set(phase, list);
  }
  const phases = [...byPhase].map(([name, traces]) => ({
    name,
    slowest: traces
      .sort((a, b) => b.durationMs - a.durationMs)
      .slice(0, SLOWEST_PER_PHASE)
      .map(({ spans: trace }) => runTrace(trace)),
  }));

  const calls = new Map<string, ServiceCall>();
  const services = new Set<string>([LOAD_NODE]);
  for (const trace of inRun) {
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    for (const span of trace) {
      if (span.kind !== 'server') continue;
      const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
      // a server span without a caller in the trace was called from outside: by the load
      const from = parent?.kind === 'client' ? parent.service : parent === undefined ? LOAD_NODE : undefined;
      if (from === undefined) continue;
      services.add(span.service);
      const key = `${from}\u0000${span.service}`;
      const call = calls.get(key) ?? { from, to: span.service, calls: 0, errors: 0 };
      call.calls += 1;
      if (failed(span)) call.errors += 1;
      calls.set(key, call);
    }
  }
  return { phases, services: [...services], calls: [...calls.values()] };
}

function runTrace(spans: readonly StoredSpan[]): RunTrace {
  const trace = traceOf(spans, spans[0]!.traceId)!;
  return {
    traceId: trace.summary.traceId,
    durationMs: trace.summary.durationMs,
    ...(trace.summary.requestId === undefined ? {} : { requestId: trace.summary.requestId }),
    rows: trace.rows.map(({ span, depth, offsetMs }) => ({
      depth,
      offsetMs: Math.round(offsetMs * 1000) / 1000,
      durationMs: span.durationMs,
      service: span.service,
      name: span.name,
      kind: span.kind,
      failed: failed(span),
    })),
  };
}
