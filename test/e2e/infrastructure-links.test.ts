import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDocument } from 'yaml';
import { isAlive } from '../../src/runtime/process-tree.js';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import { scaffold } from '../support/cli.js';
import { copyProject } from '../support/project-copy.js';
import { RedisConnection, pingOnce } from '../support/redis-client.js';
import { waitUntil } from '../support/services.js';

const shared = inject('sampleProject');

/** The value of `name` in a process's environment, as it was started. */
function environmentOf(pid: number, name: string): string {
  const line = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((entry) => entry.startsWith(`${name}=`));
  return line!.slice(name.length + 1);
}

/**
 * Each service reaches each server it uses through a link of its own (process runtime):
 * faults act on one service's round trips, or on every client's, and never on the server
 * itself. Round trips are timed by the test's own Redis client on the URL each service got.
 */
describe('links in front of infrastructure (process runtime)', () => {
  let project: string;
  let direct: string;
  /** The REDIS_URL each service was started with. */
  const redisOf: Record<string, string> = {};
  const chaos = (...args: string[]) => scaffold(['chaos', ...args], { cwd: project });
  const status = async () => JSON.parse((await scaffold(['status', '--json'], { cwd: project })).stdout) as SystemStatus;

  beforeAll(async () => {
    project = await copyProject(shared);
    const specFile = path.join(project, 'scaffold.yaml');
    const document = parseDocument(readFileSync(specFile, 'utf8'));
    document.set('infrastructure', { redis: {} });
    document.setIn(['services', 'users', 'uses'], ['redis']);
    document.setIn(['services', 'orders', 'uses'], ['redis']);
    writeFileSync(specFile, document.toString());
    const up = await scaffold(['up', '--json'], { cwd: project });
    expect(up.exitCode, up.stderr).toBe(0);
    const system = JSON.parse(up.stdout) as SystemStatus;
    direct = system.infrastructure.find((infra) => infra.kind === 'redis')!.url;
    for (const name of ['users', 'orders']) {
      redisOf[name] = environmentOf(system.services.find((s) => s.name === name)!.instances[0]!.pid!, 'REDIS_URL');
    }
  });
  afterAll(async () => {
    await scaffold(['down', '--volumes'], { cwd: project });
  });

  it('gives each service a link of its own, which status lists with the server\'s instance', async () => {
    const { infrastructure } = await status();
    const [redis] = infrastructure;
    expect(redis).toMatchObject({ kind: 'redis', url: direct, instance: { id: 'redis', healthy: true, state: 'running' } });
    expect(Object.fromEntries(redis!.links!.map((link) => [link.from, link.url]))).toEqual(redisOf);
    expect(new Set([direct, redisOf.users, redisOf.orders]).size).toBe(3);
    // every one of them reaches the same server
    const pids = await Promise.all([direct, redisOf.users!, redisOf.orders!].map(async (url) => {
      const connection = await RedisConnection.open(url);
      try {
        return await connection.serverPid();
      } finally {
        connection.close();
      }
    }));
    expect(new Set(pids).size).toBe(1);
    const human = await scaffold(['status'], { cwd: project, env: { NO_COLOR: '1' } });
    expect(human.stdout).toMatch(/redis .*healthy\n\s+redis\s+pid \d+/);
    expect(human.stdout).toMatch(/used by (orders|users) on :\d+, (orders|users) on :\d+/);
  });

  it('latency on orders → redis adds ≥ 200 ms to orders\' round trips, to connections already open, and to nobody else\'s', async () => {
    const orders = await RedisConnection.open(redisOf.orders!);
    const users = await RedisConnection.open(redisOf.users!);
    const server = await RedisConnection.open(direct);
    try {
      const before = await orders.medianPing();
      expect(before).toBeLessThan(100);
      const latency = await chaos('latency', 'redis', '--from', 'orders', '--ms', '200', '--for', '5s', '--json');
      expect(latency.exitCode, latency.stderr).toBe(0);
      expect(JSON.parse(latency.stdout)).toMatchObject({ service: 'redis', from: 'orders', fault: { kind: 'latency', ms: 200 } });
      expect(await orders.medianPing()).toBeGreaterThanOrEqual(200);
      // a new connection of orders' too
      const fresh = await RedisConnection.open(redisOf.orders!);
      expect(await fresh.ping()).toBeGreaterThanOrEqual(200);
      fresh.close();
      expect(await users.medianPing()).toBeLessThan(100);
      expect(await server.medianPing()).toBeLessThan(100);
      expect((await chaos('clear')).exitCode).toBe(0);
      expect(await orders.medianPing()).toBeLessThan(100);
    } finally {
      for (const connection of [orders, users, server]) connection.close();
    }
  });

  it('without --from, a fault acts on every service\'s link, never on the server itself', async () => {
    const connections = await Promise.all([redisOf.orders!, redisOf.users!, direct].map((url) => RedisConnection.open(url)));
    try {
      expect((await chaos('latency', 'redis', '--ms', '150', '--for', '10s')).exitCode).toBe(0);
      const [orders, users, server] = await Promise.all(connections.map((connection) => connection.medianPing(3)));
      expect(orders).toBeGreaterThanOrEqual(150);
      expect(users).toBeGreaterThanOrEqual(150);
      expect(server).toBeLessThan(100);
    } finally {
      await chaos('clear');
      for (const connection of connections) connection.close();
    }
  });

  it('reset and partition cut orders off redis while users go on', async () => {
    const reset = await chaos('reset', 'redis', '--from', 'orders', '--rate', '1', '--for', '10s');
    expect(reset.exitCode, reset.stderr).toBe(0);
    expect(await pingOnce(redisOf.orders!)).toBe('ECONNRESET');
    expect(await pingOnce(redisOf.users!)).toBe('+PONG');
    await chaos('clear');
    const open = await RedisConnection.open(redisOf.orders!);
    expect((await chaos('partition', 'redis', '--from', 'orders', '--for', '10s')).exitCode).toBe(0);
    // a connection open before the partition is cut as well
    await expect(open.ping()).rejects.toThrow();
    expect(await pingOnce(redisOf.orders!)).toMatch(/ECONNRESET|connection closed/);
    expect(await pingOnce(redisOf.users!)).toBe('+PONG');
    await chaos('clear');
    expect(await pingOnce(redisOf.orders!)).toBe('+PONG');
  });

  it('refuses an HTTP fault on a server, and a --from that does not use it, in one line', async () => {
    const errors = await chaos('errors', 'redis', '--rate', '0.5', '--for', '5s');
    expect(errors.exitCode).toBe(2);
    expect(errors.stderr.trim()).toMatch(/^error: redis does not speak HTTP.*use latency, partition, reset$/);
    const stranger = await chaos('latency', 'redis', '--from', 'api-gateway', '--ms', '10', '--for', '5s');
    expect(stranger.exitCode).toBe(2);
    expect(stranger.stderr.trim()).toMatch(/"api-gateway" does not call redis: --from takes one of its callers: (users, orders|orders, users)$/);
  });

  it('pause freezes the server itself until the time is up', async () => {
    const connection = await RedisConnection.open(redisOf.orders!);
    try {
      expect((await chaos('pause', 'redis', '--for', '2s')).exitCode).toBe(0);
      expect(await connection.ping()).toBeGreaterThanOrEqual(1000);
      expect(await connection.ping()).toBeLessThan(100);
    } finally {
      connection.close();
    }
  });

  it('kill-service redis kills the server, which the supervisor restarts; recovery is reported', async () => {
    const before = await RedisConnection.open(direct);
    const pid = await before.serverPid();
    before.close();
    const kill = await chaos('kill-service', 'redis', '--json');
    expect(kill.exitCode, kill.stderr).toBe(0);
    const result = JSON.parse(kill.stdout);
    expect(result.killed.map((instance: { id: string }) => instance.id)).toEqual(['redis']);
    expect(result.recoveredInMs).toEqual(expect.any(Number));
    // a new server process, reached again through the services' links
    await waitUntil(async () => (await pingOnce(redisOf.orders!)) === '+PONG', 10_000);
    const after = await RedisConnection.open(redisOf.orders!);
    try {
      expect(await after.serverPid()).not.toBe(pid);
    } finally {
      after.close();
    }
    expect(isAlive(pid)).toBe(false);
    const { infrastructure } = await status();
    expect(infrastructure[0]!.instance).toMatchObject({ healthy: true, restarts: 1 });
  });

  it("logs a server's own lines as one instance across its restarts, and names what runs when asked for something else", async () => {
    const logs = await scaffold(['logs', 'redis'], { cwd: project });
    expect(logs.exitCode, logs.stderr).toBe(0);
    // redis-server's own start-up line, once per start: the kill above restarted it
    const ready = logs.stdout.split('\n').filter((line) => /^redis \| .*Ready to accept connections/.test(line));
    expect(ready.length).toBeGreaterThanOrEqual(2);
    const unknown = await scaffold(['logs', 'memcached'], { cwd: project });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr.trim()).toMatch(/^error: no service or server "memcached" is running \(running: .*\bredis\b.*\)$/);
  });

  it('--with-load on a server asks for a route when no generated one reaches it, in one line', async () => {
    const load = await chaos('pause', 'redis', '--for', '1s', '--with-load');
    expect(load.exitCode).toBe(2);
    expect(load.stderr.trim()).toMatch(/^error: no generated route is known to reach redis: aim the load with --path \(and --method, --body\) at a route of (users or orders|orders or users) that uses it, or --target$/);
  });
});
