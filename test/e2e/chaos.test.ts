import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import { scaffold } from '../support/cli.js';
import { copyProject } from '../support/project-copy.js';
import { waitUntil } from '../support/services.js';

const shared = inject('sampleProject');

describe('chaos on the process runtime', () => {
  let project: string;
  let users: string;
  const chaos = (...args: string[]) => scaffold(['chaos', ...args], { cwd: project });
  const p50 = async () => {
    const load = await scaffold(['simulate', 'load', '--service', 'users', '--path', '/items', '-d', '2s', '-c', '4', '--json'], { cwd: project });
    expect(load.exitCode, load.stderr).toBe(0);
    return JSON.parse(load.stdout).summary.latency.p50 as number;
  };

  beforeAll(async () => {
    project = await copyProject(shared);
    const up = await scaffold(['up', '--json'], { cwd: project });
    expect(up.exitCode, up.stderr).toBe(0);
    users = (JSON.parse(up.stdout) as SystemStatus).services.find((s) => s.name === 'users')!.url;
  });
  afterAll(async () => {
    await scaffold(['down'], { cwd: project });
  });

  it('latency 200 ms shows in p50 while it lasts, and is gone after', async () => {
    expect((await chaos('latency', 'users', '--ms', '200', '--for', '20s')).exitCode).toBe(0);
    expect(await p50()).toBeGreaterThanOrEqual(200);
    expect((await chaos('clear')).exitCode).toBe(0);
    expect(await p50()).toBeLessThan(20);
  });

  it('errors at 30% answer 25–35% of requests with the status', async () => {
    expect((await chaos('errors', 'users', '--rate', '0.3', '--status', '503', '--for', '20s')).exitCode).toBe(0);
    const statuses: number[] = [];
    for (let i = 0; i < 400; i += 1) statuses.push((await fetch(`${users}/items`)).status);
    await chaos('clear');
    const injected = statuses.filter((status) => status === 503).length / statuses.length;
    expect(injected).toBeGreaterThanOrEqual(0.25);
    expect(injected).toBeLessThanOrEqual(0.35);
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
  });

  it('a partition makes requests fail fast', async () => {
    expect((await chaos('partition', 'users', '--for', '20s')).exitCode).toBe(0);
    const started = Date.now();
    await expect(fetch(`${users}/items`)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
    await chaos('clear');
    expect((await fetch(`${users}/items`)).status).toBe(200);
  });

  it('pause stalls requests, which complete once the service is thawed', async () => {
    expect((await chaos('pause', 'users', '--for', '1500ms')).exitCode).toBe(0);
    const started = Date.now();
    const response = await fetch(`${users}/items`, { signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('kill-service reports the recovery time', async () => {
    const result = await chaos('kill-service', 'orders', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.killed).toHaveLength(1);
    expect(report.recoveredInMs).toBeGreaterThan(0);
    expect(report.recoveredInMs).toBeLessThan(10_000);
  });

  it('killing one of 2 replicas under load keeps availability ≥ 99.9%, measured per phase', async () => {
    const result = await chaos(
      'kill-service', 'orders', '--with-load', '--path', '/orders/items', '--load-rate', '200', '--before', '2s', '--after', '3s', '--slo', 'error_rate<0.1%', '--json',
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const { underLoad, recoveredInMs } = JSON.parse(result.stdout);
    expect(underLoad.load.target).toMatch(/\/orders\/items$/);
    for (const phase of ['before', 'during', 'after']) {
      expect(underLoad.phases[phase].requests).toBeGreaterThan(100);
      expect(underLoad.phases[phase].availability).toBeGreaterThanOrEqual(0.999);
    }
    expect(underLoad.restarts.orders).toBe(1);
    expect(recoveredInMs).toBeGreaterThan(0);
    expect(underLoad.timeToRecoverMs).toEqual(expect.any(Number));
  });

  it('latency under load: the during phase is slow, the after phase is not', async () => {
    const result = await chaos(
      'latency', 'users', '--ms', '150', '--for', '2s', '--with-load', '--target', `${users}/items`, '--load-rate', '100', '--before', '2s', '--after', '2s', '--json',
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const { underLoad } = JSON.parse(result.stdout);
    expect(underLoad.phases.during.p50).toBeGreaterThanOrEqual(150);
    expect(underLoad.phases.after.p50).toBeLessThan(20);
    expect(underLoad.timeToRecoverMs).toEqual(expect.any(Number));
  });

  it('a fault outlives a SIGKILLed CLI and still ends on time', async () => {
    const cli = chaos('latency', 'users', '--ms', '50', '--for', '2s', '--wait');
    await waitUntil(async () => JSON.parse((await chaos('list', '--json')).stdout).length === 1, 5_000);
    cli.kill('SIGKILL');
    await cli;
    expect(JSON.parse((await chaos('list', '--json')).stdout)).toHaveLength(1);
    await waitUntil(async () => JSON.parse((await chaos('list', '--json')).stdout).length === 0, 5_000);
  });

  describe('experiments', () => {
    const write = (name: string, lines: string[]) => writeFileSync(path.join(project, name), lines.join('\n'));
    const hypothesis = [
      'steady-state-hypothesis:',
      '  title: users answer through the gateway',
      '  probes:',
      '    - { name: gateway routes to users, type: http, service: api-gateway, path: /users/items, status: 200 }',
      '    - { name: users under load, type: load, service: users, path: /items, duration: 1s, rate: 50, slos: ["error_rate<1%"] }',
    ];

    it('holds: exit 0, and the journal is saved', async () => {
      write('holds.yaml', [
        'title: users ride out a short slowdown',
        ...hypothesis,
        'method:',
        '  - { type: fault, service: users, fault: { kind: latency, ms: 100 }, for: 1s }',
        '  - { type: wait, for: 1500ms }',
      ]);
      const result = await chaos('run', 'holds.yaml', '--json');
      expect(result.exitCode, result.stderr + result.stdout).toBe(0);
      const journal = JSON.parse(result.stdout);
      expect(journal).toMatchObject({ status: 'held', method: [{ activity: { type: 'fault' } }, { activity: { type: 'wait' } }] });
      expect(journal.before.every((probe: { ok: boolean }) => probe.ok)).toBe(true);
      expect(existsSync(journal.file)).toBe(true);
    });

    it('deviates: exit 1, and the rollbacks still clear the fault', async () => {
      write('deviates.yaml', ['title: users fail while erroring', ...hypothesis, 'method:', '  - { type: fault, service: users, fault: { kind: errors, rate: 1 }, for: 30s }']);
      const result = await chaos('run', 'deviates.yaml', '--json');
      expect(result.exitCode).toBe(1);
      const journal = JSON.parse(result.stdout);
      expect(journal.status).toBe('deviated');
      expect(journal.after.find((probe: { name: string }) => probe.name === 'gateway routes to users')).toMatchObject({ ok: false, detail: 'status 503' });
      expect(journal.rollbacks).toEqual([{ type: 'clear-faults', outcome: 'done' }]);
      expect(JSON.parse((await chaos('list', '--json')).stdout)).toEqual([]);
    });

    it('a malformed experiment is exit 2 naming the field', async () => {
      write('bad.yaml', ['title: broken', ...hypothesis, 'method:', '  - { type: fault, service: users, fault: { kind: gremlins }, for: 1s }']);
      const result = await chaos('run', 'bad.yaml');
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/bad\.yaml:\d+:\d+: method\.0\.fault\.kind/);
    });
  });

  describe('built-in scenarios', () => {
    it('lists what the topology suggests', async () => {
      const result = await chaos('scenarios', '--json');
      expect(result.exitCode).toBe(0);
      const plans = JSON.parse(result.stdout);
      expect(plans.map((plan: { name: string }) => plan.name)).toEqual(['replica-loss', 'outage-and-recovery', 'slow-dependency']);
      expect(plans[0].description).toMatch(/one of 2 orders replicas/);
    });

    it.each(['replica-loss', 'outage-and-recovery'])('%s passes on the classic system', async (name) => {
      const result = await chaos('scenario', name, '--json');
      expect(result.exitCode, result.stdout + result.stderr).toBe(0);
      const outcome = JSON.parse(result.stdout);
      expect(outcome).toMatchObject({ scenario: name, passed: true });
      // replica-loss kills one orders replica; the outage takes every users instance
      const victim = name === 'replica-loss' ? 'orders' : 'users';
      expect(outcome.measured.restarts[victim]).toBe(1);
      // losing one replica shows nowhere; a whole outage may show only as clear 502/503s
      // (the gateway retries a GET answered 503 — @fastify/reply-from's default — so a
      // quick restart is often masked) and never as a hang
      if (name === 'replica-loss') expect(outcome.measured.phases.during.errors).toBe(0);
      expect(Object.keys(outcome.measured.phases.during.errorsByKind).filter((kind) => kind !== '502' && kind !== '503')).toEqual([]);
    });

    it("slow-dependency: the caller's timeout bounds its p99", async () => {
      const result = await chaos('scenario', 'slow-dependency', '--json');
      expect(result.exitCode, result.stdout + result.stderr).toBe(0);
      const { measured } = JSON.parse(result.stdout);
      expect(measured.phases.during.p99).toBeGreaterThanOrEqual(4_900); // waited for the timeout...
      expect(measured.phases.during.p99).toBeLessThan(6_000); // ...and not for the 6 s of latency
    });

    it('an unknown scenario is exit 2', async () => {
      const result = await chaos('scenario', 'meteor-strike');
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/no scenario "meteor-strike": choose replica-loss/);
    });
  });

  it.each([
    [['errors', 'users', '--rate', '3'], /a rate is a share between 0 and 1/],
    [['latency', 'users', '--ms', '100', '--from', 'api-gateway'], /cannot put a fault on one caller→callee link/],
    [['latency', 'nobody', '--ms', '100'], /no service "nobody"/],
    [['pause', 'users', '--for', '2h'], /at most 60 minutes/],
  ])('refuses %j with exit 2 and one line', async (args, message) => {
    const result = await chaos(...args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });
});

it('an experiment against a system that is not running cannot run: exit 3', async () => {
  const project = await copyProject(shared);
  writeFileSync(
    path.join(project, 'x.yaml'),
    ['title: x', 'steady-state-hypothesis:', '  title: t', '  probes:', '    - { name: p, type: http, service: users }', 'method:', '  - { type: wait, for: 1s }'].join('\n'),
  );
  const result = await scaffold(['chaos', 'run', 'x.yaml'], { cwd: project });
  expect(result.exitCode).toBe(3);
  expect(result.stderr).toMatch(/cannot run: nothing is running here/);
});
