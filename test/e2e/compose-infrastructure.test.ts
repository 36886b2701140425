import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { isAlive } from '../../src/runtime/process-tree.js';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import type { Trace, TraceSummary } from '../../src/runtime/traces/query.js';
import { createClassicProject, scaffold, tempDir } from '../support/cli.js';
import { dockerEngine, ensureNatsImage, ensureNodeBaseImage, ensureRedisImage } from '../support/docker.js';
import { onFreePorts } from '../support/project-copy.js';
import { waitUntil } from '../support/services.js';

const engine = await dockerEngine();
if (!engine.ok && process.env.CI) throw new Error(`the compose suite needs a Docker engine in CI (.ci/run starts one): ${engine.reason}`);
if (!engine.ok) console.warn(`SKIPPED: compose infrastructure, no Docker engine here (${engine.reason}); CI runs it`);

/** Node, run inside a container's network namespace: the median of 5 PING round trips to
 * the address in argv (a dependency-free copy of ../support/redis-client.ts's medianPing). */
const MEDIAN_PING = `
const socket = require('node:net').connect({ host: process.argv[1], port: 6379, noDelay: true });
const times = [];
let started;
const ping = () => { started = performance.now(); socket.write('PING\\r\\n'); };
socket.on('connect', ping);
socket.on('data', () => {
  times.push(performance.now() - started);
  if (times.length < 5) return ping();
  console.log(times.sort((a, b) => a - b)[2]);
  socket.destroy();
});
socket.on('error', (error) => { console.error(error.message); process.exit(1); });
`;

/** orders: POST /orders publishes the order as an event and answers 202 once JetStream
 * has stored it (503 when it could not within EVENTS_PUBLISH_TIMEOUT_MS). */
const ORDERS_APP = `import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { createServer } from './platform/server.js';
import { itemsRoutes } from './routes/items.js';

export function buildApp(config: Config): FastifyInstance {
  const app = createServer(config);
  app.register(itemsRoutes, { prefix: '/items' });
  app.post<{ Body: { id: string } }>('/orders', async (request, reply) => {
    const published = await app.events.publish('order-created', request.body, { id: request.body.id, requestId: request.id });
    return reply.code(202).send(published);
  });
  return app;
}
`;

const ORDERS_EVENTS = `import type { Handlers } from './generated/nats.js';
export interface Payloads { 'order-created': { id: string } }
export const handlers: Handlers = {};
`;

/** users' handler, as a user would write it: its side effect made idempotent on the
 * event's id (one instance, so a set in memory is enough), one log line per delivery and
 * one per effect applied: the test's oracle, read from the container's own log. */
