import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import type { LoadResult } from '../../src/simulate/load/result.js';
import type { Trace, TraceSummary } from '../../src/runtime/traces/query.js';
import { REPO, scaffold } from '../support/cli.js';
import { frontPort, waitUntil } from '../support/services.js';

/**
 * Events end to end, on one generated project: orders publishes order-created (through
 * its generated publisher, behind POST /orders), billing (2 instances) handles it. The
 * oracles are outside the code under test: the test's own NATS client (JetStream's stream
 * and consumer counters, the acknowledgements it got for its own publishes) and a log
 * that billing's handler — user code, written here — appends to, one line per delivery it
 * began and one per side effect it applied.
 */

const ACK_WAIT_MS = 2000;
const MAX_DELIVER = 3;

/** billing's handlers, as a user would write them: 20 ms of work, then a side effect made
 * idempotent on the event's id (an exclusive-create marker), as the README asks. */
const BILLING_HANDLERS = `import { appendFileSync, closeSync, openSync } from 'node:fs';
import path from 'node:path';
import type { Handlers } from './generated/nats.js';

export interface Payloads {
  'order-created': { id: string; poison?: boolean; traced?: boolean };
}

const log = process.env.EVENTS_LOG!;
const markers = process.env.EVENTS_MARKERS!;

export const handlers: Handlers = {
  'order-created': async (data, event) => {
    appendFileSync(log, \`start \${event.id} \${event.deliveryCount} \${process.pid} \${Date.now()}\\n\`);
    if (data.poison) throw new Error('a poison order');
    if (data.traced) event.log.info({ order: data.id }, 'billing: charging the order');
    await new Promise((resolve) => setTimeout(resolve, 20));
    try {
      closeSync(openSync(path.join(markers, event.id), 'wx'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
      throw error;
    }
    appendFileSync(log, \`effect \${event.id}\\n\`);
  },
};
`;

/** orders: POST /orders publishes the order as an event, and answers 202 once it is stored. */
const ORDERS_APP = `import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { createServer } from './platform/server.js';

export function buildApp(config: Config): FastifyInstance {
  const app = createServer(config);
  app.post<{ Body: { id: string; poison?: boolean; traced?: boolean } }>('/orders', async (request, reply) => {
    const published = await app.events.publish('order-created', request.body, { id: request.body.id, requestId: request.id });
    return reply.code(202).send(published);
  });
  return app;
}
`;

const ORDERS_EVENTS = `import type { Handlers } from './generated/nats.js';

export interface Payloads {
  'order-created': { id: string; poison?: boolean };
}

export const handlers: Handlers = {};
`;

interface Delivery {
  id: string;
  count: number;
  pid: number;
  at: number;
}

function readLog(file: string): { deliveries: Delivery[]; effects: Map<string, number> } {
  const deliveries: Delivery[] = [];
  const effects = new Map<string, number>();
  if (!existsSync(file)) return { deliveries, effects };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [kind, id, count, pid, at] = line.split(' ');
    if (kind === 'start') deliveries.push({ id: id!, count: Number(count), pid: Number(pid), at: Number(at) });
    else if (kind === 'effect') effects.set(id!, (effects.get(id!) ?? 0) + 1);
  }
  return { deliveries, effects };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An open model: `send(i)` for each i < total, each at its own time at `rate` per second,
 * whatever the ones before are doing; resolves once every one has. */
async function openModel(total: number, rate: number, send: (i: number) => Promise<void>): Promise<void> {
  const start = performance.now();
  const sent: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    sent.push(send(i));
  }
  await Promise.all(sent);
}

