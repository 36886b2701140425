import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDocument } from 'yaml';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import { scaffold } from '../support/cli.js';
import { copyProject } from '../support/project-copy.js';
import { processesUnder, waitUntil } from '../support/services.js';

const shared = inject('sampleProject');

/** One GET on a connection of its own: the status and the client's end of the connection. */
function getOnce(url: string, agent: http.Agent | false = false): Promise<{ status: number; localPort: number }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, timeout: 10_000 }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode!, localPort: request.socket!.localPort! }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

/** remotePort of every request the users instances logged, per instance. */
function remotePortsOfUsers(project: string): number[][] {
  const logs = path.join(project, '.scaffold/run/logs');
  return readdirSync(logs)
    .filter((file) => file.startsWith('users-'))
    .map((file) => [...readFileSync(path.join(logs, file), 'utf8').matchAll(/"remotePort":(\d+)/g)].map((match) => Number(match[1])));
}

function setUsers(project: string, fields: Record<string, unknown>): void {
  const specFile = path.join(project, 'scaffold.yaml');
  const spec = parseDocument(readFileSync(specFile, 'utf8'));
  for (const [field, value] of Object.entries(fields)) spec.setIn(['services', 'users', field], value);
  writeFileSync(specFile, spec.toString());
}

interface Phase {
  requests: number;
  errors: number;
  availability: number;
  p50: number;
}

