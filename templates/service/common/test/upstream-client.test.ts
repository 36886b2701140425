import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Upstream } from '../src/config.js';
import { DEFAULT_CALL_POLICY, type CallPolicy } from '../src/generated/spec.js';
import { UpstreamClient, UpstreamError, type Fallback, type Fallbacks } from '../src/platform/http-client.js';

// The upstream client's policies against a real server on a free port, which counts what
// it receives: the independent count every assertion here is checked against.

/** The defaults, but retries at once, all of them 503s, within a budget that never refills
 * by itself, and a breaker that only the tests that want one trip. */
const base: CallPolicy = {
  ...DEFAULT_CALL_POLICY,
  // far above what a busy machine adds to a quick answer: only /hang runs into it
  timeoutMs: 2_000,
  retry: { ...DEFAULT_CALL_POLICY.retry, maxRetries: 3, backoff: 'constant', initial: 1, minRetriesPerSecond: 0 },
  circuitBreaker: { trip: { kind: 'consecutive', failures: 1_000 }, openFor: 60_000, halfOpenRequests: 1 },
};

let server: Server;
let url: string;
const received = new Map<string, number>();
/** The x-request-timeout-ms of the latest request: how long the caller said it waits. */
let told: number | undefined;
const inFlight = { now: 0, most: 0 };
/** /reset-burst: requests held until this many have come, then all their connections
 * closed at once, as a replica that dies drops what it had in flight; later ones answered. */
const burst = { size: 0, held: [] as ServerResponse[] };

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = request.url ?? '/';
    received.set(path, (received.get(path) ?? 0) + 1);
    told = Number(request.headers['x-request-timeout-ms']);
    if (path === '/unavailable') {
      response.statusCode = 503;
      response.end('no');
    } else if (path === '/passed-on') {
      // the upstream is up, and answers that one of *its* upstreams failed
      response.statusCode = 503;
      response.setHeader('x-failed-upstream', 'payments');
      response.end('payments failed');
    } else if (path === '/slow') {
      inFlight.now += 1;
      inFlight.most = Math.max(inFlight.most, inFlight.now);
      setTimeout(() => {
        inFlight.now -= 1;
        response.end('late');
      }, 150);
    } else if (path === '/reset-burst' && burst.held.length < burst.size) {
      burst.held.push(response);
      if (burst.held.length === burst.size) for (const held of burst.held) held.socket?.destroy();
    } else if (path === '/hang') {
      // never answers: only the caller's deadline ends the call
    } else response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(policy: Partial<CallPolicy>, fallbacks?: Record<string, Fallback>) {
  const registry = new Registry();
  const upstream = { name: 'users', url, livenessPath: '/healthz', policy: { ...base, ...policy } } as Upstream;
  return { registry, client: new UpstreamClient([upstream], { registry, log: Fastify().log, fallbacks: fallbacks as Fallbacks }) };
}

const call = (upstreams: UpstreamClient, path: string, method = 'GET') =>
  upstreams.fetch('users', path, { requestId: 'test', method }).then(
    async (response) => ({ status: response.status, body: await response.text() }),
    (error: unknown) => error,
  );

const metric = async (registry: Registry, name: string) =>
  Number(/ (\d+(\.\d+)?)$/m.exec((await registry.metrics()).split('\n').filter((line) => line.startsWith(name)).join('\n'))?.[1] ?? 0);

