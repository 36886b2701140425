import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { OtlpDecodeError, decodeExport, type OtlpEncoding } from './otlp.js';
import { SpanStore } from './store.js';

const gunzipped = promisify(gunzip);
/** A batch bigger than this is refused (413): the SDKs send a few MB at most. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface TraceReceiver {
  /** What OTEL_EXPORTER_OTLP_ENDPOINT is set to: the exporters append /v1/traces. */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * An OTLP/HTTP trace receiver (POST /v1/traces, JSON or protobuf, gzip or not), keeping what
 * it receives in the project's span store for `scaffold traces`, logs and reports. On
 * loopback unless told another local address (compose's containers reach it on Docker's
 * bridge), on a free port unless given one.
 */
export async function startTraceReceiver(dir: string, listen: { host?: string; port?: number } = {}): Promise<TraceReceiver> {
  const host = listen.host ?? '127.0.0.1';
  const store = new SpanStore(dir);
  const server = createServer((request, response) => {
    const encoding = encodingOf(request);
    const reply = (status: number, message?: string) => {
      // OTLP answers an ExportTraceServiceResponse; its empty form is an empty body in protobuf
      const json = encoding !== 'protobuf';
      response.writeHead(status, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      response.end(json ? JSON.stringify(message === undefined ? {} : { message }) : undefined);
    };
    if (request.method !== 'POST' || request.url?.split('?')[0] !== '/v1/traces') return void reply(404, 'only POST /v1/traces is served here');
    if (encoding === undefined) return void reply(415, 'content-type must be application/json or application/x-protobuf');
    readBody(request).then(
      async (raw) => {
        const body = request.headers['content-encoding'] === 'gzip' ? await gunzipped(raw) : raw;
        store.append(decodeExport(body, encoding));
        reply(200);
      },
      (error: Error) => reply(error instanceof BodyTooLarge ? 413 : 400, error.message),
    ).catch((error: Error) => reply(error instanceof OtlpDecodeError ? 400 : 500, error.message));
  });
  // exporters keep their connection open between batches
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, host, resolve);
  });
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await store.close();
    },
  };
}

function encodingOf(request: IncomingMessage): OtlpEncoding | undefined {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  return undefined;
}

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.destroy();
        reject(new BodyTooLarge(`an export larger than ${MAX_BODY_BYTES} bytes`));
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