describe('a service with frontPort: handoff', () => {
  let project: string;
  let users: string;
  let orders: string;
  const chaos = async (...args: string[]) => {
    const result = await scaffold(['chaos', ...args], { cwd: project });
    expect(result.exitCode, result.stderr).toBe(0);
    return result.stdout;
  };
  const underLoad = async (...args: string[]) =>
    JSON.parse(await chaos(...args, '--json')).underLoad as {
      phases: Record<'before' | 'during' | 'after', Phase>;
      window: { fromMs: number; toMs: number };
      load: { series: { second: number; requests: number; errors: number }[] };
    };
  const remotePorts = () => remotePortsOfUsers(project);

  beforeAll(async () => {
    project = await copyProject(shared);
    setUsers(project, { frontPort: 'handoff', replicas: 2 });
    const up = await scaffold(['up', '--json'], { cwd: project });
    expect(up.exitCode, up.stderr).toBe(0);
    const { services } = JSON.parse(up.stdout) as SystemStatus;
    [users, orders] = ['users', 'orders'].map((name) => services.find((s) => s.name === name)!.url);
    expect(services.map((s) => [s.name, s.frontPort])).toEqual([['users', 'handoff'], ['orders', 'handoff'], ['api-gateway', 'handoff']]);
      });
  afterAll(async () => {
    await scaffold(['down'], { cwd: project });
  });

  it('hands each connection to an instance, which then talks to the client itself; connections take turns', async () => {
    const clients: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      const { status, localPort } = await getOnce(`${users}/items`);
      expect(status).toBe(200);
      clients.push(localPort);
    }
    // through a proxy, an instance would see the proxy's ports, not the client's
    await waitUntil(async () => clients.every((port) => remotePorts().flat().includes(port)), 10_000);
    for (const seen of remotePorts()) expect(clients.filter((port) => seen.includes(port))).toHaveLength(4);
    // orders reaches users through its link port, which hands off too
    const upstreams = await (await fetch(`${orders}/upstreams`)).json();
    expect(upstreams).toMatchObject({ users: { ok: true } });
  });

  it('a latency fault reaches connections opened before it, and leaves with it', async () => {
    const { phases } = await underLoad(
      'latency', 'users', '--ms', '150', '--for', '2s', '--with-load', '--target', `${users}/items`, '--load-rate', '100', '--before', '2s', '--after', '2s',
    );
    expect(phases.during.p50).toBeGreaterThanOrEqual(150);
    expect(phases.after.p50).toBeLessThan(20);
    for (const phase of Object.values(phases)) expect(phase.availability).toBeGreaterThanOrEqual(0.99);
  });

  it('a fault on the orders→users link recalls what that link handed off, and nothing else', async () => {
    /** orders' own measure of its call to users (GET /upstreams calls users' liveness). */
    const ordersToUsers = async () => {
      const body = (await (await fetch(`${orders}/upstreams`, { signal: AbortSignal.timeout(10_000) })).json()) as { users: { ok: boolean; ms: number } };
      expect(body.users.ok).toBe(true);
      return body.users.ms;
    };
    const median = async (call: () => Promise<number>) => {
      const samples: number[] = [];
      for (let i = 0; i < 5; i += 1) samples.push(await call());
      return samples.sort((a, b) => a - b)[2]!;
    };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await median(ordersToUsers)).toBeLessThan(100); // orders now holds connections its link handed off
      const before = await getOnce(`${users}/items`, agent);
      await chaos('latency', 'users', '--from', 'orders', '--ms', '200', '--for', '30s');
      try {
        expect(await median(ordersToUsers)).toBeGreaterThanOrEqual(200);
        // the front port's connection was left alone: the same one answers, without delay
        const started = Date.now();
        expect(await getOnce(`${users}/items`, agent)).toEqual(before);
        expect(Date.now() - started).toBeLessThan(200);
      } finally {
        await chaos('clear');
      }
    } finally {
      agent.destroy();
    }
  });

  it('a connection opened during a fault is handed to an instance once the fault is over', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await chaos('latency', 'users', '--ms', '1', '--for', '30s');
      const during = await getOnce(`${users}/items`, agent);
      await chaos('clear');
      const after = await getOnce(`${users}/items`, agent);
      expect(after).toEqual(during); // the same connection, answered
      // through the port, the instance saw the port's own end; now it sees the client's
      await waitUntil(async () => remotePorts().flat().includes(after.localPort), 10_000);
      expect(remotePorts().flat().filter((port) => port === after.localPort)).toHaveLength(1);
    } finally {
      agent.destroy();
    }
  });

  it('under a closed-model load, neither the recall as a fault begins nor the hand-back as it ends loses a request', async () => {
    const { phases } = await underLoad(
      'latency', 'users', '--ms', '1', '--for', '2s', '--with-load', '--target', `${users}/items`, '-c', '10', '--timeout', '1s', '--before', '1s', '--after', '3s',
    );
    for (const phase of Object.values(phases)) {
      expect(phase.errors).toBe(0);
      expect(phase.requests).toBeGreaterThan(500);
    }
  });

  it('an errors fault under a closed-model load answers its share (the fault\'s --rate is not the load\'s)', async () => {
    const { phases, window, load } = await underLoad(
      'errors', 'users', '--rate', '0.5', '--for', '2s', '--with-load', '--target', `${users}/items`, '-c', '10', '--before', '1s', '--after', '1s',
    );
    expect(phases.before.errors).toBe(0);
    // what a failure needs to be understood: where the errors fell, second by second
    const seen = `window ${window.fromMs}–${window.toMs} ms; per second [requests, errors]: ${JSON.stringify(load.series.map((s) => [s.requests, s.errors]))}`;
    expect(1 - phases.during.availability, seen).toBeGreaterThan(0.4);
    expect(1 - phases.during.availability, seen).toBeLessThan(0.6);
  });

  it('a partition cuts the connections handed off before it', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await getOnce(`${users}/items`, agent);
      expect(before.status).toBe(200);
      await chaos('partition', 'users', '--for', '20s');
      const started = Date.now();
      await expect(getOnce(`${users}/items`, agent)).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1_000);
      await chaos('clear');
      expect((await getOnce(`${users}/items`, agent)).status).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  it('a connection between requests outlives the instance it was handed to', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await getOnce(`${users}/items`, agent);
      const { services } = JSON.parse((await scaffold(['status', '--json'], { cwd: project })).stdout) as SystemStatus;
      const instance = services.find((s) => s.name === 'users')!.instances.find((i) => i.connections === 1)!;
      process.kill(instance.pid!, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 100));
      // the same connection, answered by the other instance through the port
      expect(await getOnce(`${users}/items`, agent)).toEqual(before);
    } finally {
      agent.destroy();
    }
  });

  it('a rolling restart under load loses no request: an instance\'s connections move on before it stops', async () => {
    const load = scaffold(['simulate', 'load', `${users}/items`, '-c', '10', '-d', '8s', '--timeout', '2s', '--json'], { cwd: project });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const restart = await scaffold(['restart', 'users'], { cwd: project });
    expect(restart.exitCode, restart.stderr).toBe(0);
    const { summary } = JSON.parse((await load).stdout);
    expect(summary.errorsByKind).toEqual({});
    expect(Object.keys(summary.statusCodes)).toEqual(['200']);
    expect(summary.requests).toBeGreaterThan(1_000);
  });

  it('scales under load, the new instance taking its share of the open connections, and down leaves no process behind', async () => {
    const load = scaffold(['simulate', 'load', `${users}/items`, '-c', '8', '-d', '8s', '--timeout', '2s', '--json'], { cwd: project });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const scaled = await scaffold(['scale', 'users', '3', '--json'], { cwd: project });
    expect(scaled.exitCode, scaled.stderr).toBe(0);
    expect(JSON.parse(scaled.stdout).instances.filter((i: { healthy: boolean }) => i.healthy)).toHaveLength(3);
    // the load's connections stay open: without a rebalance, users-3 would get none of them
    await waitUntil(async () => {
      const { services } = JSON.parse((await scaffold(['status', '--json'], { cwd: project })).stdout) as SystemStatus;
      return services.find((s) => s.name === 'users')!.instances.every((i) => (i.connections ?? 0) >= 2);
    }, 6_000);
    const { summary } = JSON.parse((await load).stdout);
    expect(summary.errorsByKind).toEqual({});
    expect(Object.keys(summary.statusCodes)).toEqual(['200']);
    const started = Date.now();
    const down = await scaffold(['down'], { cwd: project });
    expect(down.exitCode, down.stderr).toBe(0);
    // the front port's close once waited forever for connections it had handed off
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(processesUnder(project)).toEqual([]);
  });
});

