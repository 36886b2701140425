import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { SPAN_KINDS, type StoredSpan } from './span.js';

/**
 * OTLP/HTTP trace exports, decoded: JSON (OTLP's own mapping: hex ids, enums as numbers) and
 * protobuf, which many exporters send by default. Both arrive at the same message shape;
 * spans() flattens it.
 */

const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));
let exportRequest: protobuf.Type | undefined;

/** The protobuf message type, loaded from the vendored .proto files on first use. */
function exportRequestType(): protobuf.Type {
  if (!exportRequest) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
    root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
    exportRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  }
  return exportRequest;
}

export type OtlpEncoding = 'json' | 'protobuf';

/** Thrown for a body that is not an export request; the receiver answers 400. */
export class OtlpDecodeError extends Error {}

export function decodeExport(body: Buffer, encoding: OtlpEncoding): StoredSpan[] {
  let message: unknown;
  try {
    if (encoding === 'json') {
      message = JSON.parse(body.toString('utf8'));
    } else {
      const type = exportRequestType();
      // longs as decimal strings: nanosecond times do not fit a double
      message = type.toObject(type.decode(body), { longs: String, enums: Number });
    }
  } catch (error) {
    throw new OtlpDecodeError(`not an OTLP ${encoding} trace export: ${(error as Error).message}`);
  }
  return spans(message as ExportRequest);
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string | Uint8Array;
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
type Id = string | Uint8Array | undefined;
interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: {
      spans?: {
        traceId?: Id;
        spanId?: Id;
        parentSpanId?: Id;
        name?: string;
        kind?: number;
        startTimeUnixNano?: string | number;
        endTimeUnixNano?: string | number;
        attributes?: KeyValue[];
        status?: { code?: number };
      }[];
    }[];
  }[];
}

/** ids are hex in OTLP/JSON, bytes in protobuf */
const hex = (id: Id): string => (id === undefined ? '' : typeof id === 'string' ? id.toLowerCase() : Buffer.from(id).toString('hex'));

function plain(value: AnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plain);
  if (value.kvlistValue) return attributes(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return hex(value.bytesValue);
  return undefined;
}

/** Attribute names are data: a Map-like plain object without a prototype. */
function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = Object.create(null);
  for (const { key, value } of list ?? []) result[key] = plain(value);
  return result;
}

/** Epoch ms from nanoseconds given as a decimal string or number. */
function millis(nanos: string | number | undefined): number {
  if (nanos === undefined) return 0;
  const whole = typeof nanos === 'string' ? BigInt(nanos) : BigInt(Math.round(nanos));
  return Number(whole / 1000n) / 1000;
}

function spans(message: ExportRequest): StoredSpan[] {
  if (typeof message !== 'object' || message === null || (message.resourceSpans !== undefined && !Array.isArray(message.resourceSpans))) {
    throw new OtlpDecodeError('not an OTLP trace export: no resourceSpans list');
  }
  const result: StoredSpan[] = [];
  for (const resourceSpans of message.resourceSpans ?? []) {
    const resource = attributes(resourceSpans.resource?.attributes);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown';
    const instance = typeof resource['service.instance.id'] === 'string' ? resource['service.instance.id'] : undefined;
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        const traceId = hex(span.traceId);
        const spanId = hex(span.spanId);
        if (!/^[0-9a-f]{32}$/.test(traceId) || !/^[0-9a-f]{16}$/.test(spanId)) throw new OtlpDecodeError('a span without a valid trace or span id');
        const parentSpanId = hex(span.parentSpanId);
        const startMs = millis(span.startTimeUnixNano);
        result.push({
          traceId,
          spanId,
          ...(parentSpanId ? { parentSpanId } : {}),
          name: span.name ?? '',
          kind: SPAN_KINDS[span.kind ?? 0] ?? 'unspecified',
          service,
          ...(instance === undefined ? {} : { instance }),
          startMs,
          durationMs: Math.max(0, millis(span.endTimeUnixNano) - startMs),
          error: span.status?.code === 2,
          attributes: attributes(span.attributes),
        });
      }
    }
  }
  return result;
}
