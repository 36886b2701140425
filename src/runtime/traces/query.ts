import type { StoredSpan } from './span.js';

/** One trace in a list: what its root did, how long it took, where it went. */
export interface TraceSummary {
  traceId: string;
  /** The root span's service and name (the earliest span whose parent is not in the trace). */
  service: string;
  name: string;
  startedAt: string;
  durationMs: number;
  spans: number;
  services: string[];
  /** Spans that failed: status ERROR, or a server answer of 5xx. */
  errors: number;
  /** The x-request-id of its first server span. */
  requestId?: string;
}

export interface TraceFilter {
  /** Only traces with a span of this service. */
  service?: string;
  /** Only traces with a failed span. */
  errors?: boolean;
  /** Only traces whose root started in [since, until] (epoch ms). */
  since?: number;
  until?: number;
  /** Only the trace(s) of this x-request-id. */
  requestId?: string;
  /** Longest first, instead of newest first. */
  slowest?: boolean;
  limit?: number;
}

/** A span in a waterfall: its depth under the root and where it starts, from the trace's start. */
export interface WaterfallRow {
  span: StoredSpan;
  depth: number;
  offsetMs: number;
}

export interface Trace {
  summary: TraceSummary;
  rows: WaterfallRow[];
}

export function groupByTrace(spans: readonly StoredSpan[]): Map<string, StoredSpan[]> {
  const traces = new Map<string, StoredSpan[]>();
  for (const span of spans) {
    const list = traces.get(span.traceId);
    if (list) list.push(span);
    else traces.set(span.traceId, [span]);
  }
  return traces;
}

/** A span failed when its answer was a 5xx, or, without an HTTP status, when its status is
 * ERROR (a client span of a 404 is marked ERROR by the instrumentation, but nothing failed). */
export function failed(span: StoredSpan): boolean {
  const status = span.attributes['http.response.status_code'];
  return typeof status === 'number' ? status >= 500 : span.error;
}

function requestIdOf(span: StoredSpan): string | undefined {
  const value = span.attributes['http.request.header.x-request-id'];
  const id = Array.isArray(value) ? value[0] : value;
  return typeof id === 'string' ? id : undefined;
}

function rootsOf(spans: readonly StoredSpan[]): StoredSpan[] {
  const ids = new Set(spans.map((span) => span.spanId));
  return spans.filter((span) => span.parentSpanId === undefined || !ids.has(span.parentSpanId)).sort((a, b) => a.startMs - b.startMs);
}

export function summarize(spans: readonly StoredSpan[]): TraceSummary {
  const root = rootsOf(spans)[0] ?? spans[0]!;
  const start = Math.min(...spans.map((span) => span.startMs));
  const end = Math.max(...spans.map((span) => span.startMs + span.durationMs));
  const firstServer = spans.filter((span) => span.kind === 'server').sort((a, b) => a.startMs - b.startMs)[0];
  const requestId = firstServer && requestIdOf(firstServer);
  return {
    traceId: root.traceId,
    service: root.service,
    name: root.name,
    startedAt: new Date(start).toISOString(),
    durationMs: Math.round((end - start) * 1000) / 1000,
    spans: spans.length,
    // in the order the request reached them
    services: [...new Set([...spans].sort((a, b) => a.startMs - b.startMs).map((span) => span.service))],
    errors: spans.filter(failed).length,
    ...(requestId === undefined ? {} : { requestId }),
  };
}

export function listTraces(spans: readonly StoredSpan[], filter: TraceFilter = {}): TraceSummary[] {
  const chosen: TraceSummary[] = [];
  for (const trace of groupByTrace(spans).values()) {
    if (filter.service !== undefined && !trace.some((span) => span.service === filter.service)) continue;
    if (filter.errors && !trace.some(failed)) continue;
    if (filter.requestId !== undefined && !trace.some((span) => requestIdOf(span) === filter.requestId)) continue;
    const summary = summarize(trace);
    const started = Date.parse(summary.startedAt);
    if (filter.since !== undefined && started < filter.since) continue;
    if (filter.until !== undefined && started > filter.until) continue;
    chosen.push(summary);
  }
  chosen.sort(filter.slowest ? (a, b) => b.durationMs - a.durationMs : (a, b) => b.startedAt.localeCompare(a.startedAt));
  return filter.limit === undefined ? chosen : chosen.slice(0, filter.limit);
}

/** The trace as a tree, depth first, children in start order: what a waterfall draws. */
export function traceOf(spans: readonly StoredSpan[], traceId: string): Trace | undefined {
  const trace = spans.filter((span) => span.traceId === traceId);
  if (trace.length === 0) return undefined;
  const start = Math.min(...trace.map((span) => span.startMs));
  const children = new Map<string, StoredSpan[]>();
  for (const span of trace) {
    if (span.parentSpanId === undefined) continue;
    const list = children.get(span.parentSpanId);
    if (list) list.push(span);
    else children.set(span.parentSpanId, [span]);
  }
  const rows: WaterfallRow[] = [];
  const visit = (span: StoredSpan, depth: number) => {
    rows.push({ span, depth, offsetMs: span.startMs - start });
    for (const child of (children.get(span.spanId) ?? []).sort((a, b) => a.startMs - b.startMs)) visit(child, depth + 1);
  };
  for (const root of rootsOf(trace)) visit(root, 0);
  return { summary: summarize(trace), rows };
}
