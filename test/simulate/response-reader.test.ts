import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../src/simulate/load/engine.js';
import { ResponseReader, type ReadAnswer } from '../../src/simulate/load/response-reader.js';

// Answers as servers write them, framings a load target may use; each is read whole, at
// every place a TCP segment could split it, and then in the same connection again.
const ANSWERS: Record<string, { bytes: string; status: number; closes: boolean; keepAliveMs?: number; head?: boolean }> = {
  'Content-Length, Node keep-alive': {
    bytes: 'HTTP/1.1 200 OK\r\nDate: Sun, 06 Dec 2026 20:35:16 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    closes: false,
    keepAliveMs: 5000,
  },
  'chunked with extensions and trailers': {
    bytes: 'HTTP/1.1 201 Created\r\ntransfer-encoding: gzip, chunked\r\n\r\n5;name=x\r\nhello\r\nA\r\n0123456789\r\n0\r\nx-digest: abc\r\n\r\n',
    status: 201,
    closes: false,
  },
  'an interim 100 Continue before the answer': {
    bytes: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nCONTENT-LENGTH: 3\r\n\r\nno!',
    status: 404,
    closes: false,
  },
  'Connection: close': { bytes: 'HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', status: 503, closes: true },
  'HTTP/1.0 without keep-alive': { bytes: 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx', status: 200, closes: true },
  'HTTP/1.0 with keep-alive': { bytes: 'HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx', status: 200, closes: false },
  '204 with a Content-Length it must not honour': { bytes: 'HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n', status: 204, closes: false },
  "a HEAD's Content-Length": { bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', status: 200, closes: false, head: true },
  'bare line feeds, a parameterised Keep-Alive': {
    bytes: 'HTTP/1.1 200 OK\nKeep-Alive: max=100, timeout=30\nContent-Length: 2\n\nok',
    status: 200,
    closes: false,
    keepAliveMs: 30_000,
  },
};

function reader(): { reader: ResponseReader; answers: ReadAnswer[] } {
  const answers: ReadAnswer[] = [];
  return { reader: new ResponseReader((answer) => answers.push({ ...answer })), answers };
}

describe('reading answers', () => {
  it.each(Object.entries(ANSWERS))('reads %s whole, split anywhere, twice in a row', (_name, answer) => {
    const bytes = Buffer.from(answer.bytes, 'latin1');
    for (let split = 0; split <= bytes.length; split += 1) {
      const { reader: read, answers } = reader();
      for (let round = 0; round < 2; round += 1) {
        read.expect(answer.head ?? false);
        expect(read.read(bytes.subarray(0, split))).toBeUndefined();
        expect(answers.length, `split at ${split}`).toBe(split === bytes.length ? round + 1 : round);
        expect(read.read(bytes.subarray(split))).toBeUndefined();
        expect(answers.length, `split at ${split}`).toBe(round + 1);
      }
      expect(answers[1]).toEqual({ status: answer.status, closes: answer.closes, keepAliveMs: answer.keepAliveMs });
    }
  });

  it('reads an answer framed by the close only when the connection ends', () => {
    const { reader: read, answers } = reader();
    read.expect(false);
    read.read(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome body'));
    read.read(Buffer.from(' and more'));
    expect(answers).toEqual([]);
    expect(read.end()).toBe(true);
    expect(answers).toEqual([{ status: 200, closes: true, keepAliveMs: undefined }]);
  });

  it.each([
    ['not HTTP', 'SSH-2.0-OpenSSH_9.6\r\n\r\n'],
    ['a status of two digits', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok'],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok'],
    ['a chunk size that is not hexadecimal', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['a chunk longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'],
    ['bytes past the end of the answer', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n'],
  ])('refuses %s: the connection is out of step', (_name, bytes) => {
    const { reader: read } = reader();
    read.expect(false);
    expect(read.read(Buffer.from(bytes))).toMatchObject({ code: 'HPE_INVALID_RESPONSE' });
  });

  it('refuses a head that never ends instead of buffering it without bound', () => {
    const { reader: read } = reader();
    read.expect(false);
    let error;
    for (let i = 0; i < 100 && !error; i += 1) error = read.read(Buffer.from(`HTTP/1.1 200 OK\r\nx-filler: ${'a'.repeat(1000)}`));
    expect(error).toMatchObject({ code: 'HPE_INVALID_RESPONSE' });
  });
});

/**
 * The same framings from a real socket, byte by byte on the wire (one write per byte, so the
 * reader meets them in as many segments as the kernel makes), through the open model: the
 * server counts what it got, the run counts what was answered.
 */
describe('answers from a server that writes them a byte at a time', () => {
  let server: net.Server;
  let origin = '';
  let received = 0;
  beforeAll(async () => {
    server = net.createServer((socket) => {
      let buffered = '';
      socket.on('data', async (chunk) => {
        buffered += chunk.toString('latin1');
        while (buffered.includes('\r\n\r\n')) {
          const request = buffered.slice(0, buffered.indexOf('\r\n\r\n'));
          buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
          received += 1;
          const name = decodeURIComponent(request.split(' ')[1]!.slice(1));
          const bytes = ANSWERS[name]!.bytes;
          for (const byte of bytes) {
            socket.write(byte, 'latin1');
            await new Promise((resolve) => setImmediate(resolve));
          }
          if (ANSWERS[name]!.closes) socket.end();
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it.each(['chunked with extensions and trailers', 'an interim 100 Continue before the answer', 'HTTP/1.0 without keep-alive', 'Content-Length, Node keep-alive'])(
    'every %s request answered, as the server counts them',
    async (name) => {
      received = 0;
      const result = await runLoad({ url: new URL(`/${encodeURIComponent(name)}`, origin), connections: 2, timeoutMs: 3000, rate: 100, durationMs: 400 });
      expect(result.summary.errorsByKind).toEqual({});
      expect(result.summary.requests).toBe(40);
      expect(received).toBe(40);
      expect(Object.keys(result.summary.statusCodes)).toEqual([String(ANSWERS[name]!.status)]);
    },
  );
});
