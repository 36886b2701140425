import net from 'node:net';
import tls from 'node:tls';
import { UserError } from '../../errors.js';
import type { PreparedRequest } from './scenario.js';
import { ResponseReader, type ReadAnswer } from './response-reader.js';


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
export type Ended = (connection: Http1Connection, status: number, error?: Error & { code?: string }) => void;

/**
 * Every plain connection reads into this one buffer (net.connect's `onread`): the answer is
 * read from it at once, before the next read, so no buffer is allocated per read and no
 * 'data' event passes through the stream machinery (ResponseReader copies what it keeps).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Node's servers close a connection idle for 5 s; one idle longer than this is not reused,
 * so a request never races the server's close (undici's default keep-alive allowance). */
const DEFAULT_KEEP_ALIVE_MS = 4000;
/** Reuse stops this long before the server's announced keep-alive timeout. */
const KEEP_ALIVE_MARGIN_MS = 1000;

/**
 * One keep-alive HTTP/1.1 connection carrying one request at a time: the request's bytes
 * encoded once, the answer read by a reader that sees only the status line and framing
 * (response-reader.ts).
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
  /** The request in flight's intended send time (the pool's bookkeeping), or undefined. */
  dueAt: number | undefined;
  readonly #socket: net.Socket;
  readonly #reader = new ResponseReader((answer) => this.#end(answer));
  readonly #ended: Ended;
  #keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  #connected = false;

  /** `ended` is called once per request sent, when it ends: one callback for the connection's
   * life rather than a closure per request. */
  constructor(target: Target, onConnect: (error?: Error) => void, ended: Ended) {
    this.#ended = ended;
    this.#socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, servername: target.servername })
      : net.connect({ host: target.host, port: target.port, onread: { buffer: READ_BUFFER, callback: this.#onread } });
    this.#socket.setNoDelay(true);
    this.#socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      this.#connected = true;
      onConnect();
    });
    // TLS sockets take no `onread`: their answers come as 'data' chunks
    if (target.tls) this.#socket.on('data', (chunk: Buffer) => this.#onread(chunk.length, chunk));
    // an answer framed by the connection's end completes here; one cut short fails at 'close'
    this.#socket.on('end', () => this.#reader.end());
    this.#socket.on('error', (error) => {
      if (!this.#connected) onConnect(error);
      this.#fail(error);
    });
    this.#socket.on('close', () => this.#fail(Object.assign(new Error('the server closed the connection'), { code: 'ECONNRESET' })));
  }

  readonly #onread = (length: number, buffer: Buffer): boolean => {
    const error = this.#reader.read(buffer.subarray(0, length));
    if (error) this.#fail(error);
    return true;
  };

  /** Whether a request sent now would not race the server's close of an idle connection. */
  fresh(now: number): boolean {
    return this.reusable && now - this.idleSince < this.#keepAliveMs;
  }

  send(request: EncodedRequest, dueAt: number): void {
    this.dueAt = dueAt;
    this.#reader.expect(request.head);
    this.sentAt = performance.now();
    this.#socket.write(request.bytes);
  }

  /** Ends the request in flight with this error (a timeout), and the connection with it. */
  abort(error: Error): void {
    this.#fail(error);
  }

  destroy(): void {
    this.sentAt = undefined;
    this.reusable = false;
    this.#socket.destroy();
  }

  #end(answer: ReadAnswer): void {
    if (this.sentAt === undefined) return;
    this.sentAt = undefined;
    this.idleSince = performance.now();
    if (answer.keepAliveMs !== undefined) this.#keepAliveMs = Math.max(0, answer.keepAliveMs - KEEP_ALIVE_MARGIN_MS);
    if (answer.closes) {
      this.reusable = false;
      this.#socket.end();
    }
    this.#ended(this, answer.status);
  }

  #fail(error: Error & { code?: string }): void {
    this.reusable = false;
    this.#socket.destroy();
    if (this.sentAt === undefined) return;
    this.sentAt = undefined;
    this.#ended(this, this.#reader.status, error);
  }
}
