import { Registry } from 'prom-client';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { fallbacks } from '../fallbacks.js';
import { attachClients } from '../generated/clients.js';
import { registerErrorHandler } from './errors.js';
import { registerHealth } from './health.js';
import { UpstreamClient } from './http-client.js';
import { logDestination } from './log-destination.js';
import { METRICS_PATH, ROUTE_HEADER, registerMetrics, type RecordRequest } from './metrics.js';
import { REQUEST_ID_HEADER, requestId } from './request-id.js';
import { RequestLogger, requestLoggers } from './request-logger.js';
import { registerRequestSpans, traceLogFields, type EndSpan } from './request-spans.js';
import { callerDeadline, TIMEOUT_HEADER } from './resilience.js';
import { registerUpstreamsRoute } from './upstreams.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Calls to the services this one depends on: see http-client.ts. */
    upstreams: UpstreamClient;
  }
  interface FastifyRequest {
    /** The route pattern the request matched (/items/:id), undefined when none did: read
     * once as it arrives, since Fastify's `routeOptions` builds a new object on every read. */
    routePattern: string | undefined;
    /** When this request's upstream calls must be done (performance.now()) for the answer
     * to reach a caller that said how long it waits (TIMEOUT_HEADER); pass it on as
     * `app.upstreams.fetch(..., { requestId: request.id, deadline: request.deadline })`. */
    deadline: number | undefined;
  }
}

/** The levels at which an access line (info) is written. */
const WRITES_INFO = new Set(['info', 'debug', 'trace']);

/**
 * Every request as it arrives (its id in a header) and once its response has finished: one
 * access line, as nginx writes one, and the request counted in the metrics. Fastify calls
 * this for every request; hooks doing the same would add a hook run to each. Fastify's
 * default also logs each request as it arrives, which doubles the log. The line keeps what
 * a reader needs (method, URL, status, response time in ms, the client's address and port
 * — which connection, so a balancer's choices can be read from the logs — and reqId from
 * the request's logger); routes at logLevel warn (probes, /metrics) stay out of it.
 */
class RequestLifecycle extends LogController {
  recordRequest: RecordRequest = () => {};
  /** Ends the request's span (tracing on), before the access line, which carries its ids. */
  endSpan: EndSpan | undefined;
  isDraining: () => boolean = () => false;

  /**
   * As a request arrives, before any hook: the time the caller waits is read, and every
   * reply carries the request id (and the route pattern it matched, for a gateway's
   * metrics), errors and 404s included. Fastify calls this for every request; an onRequest
   * hook doing the same added a hook run to each (see BENCHMARKS.md). Nothing is logged
   * here: one line per request, when it completes.
   */
  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    request.deadline = callerDeadline(request.headers[TIMEOUT_HEADER]);
    const route = request.routeOptions.url;
    request.routePattern = route;
    reply.header(REQUEST_ID_HEADER, request.id);
    if (route !== undefined) reply.header(ROUTE_HEADER, route);
    if (this.isDraining()) reply.header('connection', 'close');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    this.recordRequest(request, reply);
    const ids = this.endSpan?.(request, reply);
    // probes and scrapes log at warn: no access line to build for them
    if (!error && !WRITES_INFO.has(reply.log.level)) return;
    // a connection the client closed as the answer ended has no socket any more
    const { remoteAddress, remotePort } = request.socket ?? {};
    // one literal, the same keys every time (pino leaves the undefined ones out): a spread
    // of the ids into it cost more than the rest of the line (cpu profile, tracing on)
    const line = {
      reqId: undefined,
      trace_id: ids?.trace_id,
      span_id: ids?.span_id,
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      responseTime: reply.elapsedTime,
      remoteAddress,
      remotePort,
      err: error ?? undefined,
    };
    const level = error ? 'error' : 'info';
    const message = error ? 'request errored' : 'request completed';
    const log = reply.log;
    // without making the request's logger when nothing else did (request-logger.ts)
    if (log instanceof RequestLogger) log.write(level, line, message);
    else log[level](line, message);
  }
}

/**
 * A Fastify instance with what every service of the system shares: JSON logs, request ids,
 * error responses, probes, metrics and the upstream client. app.ts adds the service's own
 * routes on top.
 */
export function createServer(config: Config): FastifyInstance {
  const requests = new RequestLifecycle();
  const app = Fastify({
    logger: { level: config.logLevel, name: config.serviceName, ...traceLogFields(config), stream: logDestination() },
    logController: requests,
    genReqId: requestId,
    childLoggerFactory: requestLoggers(),
    // While draining, requests that still arrive on open connections are served, not
    // refused: the `connection: close` set as they arrive moves their clients to other
    // instances.
    return503OnClosing: false,
  });
  app.decorateRequest('routePattern', undefined);
  app.decorateRequest('deadline', undefined);

  // before any route, so that its hook covers them all
  requests.endSpan = registerRequestSpans(app, config, [METRICS_PATH]);
  registerErrorHandler(app);
  registerHealth(app, config.health);
  requests.isDraining = () => app.lifecycle.state === 'draining';
  // A registry per app rather than prom-client's global one, so tests can build many apps;
  // the upstream client's metrics join it
  const registry = new Registry();
  requests.recordRequest = registerMetrics(app, [config.health.liveness, config.health.readiness], registry);

  app.decorate('upstreams', new UpstreamClient(config.upstreams, { registry, log: app.log, fallbacks }));
  if (config.upstreams.length > 0) registerUpstreamsRoute(app, config.upstreams);
  attachClients(app);

  return app;
}
