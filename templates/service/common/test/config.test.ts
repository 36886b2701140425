import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' };

describe('tracing in the config', () => {
  it('is on when an endpoint is set, and nothing turns it off', () => {
    expect(loadConfig({}).otlpEndpoint).toBeUndefined();
    expect(loadConfig(endpoint).otlpEndpoint).toBe('http://127.0.0.1:4318');
    expect(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' }).otlpEndpoint).toBe('http://127.0.0.1:4318');
    expect(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: '', OTEL_TRACES_EXPORTER: '' }).otlpEndpoint).toBe('http://127.0.0.1:4318');
  });

  it.each([{ OTEL_SDK_DISABLED: 'true' }, { OTEL_SDK_DISABLED: ' TRUE ' }, { OTEL_TRACES_EXPORTER: 'none' }, { OTEL_TRACES_EXPORTER: 'None' }])(
    'is off with an endpoint set when OpenTelemetry is told so: %o',
    (off) => {
      expect(loadConfig({ ...endpoint, ...off }).otlpEndpoint).toBeUndefined();
    },
  );

  it.each([
    [{ OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED must be one of true, false, got "yes"'],
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER must be one of otlp, none, got "zipkin"'],
    [{ OTEL_TRACES_EXPORTER: 'otlp,console' }, 'OTEL_TRACES_EXPORTER must be one of otlp, none, got "otlp,console"'],
  ])('refuses a value it cannot honour, naming the variable: %o', (given, message) => {
    expect(() => loadConfig({ ...endpoint, ...given })).toThrow(new ConfigError(message));
  });
});
