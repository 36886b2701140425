import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import { UpstreamError } from './http-client.js';
import { FAILED_UPSTREAM_HEADER } from './resilience.js';

/**
 * Every error leaves as `{ error, message }`. A 4xx explains what the client got wrong, and
 * an upstream's failure names the upstream and the reason (`{ ..., upstream, reason }`); any other 5xx says nothing about the inside (no
 * stack, no internal message) and is logged here instead, under the request id that the
 * client sees in its x-request-id header.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    let message = error.message;
    if (error instanceof UpstreamError) {
      // Not this service's fault, and its message names the culprit: say it, skip the stack.
      request.log.warn({ upstream: error.upstream, reason: error.reason }, error.message);
      // this service is up: its callers' breakers leave it closed (see resilience.ts)
      return reply.code(status).header(FAILED_UPSTREAM_HEADER, error.upstream).send({ error: STATUS_CODES[status] ?? 'Error', message, upstream: error.upstream, reason: error.reason });
    } else if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      message = `internal error; the service log has the details under request id ${request.id}`;
    }
    return reply.code(status).send({ error: STATUS_CODES[status] ?? 'Error', message });
  });
}
