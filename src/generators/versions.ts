/**
 * Dependency ranges the generated services start with. One place, so a bump is one edit
 * and the bench measures what users get.
 */
export const VERSIONS = {
  node: '>=20.19',
  fastify: '^5.6.0',
  '@fastify/http-proxy': '^11.3.0',
  '@fastify/rate-limit': '^10.3.0',
  'prom-client': '^15.1.3',
  '@opentelemetry/api': '^1.9.0',
  '@opentelemetry/sdk-trace-node': '^2.0.0',
  '@opentelemetry/exporter-trace-otlp-http': '^0.203.0',
  '@opentelemetry/instrumentation': '^0.203.0',
  '@opentelemetry/instrumentation-http': '^0.203.0',
  '@opentelemetry/resources': '^2.0.0',
  typescript: '~5.9.0',
  vitest: '^4.0.0',
  '@types/node': '^20.19.0',
} as const;
