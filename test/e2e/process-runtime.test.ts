import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isAlive } from '../../src/runtime/process-tree.js';
import { ProcessRuntime } from '../../src/runtime/process/process-runtime.js';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import { scaffold, upAttached } from '../support/cli.js';
import { copyProject } from '../support/project-copy.js';
import { processesUnder, waitUntil } from '../support/services.js';

const shared = inject('sampleProject');

async function status(project: string): Promise<SystemStatus> {
  const result = await scaffold(['status', '--json'], { cwd: project });
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as SystemStatus;
}

function allPids(system: SystemStatus): number[] {
  return system.services.flatMap((s) => s.instances.map((i) => i.pid)).filter((pid): pid is number => pid !== null);
}

function supervisorPid(project: string): number {
  return JSON.parse(readFileSync(path.join(project, '.scaffold/run/state.json'), 'utf8')).pid;
}

/** Requests in a loop until stopped; counts what did not come back 2xx. */
function steadyTraffic(url: string) {
  let running = true;
  const failures: string[] = [];
  let sent = 0;
  const loop = (async () => {
    while (running) {
      sent += 1;
      try {
        // a per-request deadline: a request that hangs is a failure to name, not a test timeout
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const body = await response.text();
        if (!response.ok) failures.push(`status ${response.status}: ${body.slice(0, 120)}`);
      } catch (error) {
        failures.push(String((error as Error).cause ?? error));
      }
    }
  })();
  return {
    failures,
    get sent() {
      return sent;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe('the process runtime', () => {
  let project: string;
  let system: SystemStatus;

  beforeAll(async () => {
    project = await copyProject(shared);
    const up = await scaffold(['up', '--json'], { cwd: project });
    expect(up.exitCode, up.stderr).toBe(0);
    system = JSON.parse(up.stdout) as SystemStatus;
  });
  afterAll(async () => {
    await scaffold(['down'], { cwd: project });
  });

  it('reports every service healthy in the documented shape', async () => {
    const current = await status(project);
    expect(current.runtime).toBe('process');
    expect(current.services.map((s) => s.name)).toEqual(['users', 'orders', 'api-gateway']);
    const orders = current.services.find((s) => s.name === 'orders')!;
    expect(orders).toMatchObject({ replicas: 2, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    for (const instance of current.services.flatMap((s) => s.instances)) {
      expect(instance).toMatchObject({ id: expect.any(String), pid: expect.any(Number), port: expect.any(Number), state: 'running', healthy: true, restarts: 0 });
    }
  });

  it('is idempotent: a second up changes nothing', async () => {
    const again = await scaffold(['up', '--json'], { cwd: project });
    expect(again.exitCode).toBe(0);
    expect(allPids(JSON.parse(again.stdout))).toEqual(allPids(system));
  });

  it('balances the front port over every replica, and the gateway reaches through it', async () => {
    const orders = system.services.find((s) => s.name === 'orders')!;
    for (let i = 0; i < 20; i += 1) {
      // a fresh connection each time: the balancer works per connection
      const response = await fetch(`${orders.url}/items`, { headers: { connection: 'close' } });
      expect(response.status).toBe(200);
    }
    for (const instance of orders.instances) {
      const metrics = await (await fetch(`http://127.0.0.1:${instance.port}/metrics`)).text();
      expect(metrics).toMatch(/http_requests_total\{[^}]*route="\/items"[^}]*\} ([1-9]\d*)/);
    }
    const gateway = system.services.find((s) => s.name === 'api-gateway')!;
    expect((await fetch(`${gateway.url}/orders/upstreams`)).status).toBe(200);
  });

  it('scales up and down under steady requests without losing one', async () => {
    const orders = system.services.find((s) => s.name === 'orders')!;
    const traffic = steadyTraffic(`${orders.url}/items`);
    const up = await scaffold(['scale', 'orders', '3', '--json'], { cwd: project });
    expect(up.exitCode, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout).replicas).toBe(3);
    const down = await scaffold(['scale', 'orders', '1', '--json'], { cwd: project });
    expect(down.exitCode, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).replicas).toBe(1);
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    expect(traffic.sent).toBeGreaterThan(20);
    expect((await scaffold(['scale', 'orders', '2'], { cwd: project })).exitCode).toBe(0);
  });

  it('gives an instance added under load its share of the connections already open, losing no request', async () => {
    const orders = system.services.find((s) => s.name === 'orders')!;
    const load = scaffold(['simulate', 'load', `${orders.url}/items`, '-c', '8', '-d', '8s', '--timeout', '2s', '--json'], { cwd: project });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await scaffold(['scale', 'orders', '3'], { cwd: project })).exitCode).toBe(0);
    // a client that keeps its connections (as the gateway's pool does) would otherwise
    // never reach orders-3
    await waitUntil(async () => (await status(project)).services.find((s) => s.name === 'orders')!.instances.every((i) => (i.connections ?? 0) >= 2), 6_000);
    const { summary } = JSON.parse((await load).stdout);
    expect(summary.errorsByKind).toEqual({});
    expect(Object.keys(summary.statusCodes)).toEqual(['200']);
    expect((await scaffold(['scale', 'orders', '2'], { cwd: project })).exitCode).toBe(0);
  });

  it('puts a fault on a front port and takes it away at its deadline by itself', async () => {
    const runtime = new ProcessRuntime({ projectDir: project });
    const users = system.services.find((s) => s.name === 'users')!;
    const active = await runtime.inject('users', { kind: 'errors', rate: 1, status: 503 }, 1_500);
    expect(active).toMatchObject({ service: 'users', expiresAt: expect.any(String) });
    const faulted = await fetch(`${users.url}/items`);
    expect(faulted.status).toBe(503);
    expect(faulted.headers.get('x-scaffold-fault')).toBe('errors');
    await expect(runtime.inject('users', { kind: 'errors', rate: 3, status: 503 }, 1_000)).rejects.toThrow(/between 0 and 1/);
    await waitUntil(async () => (await runtime.faults()).length === 0, 5_000);
    expect((await fetch(`${users.url}/items`)).status).toBe(200);
  });

  it('restarts a service one instance at a time without losing a request', async () => {
    const before = (await status(project)).services.find((s) => s.name === 'orders')!;
    const traffic = steadyTraffic(`${before.url}/items`);
    const result = await scaffold(['restart', 'orders', '--json'], { cwd: project });
    await traffic.stop();
    expect(result.exitCode, result.stderr).toBe(0);
    const after = JSON.parse(result.stdout);
    expect(after.replicas).toBe(before.replicas);
    const oldPids = before.instances.map((i) => i.pid);
    expect(after.instances.every((i: { pid: number }) => !oldPids.includes(i.pid))).toBe(true);
    expect(traffic.failures).toEqual([]);
  });

  it('simulate load goes through the gateway by default, and to a service by name', async () => {
    const viaGateway = await scaffold(['simulate', 'load', '--path', '/orders/items', '-d', '2s', '--rate', '200', '--slo', 'error_rate<1%', '--json'], { cwd: project });
    expect(viaGateway.exitCode, viaGateway.stderr).toBe(0);
    const gateway = system.services.find((s) => s.name === 'api-gateway')!;
    expect(JSON.parse(viaGateway.stdout)).toMatchObject({ target: `${gateway.url}/orders/items`, passed: true });
    const direct = await scaffold(['simulate', 'load', '--service', 'users', '--path', '/items', '-a', '200', '--json'], { cwd: project });
    expect(direct.exitCode, direct.stderr).toBe(0);
    expect(JSON.parse(direct.stdout).summary.statusCodes).toEqual({ 200: expect.any(Number) });
  });

  it('shows logs per instance', async () => {
    const logs = await scaffold(['logs', 'users'], { cwd: project });
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toMatch(/^users-1 \| \{.*"level"/m);
  });

  it('refuses a taken front port with exit 3', async () => {
    const other = await copyProject(shared);
    const spec = path.join(other, 'scaffold.yaml');
    const users = system.services.find((s) => s.name === 'users')!;
    const text = readFileSync(spec, 'utf8').replace(/(users:\n(?:.*\n)*?\s+port: )\d+/, `$1${new URL(users.url).port}`);
    writeFileSync(spec, text);
    const result = await scaffold(['up'], { cwd: other, timeout: 60_000 });
    expect(result.exitCode).toBe(3);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors, result.stderr).toEqual([expect.stringMatching(/^error: port \d+ .* is taken/)]);
    expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('down leaves no process of the run alive', async () => {
    const pids = [...allPids(await status(project)), supervisorPid(project)];
    const down = await scaffold(['down'], { cwd: project });
    expect(down.exitCode).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(processesUnder(project)).toEqual([]);
    expect((await scaffold(['status'], { cwd: project })).exitCode).toBe(3); // nothing running: the environment's lack
  });
});

describe('up --attach', () => {
  it('serves in the foreground, streaming every service\'s logs, until Ctrl+C or "scaffold down" from elsewhere, then leaves nothing running', async () => {
    const project = await copyProject(shared);
    for (const stop of ['SIGINT', 'down'] as const) {
      const { attached, output } = await upAttached([], { cwd: project }, 60_000);
      const gateway = (await status(project)).services.find((s) => s.name === 'api-gateway')!;
      expect((await fetch(`${gateway.url}/users/items`)).status).toBe(200);
      // the request's access lines, from the gateway and from the service behind it
      await waitUntil(async () => /^api-gateway-1 \| .*"url":"\/users\/items"/m.test(output()) && /^users-\d \| .*"url":"\/items"/m.test(output()), 10_000);
      if (stop === 'SIGINT') {
        // an instance started later is followed too, from its first line
        expect((await scaffold(['scale', 'users', '2'], { cwd: project })).exitCode).toBe(0);
        await waitUntil(async () => /^users-2 \| .*"msg":"Server listening at/m.test(output()), 10_000);
        attached.kill('SIGINT');
      } else {
        expect((await scaffold(['down'], { cwd: project })).exitCode).toBe(0);
      }
      const result = await attached;
      expect(result.exitCode, `${stop}: ${result.stderr}`).toBe(0);
      expect(processesUnder(project)).toEqual([]);
    }
  });
});

describe('a service that cannot start', () => {
  it('fails up with exit 2 and the end of its log, leaving nothing running', async () => {
    const project = await copyProject(shared);
    const main = path.join(project, 'services/users/dist/main.js');
    writeFileSync(main, `console.error('users: DATABASE_URL is missing'); process.exit(2);\n${readFileSync(main, 'utf8')}`);
    const result = await scaffold(['up'], { cwd: project });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error: users-1 exited before it was ready; its last log lines follow/m);
    expect(result.stderr).toContain('users: DATABASE_URL is missing');
    expect(processesUnder(project)).toEqual([]);
  });
});

describe('no orphans', () => {
  it('after the supervisor is SIGKILLed, every instance ends by itself, and the next up cleans the stale state', async () => {
    const project = await copyProject(shared);
    const up = await scaffold(['up', '--json'], { cwd: project });
    expect(up.exitCode, up.stderr).toBe(0);
    const pids = allPids(JSON.parse(up.stdout));
    process.kill(supervisorPid(project), 'SIGKILL');
    await waitUntil(async () => pids.every((pid) => !isAlive(pid)), 15_000);
    expect(processesUnder(project)).toEqual([]);

    const again = await scaffold(['up', '--json'], { cwd: project });
    expect(again.exitCode, again.stderr).toBe(0);
    const down = await scaffold(['down'], { cwd: project });
    expect(down.exitCode).toBe(0);
    expect(allPids(JSON.parse(again.stdout)).filter(isAlive)).toEqual([]);
  });

  /** A copy whose users build takes its time, so that a signal lands in it. */
  async function slowBuildingProject(): Promise<string> {
    const project = await copyProject(shared);
    const manifest = path.join(project, 'services/users/package.json');
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    pkg.scripts.build = `sleep 60 && ${pkg.scripts.build}`;
    writeFileSync(manifest, JSON.stringify(pkg));
    return project;
  }

  /** An `up` started, once its stderr has said `line` (as it comes, not at a poll's pace).
   * (In an object: the subprocess is a promise of its end, which `await` would wait for.) */
  async function upUntil(project: string, line: string) {
    const up = scaffold(['up'], { cwd: project });
    let output = '';
    // the copy's `npm install` comes first: a busy CI machine took more than 30 s over it once
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // an up left running would go on to start a system nobody stops
        up.kill('SIGTERM');
        reject(new Error(`no "${line}" in 120 s: ${output}`));
      }, 120_000);
      up.stderr?.on('data', (chunk: Buffer) => {
        output += chunk;
        if (output.includes(line)) resolve();
      });
      void up.then(() => reject(new Error(`the up ended before "${line}": ${output}`))).finally(() => clearTimeout(timer));
    });
    return { up };
  }

  async function expectCancelled(project: string, up: ReturnType<typeof scaffold>, context = '') {
    const result = await up;
    // how it ended first: a flake's report keeps only the message's first line
    expect(result.exitCode, `${context}ended with ${result.exitCode ?? result.signal}; its stderr:\n${result.stderr}`).toBe(143);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^error: cancelled before the system was up/);
    // the build's commands end with it, and no supervisor was ever started
    await waitUntil(async () => processesUnder(project).length === 0, 10_000);
    expect(readdirSync(path.join(project, '.scaffold/run'))).toEqual([]);
  }

  it('a down while an up is still building cancels that up: nothing starts after it', async () => {
    const project = await slowBuildingProject();
    const { up } = await upUntil(project, 'building users');
    const down = await scaffold(['down'], { cwd: project });
    expect(down.exitCode, down.stderr).toBe(0);
    await expectCancelled(project, up);
    expect((await scaffold(['status'], { cwd: project })).exitCode).toBe(3); // nothing running: the environment's lack
  });

  it('a SIGTERM at any moment of the build, even before its first command has started: the up ends at once, and nothing of it runs', async () => {
    const project = await slowBuildingProject();
    // random phases from the progress line on, which comes before the build's npm is spawned:
    // a signal in between once left that npm to start its script after the cancel, and the
    // up hung on it until the down SIGKILLed it
    const phases = [0, 20 + Math.random() * 80, 100 + Math.random() * 400, 500 + Math.random() * 1000];
    for (const delayMs of phases) {
      const { up } = await upUntil(project, 'building users');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const sent = Date.now();
      process.kill(up.pid!, 'SIGTERM');
      await expectCancelled(project, up, `SIGTERM ${delayMs.toFixed(0)} ms into the build: `);
      // the deadline for steps that do not give up is 10 s; these commands end on the signal
      expect(Date.now() - sent).toBeLessThan(8_000);
    }
  });

  it('after the CLI is killed mid-up, nothing of the run survives', async () => {
    const project = await copyProject(shared);
    const cli = scaffold(['up'], { cwd: project });
    // wait until the supervisor has started some instances, then kill the CLI
    await waitUntil(async () => {
      try {
        return JSON.parse(readFileSync(path.join(project, '.scaffold/run/state.json'), 'utf8')).pid > 0;
      } catch {
        return false;
      }
    }, 30_000);
    const supervisor = supervisorPid(project);
    cli.kill('SIGKILL');
    await cli;
    await waitUntil(async () => !isAlive(supervisor), 20_000);
    await waitUntil(async () => processesUnder(project).length === 0, 15_000);
  });
});
