/**
 * Dependency ranges the generated services start with. One place, so a bump is one edit
 * and the bench measures what users get.
 *
 * Every range resolves to releases that install and run on Node 20.19+ (`node` below);
 * the newer lines that need Node 22 are fenced off on purpose, see the notes. A pattern's
 * own dependencies sit in its folder (src/patterns/<name>/), noted the same way.
 */
export const SERVICE_DEPENDENCIES = {
  // 5.10: LogController (one access line per request)
  fastify: '^5.10.0',
  // the logger's own destination (platform/log-destination.ts); the range Fastify 5 takes, so
  // one copy is installed
  pino: '^10.1.0',
  'prom-client': '^15.1.3',
  // The upstream client's timeouts, retries, circuit breakers and bulkheads. 3.x runs on
  // Node 16+; 4.x needs Node 22.
  cockatiel: '^3.2.1',
  // sdk-trace-node 2.x peers on api <1.10, so ^1.9 would resolve to a version it rejects.
  '@opentelemetry/api': '~1.9.0',
  // 2.x is the last stable line for Node 20 (3.x needs Node 22); ^ stays within it.
  '@opentelemetry/sdk-trace-node': '^2.12.0',
  '@opentelemetry/resources': '^2.12.0',
  // 0.223 is the experimental line paired with stable 2.12 (0.300+ needs Node 22); ^0.x
  // pins the minor, which is what keeps the packages' exact internal pins deduplicated.
  // protobuf by default (the OTLP default, and the cheaper export: BENCHMARKS.md); JSON
  // when OTEL_EXPORTER_OTLP_PROTOCOL asks for it
  '@opentelemetry/exporter-trace-otlp-proto': '^0.223.0',
  '@opentelemetry/exporter-trace-otlp-http': '^0.223.0',
  '@opentelemetry/instrumentation': '^0.223.0',
  // Traces fetch() calls to upstreams; 0.33 is the release built on instrumentation 0.223.
  '@opentelemetry/instrumentation-undici': '^0.33.0',
} as const;

/** What a service that enqueues or consumes jobs adds. */
export const QUEUE_DEPENDENCIES = {
  // 6.x is the newest line and declares Node >=14.18; its Redis client is a peer
  bullmq: '^6.7.6',
  // 6.x runs on Node >=20
  ioredis: '^6.1.0',
} as const;

/** What a service with a response cache (`cache:`) adds: the same Redis client. */
export const CACHE_DEPENDENCIES = { ioredis: QUEUE_DEPENDENCIES.ioredis } as const;

export const VERSIONS = {
  node: '>=20.19',
  ...SERVICE_DEPENDENCIES,
  typescript: '~5.9.0',
  tsx: '^4.20.0',
  vitest: '^4.1.0',
  '@types/node': '^20.19.0',
} as const;