describe('events on NATS JetStream (process runtime)', () => {
  const root = path.join(REPO, 'test/.artifacts', `events-${process.pid}`);
  const project = path.join(root, 'shop');
  const eventsLog = path.join(root, 'billing-events.log');
  const markers = path.join(root, 'markers');
  let ordersUrl: string;
  let natsUrl: string;
  let connection: NatsConnection;
  let js: JetStreamClient;
  let manager: JetStreamManager;
  const cli = (...args: string[]) => scaffold(args, { cwd: project });
  const status = async () => JSON.parse((await cli('status', '--json')).stdout) as SystemStatus;

  beforeAll(async () => {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(markers, { recursive: true });
    const init = await scaffold(['init', 'shop', '--yes'], { cwd: root });
    expect(init.exitCode, init.stderr).toBe(0);
    const [ordersPort, billingPort] = [await frontPort(), await frontPort()];
    writeFileSync(
      path.join(project, 'scaffold.yaml'),
      `name: shop
services:
  orders: { port: ${ordersPort}, publishes: [order-created] }
  billing:
    port: ${billingPort}
    replicas: 2
    subscribes: [{ topic: order-created, group: billing, concurrency: 16 }]
    env: { EVENTS_LOG: ${JSON.stringify(eventsLog)}, EVENTS_MARKERS: ${JSON.stringify(markers)} }
infrastructure:
  nats:
    topics:
      order-created: { ackWait: ${ACK_WAIT_MS}ms, maxDeliver: ${MAX_DELIVER}, retryBackoff: 100ms }
`,
    );
    const generate = await cli('generate');
    expect(generate.exitCode, generate.stderr).toBe(0);
    writeFileSync(path.join(project, 'services/billing/src/events.ts'), BILLING_HANDLERS);
    writeFileSync(path.join(project, 'services/orders/src/events.ts'), ORDERS_EVENTS);
    writeFileSync(path.join(project, 'services/orders/src/app.ts'), ORDERS_APP);
    await execa('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, stdin: 'ignore' });
    const up = await cli('up', '--json');
    expect(up.exitCode, up.stderr).toBe(0);
    const system = JSON.parse(up.stdout) as SystemStatus;
    ordersUrl = system.services.find((service) => service.name === 'orders')!.url;
    natsUrl = system.infrastructure.find((server) => server.kind === 'nats')!.url;
    connection = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    js = jetstream(connection);
    manager = await jetstreamManager(connection);
  });

  afterAll(async () => {
    await connection?.close();
    await cli('down', '--volumes');
    rmSync(root, { recursive: true, force: true });
  });

  it('10,000 events at 500/s, one of two consumers SIGKILLed twice: every event processed, its side effect applied once, redelivered within ack wait + 1 s', async () => {
    const before = (await manager.streams.info('order-created')).state.messages;
    const billing = (await status()).services.find((service) => service.name === 'billing')!;
    const victim = billing.instances[0]!.id;
    const total = 10_000;
    const rate = 500;
    const acked = new Map<string, number>();
    // two kills at random moments of the run, at least 4 s apart and after the first
    const firstKill = 2000 + Math.random() * 5000;
    const kills = [firstKill, firstKill + 4000 + Math.random() * 5000];
    const killedPids: number[] = [];
    const killing = kills.map(async (atMs) => {
      await sleep(atMs);
      const pid = (await status()).services.find((service) => service.name === 'billing')!.instances.find((instance) => instance.id === victim)!.pid!;
      killedPids.push(pid);
      const kill = await cli('chaos', 'kill-service', 'billing', '--instance', victim, '--json');
      expect(kill.exitCode, kill.stderr).toBe(0);
    });

    // a publish that fails is retried with its id until it is acknowledged
    await openModel(total, rate, async (i) => {
      const id = `e${i}`;
      for (;;) {
        try {
          const ack = await js.publish('order-created', JSON.stringify({ id }), { msgID: id, timeout: 5000 });
          acked.set(id, ack.seq);
          return;
        } catch {
          await sleep(100);
        }
      }
    });
    await Promise.all(killing);
    expect(acked.size).toBe(total);
    // the stream stored each event once, whatever the retries
    expect((await manager.streams.info('order-created')).state.messages - before).toBe(total);

    // then judged by the log, which names what is missing
    await waitUntil(async () => readLog(eventsLog).effects.size >= total, 90_000).catch(() => undefined);
    const { deliveries, effects } = readLog(eventsLog);
    const lost = [...acked.keys()].filter((id) => !effects.has(id));
    expect(lost).toEqual([]);
    const twice = [...effects].filter(([, count]) => count !== 1);
    expect(twice).toEqual([]);

    // the killed instance's events came back, after the ack wait and not much later
    const byId = new Map<string, Delivery[]>();
    for (const delivery of deliveries) byId.set(delivery.id, [...(byId.get(delivery.id) ?? []), delivery]);
    const delays: number[] = [];
    for (const list of byId.values()) {
      list.sort((a, b) => a.count - b.count);
      for (let k = 1; k < list.length; k += 1) if (killedPids.includes(list[k - 1]!.pid)) delays.push(list[k]!.at - list[k - 1]!.at);
    }
    expect(delays.length).toBeGreaterThan(0);
    const p99 = percentile(delays, 99);
    console.log(`events: ${total} published at ${rate}/s, ${killedPids.length} kills of ${victim}, ${deliveries.length - total} redeliveries, redelivery delay p50 ${percentile(delays, 50)} ms, p99 ${p99} ms (ack wait ${ACK_WAIT_MS} ms)`);
    expect(p99).toBeLessThanOrEqual(ACK_WAIT_MS + 1000);

    // and JetStream agrees: nothing left for the group, nothing in flight
    await waitUntil(async () => {
      const info = await manager.consumers.info('order-created', 'billing');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, 30_000);
  });

  it('the broker killed and unreachable for 3 s under publish load: publishers hold requests and deliver; nothing answered 202 is lost', async () => {
    const rate = 100;
    const total = 1200;
    const outcomes: { id: string; status: number; sentAt: number; doneAt: number }[] = [];
    const faultAt = 2000 + Math.random() * 3000;
    let faultEnd = 0;
    const fault = (async () => {
      await sleep(faultAt);
      // its links refuse for 3 s (as a dead broker's port would), and the server itself is
      // SIGKILLed and restarted by the supervisor behind them: JetStream recovers from disk
      const partition = await cli('chaos', 'partition', 'nats', '--for', '3s');
      expect(partition.exitCode, partition.stderr).toBe(0);
      const partitionedAt = performance.now();
      const kill = await cli('chaos', 'kill-service', 'nats');
      expect(kill.exitCode, kill.stderr).toBe(0);
      faultEnd = partitionedAt + 3000;
    })();
    await openModel(total, rate, async (i) => {
      const id = `b${i}`;
      const sentAt = performance.now();
      await fetch(`${ordersUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }), signal: AbortSignal.timeout(15_000) }).then(
        async (response) => {
          await response.arrayBuffer();
          outcomes.push({ id, status: response.status, sentAt, doneAt: performance.now() });
        },
        () => outcomes.push({ id, status: 0, sentAt, doneAt: performance.now() }),
      );
    });
    await fault;

    const statuses = new Map<number, number>();
    for (const outcome of outcomes) statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
    // a 202 (stored) or a 503 (not stored, say so): nothing else, no hang
    expect([...statuses.keys()].filter((status) => status !== 202 && status !== 503)).toEqual([]);
    const accepted = outcomes.filter((outcome) => outcome.status === 202).map((outcome) => outcome.id);
    await waitUntil(async () => {
      const { effects: applied } = readLog(eventsLog);
      return accepted.every((id) => applied.has(id));
    }, 60_000).catch(() => undefined);
    const { effects } = readLog(eventsLog);
    expect(accepted.filter((id) => !effects.has(id))).toEqual([]);
    expect(accepted.filter((id) => effects.get(id) !== 1)).toEqual([]);

    // recovered: the last request that failed or waited over a second ended this long after
    // the fault did
    const troubled = outcomes.filter((outcome) => outcome.status !== 202 || outcome.doneAt - outcome.sentAt > 1000);
    const recoveredMs = troubled.length === 0 ? 0 : Math.max(0, Math.max(...troubled.map((outcome) => outcome.doneAt)) - faultEnd);
    const held = outcomes.filter((outcome) => outcome.status === 202).map((outcome) => outcome.doneAt - outcome.sentAt);
    console.log(
      `broker outage: ${total} POST /orders at ${rate}/s, 3 s outage at ${Math.round(faultAt)} ms: ${accepted.length} answered 202 (max ${Math.round(Math.max(...held))} ms), ${statuses.get(503) ?? 0} answered 503, 0 of the 202s lost; recovered ${Math.round(recoveredMs)} ms after the outage`,
    );
    // the publisher holds a request through a 3 s outage (EVENTS_PUBLISH_TIMEOUT_MS is 5 s)
    expect(accepted.length).toBeGreaterThan(total * 0.95);
    expect(recoveredMs).toBeLessThan(5000);
  });

  it('simulate load --publish: published → processed latency and backlog per second, in the JSON and the report', async () => {
    const report = path.join(root, 'publish-report.html');
    const run = await cli('simulate', 'load', '--publish', 'order-created', '--rate', '200', '-d', '5s', '--json', '--report', report);
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as LoadResult;
    expect(result.config).toMatchObject({ publish: 'order-created', groups: ['billing'], model: 'open' });
    expect(result.summary.requests).toBe(1000);
    expect(result.summary.ok).toBe(1000);
    // every stored event was handled, and billing's own log counts the same events
    expect(result.events!.processed).toBe(1000);
    expect(result.events!.unprocessed).toBe(0);
    const published = readLog(eventsLog).deliveries.filter((delivery) => /^[0-9a-f]{8}-\d+$/.test(delivery.id));
    expect(new Set(published.map((delivery) => delivery.id)).size).toBe(1000);
    // at least the handler's 20 ms of work, and not stalled
    expect(result.events!.endToEnd.p50).toBeGreaterThanOrEqual(20);
    expect(result.events!.endToEnd.p99).toBeLessThan(5000);
    expect(result.events!.series.length).toBeGreaterThanOrEqual(5);
    expect(result.events!.series.reduce((total, second) => total + second.processed, 0)).toBe(1000);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('id="events-latency"');
    expect(html).toContain('id="backlog"');
    const human = await cli('simulate', 'load', '--publish', 'order-created', '--rate', '50', '-d', '1s');
    expect(human.stdout).toMatch(/end to end\s+published → processed by billing: 50 events, ms p50 [\d.]+\s+p99 [\d.]+/);
    const unknown = await cli('simulate', 'load', '--publish', 'order-shipped', '--rate', '50', '-d', '1s');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/no topic "order-shipped"/);
  });

  it('a poison event is retried with backoff, dead-lettered after its last delivery, and status shows it', async () => {
    const id = `poison-${Date.now()}`;
    const response = await fetch(`${ordersUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, poison: true }) });
    expect(response.status).toBe(202);
    await waitUntil(async () => (await manager.streams.info('order-created_dead')).state.messages >= 1, 30_000);
    const dead = await manager.streams.getMessage('order-created_dead', { last_by_subj: 'order-created.dead' });
    expect(dead!.json<{ id: string }>().id).toBe(id);
    expect(dead!.header.get('scaffold-dead-deliveries')).toBe(String(MAX_DELIVER));
    expect(dead!.header.get('scaffold-dead-error')).toMatch(/poison/);
    expect(dead!.header.get('x-request-id')).toBe(response.headers.get('x-request-id'));

    const attempts = readLog(eventsLog).deliveries.filter((delivery) => delivery.id === id);
    expect(attempts.map((attempt) => attempt.count)).toEqual([1, 2, 3]);
    // 100 ms, then 200 ms: the backoff, not the ack wait
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(150);
    expect(attempts[2]!.at - attempts[0]!.at).toBeLessThan(ACK_WAIT_MS);

    const topic = (await status()).infrastructure.find((server) => server.kind === 'nats')!.topics!.find((entry) => entry.topic === 'order-created')!;
    expect(topic.deadLetters).toBe(1);
    expect(topic.groups).toEqual([expect.objectContaining({ group: 'billing', backlog: 0, inFlight: 0 })]);
    expect(topic.groups[0]!.redeliveries).toBeGreaterThanOrEqual(2);
    const human = await cli('status');
    expect(human.stdout).toMatch(/topic order-created\s+\d+ events · 1 dead letters/);
    expect(human.stdout).toMatch(/group billing\s+backlog 0\s+in flight 0\s+redeliveries \d+/);
  });

  it('one request that publishes is one trace: the consumer\'s span a child of the publish, its log lines under the request id and the trace', async () => {
    const id = `traced-${Date.now()}`;
    const response = await fetch(`${ordersUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, traced: true }) });
    expect(response.status).toBe(202);
    const requestId = response.headers.get('x-request-id')!;

    let listed: TraceSummary[] = [];
    await waitUntil(async () => {
      listed = JSON.parse((await cli('traces', '--request', requestId, '--json')).stdout) as TraceSummary[];
      return listed[0]?.spans === 3;
    }, 20_000).catch(() => undefined);
    expect(listed).toEqual([expect.objectContaining({ service: 'orders', name: 'POST /orders', services: ['orders', 'billing'], requestId, errors: 0 })]);
    const { traceId } = listed[0]!;
    const trace = JSON.parse((await cli('traces', traceId, '--json')).stdout) as Trace;
    expect(trace.rows.map((row) => [row.depth, row.span.service, row.span.kind, row.span.name])).toEqual([
      [0, 'orders', 'server', 'POST /orders'],
      [1, 'orders', 'producer', 'send order-created'],
      [2, 'billing', 'consumer', 'process order-created'],
    ]);
    const consumer = trace.rows[2]!.span;
    expect(consumer.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.destination.name': 'order-created', 'messaging.message.id': id, 'messaging.consumer.group.name': 'billing' });

    // billing's handler logged under the request's id, in the consumer's span
    const lines = (stdout: string) =>
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(/^\S+ \| (.*)$/.exec(line)![1]!) as { name: string; msg: string; reqId?: string; trace_id?: string; span_id?: string; event?: string });
    const byRequest = lines((await cli('logs', '--request', requestId)).stdout);
    const charged = byRequest.find((line) => line.name === 'billing' && line.msg === 'billing: charging the order');
    expect(charged).toMatchObject({ reqId: requestId, trace_id: traceId, span_id: consumer.spanId, event: id });
    const byTrace = lines((await cli('logs', '--trace', traceId)).stdout);
    expect(byTrace.filter((line) => line.name === 'billing')).toEqual([charged]);
  });
});
