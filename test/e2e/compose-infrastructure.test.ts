import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import { createClassicProject, scaffold, tempDir } from '../support/cli.js';
import { dockerEngine, ensureNodeBaseImage, ensureRedisImage } from '../support/docker.js';
import { onFreePorts } from '../support/project-copy.js';

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

/**
 * Infrastructure on compose: a Redis container (built from this machine's redis-server, the
 * spec's `image` pointing at it) used by users and orders. Round trips are timed from inside
 * each service's network namespace by the test's own client, as that service's connections
 * are: to redis's container address, on its port.
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
    document.set('infrastructure', { redis: { image: await ensureRedisImage() } });
    document.setIn(['services', 'users', 'uses'], ['redis']);
    document.setIn(['services', 'orders', 'uses'], ['redis']);
    writeFileSync(specFile, document.toString());
    const up = await cli('up', '--runtime', 'compose', '--base-image', await ensureNodeBaseImage(), '--json');
    expect(up.exitCode, up.stderr).toBe(0);
  });

  afterAll(async () => {
    if (project) await cli('down', '--volumes');
    const images = (await docker('images', '-q', '--filter', `reference=${name}/*`)).stdout.split('\n').filter(Boolean);
    if (images.length > 0) await docker('rmi', '-f', ...images);
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  it('runs the spec\'s image, healthy, and status lists it', async () => {
    const status = JSON.parse((await cli('status', '--json')).stdout) as SystemStatus;
    expect(status.infrastructure).toEqual([expect.objectContaining({ kind: 'redis', instance: expect.objectContaining({ healthy: true }) })]);
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
});
