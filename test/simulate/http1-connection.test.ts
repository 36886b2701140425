import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, type LoadOptions } from '../../src/simulate/load/engine.js';
import { UserError } from '../../src/errors.js';

/**
 * The open model's own HTTP/1.1 connections against Node's server, the oracle: every
 * framing a server may answer with, judged by what the server itself received. A misread
 * answer desynchronises the connection, and the requests after it fail or go missing.
 */
describe("the open model's connections", () => {
  const received = new Map<string, number>();
  let bodyBytes = 0;
  let server: http.Server;
  let origin = '';

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const route = `${request.method} ${request.url}`;
      received.set(route, (received.get(route) ?? 0) + 1);
      if (request.url === '/no-content') return void response.writeHead(204).end();
      if (request.url === '/chunked') {
        response.write('first half ');
        return void setTimeout(() => response.end('second half'), 2);
      }
      if (request.url === '/closes') return void response.setHeader('connection', 'close').end('bye');
      if (request.url === '/slow') return void setTimeout(() => response.end('late'), 1500);
      if (request.url === '/echo-length') {
        request.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
        return void request.on('end', () => response.end());
      }
      // a HEAD's Content-Length announces a body that never comes
      response.setHeader('content-length', 5).end(request.method === 'HEAD' ? undefined : 'hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const load = (path: string, options: Partial<LoadOptions> = {}) =>
    runLoad({ url: new URL(path, origin), connections: 2, timeoutMs: 3000, rate: 200, durationMs: 500, ...options });

  it.each([
    ['HEAD', '/head', { method: 'HEAD' }],
    ['GET', '/no-content', {}],
    ['GET', '/chunked', {}],
    ['GET', '/closes', {}],
  ] as const)('reads %s %s answers without losing its place: every request answered, as the server counts them', async (method, path, options) => {
    const result = await load(path, options);
    expect(result.summary.requests).toBe(100);
    expect(result.summary.errors).toBe(0);
    expect(received.get(`${method} ${path}`)).toBe(100);
  });

  it('sends bodies whole: the server reads every byte', async () => {
    bodyBytes = 0;
    const result = await load('/echo-length', { method: 'POST', body: 'é'.repeat(700), headers: { 'content-type': 'text/plain' } });
    expect(result.summary.errors).toBe(0);
    expect(bodyBytes).toBe(100 * 1400);
  });

  it('times a request out at the timeout, and counts it as one', async () => {
    const started = performance.now();
    const result = await load('/slow', { timeoutMs: 300, rate: 10 });
    expect(result.summary.errorsByKind).toEqual({ timeout: 5 });
    expect(performance.now() - started).toBeLessThan(1400);
  });

  it('names a refused connection by its code', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runLoad({ url: new URL(`http://127.0.0.1:${port}/`), connections: 1, timeoutMs: 1000, rate: 40, durationMs: 250 });
    expect(result.summary.errorsByKind).toEqual({ ECONNREFUSED: 10 });
  });

  it('reads a head that arrives in pieces, while other connections read in between', async () => {
    // every answer's head is cut in two, 20 ms apart, on four connections at once: what the
    // reader kept of the first piece must survive the reads that come before the second
    const pieces = net.createServer((socket) => {
      socket.on('data', () => {
        socket.write('HTTP/1.1 201 Cre');
        setTimeout(() => socket.write('ated\r\ncontent-length: 2\r\n\r\nok'), 20);
      });
    });
    await new Promise<void>((resolve) => pieces.listen(0, '127.0.0.1', resolve));
    try {
      const result = await runLoad({ url: new URL(`http://127.0.0.1:${(pieces.address() as AddressInfo).port}/`), connections: 4, timeoutMs: 2000, rate: 200, durationMs: 300 });
      expect(result.summary.errorsByKind).toEqual({});
      expect(result.summary.statusCodes).toEqual({ '201': 60 });
    } finally {
      pieces.close();
    }
  });

  it('refuses a header that would split the request (a line break in its value)', async () => {
    await expect(load('/', { headers: { 'x-note': 'a\r\nx-injected: 1' } })).rejects.toThrow(UserError);
    expect(received.has('GET /') && [...received.keys()].some((key) => key.includes('injected'))).toBe(false);
  });
});
