import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { DEFAULT_CALL_POLICY, type CallPolicy } from '../src/generated/spec.js';

// The spec's defaults without the environment of whoever runs the tests; no log noise.
const defaults: Config = { ...loadConfig({}), logLevel: 'silent' };

/** The routes' policies here: the defaults, with a timeout well below /slow's 3 s (and well
 * above what a busy machine adds to a quick answer), no wait between retries, and a breaker
 * that opens after 5 failures and stays open. */
const policy: CallPolicy = {
  ...DEFAULT_CALL_POLICY,
  timeoutMs: 1_000,
  retry: { ...DEFAULT_CALL_POLICY.retry, backoff: 'constant', initial: 1 },
  circuitBreaker: { trip: { kind: 'consecutive', failures: 5 }, openFor: 60_000, halfOpenRequests: 1 },
};

// A real upstream on a free port: it answers with what it received, /slow answers late.
let upstream: Server;
let upstreamUrl: string;
let deadUrl: string;
let flakyCalls = 0;

beforeAll(async () => {
  upstream = createServer((request, response) => {
    const reply = () => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ path: request.url, requestId: request.headers['x-request-id'], timeoutMs: Number(request.headers['x-request-timeout-ms']) }));
    };
    if (request.url === '/slow') setTimeout(reply, 3_000);
    else if (request.url === '/stream') {
      // no content-length: the gateway streams it on rather than reading it whole
      for (let i = 0; i < 100; i++) response.write(`${String(i).padStart(3, '0')}${'.'.repeat(1020)}\n`);
      response.end();
    } else if (request.url === '/echo') {
      let received = 0;
      request.on('data', (chunk: Buffer) => (received += chunk.length));
      request.on('end', () => response.end(JSON.stringify({ method: request.method, received })));
    } else if (request.url === '/flaky') {
      flakyCalls += 1;
      response.statusCode = flakyCalls < 3 ? 503 : 200;
      response.end(flakyCalls < 3 ? 'not yet' : 'ready');
    } else if (request.url?.startsWith('/created?')) {
      // an answer that points at a resource, as POST /orders → 202 does: Location and
      // Content-Location as the query gives them
      const asked = new URL(request.url, 'http://x').searchParams;
      response.statusCode = 202;
      response.setHeader('location', asked.get('location')!.replace('{self}', `http://${request.headers.host}`));
      response.setHeader('content-location', '/orders/7');
      response.end('created');
    } else if (request.url?.startsWith('/routed/')) {
      // what a generated service says: the route pattern it matched
      response.setHeader('x-route', '/routed/:id');
      response.end('routed');
    } else reply();
  });
  upstreamUrl = await listen(upstream);
  // A port that was just free: nothing listens there, so connecting fails at once.
  const dead = createServer();
  deadUrl = await listen(dead);
  await new Promise((resolve) => dead.close(resolve));
});

afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

function gateway(overrides: Partial<Config> = {}) {
  const up = { name: 'up', url: upstreamUrl, livenessPath: '/healthz', policy };
  const down = { name: 'down', url: deadUrl, livenessPath: '/healthz', policy };
  return buildApp({
    ...defaults,
    upstreams: [up, down],
    routes: [
      { prefix: '/up', upstream: up },
      { prefix: '/down', upstream: down },
    ],
    rateLimitPerSecond: 0,
    ...overrides,
  });
}

