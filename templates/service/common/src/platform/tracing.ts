import type { Config } from '../config.js';

/**
 * Exports traces over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and returns how
 * to flush them at shutdown. Without it nothing is loaded: the SDK costs start-up time and
 * per-request work that a service which sends its traces nowhere should not pay.
 *
 * Call it before Fastify is imported: the HTTP instrumentation works by patching node:http
 * as it is first required.
 */
export async function startTracing(
  config: Pick<Config, 'serviceName' | 'otlpEndpoint' | 'health'>,
): Promise<(() => Promise<void>) | undefined> {
  if (!config.otlpEndpoint) return undefined;

  const [sdk, otlp, resources, instrumentation, http, undici] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-undici'),
  ]);

  const provider = new sdk.NodeTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': config.serviceName }),
    // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and OTEL_EXPORTER_OTLP_HEADERS, ...)
    // itself and appends /v1/traces.
    spanProcessors: [new sdk.BatchSpanProcessor(new otlp.OTLPTraceExporter())],
  });
  // Makes it the global provider and sets W3C trace-context propagation, so a trace
  // continues across the services a request passes through.
  provider.register();

  const quiet = new Set([config.health.liveness, config.health.readiness, '/metrics']);
  instrumentation.registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Probes and scrapes every few seconds would drown the traces that matter.
      new http.HttpInstrumentation({ ignoreIncomingRequestHook: (request) => quiet.has(request.url ?? '') }),
      // fetch() runs on undici, which node:http instrumentation does not see.
      new undici.UndiciInstrumentation(),
    ],
  });

  return () => provider.shutdown();
}
