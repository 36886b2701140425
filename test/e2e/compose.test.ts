import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descendants } from '../../src/runtime/process-tree.js';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import { createClassicProject, scaffold, tempDir, upAttached } from '../support/cli.js';
import { dockerEngine, ensureNodeBaseImage } from '../support/docker.js';
import { onFreePorts } from '../support/project-copy.js';
import { waitUntil } from '../support/services.js';

const engine = await dockerEngine();
if (!engine.ok && process.env.CI) throw new Error(`the compose suite needs a Docker engine in CI (.ci/run starts one): ${engine.reason}`);
if (!engine.ok) console.warn(`SKIPPED: the compose suite, no Docker engine here (${engine.reason}); CI runs it`);

/** A process's command line; empty for one that ended since it was listed (up runs short
 * docker commands beside the ones it follows). */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

async function timed(url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

async function median(url: string, count = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push((await timed(url)).ms);
  return times.sort((a, b) => a - b)[Math.floor(count / 2)]!;
}

describe.skipIf(!engine.ok)('the compose runtime, on a real Docker engine', () => {
  // its own project and name: compose names containers, networks and images after it
  const name = `shop-${randomBytes(3).toString('hex')}`;
  let parent: string;
  let project: string;
  let gateway: string;
  let status: SystemStatus;
  let baseImage: string;
  let ports: Record<string, number>;
  const cli = (...args: string[]) => scaffold(args, { cwd: project });
  const docker = (...args: string[]) => execa('docker', args, { stdin: 'ignore' });
  const leftovers = async () => {
    const label = `label=com.docker.compose.project=${name}`;
    const containers = (await docker('ps', '-aq', '--filter', label)).stdout;
    const networks = (await docker('network', 'ls', '-q', '--filter', label)).stdout;
    return [containers, networks].join('\n').trim();
  };

  beforeAll(async () => {
    parent = tempDir();
    project = await createClassicProject(parent, name);
    // not the classic 3001/3002/8080: a system running beside the suite may hold them
    ports = await onFreePorts(project);
    // A 10-s deadline, so that a request to users paused for 5 s (below) is answered after
    // the thaw rather than cut off at the default 5 s. The breaker is the default one: a
    // fault's end that failed the gateway's calls would open it, and show here as 503s.
    appendFileSync(
      path.join(project, 'scaffold.yaml'),
      ['resilience:', '  policies:', '    timeouts: { patient: 10s }', '  targets:', '    "api-gateway -> users": { timeout: patient }', ''].join('\n'),
    );
    const generate = await cli('generate');
    expect(generate.exitCode, generate.stderr).toBe(0);
    baseImage = await ensureNodeBaseImage();
    // no `npm install` on the host: images install from the lockfile inside the build,
    // with this machine's CA (NODE_EXTRA_CA_CERTS, the --ca-cert default)
    const up = await cli('up', '--runtime', 'compose', '--base-image', baseImage, '--json');
    expect(up.exitCode, up.stderr).toBe(0);
    status = JSON.parse(up.stdout) as SystemStatus;
    expect(status.runtime).toBe('compose');
    gateway = status.services.find((s) => s.name === 'api-gateway')!.url;
  });

  afterAll(async () => {
    if (project) await cli('down');
    const images = (await docker('images', '-q', '--filter', `reference=${name}/*`)).stdout.split('\n').filter(Boolean);
    if (images.length > 0) await docker('rmi', '-f', ...images);
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  it('is up with every container healthy, and status needs no --runtime after up', async () => {
    const result = await cli('status', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout) as SystemStatus;
    expect(status.runtime).toBe('compose');
    expect(status.services.map((s) => [s.name, s.replicas])).toEqual([
      ['users', 1],
      ['orders', 2],
      ['api-gateway', 1],
    ]);
    for (const instance of status.services.flatMap((s) => s.instances)) {
      expect(instance).toMatchObject({ state: 'running', healthy: true, restarts: 0 });
      expect(instance.pid).toBeGreaterThan(0);
    }
    expect(new URL(gateway).hostname).toBe('127.0.0.1');
    expect((await timed(`${gateway}/orders/items`)).status).toBe(200);
  });

  it('keeps the CA out of the images it built with it', async () => {
    const { stdout } = await docker('image', 'inspect', '--format', '{{json .Config.Env}}', `${name}/orders:dev`);
    expect(stdout).not.toContain('NODE_EXTRA_CA_CERTS');
    const found = await docker('run', '--rm', '--entrypoint', 'node', `${name}/orders:dev`, '-e', "process.stdout.write(String(require('fs').existsSync('/run/secrets/npm_ca')))");
    expect(found.stdout).toBe('false');
  });

  it('takes load through the gateway', async () => {
    const load = await cli('simulate', 'load', '--path', '/orders/items', '-d', '3s', '-c', '4', '--json');
    expect(load.exitCode, load.stderr).toBe(0);
    const { summary } = JSON.parse(load.stdout);
    expect(summary.requests).toBeGreaterThan(100);
    expect(summary.errors).toBe(0);
    expect(summary.statusCodes).toEqual({ 200: expect.any(Number) });
  });

  it('kill-service under load: the container restarts, recovery is measured, availability stays ≥ 99%', async () => {
    const result = await cli(
      'chaos', 'kill-service', 'orders', '--with-load', '--path', '/orders/items', '--load-rate', '100', '--before', '2s', '--after', '6s', '--json',
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const { underLoad, recoveredInMs, killed } = JSON.parse(result.stdout);
    expect(killed).toHaveLength(1);
    expect(recoveredInMs).toBeGreaterThan(0);
    expect(underLoad.restarts.orders).toBe(1);
    for (const phase of ['before', 'during', 'after']) {
      expect(underLoad.phases[phase].requests).toBeGreaterThan(50);
      expect(underLoad.phases[phase].availability).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('latency on a service shows through the gateway while it lasts, and only on that service', async () => {
    const injected = await cli('chaos', 'latency', 'orders', '--ms', '200', '--for', '30s');
    expect(injected.exitCode, injected.stderr).toBe(0);
    try {
      expect(await median(`${gateway}/orders/items`)).toBeGreaterThanOrEqual(200);
      expect(await median(`${gateway}/users/items`)).toBeLessThan(150);
    } finally {
      expect((await cli('chaos', 'clear')).exitCode).toBe(0);
    }
    expect(await median(`${gateway}/orders/items`)).toBeLessThan(150);
  });

  it('--from: latency on one caller→service link, not on the others', async () => {
    // orders calls users (GET /upstreams asks it); the gateway calls users too
    expect((await cli('chaos', 'latency', 'users', '--from', 'orders', '--ms', '300', '--for', '30s')).exitCode).toBe(0);
    try {
      expect(await median(`${gateway}/users/items`)).toBeLessThan(150);
      expect(await median(`${gateway}/orders/upstreams`)).toBeGreaterThanOrEqual(300);
    } finally {
      expect((await cli('chaos', 'clear')).exitCode).toBe(0);
    }
  });

  /** keep-alive connections to users' published port, `size` of them opened and left idle;
   * `all` sends a request on each and gives each one's status, or the error that came */
  async function idlePool(size: number) {
    const users = status.services.find((s) => s.name === 'users')!.url;
    const agent = new http.Agent({ keepAlive: true, maxSockets: size });
    const get = () =>
      new Promise<number | string>((resolve) => {
        http
          .get(`${users}/items`, { agent }, (response) => response.resume().on('end', () => resolve(response.statusCode!)))
          .on('error', (error) => resolve(error.message));
      });
    const all = () => Promise.all(Array.from({ length: size }, get));
    expect(await all()).toEqual(Array.from({ length: size }, () => 200));
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(size);
    return { all, close: () => agent.destroy() };
  }

  it('errors: the answers carry the status, from a fault proxy in the containers, from the first request on connections opened before', async () => {
    // the fault resets idle connections opened before it there and then, so each one's next
    // request connects anew, through the fault
    const pool = await idlePool(4);
    try {
      expect((await cli('chaos', 'errors', 'users', '--rate', '1', '--status', '418', '--for', '30s')).exitCode).toBe(0);
      expect(await pool.all()).toEqual([418, 418, 418, 418]);
      // and the gateway's, each request in turn
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await timed(`${gateway}/users/items`)).status);
      expect(statuses).toEqual([418, 418, 418, 418]);
    } finally {
      pool.close();
      expect((await cli('chaos', 'clear')).exitCode).toBe(0);
    }
    expect((await timed(`${gateway}/users/items`)).status).toBe(200);
  });

  it('two faults on a service: the newest is in force from the first request on connections through the older one', async () => {
    try {
      expect((await cli('chaos', 'latency', 'users', '--ms', '1', '--for', '30s')).exitCode).toBe(0);
      const pool = await idlePool(4); // through the latency fault's proxy
      try {
        expect((await cli('chaos', 'errors', 'users', '--rate', '1', '--status', '418', '--for', '30s')).exitCode).toBe(0);
        expect(await pool.all()).toEqual([418, 418, 418, 418]);
      } finally {
        pool.close();
      }
    } finally {
      expect((await cli('chaos', 'clear')).exitCode).toBe(0);
    }
    expect((await timed(`${gateway}/users/items`)).status).toBe(200);
  });

  it('a fault outlives a SIGKILLed CLI and ends at its deadline: in force just before, gone just after', async () => {
    // 8 s: starting a fault proxy in the containers takes the CLI seconds on a busy machine
    const durationMs = 8_000;
    const epsilonMs = 1_000;
    // the fault cannot begin before T0, nor after the first answer that shows it
    const t0 = performance.now();
    const started = cli('chaos', 'errors', 'users', '--rate', '1', '--status', '418', '--for', `${durationMs}ms`, '--wait');
    const seen: { at: number; status: number }[] = [];
    const probe = async () => seen.push({ at: performance.now(), status: (await timed(`${gateway}/users/items`)).status });
    while (!seen.some((s) => s.status === 418)) {
      expect(performance.now() - t0, 'the fault never showed').toBeLessThan(durationMs - epsilonMs);
      await probe();
    }
    const firstSeen = seen.find((s) => s.status === 418)!.at;
    started.kill('SIGKILL');
    await started;
    const until = firstSeen + durationMs + epsilonMs + 1_000;
    while (performance.now() < until) {
      await probe();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const at = (from: number, to: number) => seen.filter((s) => s.at >= from && s.at <= to).map((s) => s.status);
    // the fault's start resets the gateway's pooled connections: a 502 may come first
    const during = at(firstSeen, t0 + durationMs - epsilonMs);
    expect(during.length).toBeGreaterThan(2);
    expect(new Set(during)).toEqual(new Set([418]));
    // while the fault ends, nothing fails: each 418 closed its connection, so the gateway
    // connects anew for every call, and those connections go straight to users unharmed
    const ending = at(t0 + durationMs - epsilonMs, firstSeen + durationMs + epsilonMs);
    expect(ending.filter((status) => status !== 418 && status !== 200)).toEqual([]);
    const after = at(firstSeen + durationMs + epsilonMs, Infinity);
    expect(after.length).toBeGreaterThan(2);
    expect(new Set(after)).toEqual(new Set([200]));
    expect(JSON.parse((await cli('chaos', 'list', '--json')).stdout)).toEqual([]);
  });

  it('pause: requests stall, then complete after the thaw', async () => {
    // 5 s: the pause counts from the freeze, before the CLI returns; on a busy CI machine the
    // CLI once took more than 2 s to return, and the request then found users thawed already.
    // The gateway waits up to 10 s for users here (above): at its default 5 s, a request sent
    // right after the freeze waited the whole deadline and got a 504.
    const pause = await cli('chaos', 'pause', 'users', '--for', '5s', '--json');
    expect(pause.exitCode, pause.stderr).toBe(0);
    expect(new Set(JSON.parse(pause.stdout).map((i: { state: string }) => i.state))).toEqual(new Set(['paused']));
    const { status, ms } = await timed(`${gateway}/users/items`);
    expect(status).toBe(200);
    expect(ms).toBeGreaterThanOrEqual(1000);
  });

  it('partition: the service drops off the network, callers fail, and it comes back', async () => {
    const partition = await cli('chaos', 'partition', 'users', '--for', '8s');
    expect(partition.exitCode, partition.stderr).toBe(0);
    expect((await timed(`${gateway}/users/items`)).status).toBeGreaterThanOrEqual(500);
    await waitUntil(async () => (await timed(`${gateway}/users/items`)).status === 200, 20_000);
  });

  it('scale, a rolling restart and logs act on the containers', async () => {
    const up = await cli('scale', 'orders', '3', '--json');
    expect(up.exitCode, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout).instances.filter((i: { healthy: boolean }) => i.healthy)).toHaveLength(3);
    const down = await cli('scale', 'orders', '2', '--json');
    expect(down.exitCode, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).instances).toHaveLength(2);

    const before = (JSON.parse((await cli('status', '--json')).stdout) as SystemStatus).services.find((s) => s.name === 'users')!.instances[0]!;
    const restart = await cli('restart', 'users', '--json');
    expect(restart.exitCode, restart.stderr).toBe(0);
    const after = JSON.parse(restart.stdout).instances[0];
    expect(after).toMatchObject({ id: before.id, healthy: true });
    expect(after.pid).not.toBe(before.pid);
    expect((await timed(`${gateway}/users/items`)).status).toBe(200);

    const logs = await cli('logs', 'orders');
    expect(logs.exitCode, logs.stderr).toBe(0);
    const prefixes = new Set(logs.stdout.split('\n').filter(Boolean).map((line) => line.split(' | ')[0]));
    expect([...prefixes].sort()).toEqual(expect.arrayContaining([expect.stringMatching(/orders.1$/), expect.stringMatching(/orders.2$/)]));
  });

  it('an engine that does not answer: one line, exit 3, the process runtime suggested', async () => {
    const result = await scaffold(['status', '--runtime', 'compose'], { cwd: project, env: { NO_COLOR: '1', DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/Docker engine does not answer.*--runtime process/);
  });

  it('bad input: one line, exit 2', async () => {
    const scale = await cli('scale', 'users', '2');
    expect(scale.exitCode).toBe(2);
    expect(scale.stderr.trim().split('\n')).toHaveLength(1);
    expect(scale.stderr).toMatch(new RegExp(`fixed host port ${ports.users}`));
    const link = await cli('chaos', 'latency', 'orders', '--from', 'users', '--ms', '10', '--for', '1s');
    expect(link.exitCode).toBe(2);
    expect(link.stderr).toMatch(/"users" does not call orders/);
    // a partition of one link is not supported on compose: said, and nothing started
    const partition = await cli('chaos', 'partition', 'users', '--from', 'orders', '--for', '1s');
    expect(partition.exitCode).toBe(2);
    expect(partition.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: the compose runtime cannot partition one link/)]);
    expect(JSON.parse((await cli('chaos', 'list', '--json')).stdout)).toEqual([]);
  });

  it('down leaves no container or network of the project', async () => {
    const down = await cli('down');
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await leftovers()).toBe('');
    expect((await cli('status')).exitCode).not.toBe(0); // nothing remembered: back to the process runtime
  });

  it('up --attach stays in the foreground, streaming the logs, until "scaffold down" from elsewhere, or Ctrl+C', async () => {
    for (const stop of ['down', 'SIGINT'] as const) {
      const { attached, output } = await upAttached(['--runtime', 'compose', '--base-image', baseImage], { cwd: project }, 180_000);
      expect((await fetch(`${gateway}/users/items`)).status).toBe(200);
      // compose v1 names containers project_service_1, v2 project-service-1
      await waitUntil(async () => new RegExp(`^${name}[-_]api-gateway[-_]1 \\| .*"url":"/users/items"`, 'm').test(output()), 10_000);
      if (stop === 'down') {
        // a container restarted after a crash is followed again, from its new start
        const starts = () => output().match(new RegExp(`^${name}[-_]users[-_]1 \\| .*Server listening at http://127\\.0\\.0\\.1`, 'gm'))?.length ?? 0;
        await waitUntil(async () => starts() === 1, 10_000);
        expect((await cli('chaos', 'kill-service', 'users')).exitCode).toBe(0);
        await waitUntil(async () => starts() === 2, 30_000);
        expect((await cli('down')).exitCode).toBe(0);
      } else {
        attached.kill('SIGINT');
      }
      const result = await attached;
      expect(result.exitCode, `${stop}: ${result.stderr}`).toBe(0);
      expect(await leftovers()).toBe('');
    }
  });

  it('up --attach that loses the engine\'s events ends with one line and exit 3, not silently', async () => {
    const { attached } = await upAttached(['--runtime', 'compose', '--base-image', baseImage], { cwd: project }, 180_000);
    // what an engine going away does to the `docker events` it follows for the containers'
    // removal (the logs follow the start events with others)
    const events = descendants(attached.pid!).filter((pid) => commandLine(pid).includes('event=destroy'));
    expect(events).toHaveLength(1);
    process.kill(events[0]!, 'SIGKILL');
    const result = await attached;
    expect(result.exitCode).toBe(3);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toEqual([expect.stringMatching(/^error: lost the Docker engine's events .*"scaffold down" stops what still runs$/)]);
    expect(result.stderr).not.toMatch(/^\s+at /m); // no stack
    expect((await cli('down')).exitCode).toBe(0);
    expect(await leftovers()).toBe('');
  });
});