const USERS_EVENTS = `import type { Handlers } from './generated/nats.js';
export interface Payloads { 'order-created': { id: string } }
const applied = new Set<string>();
export const handlers: Handlers = {
  'order-created': async (data, event) => {
    console.log(\`delivered \${event.id} \${event.deliveryCount}\`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (applied.has(event.id)) return;
    applied.add(event.id);
    console.log(\`applied \${event.id}\`);
  },
};
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Infrastructure on compose: a Redis container (built from this machine's redis-server, the
 * spec's `image` pointing at it) used by users and orders. Round trips are timed from inside
 * each service's network namespace by the test's own client, as that service's connections
 * are: to redis's container address, on its port. And a NATS container (from this machine's
 * nats-server) holding a topic that orders publishes and users handles.
 */
describe.skipIf(!engine.ok || process.getuid?.() !== 0)('infrastructure on compose', () => {
  const name = `infra-${randomBytes(3).toString('hex')}`;
  let parent: string;
  let project: string;
  const cli = (...args: string[]) => scaffold(args, { cwd: project });
  const docker = (...args: string[]) => execa('docker', args, { stdin: 'ignore' });
  /** The median PING round trip to redis from inside `service`'s first container. */
  const pingFrom = async (service: string): Promise<number> => {
    const id = (await docker('ps', '-q', '--filter', `label=com.docker.compose.project=${name}`, '--filter', `label=com.docker.compose.service=${service}`)).stdout.split('\n')[0]!;
    const pid = (await docker('inspect', '--format', '{{.State.Pid}}', id)).stdout.trim();
    const redis = (await docker('ps', '-q', '--filter', `label=com.docker.compose.project=${name}`, '--filter', 'label=com.docker.compose.service=redis')).stdout.trim();
    const address = (await docker('inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', redis)).stdout.trim().split(' ')[0]!;
    const { stdout } = await execa('nsenter', ['-t', pid, '-n', process.execPath, '-e', MEDIAN_PING, address], { stdin: 'ignore' });
    return Number(stdout.trim());
  };

  beforeAll(async () => {
    parent = tempDir();
    project = await createClassicProject(parent, name);
    await onFreePorts(project);
    const specFile = path.join(project, 'scaffold.yaml');
    const document = parseDocument(readFileSync(specFile, 'utf8'));
    document.set('infrastructure', {
      redis: { image: await ensureRedisImage() },
      nats: { image: await ensureNatsImage(), topics: { 'order-created': { ackWait: '2s' } } },
    });
    document.setIn(['services', 'users', 'uses'], ['redis']);
    document.setIn(['services', 'orders', 'uses'], ['redis']);
    document.setIn(['services', 'orders', 'publishes'], ['order-created']);
    document.setIn(['services', 'users', 'subscribes'], [{ topic: 'order-created' }]);
    writeFileSync(specFile, document.toString());
    const generate = await cli('generate');
    expect(generate.exitCode, generate.stderr).toBe(0);
    writeFileSync(path.join(project, 'services/orders/src/app.ts'), ORDERS_APP);
    writeFileSync(path.join(project, 'services/orders/src/events.ts'), ORDERS_EVENTS);
    writeFileSync(path.join(project, 'services/users/src/events.ts'), USERS_EVENTS);
    const up = await cli('up', '--runtime', 'compose', '--base-image', await ensureNodeBaseImage(), '--json');
    if (up.exitCode !== 0) console.error(up.stderr);
    expect(up.exitCode, up.stderr).toBe(0);
    // three image builds on vfs: minutes on a machine whose two cores are shared
  }, 600_000);

  afterAll(async () => {
    const receiver = project ? path.join(project, '.scaffold/compose/traces/receiver.json') : '';
    const receiverPid = existsSync(receiver) ? (JSON.parse(readFileSync(receiver, 'utf8')) as { pid: number }).pid : undefined;
    if (project) await cli('down', '--volumes');
    // down stops the trace receiver up started
    if (receiverPid !== undefined) expect(isAlive(receiverPid)).toBe(false);
    const images = (await docker('images', '-q', '--filter', `reference=${name}/*`)).stdout.split('\n').filter(Boolean);
    if (images.length > 0) await docker('rmi', '-f', ...images);
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  it('runs the spec\'s image, healthy, and status lists it', async () => {
    const status = JSON.parse((await cli('status', '--json')).stdout) as SystemStatus;
    expect(status.infrastructure).toEqual([
      expect.objectContaining({ kind: 'redis', instance: expect.objectContaining({ healthy: true }) }),
      expect.objectContaining({ kind: 'nats', instance: expect.objectContaining({ healthy: true }) }),
    ]);
  });

  it('latency on orders → redis slows orders\' round trips by ≥ 200 ms, and nobody else\'s', async () => {
    expect(await pingFrom('orders')).toBeLessThan(100);
    const fault = await cli('chaos', 'latency', 'redis', '--from', 'orders', '--ms', '200', '--for', '30s');
    expect(fault.exitCode, fault.stderr).toBe(0);
    try {
      expect(await pingFrom('orders')).toBeGreaterThanOrEqual(200);
      expect(await pingFrom('users')).toBeLessThan(100);
    } finally {
      await cli('chaos', 'clear');
    }
    expect(await pingFrom('orders')).toBeLessThan(100);
  });

  it('kill-service redis: the container restarts, recovery is reported', async () => {
    const kill = await cli('chaos', 'kill-service', 'redis', '--json');
    expect(kill.exitCode, kill.stderr).toBe(0);
    const result = JSON.parse(kill.stdout);
    expect(result.recoveredInMs).toEqual(expect.any(Number));
    expect(await pingFrom('users')).toBeLessThan(100);
  });

  it('events under publish load, the broker killed and then paused: every event answered 202 is handled, its effect applied once', async () => {
    const status = JSON.parse((await cli('status', '--json')).stdout) as SystemStatus;
    const orders = status.services.find((service) => service.name === 'orders')!.url;
    const rate = 100;
    const outcomes: { id: string; status: number; sentAt: number; doneAt: number }[] = [];
    // the broker SIGKILLed at a random moment (Docker restarts it; JetStream recovers its
    // stream from the volume); once it is back, frozen for 2 s at another; the load goes on
    // until a second after that
    let recoveredInMs = 0;
    let pausedAt = 0;
    let faultsOver = false;
    const faults = (async () => {
      await sleep(1000 + Math.random() * 2000);
      const kill = await cli('chaos', 'kill-service', 'nats', '--json');
      expect(kill.exitCode, kill.stderr).toBe(0);
      recoveredInMs = (JSON.parse(kill.stdout) as { recoveredInMs: number }).recoveredInMs;
      await sleep(500 + Math.random() * 1000);
      const pause = await cli('chaos', 'pause', 'nats', '--for', '2s');
      expect(pause.exitCode, pause.stderr).toBe(0);
      pausedAt = performance.now();
      await sleep(3000);
    })().finally(() => (faultsOver = true));
    const started = performance.now();
    const sent: Promise<void>[] = [];
    for (let i = 0; !faultsOver && i < rate * 40; i += 1) {
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      const id = `c${i}`;
      const sentAt = performance.now();
      sent.push(
        fetch(`${orders}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }), signal: AbortSignal.timeout(15_000) }).then(
          async (response) => {
            await response.arrayBuffer();
            outcomes.push({ id, status: response.status, sentAt, doneAt: performance.now() });
          },
          () => outcomes.push({ id, status: 0, sentAt, doneAt: performance.now() }),
        ),
      );
    }
    await Promise.all(sent);
    await faults;
    const total = outcomes.length;

    const statuses = new Map<number, number>();
    for (const outcome of outcomes) statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
    // stored and said so (202), or not stored and said so (503): nothing else, no hang
    expect([...statuses.keys()].filter((code) => code !== 202 && code !== 503)).toEqual([]);
    const accepted = outcomes.filter((outcome) => outcome.status === 202).map((outcome) => outcome.id);
    const users = (await docker('ps', '-q', '--filter', `label=com.docker.compose.project=${name}`, '--filter', 'label=com.docker.compose.service=users')).stdout.trim();
    const handled = async () => {
      const { stdout } = await docker('logs', users);
      const applied = new Map<string, number>();
      let deliveries = 0;
      for (const line of stdout.split('\n')) {
        const [kind, id] = line.split(' ');
        if (kind === 'delivered') deliveries += 1;
        else if (kind === 'applied') applied.set(id!, (applied.get(id!) ?? 0) + 1);
      }
      return { applied, deliveries };
    };
    await waitUntil(async () => {
      const { applied } = await handled();
      return accepted.every((id) => applied.has(id));
    }, 60_000).catch(() => undefined);
    const { applied, deliveries } = await handled();
    expect(accepted.filter((id) => !applied.has(id))).toEqual([]);
    expect([...applied].filter(([, count]) => count !== 1)).toEqual([]);
    const held = outcomes.filter((outcome) => outcome.status === 202).map((outcome) => outcome.doneAt - outcome.sentAt);
    // the pause was felt: a publish sent in its first second waited for the thaw
    const duringPause = outcomes.filter((outcome) => outcome.sentAt >= pausedAt && outcome.sentAt < pausedAt + 1000);
    const heldByPause = Math.max(...duringPause.map((outcome) => outcome.doneAt - outcome.sentAt));
    console.log(
      `compose events: ${total} POST /orders at ${rate}/s, nats killed (back and healthy in ${recoveredInMs} ms) then paused 2 s: ${accepted.length} answered 202 (slowest ${Math.round(Math.max(...held))} ms, ${Math.round(heldByPause)} ms in the pause), ${statuses.get(503) ?? 0} answered 503, 0 of the 202s lost, ${deliveries - applied.size} redeliveries`,
    );
    expect(heldByPause).toBeGreaterThanOrEqual(800);
    // the publisher holds a request through both (EVENTS_PUBLISH_TIMEOUT_MS is 5 s)
    expect(accepted.length).toBeGreaterThan(total * 0.9);
  });

  it('traces reach the receiver up started on the host: one request is one complete trace, across the broker too; logs --trace finds its lines', async () => {
    const status = JSON.parse((await cli('status', '--json')).stdout) as SystemStatus;
    const url = (service: string) => status.services.find((entry) => entry.name === service)!.url;
    const traceOfRequest = async (requestId: string, spans: number) => {
      let listed: TraceSummary[] = [];
      await waitUntil(async () => {
        listed = JSON.parse((await cli('traces', '--request', requestId, '--json')).stdout) as TraceSummary[];
        return listed[0]?.spans === spans;
      }, 30_000).catch(() => undefined);
      expect(listed, `the trace of request ${requestId}`).toEqual([expect.objectContaining({ spans, requestId, errors: 0 })]);
      const trace = JSON.parse((await cli('traces', listed[0]!.traceId, '--json')).stdout) as Trace;
      return trace.rows.map((row) => [row.depth, row.span.service, row.span.kind]);
    };

    // gateway → orders → users, with the client's own traceparent
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(`${url('api-gateway')}/orders/upstreams`, { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const requestId = response.headers.get('x-request-id')!;
    expect(await traceOfRequest(requestId, 5)).toEqual([
      [0, 'api-gateway', 'server'],
      [1, 'api-gateway', 'client'],
      [2, 'orders', 'server'],
      [3, 'orders', 'client'],
      [4, 'users', 'server'],
    ]);
    const lines = (await cli('logs', '--trace', traceId)).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(/^\S+ \| (.*)$/.exec(line)![1]!) as { name: string; trace_id: string; reqId: string });
    expect(new Set(lines.map((line) => line.name))).toEqual(new Set(['api-gateway', 'orders']));
    expect(lines.every((line) => line.trace_id === traceId)).toBe(true);
    const byRequest = (await cli('logs', '--request', requestId)).stdout.trim().split('\n');
    expect(byRequest.length).toBeGreaterThan(0);

    // a publish: orders' request, its send, users' handling of the event
    const published = await fetch(`${url('orders')}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: `traced-${Date.now()}` }) });
    expect(published.status).toBe(202);
    expect(await traceOfRequest(published.headers.get('x-request-id')!, 3)).toEqual([
      [0, 'orders', 'server'],
      [1, 'orders', 'producer'],
      [2, 'users', 'consumer'],
    ]);
  });

  it("down --volumes removes the project's named volumes: every entry's, one gone from the spec since too", async () => {
    const labelled = async () => (await docker('volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${name}`)).stdout.split('\n').filter(Boolean).sort();
    // what compose made for an entry `ledger` that the spec has since lost
    await docker('volume', 'create', '--label', `com.docker.compose.project=${name}`, '--label', 'com.docker.compose.volume=ledger-data', `${name}_ledger-data`);
    expect(await labelled()).toEqual([`${name}_ledger-data`, `${name}_nats-data`, `${name}_redis-data`]);
    const down = await cli('down', '--volumes');
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await labelled()).toEqual([]);
  });
});
