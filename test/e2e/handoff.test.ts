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
  const underLoad = async (...args: string[]) => JSON.parse(await chaos(...args, '--json')).underLoad as { phases: Record<'before' | 'during' | 'after', Phase>; restarts: Record<string, number> };
  /** remotePort of every request the users instances logged, per instance. */
  const remotePorts = () =>
    readdirSync(path.join(project, '.scaffold/run/logs'))
      .filter((file) => file.startsWith('users-'))
      .map((file) => [...readFileSync(path.join(project, '.scaffold/run/logs', file), 'utf8').matchAll(/"remotePort":(\d+)/g)].map((match) => Number(match[1])));

  beforeAll(async () => {
    project = await copyProject(shared);
    const specFile = path.join(project, 'scaffold.yaml');
    const spec = parseDocument(readFileSync(specFile, 'utf8'));
    spec.setIn(['services', 'users', 'frontPort'], 'handoff');
    spec.setIn(['services', 'users', 'replicas'], 2);
    writeFileSync(specFile, spec.toString());
    const up = await scaffold(['up', '--json'], { cwd: project });
    expect(up.exitCode, up.stderr).toBe(0);
    const { services } = JSON.parse(up.stdout) as SystemStatus;
    [users, orders] = ['users', 'orders'].map((name) => services.find((s) => s.name === name)!.url);
    expect(services.map((s) => [s.name, s.frontPort])).toEqual([['users', 'handoff'], ['orders', 'proxy'], ['api-gateway', 'proxy']]);
    expect((await scaffold(['status'], { cwd: project })).stdout).toMatch(/^ {2}users .* healthy · handoff$/m);
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

  it('an errors fault under a closed-model load answers its share (the fault\'s --rate is not the load\'s)', async () => {
    const { phases } = await underLoad(
      'errors', 'users', '--rate', '0.5', '--for', '2s', '--with-load', '--target', `${users}/items`, '--before', '1s', '--after', '1s',
    );
    expect(phases.before.errors).toBe(0);
    expect(1 - phases.during.availability).toBeGreaterThan(0.4);
    expect(1 - phases.during.availability).toBeLessThan(0.6);
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

  it('killing one of 2 instances under load loses at most a request per connection it held', async () => {
    const { phases, restarts } = await underLoad(
      'kill-service', 'users', '--with-load', '--target', `${users}/items`, '--load-rate', '400', '-c', '10', '--before', '2s', '--after', '3s',
    );
    expect(restarts.users).toBe(1);
    expect(phases.before.errors).toBe(0);
    expect(phases.during.errors).toBeLessThanOrEqual(10);
    expect(phases.after.errors).toBe(0);
    for (const phase of Object.values(phases)) expect(phase.requests).toBeGreaterThan(500);
  });

  it('scales, and down leaves no process behind', async () => {
    const scaled = await scaffold(['scale', 'users', '3', '--json'], { cwd: project });
    expect(scaled.exitCode, scaled.stderr).toBe(0);
    expect(JSON.parse(scaled.stdout).instances.filter((i: { healthy: boolean }) => i.healthy)).toHaveLength(3);
    for (let i = 0; i < 6; i += 1) expect((await getOnce(`${users}/items`)).status).toBe(200);
    const started = Date.now();
    const down = await scaffold(['down'], { cwd: project });
    expect(down.exitCode, down.stderr).toBe(0);
    // the front port's close once waited forever for connections it had handed off
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(processesUnder(project)).toEqual([]);
  });
});