describe('the gateway', () => {
  // Built once the upstream listens: its URL is part of the config.
  let app: FastifyInstance;
  beforeAll(() => {
    app = gateway();
  });
  afterAll(() => app.close());

  it('routes by prefix and strips it', async () => {
    const response = await app.inject('/up/items/42?full=1');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ path: '/items/42?full=1' });
    expect((await app.inject('/up')).json()).toMatchObject({ path: '/' });
  });

  it('forwards the caller’s request id, or the one it made up', async () => {
    const given = await app.inject({ url: '/up/items', headers: { 'x-request-id': 'abc-123' } });
    expect(given.json()).toMatchObject({ requestId: 'abc-123' });
    expect(given.headers['x-request-id']).toBe('abc-123');

    const made = await app.inject('/up/items');
    expect(made.json<{ requestId: string }>().requestId).toBe(made.headers['x-request-id']);
  });

  it('streams a large answer of unknown length through whole', async () => {
    const response = await app.inject('/up/stream');
    expect(response.statusCode).toBe(200);
    expect(response.headers['transfer-encoding']).toBe('chunked');
    const lines = response.body.trimEnd().split('\n');
    expect(lines).toHaveLength(100);
    expect(lines.at(-1)!.slice(0, 3)).toBe('099');
  });

  it('passes a request body on as it is', async () => {
    const response = await app.inject({ method: 'POST', url: '/up/echo', payload: 'x'.repeat(200_000), headers: { 'content-type': 'text/plain' } });
    expect(response.json()).toEqual({ method: 'POST', received: 200_000 });
  });

  it('asks again when a GET is answered 503, and passes on the answer that follows', async () => {
    flakyCalls = 0;
    const response = await app.inject('/up/flaky');
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('ready');
    expect(flakyCalls).toBe(3);
  });

  it('answers 502 when an upstream is unreachable', async () => {
    const response = await app.inject('/down/items');
    expect(response.statusCode).toBe(502);
    expect(response.json()).toEqual({ error: 'Bad Gateway', message: 'upstream down is unreachable', upstream: 'down', reason: 'unreachable' });
  });

  it('answers 504 when an upstream is slower than the timeout', async () => {
    const response = await app.inject('/up/slow');
    expect(response.statusCode).toBe(504);
    expect(response.json()).toEqual({ error: 'Gateway Timeout', message: 'upstream up did not answer within 1000 ms', upstream: 'up', reason: 'timeout' });
  });

  it('tells the upstream how long it waits, and gives up sooner when its own client waits less', async () => {
    const told = (await app.inject('/up/items')).json<{ timeoutMs: number }>().timeoutMs;
    expect(told).toBeGreaterThan(500);
    expect(told).toBeLessThanOrEqual(1_000);
    // the client waits 400 ms: the route gives up 40 ms (a tenth, at least 50 ms) before
    const started = performance.now();
    const response = await app.inject({ url: '/up/slow', headers: { 'x-request-timeout-ms': '400' } });
    expect(performance.now() - started).toBeLessThan(800);
    expect(response.statusCode).toBe(504);
    expect(response.json()).toMatchObject({ upstream: 'up', reason: 'timeout', message: expect.stringMatching(/^upstream up did not answer within 3[0-5]\d ms$/) });
  });

  it('opens the route\'s circuit breaker after 5 failed calls: 503 at once, and /metrics says so', async () => {
    // the breaker counts calls, each after its retries; "down" failed once above (the 502),
    // so the fourth call here is the fifth failure in a row, and the calls after it are refused
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await app.inject('/down/items')).statusCode);
    const refused = await app.inject('/down/items');
    expect(statuses).toEqual([502, 502, 502, 502]);
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ upstream: 'down', reason: 'circuit-open' });
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/^upstream_circuit_state\{upstream="down"\} 2$/m);
    expect(metrics).toMatch(/^upstream_circuit_state\{upstream="up"\} 0$/m);
    expect(metrics).toMatch(/^upstream_errors_total\{upstream="down",reason="circuit-open"\} \d+$/m);
  });

  it('serves its own probes and metrics', async () => {
    expect((await app.inject(defaults.health.liveness)).statusCode).toBe(200);
    expect((await app.inject(defaults.health.readiness)).statusCode).toBe(200);
    const metrics = await app.inject('/metrics');
    expect(metrics.body).toMatch(/http_requests_total\{method="GET",route="\/up\/\*",status_code="200"\} \d+/);
    // probes and scrapes are not traffic
    expect(metrics.body).not.toMatch(/route="\/(healthz|readyz|metrics)"/);
  });

  it("puts the route's prefix on a Location the upstream gave about itself, as nginx's proxy_redirect default does", async () => {
    const seen = async (location: string) => {
      const response = await app.inject({ method: 'POST', url: `/up/created?location=${encodeURIComponent(location)}` });
      expect(response.statusCode).toBe(202);
      expect(response.headers['content-location']).toBe('/up/orders/7');
      return response.headers.location;
    };
    expect(await seen('/orders/42')).toBe('/up/orders/42');
    expect(await seen('/orders/42?full=1#top')).toBe('/up/orders/42?full=1#top');
    expect(await seen('/')).toBe('/up/');
    // a URL on the upstream's own origin, as the upstream knows itself (its Host)
    expect(await seen('{self}/orders/42?x=1')).toBe('/up/orders/42?x=1');
    // relative references resolve right as they are; another origin is left alone
    expect(await seen('42')).toBe('42');
    expect(await seen('../orders/42')).toBe('../orders/42');
    expect(await seen('https://pay.example.com/orders/42')).toBe('https://pay.example.com/orders/42');
    expect(await seen('//pay.example.com/x')).toBe('//pay.example.com/x');
  });

  it('counts a request under the route the upstream matched, behind the prefix', async () => {
    const response = await app.inject('/up/routed/7');
    expect(response.headers['x-route']).toBe('/up/routed/:id');
    const metrics = await app.inject('/metrics');
    expect(metrics.body).toMatch(/http_requests_total\{method="GET",route="\/up\/routed\/:id",status_code="200"\} 1\n/);
  });
});

describe('retries on a failed connection', () => {
  // An upstream that takes each request in and then destroys its connection, the first
  // two times: what a replica dying mid-request does. It counts what arrives.
  let arrivals = 0;
  const breaking = createServer((request, response) => {
    arrivals += 1;
    if (arrivals <= 2) request.socket.destroy();
    else response.end('answered');
  });
  let app: FastifyInstance;
  beforeAll(async () => {
    const upstream = { name: 'breaking', url: await listen(breaking), livenessPath: '/healthz', policy };
    app = buildApp({ ...defaults, upstreams: [upstream], routes: [{ prefix: '/breaking', upstream }], rateLimitPerSecond: 0 });
  });
  afterAll(async () => {
    await app.close();
    breaking.closeAllConnections();
    await new Promise((resolve) => breaking.close(resolve));
  });

  it('asks again on a new connection for a GET: the third arrival answers', async () => {
    arrivals = 0;
    const response = await app.inject('/breaking/items');
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('answered');
    expect(arrivals).toBe(3);
  });

  it('never asks twice for a POST: one arrival, and a 502', async () => {
    arrivals = 0;
    const response = await app.inject({ method: 'POST', url: '/breaking/items', payload: '{}', headers: { 'content-type': 'application/json' } });
    expect(response.statusCode).toBe(502);
    expect(arrivals).toBe(1);
  });
});

describe('rate limiting', () => {
  it('answers 429 past the limit per client, and never limits probes or metrics', async () => {
    const app = gateway({ rateLimitPerSecond: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await app.inject('/up/items')).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);

    const limited = await app.inject('/up/items');
    expect(limited.json()).toMatchObject({ error: 'Too Many Requests' });
    expect(limited.headers['retry-after']).toBeDefined();

    for (const url of [defaults.health.liveness, defaults.health.readiness, '/metrics']) {
      expect((await app.inject(url)).statusCode).toBe(200);
    }
    await app.close();
  });
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
