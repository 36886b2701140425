import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { createServer } from './platform/server.js';
import { proxyRoutes } from './routes/proxy.js';

/**
 * The gateway without the process around it (listening, signals, tracing: see main.ts),
 * so tests can build one from any config and call it with inject().
 */
export function buildApp(config: Config): FastifyInstance {
  const app = createServer(config);
  // A plugin of its own, so the rate limit inside covers the proxied routes and leaves
  // the probes and /metrics, registered by createServer, alone.
  app.register(proxyRoutes, {
    routes: config.routes,
    rateLimitPerSecond: config.rateLimitPerSecond,
  });
  return app;
}
