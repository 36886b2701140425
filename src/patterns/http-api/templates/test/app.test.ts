import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { DEFAULT_CALL_POLICY } from '../src/generated/spec.js';

// The spec's defaults without the environment of whoever runs the tests; no log noise.
const config: Config = { ...loadConfig({}), logLevel: 'silent' };
const { liveness, readiness } = config.health;

describe('the service', () => {
  const app = buildApp(config);
  afterAll(() => app.close());

  it('is starting until its plugins have loaded, then ready', async () => {
    expect(app.lifecycle.state).toBe('starting');
    await app.ready();
    const response = await app.inject(readiness);
    expect(response.statusCode).toBe(200);
  });

  it('answers liveness while alive, and readiness 503 while draining', async () => {
    expect((await app.inject(liveness)).statusCode).toBe(200);
    app.lifecycle.state = 'draining';
    try {
      const response = await app.inject(readiness);
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ status: 'draining' });
      expect((await app.inject(liveness)).statusCode).toBe(200);
    } finally {
      app.lifecycle.state = 'ready';
    }
  });

  it('creates, reads, updates, lists and deletes items', async () => {
    const created = await app.inject({ method: 'POST', url: '/items', payload: { name: 'pen', quantity: 2 } });
    expect(created.statusCode).toBe(201);
    const { id } = created.json<{ id: string }>();
    expect(created.json()).toEqual({ id, name: 'pen', quantity: 2 });

    expect((await app.inject(`/items/${id}`)).json()).toEqual({ id, name: 'pen', quantity: 2 });

    const updated = await app.inject({ method: 'PUT', url: `/items/${id}`, payload: { name: 'pencil' } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toEqual({ id, name: 'pencil', quantity: 0 });

    expect((await app.inject('/items')).json()).toEqual([{ id, name: 'pencil', quantity: 0 }]);

    expect((await app.inject({ method: 'DELETE', url: `/items/${id}` })).statusCode).toBe(204);
    expect((await app.inject(`/items/${id}`)).statusCode).toBe(404);
  });

  it('answers 404 for an unknown id and 400 with the reason for a bad body', async () => {
    const missing = await app.inject({ method: 'PUT', url: '/items/nope', payload: { name: 'x' } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'Not Found' });

    const bad = await app.inject({ method: 'POST', url: '/items', payload: { quantity: 'many' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: 'Bad Request', message: expect.stringMatching(/name|quantity/) });
  });

  it('echoes the caller’s x-request-id, or makes one up', async () => {
    const echoed = await app.inject({ url: liveness, headers: { 'x-request-id': 'abc-123' } });
    expect(echoed.headers['x-request-id']).toBe('abc-123');
    const fresh = await app.inject(liveness);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('counts requests by route pattern on /metrics', async () => {
    await app.inject('/items/some-id');
    const response = await app.inject('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toMatch(/http_requests_total\{method="GET",route="\/items\/:id",status_code="404"\} \d+/);
    expect(response.body).toContain('http_request_duration_seconds_bucket{');
    expect(response.body).toContain('process_cpu_user_seconds_total');
  });

  it('leaves probes and scrapes out of the request metrics, and says the route it matched', async () => {
    await app.inject(liveness);
    await app.inject(readiness);
    expect((await app.inject('/items/other')).headers['x-route']).toBe('/items/:id');
    const response = await app.inject('/metrics');
    expect(response.body).not.toMatch(/route="(\/healthz|\/readyz|\/metrics)"/);
    // gauges, not counters: no _total name for them (promtool check metrics)
    expect(response.body).not.toMatch(/^nodejs_active_\w+_total/m);
  });
});

describe('errors', () => {
  it('never shows a client the inside of a 500', async () => {
    const app = buildApp(config);
    app.get('/boom', async () => {
      throw new Error('secret detail');
    });
    const response = await app.inject('/boom');
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: 'Internal Server Error', message: expect.not.stringContaining('secret') });
    await app.close();
  });
});

describe('GET /upstreams', () => {
  // A stand-in upstream that remembers the request id it was called with.
  let upstream: Server;
  let seenRequestId: string | undefined;
  let seenPath: string | undefined;
  let seenTimeout: number | undefined;
  let upstreamUrl: string;
  let deadUrl: string;

  beforeAll(async () => {
    upstream = createServer((request, response) => {
      seenRequestId = request.headers['x-request-id'] as string | undefined;
      seenPath = request.url;
      seenTimeout = Number(request.headers['x-request-timeout-ms']);
      response.end('{"status":"ok"}');
    });
    upstreamUrl = await listen(upstream);
    // A port that was just free: nothing listens there, so connecting fails at once.
    const dead = createServer();
    deadUrl = await listen(dead);
    await new Promise((resolve) => dead.close(resolve));
  });
  afterAll(() => new Promise((resolve) => upstream.close(resolve)));
  // a live upstream and one nobody listens on, with the default policies
  const upstreams = () => [
    { name: 'peer', url: upstreamUrl, livenessPath: '/live', policy: DEFAULT_CALL_POLICY },
    { name: 'gone', url: deadUrl, livenessPath: '/healthz', policy: DEFAULT_CALL_POLICY },
  ];

  it('probes every upstream, forwarding the request id', async () => {
    const app = buildApp({
      ...config,
      upstreams: upstreams(),
    });
    const response = await app.inject({ url: '/upstreams', headers: { 'x-request-id': 'trace-me' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      peer: { status: 200, ok: true, ms: expect.any(Number) },
      gone: { status: null, ok: false, ms: expect.any(Number), error: 'upstream gone is unreachable' },
    });
    expect(seenRequestId).toBe('trace-me');
    expect(seenPath).toBe('/live');
    await app.close();
  });

  it('answers for one upstream as a route that needs it would: 200, or 503 naming it and the reason', async () => {
    const app = buildApp({
      ...config,
      upstreams: upstreams(),
    });
    const peer = await app.inject('/upstreams/peer');
    expect(peer.statusCode).toBe(200);
    expect(peer.json()).toMatchObject({ status: 200, ok: true });
    const gone = await app.inject('/upstreams/gone');
    expect(gone.statusCode).toBe(503);
    expect(gone.json()).toMatchObject({ error: 'Service Unavailable', upstream: 'gone', reason: 'unreachable' });
    expect((await app.inject('/upstreams/nobody')).statusCode).toBe(404);
    await app.close();
  });

  it('tells the upstream how long it waits: its timeout, or less a tenth of what its own caller waits', async () => {
    const app = buildApp({ ...config, upstreams: upstreams() });
    await app.inject('/upstreams/peer');
    expect(seenTimeout).toBeGreaterThan(DEFAULT_CALL_POLICY.timeoutMs - 500);
    expect(seenTimeout).toBeLessThanOrEqual(DEFAULT_CALL_POLICY.timeoutMs);
    // its caller waits 2 s: 1.8 s of it for the call, the rest for the answer's way back
    await app.inject({ url: '/upstreams/peer', headers: { 'x-request-timeout-ms': '2000' } });
    expect(seenTimeout).toBeGreaterThan(1_300);
    expect(seenTimeout).toBeLessThanOrEqual(1_800);
    await app.close();
  });
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
