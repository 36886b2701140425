import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startService, waitUntil, type RunningService } from '../support/services.js';

const project = inject('sampleProject');

describe.each(['users', 'orders', 'api-gateway'])('service %s', (name) => {
  it.each(['test', 'typecheck'])('passes its own npm run %s', async (script) => {
    const result = await execa('npm', ['run', script], { cwd: path.join(project, 'services', name), reject: false, stdin: 'ignore' });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
  });
});

describe('the classic system, running', () => {
  const running: RunningService[] = [];
  let users: RunningService;
  let orders: RunningService;
  let gateway: RunningService;

  beforeAll(async () => {
    users = await startService(project, 'users');
    orders = await startService(project, 'orders', { USERS_URL: users.url });
    gateway = await startService(project, 'api-gateway', { USERS_URL: users.url, ORDERS_URL: orders.url });
    running.push(users, orders, gateway);
  });
  afterAll(async () => {
    await Promise.all(running.map((service) => service.stop()));
  });

  it('answers health, readiness and metrics', async () => {
    for (const service of [users, orders, gateway]) {
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(/^# TYPE http_request_duration_seconds histogram$/m);
      expect(metrics).toMatch(/^process_cpu_user_seconds_total /m);
    }
  });

  it("serves metrics Prometheus's own linter passes", async () => {
    for (const service of [users, orders, gateway]) {
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      const lint = await execa('promtool', ['check', 'metrics'], { input: metrics, reject: false });
      expect(`${lint.exitCode} ${lint.stdout}${lint.stderr}`.trim()).toBe('0');
    }
  });

  it('counts the requests a client sent, not the probes or scrapes between them', async () => {
    const service = await startService(project, 'users');
    running.push(service);
    let sent = 0;
    for (let round = 0; round < 5; round++) {
      for (const probe of ['/healthz', '/readyz', '/metrics']) await (await fetch(`${service.url}${probe}`)).text();
      await (await fetch(`${service.url}/items`)).text();
      await (await fetch(`${service.url}/items/nope`)).text();
      sent += 2;
    }
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const counted = [...metrics.matchAll(/^http_requests_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(counted).toBe(sent);
  });

  it("labels the gateway's requests by the route behind each prefix", async () => {
    for (let i = 0; i < 3; i++) await (await fetch(`${gateway.url}/orders/items/nope-${i}`)).text();
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/^http_requests_total\{method="GET",route="\/orders\/items\/:id",status_code="404"\} 3$/m);
  });

  it('serves the example resource with validation', async () => {
    const created = await fetch(`${users.url}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ada' }),
    });
    expect(created.status).toBe(201);
    const item = (await created.json()) as { id: string; name: string };
    expect(item.name).toBe('ada');
    expect(await (await fetch(`${users.url}/items/${item.id}`)).json()).toMatchObject({ name: 'ada' });

    const bad = await fetch(`${users.url}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nom: 1 }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { message: string };
    expect(body.message).toMatch(/name/);
    expect(JSON.stringify(body)).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('routes through the gateway, stripping the prefix and keeping the request id', async () => {
    const response = await fetch(`${gateway.url}/users/items`, { headers: { 'x-request-id': 'trace-me-1' } });
    expect(response.status).toBe(200);
    expect(Array.isArray(await response.json())).toBe(true);
    expect(response.headers.get('x-request-id')).toBe('trace-me-1');
    expect((await fetch(`${gateway.url}/orders/healthz`)).status).toBe(200);
  });

  it('calls its dependencies through the client, propagating the request id', async () => {
    const response = await fetch(`${gateway.url}/orders/upstreams`, { headers: { 'x-request-id': 'trace-me-2' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ users: { ok: true, status: 200 } });
  });

  it('answers 502 when an upstream is down', async () => {
    const port = await freePort();
    const lonely = await startService(project, 'api-gateway', {
      USERS_URL: `http://127.0.0.1:${port}`,
      ORDERS_URL: orders.url,
    });
    running.push(lonely);
    const response = await fetch(`${lonely.url}/users/items`);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: 'Bad Gateway' });
  });

  it('refuses a bad configuration with one line naming the variable', async () => {
    const result = await execa('node', ['dist/main.js'], {
      cwd: path.join(project, 'services/users'),
      env: { PORT: 'abc' },
      reject: false,
      stdin: 'ignore',
      timeout: 15_000,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/PORT/);
  });

  it('writes one access line per request, with what a reader needs, and none for probes', async () => {
    const service = await startService(project, 'users', { LOG_LEVEL: 'info' });
    await fetch(`${service.url}/items/nope?x=1`, { headers: { 'x-request-id': 'log-me-1' } });
    await fetch(`${service.url}/healthz`, { headers: { 'x-request-id': 'log-me-2' } });
    expect(await service.stop()).toBe(0);
    const lines = (await service.process).stdout.toString().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((line) => line.reqId === 'log-me-1')).toEqual([
      expect.objectContaining({ msg: 'request completed', method: 'GET', url: '/items/nope?x=1', statusCode: 404, responseTime: expect.any(Number), time: expect.any(Number), remoteAddress: '127.0.0.1', remotePort: expect.any(Number) }),
    ]);
    expect(lines.filter((line) => line.reqId === 'log-me-2')).toEqual([]);
  });

  it("serves with process.nextTick's tick literal monomorphic in V8 (the start-up warm-up)", async () => {
    // warm-up.ts: left cold through start-up, three of its four caches were megamorphic
    // under load, and every request paid ~5 µs for it. V8 describes its own feedback when
    // asked (--allow-natives-syntax); the fixture asks on SIGUSR2.
    const probe = fileURLToPath(new URL('../fixtures/print-next-tick-feedback.mjs', import.meta.url));
    const service = await startService(project, 'users', {}, ['--allow-natives-syntax', '--import', probe]);
    running.push(service);
    const load = await autocannon({ url: `${service.url}/healthz`, connections: 32, duration: 2 });
    expect(load.non2xx + load.errors).toBe(0);
    let printed = '';
    service.process.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const states = () => [...printed.matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((match) => match[1]);
    service.process.kill('SIGUSR2');
    await waitUntil(async () => states().length >= 4, 5_000).catch(() => undefined);
    expect(await service.stop()).toBe(0);
    expect(states().slice(0, 4), `${printed.length} bytes printed: ${printed.slice(0, 300)}`).toEqual(['MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC']);
  });

  it('drains and exits cleanly on SIGTERM', async () => {
    const service = await startService(project, 'users');
    const started = Date.now();
    expect(await service.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
