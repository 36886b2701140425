import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { CONSUMES } from './generated/queues.js';
import { consume } from './platform/jobs.js';
import { createServer } from './platform/server.js';
import { paymentHandler } from './payments.js';

/**
 * The worker without the process around it (signals, tracing: see main.ts). Its server
 * answers probes and metrics; its queue is consumed once it listens, and the server's
 * close (SIGTERM) waits for the jobs under way.
 */
export function buildApp(config: Config): FastifyInstance {
  const app = createServer(config);
  const queue = Object.values(CONSUMES)[0]!;
  consume(app, queue, paymentHandler(app, queue));
  return app;
}
