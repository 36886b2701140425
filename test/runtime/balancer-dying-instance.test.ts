import { execa, type ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/runtime/process/balancer.js';
import { freePort } from '../support/services.js';

/**
 * An instance that dies in the middle of a response leaves the balancer a clean FIN from
 * the kernel, just like an idle keep-alive close: the client must see its response cut
 * short, not wait for the rest forever.
 */

/** A real process (so it can be SIGKILLed) streaming an endless response, a chunk every
 * 100 ms; `length` sends a content-length instead of chunked encoding. */
const STREAMER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url === '/length') res.setHeader('content-length', '1000000');
  res.write('first chunk\\n');
  setInterval(() => res.write('more\\n'), 100);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function streamer(): Promise<{ child: ResultPromise; port: number }> {
  const child = execa('node', ['-e', STREAMER], { reject: false, stdin: 'ignore' });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', () => reject(new Error('the streaming server exited')));
  });
  return { child, port };
}

describe('Balancer, when an instance dies mid-response', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it.each(['/chunked', '/length'])('the client of %s sees the response cut short, not a hang', async (path) => {
    const front = new Balancer({ service: 'svc', port: await freePort() });
    await front.listen();
    cleanup.push(() => front.close());
    const { child, port } = await streamer();
    cleanup.push(() => void child.kill('SIGKILL'));
    front.add('streamer', port);
    front.setReady('streamer', true);

    const response = await fetch(`http://127.0.0.1:${front.port}${path}`, { signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('first chunk');

    child.kill('SIGKILL');
    const started = performance.now();
    const outcome = await (async () => {
      try {
        for (;;) if ((await reader.read()).done) return 'ended';
      } catch (error) {
        return (error as Error).name === 'TimeoutError' ? 'hung' : 'error';
      }
    })();
    // a cut response is an error for the client (the body is shorter than promised, or
    // its chunked encoding never ended); the timeout would mean the client was left hanging
    expect(outcome).toBe('error');
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('an instance closing an idle keep-alive connection still leaves the client connected', async () => {
    const front = new Balancer({ service: 'svc', port: await freePort() });
    await front.listen();
    cleanup.push(() => front.close());
    const http = await import('node:http');
    // answers, then closes the idle connection shortly after, the way a keep-alive timeout does
    const server = http.createServer((_req, res) => {
      res.end('ok');
      setTimeout(() => res.socket?.end(), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => server.close(resolve)));
    front.add('idle-closer', (server.address() as import('node:net').AddressInfo).port);
    front.setReady('idle-closer', true);

    const net = await import('node:net');
    const socket = net.connect({ port: front.port, host: '127.0.0.1' });
    cleanup.push(() => void socket.destroy());
    let received = '';
    let closed = false;
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => (closed = true));
    socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/);
    expect(closed).toBe(false);
    // and the next request on it finds a new upstream
    received = '';
    socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toMatch(/\r\n\r\nok$/);
  });
});
