import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { registerErrorHandler } from './errors.js';
import { registerHealth } from './health.js';
import { UpstreamClient } from './http-client.js';
import { registerMetrics } from './metrics.js';
import { REQUEST_ID_HEADER, requestId } from './request-id.js';
import { registerUpstreamsRoute } from './upstreams.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Calls to the services this one depends on: see http-client.ts. */
    upstreams: UpstreamClient;
  }
}

/**
 * One access line per request, when it is answered, as nginx writes one: Fastify's default
 * also logs each request as it arrives, which doubles the log and, at the bench, cost a
 * tenth of a request's CPU. Routes at logLevel warn (probes, /metrics) stay out of it.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/**
 * A Fastify instance with what every service of the system shares: JSON logs, request ids,
 * error responses, probes, metrics and the upstream client. app.ts adds the service's own
 * routes on top.
 */
export function createServer(config: Config): FastifyInstance {
  const app = Fastify({
    logger: { level: config.logLevel, name: config.serviceName },
    logController: new AccessLog(),
    genReqId: requestId,
    // While draining, requests that still arrive on open connections are served, not
    // refused: the `connection: close` below moves their clients to other instances.
    return503OnClosing: false,
  });

  // One hook, set before the handler runs, so every reply carries the id, errors included.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (app.lifecycle.state === 'draining') reply.header('connection', 'close');
    done();
  });

  registerErrorHandler(app);
  registerHealth(app, config.health);
  registerMetrics(app);

  app.decorate('upstreams', new UpstreamClient(config.upstreams, config.upstreamTimeoutMs));
  if (config.upstreams.length > 0) registerUpstreamsRoute(app, config.upstreams);

  return app;
}
