import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it } from 'vitest';
import { startTraceReceiver, type TraceReceiver } from '../../src/runtime/traces/receiver.js';
import { readSpans, SpanStore } from '../../src/runtime/traces/store.js';
import { listTraces, traceOf } from '../../src/runtime/traces/query.js';
import type { StoredSpan } from '../../src/runtime/traces/span.js';
import { tempDir } from '../support/cli.js';

const PROTO_DIR = path.resolve('src/runtime/traces/proto');

/** An export as OTLP/JSON writes it: hex ids, nanoseconds as strings, kind as a number. */
function exportRequest(traceId: string, spans: { spanId: string; parent?: string; name: string; kind: number; startNs: bigint; ms: number; status?: number; code?: number }[], service = 'users') {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }, { key: 'service.instance.id', value: { stringValue: `${service}-1` } }] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: spans.map((span) => ({
              traceId,
              spanId: span.spanId,
              ...(span.parent ? { parentSpanId: span.parent } : {}),
              name: span.name,
              kind: span.kind,
              startTimeUnixNano: String(span.startNs),
              endTimeUnixNano: String(span.startNs + BigInt(span.ms * 1e6)),
              attributes: [
                { key: 'http.route', value: { stringValue: span.name } },
                ...(span.status ? [{ key: 'http.response.status_code', value: { intValue: span.status } }] : []),
              ],
              status: { code: span.code ?? 0 },
            })),
          },
        ],
      },
    ],
  };
}

/** The same export in protobuf, encoded here with protobufjs from the OTLP .proto files. */
function protobufOf(request: ReturnType<typeof exportRequest>): Buffer {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
  const type = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  const bytes = (hex: string) => Buffer.from(hex, 'hex');
  const message = {
    resourceSpans: request.resourceSpans.map((rs) => ({
      ...rs,
      scopeSpans: rs.scopeSpans.map((ss) => ({
        ...ss,
        spans: ss.spans.map((span) => ({ ...span, traceId: bytes(span.traceId), spanId: bytes(span.spanId), parentSpanId: span.parentSpanId ? bytes(span.parentSpanId) : undefined })),
      })),
    })),
  };
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

const id = (bytes: number) => randomBytes(bytes).toString('hex');

describe('the trace receiver', () => {
  let receiver: TraceReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('keeps spans sent as OTLP JSON, gzipped JSON and protobuf, the same way', async () => {
    const dir = tempDir();
    receiver = await startTraceReceiver(dir);
    const start = 1_796_566_704_000_000_000n;
    const traces = [id(16), id(16), id(16)];
    const root = id(8);
    const child = id(8);
    const request = (traceId: string) =>
      exportRequest(traceId, [
        { spanId: root, name: 'GET /orders/:id', kind: 2, startNs: start, ms: 12.5, status: 200 },
        { spanId: child, parent: root, name: 'GET', kind: 3, startNs: start + 2_000_000n, ms: 8, status: 503, code: 2 },
      ]);
    const post = (body: Buffer | string, headers: Record<string, string>) => fetch(`${receiver!.endpoint}/v1/traces`, { method: 'POST', headers, body });
    expect((await post(JSON.stringify(request(traces[0]!)), { 'content-type': 'application/json' })).status).toBe(200);
    expect((await post(gzipSync(JSON.stringify(request(traces[1]!))), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(200);
    const answer = await post(protobufOf(request(traces[2]!)), { 'content-type': 'application/x-protobuf' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/x-protobuf');
    await receiver.close();
    receiver = undefined;

    const spans = readSpans(dir);
    expect(spans).toHaveLength(6);
    for (const traceId of traces) {
      const [server, client] = spans.filter((span) => span.traceId === traceId);
      expect(server).toEqual<StoredSpan>({
        traceId,
        spanId: root,
        name: 'GET /orders/:id',
        kind: 'server',
        service: 'users',
        instance: 'users-1',
        startMs: 1_796_566_704_000,
        durationMs: 12.5,
        error: false,
        attributes: { 'http.route': 'GET /orders/:id', 'http.response.status_code': 200 },
      });
      expect(client).toMatchObject({ parentSpanId: root, kind: 'client', startMs: 1_796_566_704_002, durationMs: 8, error: true });
    }
    expect(listTraces(spans, { errors: true }).map((trace) => trace.traceId).sort()).toEqual([...traces].sort());
    expect(traceOf(spans, traces[2]!)!.rows.map((row) => [row.depth, row.offsetMs, row.span.name])).toEqual([
      [0, 0, 'GET /orders/:id'],
      [1, 2, 'GET'],
    ]);
  });

  it('refuses what is not a trace export, keeping nothing', async () => {
    const dir = tempDir();
    receiver = await startTraceReceiver(dir);
    const post = (body: string, type: string, url = '/v1/traces') => fetch(`${receiver!.endpoint}${url}`, { method: 'POST', headers: { 'content-type': type }, body }).then((r) => r.status);
    expect(await post('{', 'application/json')).toBe(400);
    expect(await post('{"resourceSpans": 3}', 'application/json')).toBe(400);
    expect(await post(JSON.stringify(exportRequest('xyz', [{ spanId: id(8), name: 'x', kind: 2, startNs: 1n, ms: 1 }])), 'application/json')).toBe(400);
    expect(await post('\u0008\u0001garbage', 'application/x-protobuf')).toBe(400);
    expect(await post('{}', 'text/plain')).toBe(415);
    expect(await post('{}', 'application/json', '/v1/metrics')).toBe(404);
    await receiver.close();
    receiver = undefined;
    expect(readSpans(dir)).toEqual([]);
  });

  it('keeps the store bounded: the newest spans, at most two files of the limit', () => {
    const dir = tempDir();
    const store = new SpanStore(dir, 10_000);
    const traceId = id(16);
    for (let i = 0; i < 500; i += 1) {
      store.append([{ traceId, spanId: id(8), name: `span ${i}`, kind: 'server', service: 'users', startMs: i, durationMs: 1, error: false, attributes: {} }]);
    }
    return store.close().then(() => {
      const bytes = readdirSync(dir).reduce((sum, name) => sum + statSync(path.join(dir, name)).size, 0);
      expect(bytes).toBeLessThanOrEqual(20_000);
      const kept = readSpans(dir).map((span) => span.name);
      expect(kept.at(-1)).toBe('span 499');
      expect(kept.length).toBeGreaterThan(20);
      expect(kept.length).toBeLessThan(500);
    });
  });
});
