import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/runtime/process/balancer.js';
import { freePort, waitUntil } from '../support/services.js';

/** A real HTTP server that answers with its own name. */
async function backend(name: string, handler?: http.RequestListener) {
  const server = http.createServer(handler ?? ((_req, res) => res.end(name)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

describe('Balancer', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function balancer(strategy: 'round-robin' | 'least-connections' = 'round-robin') {
    const front = new Balancer({ service: 'svc', port: await freePort(), strategy });
    await front.listen();
    cleanup.push(() => front.close());
    return front;
  }

  async function get(port: number): Promise<{ status: number; body: string }> {
    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
    return { status: response.status, body: await response.text() };
  }

  it('spreads new connections over ready backends only', async () => {
    const front = await balancer();
    for (const name of ['a', 'b', 'c']) {
      const { server, port } = await backend(name);
      cleanup.push(() => server.close());
      front.add(name, port);
      front.setReady(name, name !== 'c');
    }
    const bodies = await Promise.all(Array.from({ length: 10 }, () => get(front.port).then((r) => r.body)));
    expect(new Set(bodies)).toEqual(new Set(['a', 'b']));
  });

  it('answers 503 in HTTP when no instance is ready', async () => {
    const front = await balancer();
    const response = await get(front.port);
    expect(response.status).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'Service Unavailable' });
  });

  it('ejects a backend that refuses connections and retries the request elsewhere', async () => {
    const front = await balancer();
    const alive = await backend('alive');
    cleanup.push(() => alive.server.close());
    front.add('dead', await freePort());
    front.setReady('dead', true);
    front.add('alive', alive.port);
    front.setReady('alive', true);
    const results = await Promise.all(Array.from({ length: 6 }, () => get(front.port)));
    expect(results.every((r) => r.status === 200 && r.body === 'alive')).toBe(true);
    expect(front.backends().find((b) => b.id === 'dead')!.ready).toBe(false);
  });

  it('replays a request whose instance died before answering', async () => {
    const front = await balancer();
    const dying = await backend('dying', (req) => req.socket.destroy());
    const healthy = await backend('healthy');
    cleanup.push(() => dying.server.close(), () => healthy.server.close());
    front.add('dying', dying.port);
    front.setReady('dying', true);
    front.add('healthy', healthy.port);
    front.setReady('healthy', true);
    const results = await Promise.all(Array.from({ length: 6 }, () => get(front.port)));
    expect(results.map((r) => r.body)).toEqual(Array(6).fill('healthy'));
  });

  it('keeps a keep-alive client going when its instance closes the connection just as a request arrives', async () => {
    // A draining instance closes idle connections (a FIN); a request that reaches the
    // balancer in the same instant meets an upstream already ending, is replayed
    // elsewhere, and the client's next request must still be read. The instant is hit by
    // sending both in one tick, several times over (the order they are read in varies).
    const front = await balancer();
    const closing = net.createServer();
    const connections: net.Socket[] = [];
    closing.on('connection', (socket) => connections.push(socket));
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    const healthy = await backend('healthy');
    cleanup.push(() => new Promise((resolve) => closing.close(resolve)), () => connections.forEach((socket) => socket.destroy()), () => healthy.server.close());
    front.add('closing', (closing.address() as net.AddressInfo).port);
    front.add('healthy', healthy.port);
    for (let round = 0; round < 20; round += 1) {
      front.setReady('closing', true);
      front.setReady('healthy', false);
      const client = net.connect({ port: front.port, host: '127.0.0.1' });
      cleanup.push(() => void client.destroy());
      let received = '';
      client.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const answers = (count: number) => waitUntil(async () => (received.match(/\r\n\r\nhealthy/g) ?? []).length >= count, 2_000);
      const request = 'GET / HTTP/1.1\r\nhost: svc\r\n\r\n';
      while (connections.length <= round) await new Promise((resolve) => setTimeout(resolve, 1));
      front.setReady('closing', false);
      front.setReady('healthy', true);
      client.write(request);
      connections[round]!.end();
      await answers(1);
      client.write(request);
      await answers(2);
      client.destroy();
    }
  });

  it('least-connections prefers the idle backend', async () => {
    const front = await balancer('least-connections');
    const slow = await backend('slow', (_req, res) => setTimeout(() => res.end('slow'), 300));
    const fast = await backend('fast');
    cleanup.push(() => slow.server.close(), () => fast.server.close());
    front.add('slow', slow.port);
    front.setReady('slow', true);
    front.add('fast', fast.port);
    front.setReady('fast', true);
    const pinned = Array.from({ length: 3 }, () => get(front.port));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const later = await Promise.all(Array.from({ length: 4 }, () => get(front.port)));
    expect(later.filter((r) => r.body === 'fast').length).toBeGreaterThanOrEqual(3);
    await Promise.all(pinned);
  });

  /** `count` requests at once on an agent's keep-alive connections: who answered each, and
   * from which client port. */
  function concurrently(port: number, agent: http.Agent, count: number) {
    return Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise<{ body: string; localPort: number }>((resolve, reject) => {
            const request = http.get(`http://127.0.0.1:${port}/`, { agent }, (response) => {
              let body = '';
              response.on('data', (chunk: Buffer) => (body += chunk));
              response.on('end', () => resolve({ body, localPort: request.socket!.localPort! }));
            });
            request.on('error', reject);
          }),
      ),
    );
  }

  /** A front port over backends a (ready) and b (not yet), and a keep-alive client. */
  async function joinSetup(handleA?: http.RequestListener) {
    const front = await balancer();
    for (const [name, handler] of [['a', handleA], ['b', undefined]] as const) {
      const { server, port } = await backend(name, handler);
      cleanup.push(() => server.close());
      front.add(name, port);
    }
    front.setReady('a', true);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    cleanup.push(() => agent.destroy());
    return { front, agent };
  }

  it('gives a backend that joins its share of the keep-alive connections already open, without their clients noticing', async () => {
    const { front, agent } = await joinSetup();
    const before = await concurrently(front.port, agent, 4);
    expect(before.map((r) => r.body)).toEqual(['a', 'a', 'a', 'a']);
    expect(front.connections('a')).toBe(4);

    front.setReady('b', true);
    const after = await concurrently(front.port, agent, 4);
    expect(after.map((r) => r.body).sort()).toEqual(['a', 'a', 'b', 'b']);
    expect([front.connections('a'), front.connections('b')]).toEqual([2, 2]);
    // the same four connections, each given a new upstream between two requests
    expect(new Set(after.map((r) => r.localPort))).toEqual(new Set(before.map((r) => r.localPort)));
  });

  it('moves a busy connection once its response is through', async () => {
    const { front, agent } = await joinSetup((_req, res) => setTimeout(() => res.end('a'), 200));
    const inFlight = concurrently(front.port, agent, 2);
    await waitUntil(async () => front.connections('a') === 2, 2_000);
    front.setReady('b', true);
    expect((await inFlight).map((r) => r.body)).toEqual(['a', 'a']); // answered where they were
    expect((await concurrently(front.port, agent, 2)).map((r) => r.body).sort()).toEqual(['a', 'b']);
  });

  it('drain moves an idle keep-alive connection to another backend at once, unnoticed by its client', async () => {
    const { front, agent } = await joinSetup();
    const [first] = await concurrently(front.port, agent, 1);
    front.setReady('b', true);
    const started = Date.now();
    await front.drain('a', 5_000);
    expect(Date.now() - started).toBeLessThan(1_000); // not the timeout
    expect(front.connections('a')).toBe(0);
    expect(await concurrently(front.port, agent, 1)).toEqual([{ body: 'b', localPort: first!.localPort }]);
  });

  it('drain waits for open connections, then lets go', async () => {
    const front = await balancer();
    const slow = await backend('slow', (_req, res) => setTimeout(() => res.end('slow'), 200));
    cleanup.push(() => slow.server.close());
    front.add('slow', slow.port);
    front.setReady('slow', true);
    const inFlight = get(front.port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(front.connections('slow')).toBe(1);
    const started = Date.now();
    await front.drain('slow', 5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(front.connections('slow')).toBe(0);
    expect((await inFlight).body).toBe('slow');
    expect((await get(front.port)).status).toBe(503);
  });

  it('a taken port is an environment error (exit 3)', async () => {
    const taken = await balancer();
    const second = new Balancer({ service: 'other', port: taken.port });
    await expect(second.listen()).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/is taken/) });
  });

  describe('faults', () => {
    async function faulty() {
      const front = await balancer();
      const { server, port } = await backend('ok');
      cleanup.push(() => server.close());
      front.add('ok', port);
      front.setReady('ok', true);
      return front;
    }

    it('latency delays every request by about the given time', async () => {
      const front = await faulty();
      front.faults = [{ kind: 'latency', ms: 150 }];
      const started = performance.now();
      expect((await get(front.port)).body).toBe('ok');
      expect(performance.now() - started).toBeGreaterThanOrEqual(145);
      front.faults = [];
      const again = performance.now();
      await get(front.port);
      expect(performance.now() - again).toBeLessThan(100);
    });

    it('errors answer a share of requests with the status', async () => {
      const front = await faulty();
      front.faults = [{ kind: 'errors', rate: 0.3, status: 503 }];
      const results = await Promise.all(Array.from({ length: 400 }, () => get(front.port)));
      const injected = results.filter((r) => r.status === 503).length;
      expect(injected).toBeGreaterThan(400 * 0.2);
      expect(injected).toBeLessThan(400 * 0.4);
      expect(results.every((r) => r.status === 503 || r.body === 'ok')).toBe(true);
    });

    it('a refusing partition cuts connections; a blackhole never answers', async () => {
      const front = await faulty();
      front.faults = [{ kind: 'partition', mode: 'refuse' }];
      await expect(get(front.port)).rejects.toThrow();
      front.faults = [{ kind: 'partition', mode: 'blackhole' }];
      await expect(fetch(`http://127.0.0.1:${front.port}/`, { signal: AbortSignal.timeout(300) })).rejects.toThrow(/aborted|timeout/i);
    });

    it('reset cuts a share of requests with a TCP reset', async () => {
      const front = await faulty();
      front.faults = [{ kind: 'reset', rate: 1 }];
      await expect(get(front.port)).rejects.toThrow();
    });
  });
});
