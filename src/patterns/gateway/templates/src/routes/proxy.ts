import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import rateLimit from '@fastify/rate-limit';
import { propagation } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Pool, type Dispatcher } from 'undici';
import type { Route } from '../config.js';
import { UpstreamError } from '../platform/http-client.js';
import { ROUTE_HEADER } from '../platform/metrics.js';
import { FAILED_UPSTREAM_HEADER, TIMEOUT_HEADER, UpstreamFailure, timeoutHeader, type AnswerKind, type FailureReason } from '../platform/resilience.js';
import { REQUEST_ID_HEADER } from '../platform/request-id.js';
import { LOCATION_HEADERS, locationThroughGateway } from './location.js';

export interface ProxyOptions {
  routes: Route[];
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
/** How the route's policies read an answer, and drop one they retry. */
const ANSWERS: AnswerKind<Answer> = {
  status: (answer) => answer.statusCode,
  passedOn: (answer) => answer.headers[FAILED_UPSTREAM_HEADER] !== undefined,
  discard: (answer) => {
    if (answer.body instanceof Readable) answer.body.destroy();
  },
};
/** A proxy's usual statuses for a failed upstream: 502 no answer, 504 too slow; 503 when
 * the route's breaker or bulkhead refused the call. */
const STATUS_OF: Record<FailureReason, 502 | 503 | 504> = { unreachable: 502, timeout: 504, 'circuit-open': 503, 'bulkhead-full': 503 };

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
  // no fields and the client's headers pass through untouched. The time the client waits
  // goes on as this route's own (a try's, see resilience.ts).
  const notCopied = new Set([...HOP_BY_HOP, ...propagation.fields(), TIMEOUT_HEADER]);

  for (const { prefix, upstream } of options.routes) {
    // Each try ends at the route's deadline (see resilience.ts); the pool's own timeouts
    // are only a backstop for a body that stalls after the call has returned.
    const { timeoutMs } = upstream.policy;
    const pool = new Pool(upstream.url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const upstreamOrigin = new URL(upstream.url).origin;
    app.addHook('onClose', () => pool.close());
    const policy = app.upstreams.policy(upstream.name);

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
        const options = { method: request.method as Dispatcher.HttpMethod, path, headers, body };
        answer = await policy.call(
          request.method,
          ANSWERS,
          (signal, deadline) => {
            headers[TIMEOUT_HEADER] = timeoutHeader(deadline);
            return forward(pool, options, signal);
          },
          { replayable: body === undefined, callerDeadline: request.deadline },
        );
      } catch (error) {
        if (!(error instanceof UpstreamFailure)) throw error;
        throw new UpstreamError(upstream.name, STATUS_OF[error.reason], error.message, { cause: error, reason: error.reason });
      }

      reply.code(answer.statusCode);
      for (const name in answer.headers) {
        const value = answer.headers[name];
        if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value);
      }
      for (const name of LOCATION_HEADERS) {
        const value = answer.headers[name];
        if (typeof value === 'string') reply.header(name, locationThroughGateway(value, prefix, upstreamOrigin));
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
function forward(pool: Pool, options: Dispatcher.DispatchOptions, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let head: Omit<Answer, 'body'> | undefined;
    let stream: Readable | undefined;
    const chunks: Buffer[] = [];
    let ended = false;
    pool.dispatch(options, {
      // undici tells its handler APIs apart by this method; without it, it wants the old one.
      // The deadline (or a try's) aborts the request upstream until the answer is in.
      onRequestStart(controller) {
        const abort = () => {
          if (!head) controller.abort(signal.reason);
        };
        if (signal.aborted) abort();
        else signal.addEventListener('abort', abort, { once: true });
      },
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