describe('least-connections over a handoff port', () => {
  let project: string;
  let users: string;

  beforeAll(async () => {
    project = await copyProject(shared);
    setUsers(project, { frontPort: 'handoff', replicas: 2, balancing: 'least-connections' });
    const up = await scaffold(['up', '--json'], { cwd: project });
    expect(up.exitCode, up.stderr).toBe(0);
    users = (JSON.parse(up.stdout) as SystemStatus).services.find((s) => s.name === 'users')!.url;
  });
  afterAll(async () => {
    await scaffold(['down'], { cwd: project });
  });

  it('weighs the connections each instance was handed, and forgets them as they close', async () => {
    /** Connections of their own, one after another, each closed and reported before the next. */
    const oneShots = async (count: number) => {
      const ports: number[] = [];
      for (let i = 0; i < count; i += 1) {
        ports.push((await getOnce(`${users}/items`)).localPort);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return ports;
    };
    /** How many of the client ports each instance served. */
    const spread = async (ports: number[]) => {
      await waitUntil(async () => ports.every((port) => remotePortsOfUsers(project).flat().includes(port)), 10_000);
      return remotePortsOfUsers(project).map((seen) => ports.filter((port) => seen.includes(port)).length);
    };

    /** What `scaffold status` counts open on each users instance. */
    const connections = async () => {
      const { services } = JSON.parse((await scaffold(['status', '--json'], { cwd: project })).stdout) as SystemStatus;
      return services.find((s) => s.name === 'users')!.instances.map((i) => i.connections);
    };

    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const held = await getOnce(`${users}/items`, agent);
    // round-robin would send every other one to the instance holding that connection
    const whileHeld = await oneShots(6);
    expect((await spread([held.localPort, ...whileHeld])).sort()).toEqual([1, 6]);
    expect((await connections()).sort()).toEqual([0, 1]);

    agent.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await connections()).toEqual([0, 0]);
    expect(await spread(await oneShots(4))).toEqual([2, 2]);
  });
});
