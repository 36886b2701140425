import Fastify, { type FastifyInstance } from 'fastify';
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
 * A Fastify instance with what every service of the system shares: JSON logs, request ids,
 * error responses, probes, metrics and the upstream client. app.ts adds the service's own
 * routes on top.
 */
export function createServer(config: Config): FastifyInstance {
  const app = Fastify({
    logger: { level: config.logLevel, name: config.serviceName },
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
