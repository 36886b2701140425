import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRICS_PATH = '/metrics';

const labelNames = ['method', 'route', 'status_code'] as const;
type Series = { requests: Counter.Internal; seconds: Histogram.Internal<(typeof labelNames)[number]> };

/**
 * Prometheus metrics on GET /metrics: request count and latency per method, route and
 * status, plus the process defaults (CPU, memory, event-loop lag, GC).
 */
export function registerMetrics(app: FastifyInstance): void {
  // A registry per app rather than prom-client's global one, so tests can build many apps.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames,
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its response, in seconds.',
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  // prom-client hashes the label set on every observation; keeping the labelled series per
  // method/route/status turns the per-request work into one Map lookup.
  const series = new Map<string, Series>();

  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern (/items/:id), never the raw URL: one series per route, not per id.
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${route} ${reply.statusCode}`;
    let found = series.get(key);
    if (found === undefined) {
      const labels = [request.method, route, String(reply.statusCode)];
      found = { requests: requests.labels(...labels), seconds: seconds.labels(...labels) };
      series.set(key, found);
    }
    found.requests.inc();
    found.seconds.observe(reply.elapsedTime / 1000);
    done();
  });

  app.get(METRICS_PATH, { logLevel: 'warn' }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
