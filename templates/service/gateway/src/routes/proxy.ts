import httpProxy from '@fastify/http-proxy';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Route } from '../config.js';
import { UpstreamError } from '../platform/http-client.js';
import { REQUEST_ID_HEADER } from '../platform/request-id.js';

export interface ProxyOptions {
  routes: Route[];
  timeoutMs: number;
  /** Per client IP; 0 turns rate limiting off. */
  rateLimitPerSecond: number;
}

/**
 * One proxy per route: /users/items → <USERS_URL>/items, with the request id passed on and
 * failures answered as 502 (unreachable) or 504 (too slow) by the common error handler.
 */
export async function proxyRoutes(app: FastifyInstance, options: ProxyOptions): Promise<void> {
  if (options.rateLimitPerSecond > 0) {
    // In memory, per replica: N gateway replicas allow N times the rate. Behind a proxy that
    // sets X-Forwarded-For, enable Fastify's trustProxy, or every client shares one IP.
    await app.register(rateLimit, { max: options.rateLimitPerSecond, timeWindow: 1000 });
  }

  for (const { prefix, upstream } of options.routes) {
    await app.register(httpProxy, {
      prefix,
      upstream: upstream.url,
      // A response slower than this (headers, or a pause mid-body) ends in a 504. undici
      // checks these deadlines on a coarse clock to stay cheap: expect up to ~1 s more.
      undici: { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs },
      // Our own request logs already cover each request; reply-from's extra line would
      // double the logging cost of every proxied call.
      disableRequestLogging: true,
      replyOptions: {
        // `headers` is reply-from's own copy of the incoming headers: safe to change.
        rewriteRequestHeaders: (request, headers) => {
          headers[REQUEST_ID_HEADER] = request.id;
          return headers;
        },
        onError: (reply, { error }) => {
          // reply-from reports every kind of timeout as a 504 error.
          const timedOut = 'statusCode' in error && error.statusCode === 504;
          reply.send(
            timedOut
              ? new UpstreamError(upstream.name, 504, `upstream ${upstream.name} did not answer within ${options.timeoutMs} ms`)
              : new UpstreamError(upstream.name, 502, `upstream ${upstream.name} is unreachable`),
          );
        },
      },
    });
  }
}
