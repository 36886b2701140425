import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadResult } from '../../src/simulate/load/result.js';
import type { QueueStatus } from '../../src/runtime/queues.js';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import { chartRecordingPage, chartsOf, haveChromium, launchChromium, openReport } from '../support/chromium.js';
import { REPO, scaffold } from '../support/cli.js';
import { waitUntil } from '../support/services.js';

const STALLED_INTERVAL_MS = 2000;
/** Small, so a few thousand cached lists fill it several times over. */
const CACHE_MAXMEMORY = '2mb';
const ATTEMPTS = 3;

const SPEC = `name: jobs
services:
  orders:
    port: 3782
    replicas: 2
    enqueues: [payments]
  payments:
    pattern: worker
    port: 3783
    replicas: 2
    queue: payments
    # long enough that a kill lands after some job's charge and before its end
    env: { PAYMENT_WORK_MS: "100" }
  catalog:
    port: 3784
    cache: { server: cache, ttl: 60s }
infrastructure:
  # two Redis servers, each under its own name: the queue's never evicts, the cache's does
  cache: { kind: redis, maxmemory: ${CACHE_MAXMEMORY} }
  queue:
    kind: redis
    queues:
      payments:
        attempts: ${ATTEMPTS}
        backoff: { type: fixed, delayMs: 200 }
        concurrency: 50
        stalledIntervalMs: ${STALLED_INTERVAL_MS}
`;

/** Counts the orders created since ARGV[1] (ms; all without it) by status, and the longest
 * any took from creation to its final state, inside Redis, read by the test straight from
 * the server. */
const ORDERS_SCRIPT = `
local counts = { processing = 0, paid = 0, failed = 0 }
local longest = 0
local since = tonumber(ARGV[1] or '0')
for _, key in ipairs(redis.call('KEYS', 'order:*')) do
  local status, created, updated = unpack(redis.call('HMGET', key, 'status', 'createdAt', 'updatedAt'))
  if tonumber(created) >= since then
    counts[status] = (counts[status] or 0) + 1
    if status ~= 'processing' then longest = math.max(longest, tonumber(updated) - tonumber(created)) end
  end
end
return { counts.processing, counts.paid, counts.failed, longest }`;

/**
 * Background jobs on the process runtime, one generated project: an http-api that enqueues
 * (POST /orders → 202) and a worker that pays each order, on a queue Redis of their own,
 * and beside it a cache Redis for a catalog's GET responses (named entries of one kind).
 * The oracle is Redis itself, read by redis-cli: the orders, the charge ledger, BullMQ's
 * own job records and each server's INFO counters — never a count the services report
 * about themselves.
 */
