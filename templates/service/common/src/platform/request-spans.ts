import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span while tracing is on (see registerRequestSpans). */
    span?: Span;
  }
}

/**
 * One server span per request, named after its route (`GET /items/:id`), made from Fastify's
 * own hooks rather than by patching node:http: the route is known here, and at the bench
 * the HTTP instrumentation cost several times what these two steps do (see BENCHMARKS.md).
 *
 * The span starts in preHandler, back-dated to the request's arrival, and is made the active
 * context of the handler, so the calls it makes upstream (the undici instrumentation) are
 * its children and carry its traceparent. A request that never reaches a handler (404, a
 * body that fails validation) gets its span when it is answered. Probes and scrapes are
 * traced only when they are part of a trace already (a caller sent a traceparent): the
 * runtime's own every few seconds would drown the traces that matter.
 *
 * Returns what ends the span once the response has finished (server.ts calls it, and puts
 * the ids it returns on the access line), or undefined when tracing is off: then no hook
 * is added at all.
 */
export function registerRequestSpans(app: FastifyInstance, config: Pick<Config, 'otlpEndpoint' | 'health'>, quietPaths: readonly string[]): EndSpan | undefined {
  if (!config.otlpEndpoint) return undefined;
  const tracer = trace.getTracer('fastify-routes');
  const quiet = new Set([config.health.liveness, config.health.readiness, ...quietPaths]);

  // declared, so that every request object has the same shape (one added later makes
  // Fastify's request handling polymorphic)
  app.decorateRequest('span', undefined);

  const start = (request: FastifyRequest, reply: FastifyReply): Span | undefined => {
    const route = request.routePattern;
    const { traceparent, baggage } = request.headers;
    if (route !== undefined && quiet.has(route) && traceparent === undefined) return undefined;
    const parent = traceparent === undefined && baggage === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      route === undefined ? request.method : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        // a performance.now() reading, not an epoch: the SDK then times the span on its own
        // monotonic clock, start and end alike (span.end below). Given an epoch, it ended
        // the span at Date.now(), to the whole millisecond and on the wall clock: a 0.3 ms
        // request read 0 or 1 ms, and a gateway's span ended before its own upstream call
        startTime: performance.now() - reply.elapsedTime,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url,
          ...(route === undefined ? {} : { 'http.route': route }),
          'client.address': request.ip,
          // the id in x-request-id, so one request can be found among the traces
          'http.request.header.x-request-id': [request.id],
        },
      },
      parent,
    );
    request.span = span;
    return span;
  };

  app.addHook('preHandler', (request, reply, done) => {
    const span = start(request, reply);
    if (span === undefined) return done();
    context.with(trace.setSpan(context.active(), span), done);
  });

  return (request, reply) => {
    const span = request.span ?? start(request, reply);
    if (span === undefined) return undefined;
    span.setAttribute('http.response.status_code', reply.statusCode);
    // a server span is an error only when the server failed (5xx), not when the client did
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(performance.now());
    return idsOf(span);
  };
}

/** What joins a log line to its trace. */
export interface SpanIds {
  trace_id: string;
  span_id: string;
}

/** Ends a request's span once its response has finished; returns its ids for the access line. */
export type EndSpan = (request: FastifyRequest, reply: FastifyReply) => SpanIds | undefined;

function idsOf(span: Span): SpanIds {
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/**
 * pino options that put trace_id and span_id on every line logged while a span is active
 * (a handler's lines, its error's): read from the context when a line is written, rather
 * than by a child logger per request, which at the bench cost more than the span itself.
 */
export function traceLogFields(config: Pick<Config, 'otlpEndpoint'>): { mixin?: () => Partial<SpanIds> } {
  if (!config.otlpEndpoint) return {};
  return {
    mixin: () => {
      const span = trace.getSpan(context.active());
      return span === undefined ? {} : idsOf(span);
    },
  };
}