describe('the upstream client', () => {
  it('keeps retries within the budget: what the upstream received ≤ (1 + budget) × first tries', async () => {
    received.set('/unavailable', 0);
    const { client: upstreams, registry } = client({});
    const first = 200;
    for (let i = 0; i < first; i++) expect(await call(upstreams, '/unavailable')).toMatchObject({ status: 503 });
    const got = received.get('/unavailable')!;
    expect(got).toBeGreaterThan(first); // it did retry
    expect(got).toBeLessThanOrEqual(Math.floor(first * 1.1) + 1);
    expect(await metric(registry, 'upstream_retry_budget_exhausted_total')).toBeGreaterThan(0);
    expect(await metric(registry, 'upstream_retries_total')).toBe(got - first);
  });

  it('retries a GET but never a POST unless the target allows it', async () => {
    received.set('/unavailable', 0);
    const generous = { ...base.retry, budget: 1, minRetriesPerSecond: 100 };
    expect(await call(client({ retry: generous }).client, '/unavailable')).toMatchObject({ status: 503 });
    expect(received.get('/unavailable')).toBe(4);
    expect(await call(client({ retry: generous }).client, '/unavailable', 'POST')).toMatchObject({ status: 503 });
    expect(received.get('/unavailable')).toBe(5);
    expect(await call(client({ retry: generous, retryNonIdempotent: true }).client, '/unavailable', 'POST')).toMatchObject({ status: 503 });
    expect(received.get('/unavailable')).toBe(9);
  });

  it('ends a call at its timeout with a 503 naming the upstream and the reason', async () => {
    const { client: upstreams, registry } = client({ timeoutMs: 100 });
    const started = performance.now();
    const error = await call(upstreams, '/hang');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ statusCode: 503, upstream: 'users', reason: 'timeout' });
    expect(await metric(registry, 'upstream_timeouts_total')).toBe(1);
  });

  it("ends a call at its caller's deadline when that comes first, and tells the upstream how long it waits", async () => {
    const { client: upstreams } = client({ timeoutMs: 2_000 });
    await call(upstreams, '/ok');
    expect(told).toBeGreaterThan(1_000);
    expect(told).toBeLessThanOrEqual(2_000);
    const started = performance.now();
    const error = await upstreams.fetch('users', '/hang', { requestId: 'test', deadline: started + 200 }).catch((failure: unknown) => failure);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error).toMatchObject({ statusCode: 503, upstream: 'users', reason: 'timeout' });
    expect(told).toBeLessThanOrEqual(200);
  });

  it('opens the breaker at its trip, refuses calls without sending them, and says so on /metrics', async () => {
    received.set('/unavailable', 0);
    const { client: upstreams, registry } = client({
      retry: { ...base.retry, maxRetries: 0 },
      circuitBreaker: { trip: { kind: 'consecutive', failures: 3 }, openFor: 60_000, halfOpenRequests: 1 },
    });
    for (let i = 0; i < 3; i++) expect(await call(upstreams, '/unavailable')).toMatchObject({ status: 503 });
    expect(await call(upstreams, '/unavailable')).toMatchObject({ reason: 'circuit-open', upstream: 'users' });
    expect(received.get('/unavailable')).toBe(3);
    expect(await registry.metrics()).toMatch(/^upstream_circuit_state\{upstream="users"\} 2$/m);
    expect(await registry.metrics()).toMatch(/^upstream_circuit_transitions_total\{upstream="users",to="open"\} 1$/m);
  });

  it('does not count a 503 that names a failed upstream of the upstream\'s against its breaker', async () => {
    received.set('/passed-on', 0);
    const { client: upstreams, registry } = client({
      retry: { ...base.retry, maxRetries: 0 },
      circuitBreaker: { trip: { kind: 'consecutive', failures: 2 }, openFor: 60_000, halfOpenRequests: 1 },
    });
    for (let i = 0; i < 4; i++) expect(await call(upstreams, '/passed-on')).toMatchObject({ status: 503, body: 'payments failed' });
    expect(received.get('/passed-on')).toBe(4);
    expect(await registry.metrics()).toMatch(/^upstream_circuit_state\{upstream="users"\} 0$/m);
    // while the same 503 without the name is the upstream's own failure: 2 open the breaker
    for (let i = 0; i < 2; i++) await call(upstreams, '/unavailable');
    expect(await call(upstreams, '/passed-on')).toMatchObject({ reason: 'circuit-open' });
  });

  it('counts calls, not tries: five calls reset at once and answered on their retries leave it closed', async () => {
    received.set('/reset-burst', 0);
    Object.assign(burst, { size: 5, held: [] });
    const { client: upstreams, registry } = client({
      retry: { ...base.retry, minRetriesPerSecond: 10 },
      circuitBreaker: { trip: { kind: 'consecutive', failures: 3 }, openFor: 60_000, halfOpenRequests: 1 },
    });
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(upstreams, '/reset-burst')));
    expect(answers).toEqual(Array.from({ length: 5 }, () => ({ status: 200, body: 'ok' })));
    expect(received.get('/reset-burst')).toBe(10);
    expect(await metric(registry, 'upstream_retries_total')).toBe(5);
    expect(await registry.metrics()).toMatch(/^upstream_circuit_state\{upstream="users"\} 0$/m);
    expect(await registry.metrics()).not.toMatch(/^upstream_circuit_transitions_total\{upstream="users",to="open"\}/m);
  });

  it('half-opens after openFor and closes on a good trial call', async () => {
    const { client: upstreams, registry } = client({
      retry: { ...base.retry, maxRetries: 0 },
      circuitBreaker: { trip: { kind: 'consecutive', failures: 2 }, openFor: 200, halfOpenRequests: 1 },
    });
    for (let i = 0; i < 2; i++) await call(upstreams, '/unavailable');
    expect(await call(upstreams, '/ok')).toMatchObject({ reason: 'circuit-open' });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await call(upstreams, '/ok')).toMatchObject({ status: 200 });
    expect(await registry.metrics()).toMatch(/^upstream_circuit_state\{upstream="users"\} 0$/m);
  });

  it('keeps calls in flight within the bulkhead and refuses those past its queue', async () => {
    inFlight.most = 0;
    const { client: upstreams, registry } = client({ bulkhead: { maxConcurrent: 3, maxQueue: 2 }, timeoutMs: 2_000 });
    const results = await Promise.all(Array.from({ length: 10 }, () => call(upstreams, '/slow')));
    expect(inFlight.most).toBe(3);
    expect(results.filter((result) => (result as { status?: number }).status === 200)).toHaveLength(5);
    expect(results.filter((result) => (result as { reason?: string }).reason === 'bulkhead-full')).toHaveLength(5);
    expect(await metric(registry, 'upstream_bulkhead_rejections_total')).toBe(5);
  });

  it('hands a freed bulkhead slot past a queued call whose deadline has passed, to the next live one', async () => {
    const { client: upstreams } = client({ bulkhead: { maxConcurrent: 1, maxQueue: 2 }, timeoutMs: 2_000 });
    const started = performance.now();
    const holding = call(upstreams, '/slow'); // the one slot, for 150 ms
    // queued behind it: one whose caller gives up after 50 ms, then one with time to spare
    const abandoned = upstreams.fetch('users', '/slow', { requestId: 'test', deadline: started + 50 }).catch((failure: unknown) => failure);
    const next = call(upstreams, '/slow');
    expect(await abandoned).toMatchObject({ reason: 'timeout' });
    expect(await holding).toMatchObject({ status: 200 });
    // it starts as the slot frees (~150 ms), not when its own 2 s deadline ends the wait
    expect(await next).toMatchObject({ status: 200 });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('answers with the service\'s own fallback for a target marked custom', async () => {
    // (typed by name in a service that calls users; this test runs in every service)
    const fallbacks: Record<string, Fallback> = { users: (failure) => Response.json({ cached: true, reason: failure.reason }) };
    const { client: upstreams } = client({ timeoutMs: 50, fallback: 'custom' }, fallbacks);
    expect(await call(upstreams, '/hang')).toEqual({ status: 200, body: JSON.stringify({ cached: true, reason: 'timeout' }) });
    // marked default, the same hook is not used
    expect(await call(client({ timeoutMs: 50 }, fallbacks).client, '/hang')).toBeInstanceOf(UpstreamError);
  });
});
