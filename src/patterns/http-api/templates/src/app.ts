import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { createServer } from './platform/server.js';
import { itemsRoutes } from './routes/items.js';

/**
 * The service without the process around it (listening, signals, tracing: see main.ts),
 * so tests can build one from any config and call it with inject().
 */
export function buildApp(config: Config): FastifyInstance {
  const app = createServer(config);
  // Your routes go here, one plugin per resource.
  app.register(itemsRoutes, { prefix: '/items' });
  return app;
}
