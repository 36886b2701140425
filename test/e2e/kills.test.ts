import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDocument } from 'yaml';
import { isAlive } from '../../src/runtime/process-tree.js';
import { ProcessRuntime } from '../../src/runtime/process/process-runtime.js';
import type { InstanceStatus, SystemStatus } from '../../src/runtime/runtime.js';
import { scaffold } from '../support/cli.js';
import { copyProject } from '../support/project-copy.js';
import { waitUntil } from '../support/services.js';

// What a SIGKILLed instance costs its clients, per front port mode, measured where it can
// be lost: requests in flight on the victim, from a closed-model load straight to the
// front port (no gateway retrying in between), the victim being the instance that holds
// the most connections, killed several times.

const shared = inject('sampleProject');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** waitUntil, checking every 5 ms: the moments it finds are compared with the runtime's. */
async function pollUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await sleep(5);
  }
}

interface Sent {
  /** The client's end of the connection it went on. */
  port: number;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  outcome: string;
}

/** `connections` loops, each on a keep-alive connection of its own, sending its next
 * request 0–4 ms (at random) after its answer, so that a connection is sometimes between
 * requests; every request is recorded. */
function closedLoad(url: string, connections: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const sent: Sent[] = [];
  let running = true;
  let inFlight = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const startedAt = performance.now();
      inFlight += 1;
      let port = 0;
      const done = (ok: boolean, outcome: string) => {
        inFlight -= 1;
        sent.push({ port, startedAt, endedAt: performance.now(), ok, outcome });
        resolve();
      };
      const request = http.get(url, { agent, timeout: 5_000 }, (response) => {
        response.resume();
        response.on('end', () => done(response.statusCode === 200, `status ${response.statusCode}`));
        response.on('error', (error) => done(false, error.message));
      });
      request.on('socket', (socket) => {
        port = socket.localPort ?? 0;
        if (!port) socket.once('connect', () => (port = socket.localPort!));
      });
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', (error) => done(false, (error as NodeJS.ErrnoException).code ?? error.message));
    });
  const loops = Array.from({ length: connections }, async () => {
    while (running) {
      await one();
      await sleep(Math.random() * 4);
    }
  });
  return {
    sent,
    /** Requests sent and not answered yet. */
    inFlightNow: () => inFlight,
    /** Requests sent before `at` and not answered by then. */
    inFlightAt: (at: number) => sent.filter((r) => r.startedAt < at && r.endedAt > at),
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

/** The peer ports of the TCP connections a process holds, from the kernel's tables: an
 * instance's end of a connection handed off to it has the client's port as its peer. */
function peerPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && inodes.has(fields[9]!)) ports.add(Number.parseInt(fields[2]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

interface Kill {
  at: number;
  victim: InstanceStatus;
  /** Handoff: the client ports of the connections the victim held as it died. */
  held: Set<number>;
}

describe('a SIGKILLed instance, under a closed-model load straight to the front port', () => {
  let project: string;
  let runtime: ProcessRuntime;
  let system: SystemStatus;

  beforeAll(async () => {
    project = await copyProject(shared);
    const specFile = path.join(project, 'scaffold.yaml');
    const spec = parseDocument(readFileSync(specFile, 'utf8'));
    spec.setIn(['services', 'users', 'replicas'], 2); // users: the default, handoff
    spec.setIn(['services', 'orders', 'frontPort'], 'proxy'); // orders: 2 replicas already
    writeFileSync(specFile, spec.toString());
    const up = await scaffold(['up', '--json'], { cwd: project });
    expect(up.exitCode, up.stderr).toBe(0);
    system = JSON.parse(up.stdout) as SystemStatus;
    expect(system.services.map((s) => [s.name, s.frontPort, s.instances.length])).toEqual([
      ['users', 'handoff', 2],
      ['orders', 'proxy', 2],
      ['api-gateway', 'handoff', 1],
    ]);
    expect((await scaffold(['status'], { cwd: project })).stdout).toMatch(/^ {2}users .* 2\/2 healthy\n(?:.*\n)* {2}orders .* 2\/2 healthy · proxy$/m);
    runtime = new ProcessRuntime({ projectDir: project });
  });
  afterAll(async () => {
    await scaffold(['down'], { cwd: project });
  });

  const instancesOf = async (service: string) => (await runtime.status()).services.find((s) => s.name === service)!.instances;

  /** Three kills, each of the instance holding the most connections once the last one is
   * back and has its share again. */
  async function killUnderLoad(service: string) {
    const url = system.services.find((s) => s.name === service)!.url;
    const load = closedLoad(`${url}/items`, 8);
    const kills: Kill[] = [];
    try {
      await sleep(1_000);
      for (let round = 0; round < 3; round += 1) {
        await waitUntil(async () => (await instancesOf(service)).every((i) => i.healthy && (i.connections ?? 0) >= 2), 10_000);
        const victim = (await instancesOf(service)).reduce((most, i) => ((i.connections ?? 0) > (most.connections ?? 0) ? i : most));
        // the kill lands while requests are out: between two answers the loops pause 0–4 ms
        // each, and a fast service left moments with none in flight, which tested nothing.
        // No I/O callback runs between this check and the kill.
        await waitUntil(async () => load.inFlightNow() >= 2, 5_000);
        const held = peerPortsOf(victim.pid!);
        const at = performance.now();
        process.kill(victim.pid!, 'SIGKILL');
        kills.push({ at, victim, held });
        await waitUntil(async () => (await instancesOf(service)).some((i) => i.id === victim.id && i.restarts > victim.restarts && i.healthy), 20_000);
        await sleep(500);
      }
    } finally {
      await load.stop();
    }
    return { load, kills };
  }

  it('proxy: the port replays what the victim was serving; no request is lost', async () => {
    const { load, kills } = await killUnderLoad('orders');
    for (const kill of kills) {
      expect(kill.victim.connections).toBeGreaterThanOrEqual(2);
      expect(load.inFlightAt(kill.at).length).toBeGreaterThan(0);
    }
    expect(load.sent.length).toBeGreaterThan(500);
    expect(load.sent.filter((r) => !r.ok).map((r) => r.outcome)).toEqual([]);
  });

  it('handoff: only the requests the victim was serving are lost; its other connections go on through the port', async () => {
    const { load, kills } = await killUnderLoad('users');
    const failed = load.sent.filter((r) => !r.ok);
    let lost = 0;
    let inFlight = 0;
    for (const [index, kill] of kills.entries()) {
      const next = kills[index + 1]?.at ?? Infinity;
      const serving = load.inFlightAt(kill.at).filter((r) => kill.held.has(r.port));
      const ofThisKill = failed.filter((r) => r.endedAt > kill.at && r.endedAt < next);
      // each failure was a request in flight on one of the victim's connections as it died
      for (const request of ofThisKill) expect(serving, `${request.outcome} on port ${request.port}`).toContainEqual(request);
      // and each of the victim's connections that lost nothing answered again, through the port
      const survivors = [...kill.held].filter((port) => load.sent.some((r) => r.port === port) && !ofThisKill.some((r) => r.port === port));
      for (const port of survivors) expect(load.sent.some((r) => r.port === port && r.startedAt > kill.at && r.ok), `connection ${port} after the kill`).toBe(true);
      expect(kill.held.size).toBeGreaterThanOrEqual(2);
      lost += ofThisKill.length;
      inFlight += serving.length;
    }
    expect(failed).toHaveLength(lost); // none before the first kill
    expect(lost).toBeLessThanOrEqual(inFlight);
    expect(load.sent.length).toBeGreaterThan(500);
    console.info(`handoff: ${lost} requests lost over ${kills.length} kills, ${inFlight} in flight on the victims as they died`);
  });

  it('kill-service reports the recovery the test sees itself: the new process answering its readiness probe', async () => {
    const [victim] = await instancesOf('users');
    const kill = scaffold(['chaos', 'kill-service', 'users', '--instance', victim!.id, '--json'], { cwd: project });
    // the kill's moment, seen from here: the victim's pid gone
    await pollUntil(async () => !isAlive(victim!.pid!), 20_000);
    const diedAt = performance.now();
    let port = 0;
    await pollUntil(async () => {
      const now = (await instancesOf('users')).find((i) => i.id === victim!.id)!;
      port = now.pid !== victim!.pid && now.pid !== null ? now.port : 0;
      return port !== 0;
    }, 20_000);
    await pollUntil(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 20_000);
    const readyInMs = performance.now() - diedAt;
    const result = await kill;
    expect(result.exitCode, result.stderr).toBe(0);
    const { recoveredInMs } = JSON.parse(result.stdout) as { recoveredInMs: number };
    // the supervisor's own probe runs every 250 ms: it can only be later, and by that much
    // (earlier only by what this test's polls take on a busy machine)
    expect(recoveredInMs).toBeGreaterThanOrEqual(readyInMs - 100);
    expect(recoveredInMs).toBeLessThanOrEqual(readyInMs + 400);
  });
});
