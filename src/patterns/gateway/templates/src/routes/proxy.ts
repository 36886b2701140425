import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import rateLimit from '@fastify/rate-limit';
import { propagation } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Pool, type Dispatcher } from 'undici';
import type { Route } from '../config.js';
import { UpstreamError } from '../platform/http-client.js';
import { ROUTE_HEADER } from '../platform/metrics.js';
import { REQUEST_ID_HEADER } from '../platform/request-id.js';

export interface ProxyOptions {
  routes: Route[];
  timeoutMs: number;
  /** Per client IP; 0 turns rate limiting off. */
  rateLimitPerSecond: number;
}

/** Headers about one connection, not the request: never passed on (RFC 9110 §7.6.1). The
 * host is the upstream's, which undici sets; undici refuses `expect`. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
]);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/** A response up to this size is read whole and sent in one write, as nginx buffers it;
 * a larger one, or one of unknown length (a stream), is passed on as it arrives. */
const BUFFER_LIMIT = 64 * 1024;
/** A GET answered 503 (an upstream with no instance ready, say) is tried again, after
 * 0–42 ms times the attempt: a quick restart shows as latency rather than as errors. */
const RETRIES_ON_503 = 10;
/** A GET whose connection failed (refused, reset, closed: a replica that just died) is
 * tried again on a new connection, as nginx's proxy_next_upstream does; a timeout is not,
 * since a slow upstream would only be asked twice. */
const RETRIES_ON_CONNECTION_ERROR = 3;
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * One proxy per route: /users/items → <USERS_URL>/items, with the request id passed on and
 * failures answered as 502 (unreachable) or 504 (too slow) by the common error handler.
 *
 * undici's Pool keeps connections to each upstream open, and the handler does no more
 * than a proxy must: at the bench, a generic proxy plugin cost twice the CPU per request.
 */
export async function proxyRoutes(app: FastifyInstance, options: ProxyOptions): Promise<void> {
  if (options.rateLimitPerSecond > 0) {
    // In memory, per replica: N gateway replicas allow N times the rate. Behind a proxy that
    // sets X-Forwarded-For, enable Fastify's trustProxy, or every client shares one IP.
    await app.register(rateLimit, { max: options.rateLimitPerSecond, timeWindow: 1000 });
  }

  // Request bodies go upstream as they arrive, unparsed (this plugin's routes only).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  // While tracing is on, its instrumentation writes the trace headers (traceparent,
  // tracestate) from this request's own span: a copy of the client's beside them would make
  // two traceparents, and the next service would start a new trace. Off, the propagator has
  // no fields and the client's headers pass through untouched.
  const notCopied = new Set([...HOP_BY_HOP, ...propagation.fields()]);

  for (const { prefix, upstream } of options.routes) {
    // A response slower than the timeout (headers, or a pause mid-body) ends in a 504. undici
    // checks these deadlines on a coarse clock to stay cheap: expect up to ~1 s more.
    const pool = new Pool(upstream.url, { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
    app.addHook('onClose', () => pool.close());

    const failed = (error: unknown) =>
      TIMEOUTS.has((error as { code?: string }).code ?? '')
        ? new UpstreamError(upstream.name, 504, `upstream ${upstream.name} did not answer within ${options.timeoutMs} ms`, { cause: error })
        : new UpstreamError(upstream.name, 502, `upstream ${upstream.name} is unreachable`, { cause: error });

    const proxy = async (request: FastifyRequest, reply: FastifyReply) => {
      // /users/items?x=1 → /items?x=1; /users → /
      const rest = request.url.slice(prefix.length);
      const path = rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
      const headers: Record<string, string | string[]> = {};
      for (const name in request.headers) {
        const value = request.headers[name];
        if (value !== undefined && !notCopied.has(name)) headers[name] = value;
      }
      headers[REQUEST_ID_HEADER] = request.id;
      const body = request.body as Dispatcher.RequestOptions['body'];

      let answer: Answer;
      try {
        const retryable = request.method === 'GET' && body === undefined;
        for (let attempt = 1; ; attempt += 1) {
          try {
            answer = await forward(pool, { method: request.method as Dispatcher.HttpMethod, path, headers, body });
          } catch (error) {
            if (!retryable || attempt > RETRIES_ON_CONNECTION_ERROR || !CONNECTION_ERRORS.has((error as { code?: string }).code ?? '')) throw error;
            await sleep(42 * Math.random() * attempt);
            continue;
          }
          if (answer.statusCode !== 503 || !retryable || attempt > RETRIES_ON_503) break;
          if (answer.body instanceof Readable) answer.body.destroy();
          await sleep(42 * Math.random() * attempt);
        }
      } catch (error) {
        throw failed(error);
      }

      reply.code(answer.statusCode);
      for (const name in answer.headers) {
        const value = answer.headers[name];
        if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value);
      }
      const route = upstreamRoute(prefix, answer.headers[ROUTE_HEADER]);
      if (route !== undefined) {
        // counted under the route behind the prefix, and said so to a gateway in front
        request.metricsRoute = route;
        reply.header(ROUTE_HEADER, route);
      }
      return reply.send(answer.body);
    };
    app.all(prefix, proxy);
    app.all(`${prefix}/*`, proxy);
  }
}

/** The upstream's route pattern under this prefix (/orders + /items/:id), when it said
 * one: a pattern, so the metrics keep one series per route, not per URL. A value that is
 * not one (no leading "/", too long) is left out. */
function upstreamRoute(prefix: string, header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string' || !header.startsWith('/') || header.length > 200) return undefined;
  return header === '/' ? prefix : `${prefix}${header}`;
}

/** An upstream's answer: a body read whole, or a stream of it (see forward). */
interface Answer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer | Readable;
}

/**
 * One request upstream through undici's dispatcher. A body of known length up to
 * BUFFER_LIMIT comes back whole, so the client gets it in one write, as nginx buffers it;
 * any other comes back as a stream as soon as the headers are in, with backpressure (a slow
 * client pauses the upstream). At the bench, `pool.request()` and its body stream cost the
 * gateway 7–19% more CPU per request than this.
 */
function forward(pool: Pool, options: Dispatcher.DispatchOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let head: Omit<Answer, 'body'> | undefined;
    let stream: Readable | undefined;
    const chunks: Buffer[] = [];
    let ended = false;
    pool.dispatch(options, {
      // undici tells its handler APIs apart by this method; without it, it wants the old one
      onRequestStart() {},
      onResponseStart(controller, statusCode, headers) {
        if (statusCode < 200) return; // informational (103 Early Hints): the answer follows
        head = { statusCode, headers };
        const length = headers['content-length'];
        if (length !== undefined && Number(length) <= BUFFER_LIMIT) return;
        stream = new Readable({
          read: () => controller.resume(),
          // the client went away, or a retry dropped the answer: stop the upstream too
          destroy: (error, callback) => {
            if (!ended) controller.abort(error ?? new Error('the answer was dropped'));
            callback(error);
          },
        });
        resolve({ ...head, body: stream });
      },
      onResponseData(controller, chunk) {
        if (!stream) chunks.push(chunk);
        else if (!stream.push(chunk)) controller.pause();
      },
      onResponseEnd() {
        ended = true;
        if (stream) stream.push(null);
        else resolve({ ...head!, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
      },
      onResponseError(_controller, error) {
        ended = true;
        if (stream) stream.destroy(error);
        else reject(error);
      },
    });
  });
}
