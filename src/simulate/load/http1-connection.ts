import { createRequire } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';
import { UserError } from '../../errors.js';
import type { PreparedRequest } from './scenario.js';

// http-parser-js: the pure-JS port of Node's HTTP parser that autocannon's client reads
// with (CommonJS, hence require).
const { HTTPParser } = createRequire(import.meta.url)('http-parser-js') as typeof import('http-parser-js');

/** Where the connections go: what `net.connect` / `tls.connect` need. */
export interface Target {
  host: string;
  port: number;
  tls: boolean;
  servername: string;
  /** The Host header's value. */
  authority: string;
}

export function targetOf(url: URL): Target {
  const tlsOn = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { host, port: Number(url.port || (tlsOn ? 443 : 80)), tls: tlsOn, servername: host, authority: url.host };
}

/** A request as its bytes on the wire, encoded once and sent as often as needed. */
export interface EncodedRequest {
  bytes: Buffer;
  /** A HEAD's answer has headers only, whatever its Content-Length says. */
  head: boolean;
}

const FORBIDDEN = /[\r\n\0]/;
/** Framing is ours to write: a user's value for these could only desynchronise the connection. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection']);

export function encodeRequest(target: Target, request: PreparedRequest): EncodedRequest {
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  if (!Object.hasOwn(request.headers, 'host')) head += `host: ${target.authority}\r\n`;
  for (const [name, value] of Object.entries(request.headers)) {
    if (FORBIDDEN.test(name) || FORBIDDEN.test(value) || /[\s:]/.test(name)) {
      throw new UserError(`header "${name}" has a character HTTP does not allow in a header (a line break, a NUL, or a space or colon in its name)`);
    }
    if (!FRAMING.has(name.toLowerCase())) head += `${name}: ${value}\r\n`;
  }
  if (FORBIDDEN.test(request.path) || request.path.includes(' ')) throw new UserError(`path "${request.path}" has a space, a line break or a NUL: encode it (%20)`);
  if (body !== undefined) head += `content-length: ${body.length}\r\n`;
  head += '\r\n';
  const bytes = body === undefined ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), body]);
  return { bytes, head: request.method === 'HEAD' };
}

/** How a request ended: the answer's status, or why there was none. */
export type Ended = (status: number, error?: Error & { code?: string }) => void;

/** Node's servers close a connection idle for 5 s; one idle longer than this is not reused,
 * so a request never races the server's close (undici's default keep-alive allowance). */
const DEFAULT_KEEP_ALIVE_MS = 4000;
/** Reuse stops this long before the server's announced keep-alive timeout. */
const KEEP_ALIVE_MARGIN_MS = 1000;

/**
 * One keep-alive HTTP/1.1 connection carrying one request at a time: the request's bytes
 * encoded once, the answer read by a parser that sees only the status line and framing.
 *
 * Why not undici (which the open model used first): its Client costs this process 2–2.5×
 * the CPU per request at the same rate (a handler, request and header objects per request,
 * headers parsed into strings), and on a 2-core machine the load generator's CPU is taken
 * from the server it measures; that capped the rate the open model held at 0.4× of what
 * autocannon's hand-written client reached (bench/load-engine.mjs).
 */
export class Http1Connection {
  /** False once closed, or once the server said it will close after this answer. */
  reusable = true;
  /** When its last answer ended (`performance.now()`), for the keep-alive allowance. */
  idleSince = performance.now();
  /** When the request in flight was sent, or undefined. */
  sentAt: number | undefined;
  readonly #socket: net.Socket;
  readonly #parser = new HTTPParser(HTTPParser.RESPONSE);
  #keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  #ended: Ended | undefined;
  #head = false;
  #status = 0;
  #connected = false;

  constructor(target: Target, onConnect: (error?: Error) => void) {
    this.#socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, servername: target.servername })
      : net.connect({ host: target.host, port: target.port });
    this.#socket.setNoDelay(true);
    this.#socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      this.#connected = true;
      onConnect();
    });
    const parser = this.#parser;
    parser[HTTPParser.kOnHeadersComplete] = (info) => {
      this.#status = info.statusCode ?? 0;
      if (!info.shouldKeepAlive) this.reusable = false;
      for (let i = 0; i < info.headers.length; i += 2) {
        if (info.headers[i]!.toLowerCase() === 'keep-alive') this.#keepAliveFrom(info.headers[i + 1]!);
      }
      // no body follows, whatever the framing headers say
      return this.#head || this.#status === 204 || this.#status === 304 || (this.#status >= 100 && this.#status < 200) ? 1 : 0;
    };
    parser[HTTPParser.kOnBody] = () => undefined;
    parser[HTTPParser.kOnMessageComplete] = () => this.#end(this.#status);
    this.#socket.on('data', (chunk: Buffer) => {
      const read = parser.execute(chunk);
      if (read instanceof Error) this.#fail(read);
    });
    this.#socket.on('end', () => {
      // an answer framed by the connection's end completes here
      const error = parser.finish();
      if (error) this.#fail(error);
    });
    this.#socket.on('error', (error) => {
      if (!this.#connected) onConnect(error);
      this.#fail(error);
    });
    this.#socket.on('close', () => this.#fail(Object.assign(new Error('the server closed the connection'), { code: 'ECONNRESET' })));
  }

  /** Whether a request sent now would not race the server's close of an idle connection. */
  fresh(now: number): boolean {
    return this.reusable && now - this.idleSince < this.#keepAliveMs;
  }

  send(request: EncodedRequest, ended: Ended): void {
    this.#ended = ended;
    this.#head = request.head;
    this.#status = 0;
    this.sentAt = performance.now();
    this.#socket.write(request.bytes);
  }

  /** Ends the request in flight with this error (a timeout), and the connection with it. */
  abort(error: Error): void {
    this.#fail(error);
  }

  destroy(): void {
    this.#ended = undefined;
    this.reusable = false;
    this.#socket.destroy();
  }

  #end(status: number): void {
    const ended = this.#ended;
    this.#ended = undefined;
    this.sentAt = undefined;
    this.idleSince = performance.now();
    if (!this.reusable) this.#socket.end();
    ended?.(status);
  }

  #fail(error: Error): void {
    this.reusable = false;
    const ended = this.#ended;
    this.#ended = undefined;
    this.sentAt = undefined;
    this.#socket.destroy();
    ended?.(this.#status, error);
  }

  #keepAliveFrom(value: string): void {
    const seconds = /timeout=(\d+)/i.exec(value)?.[1];
    if (seconds !== undefined) this.#keepAliveMs = Math.max(0, Number(seconds) * 1000 - KEEP_ALIVE_MARGIN_MS);
  }
}