describe('background jobs: orders paid once by a worker (process runtime)', () => {
  const parent = path.join(REPO, 'test/.artifacts', `jobs-${process.pid}`);
  const project = path.join(parent, 'jobs');
  let system: SystemStatus;
  let redisUrl: string;
  const ordersUrl = 'http://127.0.0.1:3782';
  const redis = async (...args: string[]) => (await execa('redis-cli', ['-u', redisUrl, ...args])).stdout.trim();
  let cacheUrl: string;
  const catalogUrl = 'http://127.0.0.1:3784';
  const cache = async (...args: string[]) => (await execa('redis-cli', ['-u', cacheUrl, ...args])).stdout.trim();
  /** A counter of a server's own `INFO stats` (evicted_keys, keyspace_hits). */
  const stat = async (cli: typeof redis, field: string) => Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await cli('INFO', 'stats'))![1]);
  /** `count` GETs of the catalog's list, each its own URL (so its own cache entry), 16 at a
   * time: the status codes and x-cache answers counted, and the slowest (ms). */
  const browse = async (tag: string, count: number) => {
    const answers = new Map<string, number>();
    let slowestMs = 0;
    let next = 0;
    const one = async () => {
      for (let page = next++; page < count; page = next++) {
        const started = performance.now();
        const response = await fetch(`${catalogUrl}/items/?${tag}=${page}`);
        await response.arrayBuffer();
        slowestMs = Math.max(slowestMs, performance.now() - started);
        const key = `${response.status} ${response.headers.get('x-cache')}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, one));
    return { answers: Object.fromEntries(answers), slowestMs };
  };
  const status = async () => JSON.parse((await scaffold(['status', '--json'], { cwd: project })).stdout) as SystemStatus;
  const payments = async () => (await status()).queues!.find((queue) => queue.name === 'payments') as QueueStatus;

  /** Where the charge ledger is now, to judge what a step adds to it. */
  const ledger = async () => ({ at: Date.now(), charged: Number(await redis('LLEN', 'ledger:charges')) });
  const placeOrders = (rate: number, seconds: number, extra: string[] = []) =>
    scaffold(['simulate', 'load', `${ordersUrl}/orders`, '--method', 'POST', '--header', 'content-type: application/json', '--body', '{"amount":2}', '--rate', String(rate), '-d', `${seconds}s`, '--json', ...extra], { cwd: project });
  /**
   * Waits until the orders placed since `before` settle: every one a client was answered
   * 202 for is paid, and every order paid was charged exactly once. An order whose POST
   * failed (created before its enqueue failed, in an outage) may stay processing. Returns
   * the longest wait (ms) of those orders.
   */
  const expectPaidOnce = async (before: { at: number; charged: number }, load: LoadResult): Promise<number> => {
    const accepted = load.summary.statusCodes['202'] ?? 0;
    const unanswered = load.summary.requests - accepted;
    let counts: number[] = [];
    await waitUntil(async () => {
      counts = (await redis('EVAL', ORDERS_SCRIPT, '0', String(before.at))).split('\n').map(Number);
      return counts[0]! <= unanswered && counts[1]! >= accepted;
    }, 30_000).catch(() => undefined);
    const [processing, paid, , longestMs] = counts as [number, number, number, number];
    expect(processing, 'orders still processing').toBeLessThanOrEqual(unanswered);
    expect(paid).toBeGreaterThanOrEqual(accepted);
    const charges = (await redis('LRANGE', 'ledger:charges', String(before.charged), '-1')).split('\n');
    expect(new Set(charges.map((entry) => entry.split(':')[0])).size).toBe(charges.length);
    expect(charges.length).toBe(paid);
    return longestMs;
  };

  beforeAll(async () => {
    rmSync(parent, { recursive: true, force: true });
    mkdirSync(parent, { recursive: true });
    expect((await scaffold(['init', 'jobs', '--yes'], { cwd: parent })).exitCode).toBe(0);
    writeFileSync(path.join(project, 'scaffold.yaml'), SPEC);
    const generated = await scaffold(['generate'], { cwd: project });
    expect(generated.exitCode, generated.stderr).toBe(0);
    await execa('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, stdin: 'ignore' });
    const up = await scaffold(['up', '--json'], { cwd: project });
    expect(up.exitCode, up.stderr).toBe(0);
    system = JSON.parse(up.stdout) as SystemStatus;
    redisUrl = system.infrastructure.find((infra) => infra.name === 'queue')!.url;
    cacheUrl = system.infrastructure.find((infra) => infra.name === 'cache')!.url;
  }, 300_000);

  afterAll(async () => {
    await scaffold(['down', '--volumes'], { cwd: project });
    rmSync(parent, { recursive: true, force: true });
  });

  it('runs the queue\'s Redis with noeviction and an append-only file, under .scaffold/data/', async () => {
    expect(await redis('CONFIG', 'GET', 'maxmemory-policy')).toBe('maxmemory-policy\nnoeviction');
    expect(await redis('CONFIG', 'GET', 'appendonly')).toBe('appendonly\nyes');
    expect(await redis('CONFIG', 'GET', 'dir')).toBe(`dir\n${path.join(project, '.scaffold/data/queue')}`);
  });

  it("refuses to scale or restart the queue's Redis, saying it is a server and what restarts it", async () => {
    for (const command of [['scale', 'queue', '2'], ['restart', 'queue']]) {
      const result = await scaffold(command, { cwd: project });
      expect(result.exitCode).toBe(2);
      // before: 'no service "queue" in this run (…; infrastructure: queue)'
      expect(result.stderr).toMatch(/^error: queue is an infrastructure server, not a service: it runs one instance \(`scaffold chaos kill-service queue` restarts it\); services: /);
    }
  });

  it('answers POST /orders with 202 and a Location; every replica shows the order processing, then paid, charged once', async () => {
    const placed = await fetch(`${ordersUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":42}' });
    expect(placed.status).toBe(202);
    const { id, status: first } = (await placed.json()) as { id: string; status: string };
    expect(first).toBe('processing');
    expect(placed.headers.get('location')).toBe(`/orders/${id}`);
    const replicas = system.services.find((s) => s.name === 'orders')!.instances.map((instance) => `http://127.0.0.1:${instance.port}`);
    expect(replicas).toHaveLength(2);
    await waitUntil(async () => (await redis('HGET', `order:${id}`, 'status')) === 'paid', 10_000);
    for (const replica of replicas) {
      const order = (await (await fetch(`${replica}${placed.headers.get('location')}`)).json()) as { status: string; amount: number };
      expect(order).toMatchObject({ id, status: 'paid', amount: 42 });
    }
    expect(await redis('LRANGE', 'ledger:charges', '0', '-1')).toBe(`${id}:42`);
    expect((await fetch(`${ordersUrl}/orders/nobody`)).status).toBe(404);
  });

  it('a poison job is tried every attempt, then lands in the dead-letter queue; the order failed and status shows it', async () => {
    const placed = await fetch(`${ordersUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":5,"card":"declined"}' });
    expect(placed.status).toBe(202);
    const { id } = (await placed.json()) as { id: string };
    await waitUntil(async () => (await redis('HGET', `order:${id}`, 'status')) === 'failed', 15_000);
    // BullMQ's own record of the job, and of its copy in the dead-letter queue
    expect(await redis('HGET', `bull:payments:${id}`, 'atm')).toBe(String(ATTEMPTS)); // attempts made
    expect(await redis('EXISTS', `bull:payments-dead:${id}`)).toBe('1');
    expect(await redis('LRANGE', 'ledger:charges', '0', '-1')).not.toContain(id);
    const queue = await payments();
    expect(queue).toMatchObject({ name: 'payments', infrastructure: 'queue', deadLetters: 1, deadLetterQueue: 'payments-dead' });
    expect(queue.retried).toBeGreaterThanOrEqual(ATTEMPTS - 1);
    const human = await scaffold(['status'], { cwd: project });
    expect(human.stdout).toMatch(/queue payments .*backlog \d+ .*dead letters 1 \(payments-dead\) on queue/);
  });

  it('200 orders/s for 20 s with a worker SIGKILLed mid-job: every order ends paid, charged exactly once, none waiting past the stalled interval + 2 s', async () => {
    const chargedBefore = Number(await redis('LLEN', 'ledger:charges'));
    const paidBefore = Number((await redis('EVAL', ORDERS_SCRIPT, '0')).split('\n')[1]);
    const load = scaffold(
      ['simulate', 'load', `${ordersUrl}/orders`, '--method', 'POST', '--header', 'content-type: application/json', '--body', '{"amount":7}', '--rate', '200', '-d', '20s', '--json'],
      { cwd: project },
    );
    // at a random moment in the middle of the load, while jobs are running
    await new Promise((resolve) => setTimeout(resolve, 4000 + Math.random() * 8000));
    const victim = (await status()).services.find((s) => s.name === 'payments')!.instances[0]!;
    const active = (await payments()).active;
    const kill = await scaffold(['chaos', 'kill-service', 'payments', '--instance', victim.id, '--json'], { cwd: project });
    expect(kill.exitCode, kill.stderr).toBe(0);
    const result = JSON.parse((await load).stdout) as LoadResult;
    const accepted = result.summary.statusCodes['202'] ?? 0;
    expect(accepted).toBeGreaterThan(3500);

    let counts: number[] = [];
    await waitUntil(async () => {
      counts = (await redis('EVAL', ORDERS_SCRIPT, '0')).split('\n').map(Number);
      return counts[0] === 0;
    }, 30_000).catch(() => undefined);
    const [processing, paid, , longestMs] = counts as [number, number, number, number];
    expect(processing, 'orders never settled').toBe(0);
    expect(paid - paidBefore).toBe(accepted);
    const charges = (await redis('LRANGE', 'ledger:charges', String(chargedBefore), '-1')).split('\n');
    expect(charges).toHaveLength(accepted);
    expect(new Set(charges.map((entry) => entry.split(':')[0])).size).toBe(accepted);
    // the bound, stalled interval + 2 s: the workers take a dead one's jobs up
    // within the interval (1.3-1.9 s seen here, on a machine shared with other suites;
    // 3.9-4.9 s here, 6.1 s once in CI, while BullMQ checked once per interval)
    console.log(`a payments worker SIGKILLed under 200 orders/s: the longest wait ${longestMs} ms (bound ${STALLED_INTERVAL_MS + 2000} ms)`);
    expect(longestMs).toBeLessThanOrEqual(STALLED_INTERVAL_MS + 2000);
    // jobs were under way when the kill came (how many of them the victim held, BullMQ
    // does not say: the workers' own stalled count is left out of the verdict)
    expect(active).toBeGreaterThan(0);
  }, 90_000);

  it("the queue's Redis SIGKILLed under orders: restarted from its append-only file, every order answered 202 is paid, once", async () => {
    const before = await ledger();
    const load = placeOrders(100, 8);
    await new Promise((resolve) => setTimeout(resolve, 2000 + Math.random() * 3000));
    const kill = await scaffold(['chaos', 'kill-service', 'queue', '--json'], { cwd: project });
    expect(kill.exitCode, kill.stderr).toBe(0);
    const result = JSON.parse((await load).stdout) as LoadResult;
    expect(result.summary.statusCodes['202'] ?? 0).toBeGreaterThan(300);
    await expectPaidOnce(before, result);
  }, 90_000);

  it('a load on POST /orders with every payments worker paused 2 s: enqueued → processed latency and backlog per second, in the JSON and the report; every order paid once', async () => {
    const before = await ledger();
    const report = path.join(parent, 'orders-report.html');
    // 9 s: a chaos command takes a second or more to start on a loaded machine, and the
    // pause must fall well inside the load
    const load = placeOrders(100, 9, ['--report', report]);
    // at a random moment while orders arrive: no worker takes a job for 2 s
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1000));
    const pause = await scaffold(['chaos', 'pause', 'payments', '--for', '2s', '--json'], { cwd: project });
    expect(pause.exitCode, pause.stderr).toBe(0);
    const run = await load;
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as LoadResult;
    const accepted = result.summary.statusCodes['202'] ?? 0;
    expect(accepted).toBe(result.summary.requests);
    const longestMs = await expectPaidOnce(before, result);

    // every job the load enqueued, measured; against the orders' own times in Redis
    const jobs = result.jobs!;
    expect(jobs).toMatchObject({ queues: ['payments'], processed: accepted, failed: 0, unprocessed: 0 });
    expect(jobs.series.reduce((total, second) => total + second.processed, 0)).toBe(accepted);
    // the pause shows: some job waited it out, and the orders piled up
    expect(jobs.endToEnd.max).toBeGreaterThanOrEqual(1500);
    expect(Math.abs(jobs.endToEnd.max - longestMs)).toBeLessThan(500);
    expect(jobs.endToEnd.p50).toBeGreaterThanOrEqual(100); // PAYMENT_WORK_MS
    // each second keeps its last backlog reading (they are 250 ms apart), so a 2 s pause at
    // a random phase of the run's seconds ends a second with 1 to 2 s of orders waiting:
    // 100 to 200 at 100/s (135 and 149 seen on a quiet machine); less with room for a loaded one
    const peak = Math.max(...jobs.series.map((second) => second.backlog));
    expect(peak).toBeGreaterThanOrEqual(80);
    expect(peak).toBeLessThanOrEqual(accepted);
    expect(jobs.series.at(-1)!.backlog).toBe(0);
    console.log(
      `orders with the workers paused 2 s: ${accepted} jobs, enqueued → processed p50 ${jobs.endToEnd.p50} ms, p99 ${jobs.endToEnd.p99} ms, max ${jobs.endToEnd.max} ms (the orders' own longest wait ${longestMs} ms); backlog peak ${peak}`,
    );

    if (!haveChromium) return;
    const browser = await launchChromium();
    try {
      const { page, problems } = await openReport(browser, report, await chartRecordingPage(browser));
      await page.waitForFunction(() => document.querySelectorAll('.uplot canvas').length === 6);
      const charts = await chartsOf(page);
      expect(charts.get('jobs-latency')!.slice(1)).toEqual([jobs.series.map((second) => second.p99)]);
      expect(charts.get('backlog')!.slice(1)).toEqual([jobs.series.map((second) => second.backlog)]);
      expect(await page.locator('#end-to-end').innerText()).toMatch(new RegExp(`enqueued → processed p99\\s*${jobs.endToEnd.p99} ms`));
      expect(problems).toEqual([]);
      await page.screenshot({ path: path.join(REPO, 'test/.artifacts', 'jobs-report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
    expect(readFileSync(report, 'utf8')).toContain('Jobs: backlog (waiting, running or retrying)');
  }, 90_000);

  it("one payments worker paused 3 s, then the queue's Redis paused 2 s, under POST /orders: every order answered 202 is paid once after the pauses", async () => {
    const before = await ledger();
    // 10 s: a chaos command takes a second or two to start on a loaded machine, and the
    // Redis pause must fall inside the load
    const load = placeOrders(100, 10);
    const at = (ms: number) => new Promise((resolve) => setTimeout(resolve, before.at + ms - Date.now()));
    // the worker's jobs under way stall (its locks run out: 1 s) and the other takes them
    // up; thawed, it finishes them too, and the idempotency key keeps the charge single
    await at(500 + Math.random() * 1000);
    const victim = (await status()).services.find((s) => s.name === 'payments')!.instances[Math.round(Math.random())]!;
    const worker = await scaffold(['chaos', 'pause', 'payments', '--instance', victim.id, '--for', '3s', '--json'], { cwd: project });
    expect(worker.exitCode, worker.stderr).toBe(0);
    await at(4500 + Math.random() * 1000);
    const redisPause = await scaffold(['chaos', 'pause', 'queue', '--for', '2s', '--json'], { cwd: project });
    expect(redisPause.exitCode, redisPause.stderr).toBe(0);
    const result = JSON.parse((await load).stdout) as LoadResult;
    // the orders' POSTs wait out the Redis pause: every one is answered 202
    expect(result.summary.statusCodes['202']).toBe(result.summary.requests);
    const longestMs = await expectPaidOnce(before, result);
    // orders placed as the Redis pause began waited it out
    expect(longestMs).toBeGreaterThanOrEqual(1500);
  }, 90_000);

  it("one POST /orders is one trace: the worker's span is a child of the request's, and its log lines carry the request id", async () => {
    const placed = await fetch(`${ordersUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":11}' });
    expect(placed.status).toBe(202);
    const requestId = placed.headers.get('x-request-id')!;
    const { id } = (await placed.json()) as { id: string };
    await waitUntil(async () => (await redis('HGET', `order:${id}`, 'status')) === 'paid', 10_000);
    type Row = { span: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: string; service: string } };
    let rows: Row[] = [];
    await waitUntil(async () => {
      const found = JSON.parse((await scaffold(['traces', '--request', requestId, '--json'], { cwd: project })).stdout) as { traceId: string }[];
      if (found.length !== 1) return false;
      rows = (JSON.parse((await scaffold(['traces', found[0]!.traceId, '--json'], { cwd: project })).stdout) as { rows: Row[] }).rows;
      return rows.some((row) => row.span.service === 'payments');
    }, 15_000);
    const request = rows.find((row) => row.span.service === 'orders' && row.span.kind === 'server')!;
    const job = rows.find((row) => row.span.service === 'payments')!;
    expect(job.span).toMatchObject({ name: 'process payments', kind: 'consumer', traceId: request.span.traceId, parentSpanId: request.span.spanId });
    const logs = (await scaffold(['logs', 'payments'], { cwd: project })).stdout.split('\n').filter((line) => line.includes(id));
    const lines = logs.map((line) => JSON.parse(line.slice(line.indexOf('{'))) as { reqId?: string; trace_id?: string; span_id?: string; msg: string });
    expect(lines.find((line) => line.msg === 'order paid')).toMatchObject({ reqId: requestId, trace_id: request.span.traceId, span_id: job.span.spanId });
  });

  it("a kill of the queue's Redis under load counts its restart among the run's (it read \"restarts: none\")", async () => {
    const kill = await scaffold(
      ['chaos', 'kill-service', 'queue', '--with-load', '--target', `${ordersUrl}/orders`, '--method', 'POST', '--header', 'content-type: application/json', '--body', '{"amount":1}', '--load-rate', '20', '--before', '1s', '--after', '1s', '--json'],
      { cwd: project },
    );
    expect(kill.exitCode, kill.stderr).toBe(0);
    const { underLoad } = JSON.parse(kill.stdout) as { underLoad: { restarts: Record<string, number> } };
    expect(underLoad.restarts).toMatchObject({ queue: 1, payments: 0, orders: 0 });
    // its orders paid before the next test reads the ledger
    await waitUntil(async () => {
      const queue = await payments();
      return queue.waiting + queue.active + queue.retrying === 0;
    }, 30_000);
  }, 60_000);
  it('runs the cache beside it as a Redis of its own: allkeys-lru past its maxmemory; a GET is served from it by URL, and nothing of it lands in the queue Redis', async () => {
    expect(cacheUrl).not.toBe(redisUrl);
    expect(await cache('CONFIG', 'GET', 'maxmemory-policy')).toBe('maxmemory-policy\nallkeys-lru');
    expect(await cache('CONFIG', 'GET', 'maxmemory')).toBe(`maxmemory\n${2 * 1024 * 1024}`);
    expect(await cache('CONFIG', 'GET', 'dir')).toBe(`dir\n${path.join(project, '.scaffold/data/cache')}`);
    const servers = (await status()).infrastructure.map((server) => [server.name, server.kind, server.instance.healthy]);
    expect(servers).toEqual(expect.arrayContaining([['queue', 'redis', true], ['cache', 'redis', true]]));
    // a list of some size, so each cached answer takes a couple of KB of the cache's memory
    for (let index = 0; index < 8; index += 1) {
      const created = await fetch(`${catalogUrl}/items/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `item ${index} ${'x'.repeat(180)}` }) });
      expect(created.status).toBe(201);
    }
    const first = await fetch(`${catalogUrl}/items/?probe=1`);
    expect(first.headers.get('x-cache')).toBe('miss');
    const body = await first.text();
    await waitUntil(async () => (await cache('EXISTS', 'cache:catalog:/items/?probe=1')) === '1', 5000);
    const hitsBefore = await stat(cache, 'keyspace_hits');
    const second = await fetch(`${catalogUrl}/items/?probe=1`);
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(await second.text()).toBe(body);
    expect(await stat(cache, 'keyspace_hits')).toBeGreaterThan(hitsBefore);
    expect((await fetch(`${catalogUrl}/healthz`)).headers.get('x-cache')).toBeNull();
    expect(await redis('KEYS', 'cache:*')).toBe('');
  });

  it('under orders and browsing at once, the cache Redis evicts (its own evicted_keys) while the queue Redis evicts nothing and every order answered 202 is paid once', async () => {
    const before = await ledger();
    const load = placeOrders(100, 8);
    const browsing = await browse('load', 3000);
    const result = JSON.parse((await load).stdout) as LoadResult;
    expect(Object.keys(browsing.answers).every((answer) => answer.startsWith('200 ')), JSON.stringify(browsing.answers)).toBe(true);
    // 3,000 answers of ~2 KB each: several times the cache's 2 MB
    expect(await stat(cache, 'evicted_keys')).toBeGreaterThan(0);
    expect(await stat(redis, 'evicted_keys')).toBe(0);
    expect(result.summary.statusCodes['202']).toBe(result.summary.requests);
    await expectPaidOnce(before, result);
  }, 90_000);

  it('chaos pause cache: orders still flow and are paid once, and GETs are answered by the route (misses) while the cache is frozen', async () => {
    const before = await ledger();
    const load = placeOrders(100, 8);
    const pause = scaffold(['chaos', 'pause', 'cache', '--for', '4s', '--json'], { cwd: project });
    // frozen once a PING to it goes unanswered (its own server, not a client's view)
    await waitUntil(async () => (await execa('redis-cli', ['-u', cacheUrl, 'PING'], { timeout: 300, reject: false })).stdout.trim() !== 'PONG', 10_000);
    const frozen = await browse('paused', 100);
    const paused = await pause;
    expect(paused.exitCode, paused.stderr).toBe(0);
    expect(frozen.answers).toEqual({ '200 miss': 100 });
    // each lookup gives up after 100 ms: far below the pause
    expect(frozen.slowestMs).toBeLessThan(2000);
    const result = JSON.parse((await load).stdout) as LoadResult;
    expect(result.summary.statusCodes['202']).toBe(result.summary.requests);
    await expectPaidOnce(before, result);
    expect(await cache('PING')).toBe('PONG');
  }, 90_000);
});
