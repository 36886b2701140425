// The process around the service: configuration, tracing, listening, signals. The service
// itself is built by buildApp() in app.ts, which tests use without any of this.
import { ConfigError, loadConfig, type Config } from './config.js';
import { startClients } from './generated/clients.js';
import { SERVICE_NAME, SPEC_ENV } from './generated/spec.js';
import { exitOnSignals } from './platform/shutdown.js';
import { startTracing } from './platform/tracing.js';
import { warmUpNextTick } from './platform/warm-up.js';

// first, before tracing and the app load their modules (see warm-up.ts)
warmUpNextTick();

// The spec's `env` entries are defaults: a variable already set wins.
for (const [name, value] of Object.entries(SPEC_ENV)) process.env[name] ??= value;

const config = readConfig();

// Tracing patches node:http, so it starts before app.js (and with it Fastify) is loaded.
const stopTracing = await startTracing(config);
const { buildApp } = await import('./app.js');

const app = buildApp(config);
if (stopTracing) app.addHook('onClose', stopTracing);
exitOnSignals(app, config.shutdownTimeoutMs);

try {
  // the servers' clients first (streams declared, subscriptions running), then traffic
  await startClients(app);
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  app.log.fatal({ err: error }, `cannot start on ${config.host}:${config.port}`);
  process.exit(1);
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One line naming the variable: a stack trace would only bury it.
    console.error(`${SERVICE_NAME}: ${error.message}`);
    process.exit(2);
  }
}
