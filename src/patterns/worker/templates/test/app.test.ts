import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';

// The spec's defaults without the environment of whoever runs the tests; no log noise.
// The queue is consumed only once the server listens: inject() needs no Redis.
const config: Config = { ...loadConfig({}), logLevel: 'silent' };

describe('the worker', () => {
  const app = buildApp(config);
  afterAll(() => app.close());

  it('answers its probes', async () => {
    await app.ready();
    expect((await app.inject(config.health.liveness)).statusCode).toBe(200);
    expect((await app.inject(config.health.readiness)).statusCode).toBe(200);
  });
});
