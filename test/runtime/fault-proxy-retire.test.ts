import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { faultProxy, type FaultProxy } from '../../src/runtime/proxy/fault-proxy.js';
import { freePort } from '../support/services.js';

/**
 * compose ends a fault by sending a service's new connections straight to it again and
 * retiring the fault proxy in front of it, then closing the proxy a moment later. Here the
 * switch is the client's own connector (as the iptables redirect goes), the callers are
 * keep-alive pools sending POSTs (which no client replays), and a server counts each body.
 */

const servers: http.Server[] = [];
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  for (const server of servers.splice(0)) server.closeAllConnections(), server.close();
});

async function countingServer(): Promise<{ port: number; received: Map<string, number> }> {
  const received = new Map<string, number>();
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk));
    request.on('end', () => {
      received.set(body, (received.get(body) ?? 0) + 1);
      // answered at varied moments, so the retire lands at any phase of a request
      setTimeout(() => response.end('ok'), Math.random() * 4);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, received };
}

it('retired, each connection ends after its next response, which says so: no request in flight is lost, none is sent twice', async () => {
  const { port: target, received } = await countingServer();
  const proxy = faultProxy({ name: 'users', port: await freePort(), host: '127.0.0.1', target, layer: 'http' });
  proxies.push(proxy);
  await proxy.listen();
  let viaProxy = true;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
  agent.createConnection = () => net.connect({ port: viaProxy ? proxy.port : target, host: '127.0.0.1' });

  const sent: string[] = [];
  const failures: string[] = [];
  let running = true;
  const post = (body: string) =>
    new Promise<void>((resolve) => {
      const request = http.request({ agent, host: '127.0.0.1', port: target, method: 'POST', path: '/' }, (response) => {
        response.resume().on('end', resolve);
      });
      request.on('error', (error) => {
        failures.push(`${body}: ${error.message}`);
        resolve();
      });
      request.end(body);
    });
  const workers = Array.from({ length: 6 }, async (_, worker) => {
    for (let i = 0; running; i++) {
      sent.push(`${worker}-${i}`);
      await post(`${worker}-${i}`);
    }
  });

  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  await wait(200 + Math.random() * 400);
  const before = sent.length;
  viaProxy = false;
  proxy.retire();
  await wait(300);
  await proxy.close();
  await wait(200);
  running = false;
  await Promise.all(workers);
  agent.destroy();

  expect(before, 'requests through the proxy before it retired').toBeGreaterThan(50);
  expect(failures).toEqual([]);
  expect(sent.filter((body) => received.get(body) !== 1)).toEqual([]);
  expect(received.size).toBe(sent.length);
});

it('a connection that says nothing more after the retire ends at the close, not before', async () => {
  const { port: target } = await countingServer();
  const proxy = faultProxy({ name: 'users', port: await freePort(), host: '127.0.0.1', target, layer: 'http' });
  proxies.push(proxy);
  await proxy.listen();
  const socket = net.connect({ port: proxy.port, host: '127.0.0.1' });
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk));
  const ended = new Promise((resolve) => socket.on('close', resolve));
  socket.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\n\r\na');
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(answer).not.toMatch(/connection: close/i);
  proxy.retire();
  // no FIN while idle: it would race the client's next request
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(socket.readyState).toBe('open');
  socket.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\n\r\nb');
  await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error(`still open after its answer: ${answer}`)), 5_000))]);
  expect(answer.split('HTTP/1.1 200').length - 1).toBe(2);
  expect(answer.slice(answer.lastIndexOf('HTTP/1.1 200'))).toMatch(/\r\nconnection: close\r\n/);
});
