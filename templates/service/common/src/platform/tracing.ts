import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';

/**
 * Exports traces over OTLP/HTTP when the config says so (OTEL_EXPORTER_OTLP_ENDPOINT set,
 * OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER not turning it off), and returns how to flush
 * them at shutdown. Otherwise nothing is loaded: the SDK costs start-up time and
 * per-request work that a service which sends its traces nowhere should not pay. Which
 * requests are traced is OpenTelemetry's OTEL_TRACES_SAMPLER (the SDK reads it: every one
 * by default).
 *
 * Incoming requests get their spans from request-spans.ts (Fastify hooks); outgoing calls
 * (fetch() and the gateway's undici pool) from the undici instrumentation, which also
 * writes the traceparent header. Call it before the app is imported, so that the
 * instrumentation is in place before the first call.
 */
export async function startTracing(
  config: Pick<Config, 'serviceName' | 'otlpEndpoint'>,
): Promise<(() => Promise<void>) | undefined> {
  if (!config.otlpEndpoint) return undefined;

  const [sdk, otlp, resources, instrumentation, undici] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    // OTLP/protobuf, the protocol's default, unless JSON is asked for: at the bench its
    // batches are 41% of JSON's bytes and half the collector's work to read; the service
    // itself pays the same for either
    exportsJson() ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-undici'),
  ]);

  // Two replicas must not look alike: each gets its own instance id (the runtime passes its
  // instance name in OTEL_RESOURCE_ATTRIBUTES, which wins over these defaults).
  const resource = resources
    .resourceFromAttributes({
      'service.name': config.serviceName,
      'service.version': packageVersion(),
      'service.instance.id': randomUUID(),
    })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));

  const provider = new sdk.NodeTracerProvider({
    resource,
    // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and OTEL_EXPORTER_OTLP_HEADERS, ...)
    // itself and appends /v1/traces. Batches leave every second (the SDK's default is 5 s),
    // so a trace can be looked at right after its request; OTEL_BSP_* still override.
    spanProcessors: [new sdk.BatchSpanProcessor(new otlp.OTLPTraceExporter(), batchSettings())],
  });
  // Makes it the global provider and sets W3C trace-context propagation, so a trace
  // continues across the services a request passes through.
  provider.register();

  instrumentation.registerInstrumentations({
    tracerProvider: provider,
    // fetch() and undici's own pools; node:http is not patched (see request-spans.ts)
    instrumentations: [new undici.UndiciInstrumentation()],
  });

  return () => provider.shutdown();
}

/** OpenTelemetry's own variables: `http/json` for collectors that take JSON only. */
function exportsJson(): boolean {
  return (process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL) === 'http/json';
}

function batchSettings() {
  const fromEnv = (name: string, fallback: number) => (/^\d+$/.test(process.env[name] ?? '') ? Number(process.env[name]) : fallback);
  return {
    scheduledDelayMillis: fromEnv('OTEL_BSP_SCHEDULE_DELAY', 1000),
    maxQueueSize: fromEnv('OTEL_BSP_MAX_QUEUE_SIZE', 8192),
    maxExportBatchSize: fromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1024),
  };
}

/** The version in the service's package.json: what a user bumps at a release. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
