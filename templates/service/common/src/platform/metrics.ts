import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { SeriesHistogram } from './histogram.js';

export const METRICS_PATH = '/metrics';

/**
 * The route pattern a service answered with, in a response header (server.ts sets it), so
 * a gateway in front of it can label its own metrics by the route behind its prefix
 * (/orders/items/:id rather than /orders/*). A pattern, never the raw URL: it names no id
 * or query.
 */
export const ROUTE_HEADER = 'x-route';

/**
 * prom-client's sums of the per-type gauges beside them (nodejs_active_handles, …): gauges
 * whose names end in _total read as counters, which `promtool check metrics` flags and
 * rate() would mistreat.
 */
const GAUGES_NAMED_AS_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const labelNames = ['method', 'route', 'status_code'] as const;

/** Counts one answered request: called by server.ts once its response has finished. */
export type RecordRequest = (request: FastifyRequest, reply: FastifyReply) => void;

declare module 'fastify' {
  interface FastifyRequest {
    /** The route label when it says more than the route Fastify matched (a gateway's
     * prefix: the upstream's route behind it). */
    metricsRoute: string | undefined;
  }
}

interface Series {
  labels: Record<(typeof labelNames)[number], string>;
  observe: (seconds: number) => void;
  /** Requests answered, handed to prom-client's counter at scrape time. */
  count: number;
}

/**
 * Prometheus metrics on GET /metrics: request count and latency per method, route and
 * status, plus the process defaults (CPU, memory, event-loop lag, GC). Returns what records
 * each request: the server calls it when a response has finished, where an onResponse hook
 * would add a hook run to every request.
 *
 * `unmeasured` are the probes' paths: a prober's requests (several a second, from the
 * runtime and the orchestrator) are not the service's traffic, and counted in, they would
 * keep an idle service's request rate above zero and its latency looking better than it is.
 */
export function registerMetrics(app: FastifyInstance, unmeasured: string[], registry: Registry): RecordRequest {
  collectDefaultMetrics({ register: registry });
  for (const name of GAUGES_NAMED_AS_COUNTERS) registry.removeSingleMetric(name);
  const skipped = new Set([...unmeasured, METRICS_PATH]);
  app.decorateRequest('metricsRoute', undefined);

  // One series per method, route and status, found with one Map lookup. prom-client hashes
  // the label set on every call, even through a labelled child: the count is kept here as
  // a plain number and handed over when Prometheus scrapes, the latencies in a
  // SeriesHistogram (bench: see BENCHMARKS.md).
  const series = new Map<string, Series>();

  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code (probes and /metrics not counted).',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, count } of series.values()) this.inc(labels, count);
    },
  });
  const seconds = new SeriesHistogram<(typeof labelNames)[number]>(
    'http_request_duration_seconds',
    'Time from receiving a request to finishing its response, in seconds (probes and /metrics not counted).',
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registry,
  );

  app.get(METRICS_PATH, { logLevel: 'warn' }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  return (request, reply) => {
    // The route pattern (/items/:id), never the raw URL: one series per route, not per id.
    const matched = request.routePattern;
    if (matched !== undefined && skipped.has(matched)) return;
    const route = request.metricsRoute ?? matched ?? 'unmatched';
    const key = `${request.method} ${route} ${reply.statusCode}`;
    let found = series.get(key);
    if (found === undefined) {
      const labels = { method: request.method, route, status_code: String(reply.statusCode) };
      found = { labels, observe: seconds.series(labels), count: 0 };
      series.set(key, found);
    }
    found.count += 1;
    found.observe(reply.elapsedTime / 1000);
  };
}
