/** What a span becomes once received: flat, one JSON line in the store. */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  /** Absent on a trace's root. */
  parentSpanId?: string;
  name: string;
  kind: SpanKind;
  /** The resource's service.name and service.instance.id. */
  service: string;
  instance?: string;
  /** Epoch milliseconds (fractional). */
  startMs: number;
  durationMs: number;
  /** The span's status is ERROR. */
  error: boolean;
  attributes: Record<string, unknown>;
}

export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];
