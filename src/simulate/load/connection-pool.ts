import { Client, type Dispatcher } from 'undici';
import type { buildConnector } from 'undici';

export interface ConnectionPoolOptions {
  /** The cap: requests in flight never outnumber it. */
  maxConnections: number;
  timeoutMs: number;
  connect: buildConnector.connector;
  /** Called once per request, when it ends: its status, or why it failed. */
  ended: (dueAt: number, status: number, error?: Error) => void;
}

/** Connections opening at once, at most: see `send`. */
const OPENING_AT_ONCE = 16;

/**
 * Connections of pipelining 1 (undici Clients), each carrying one request at a time. A
 * request goes to an idle connection, or to a new one while the pool is below its cap; it
 * is refused (dropped) only when the cap's worth of requests are already in flight.
 *
 * undici's own Pool opens a connection for every request that finds none idle. When a
 * target (or the machine) falters, hundreds then open at once, overflow the listen backlog
 * and wait out SYN retransmits (1 s): the open model's own start-up read as the target's
 * latency and dropped thousands. Here at most OPENING_AT_ONCE open together and the other
 * requests wait, in order, for the first connection to come free; their latency still
 * counts from their intended send time.
 */
export class ConnectionPool {
  inFlight = 0;
  readonly #origin: string;
  readonly #options: ConnectionPoolOptions;
  readonly #idle: Client[] = [];
  readonly #all: Client[] = [];
  #opening = 0;
  /** Requests waiting for a connection, oldest first (from #head on). */
  #waiting: Waiting[] = [];
  #head = 0;

  constructor(origin: string, options: ConnectionPoolOptions) {
    this.#origin = origin;
    this.#options = options;
  }

  /** Sends, or returns false when every connection is busy and the pool is at its cap. */
  send(request: Dispatcher.DispatchOptions, dueAt: number): boolean {
    if (this.inFlight >= this.#options.maxConnections) return false;
    this.inFlight += 1;
    const client = this.#idle.pop() ?? this.#open();
    if (client) this.#dispatch(client, request, dueAt);
    else this.#waiting.push({ request, dueAt });
    return true;
  }

  /** Ends everything at once: what is still in flight is not reported. */
  async destroy(): Promise<void> {
    this.#options.ended = () => undefined;
    await Promise.all(this.#all.map((client) => client.destroy().catch(() => undefined)));
  }

  #open(): Client | undefined {
    if (this.#opening >= OPENING_AT_ONCE || this.#all.length >= this.#options.maxConnections) return undefined;
    const client = new Client(this.#origin, {
      pipelining: 1,
      connect: this.#options.connect,
      headersTimeout: this.#options.timeoutMs,
      bodyTimeout: this.#options.timeoutMs,
    });
    this.#all.push(client);
    this.#opening += 1;
    let opened = false;
    const settle = () => {
      if (opened) return;
      opened = true;
      this.#opening -= 1;
      client.off('connect', settle).off('connectionError', settle);
    };
    client.on('connect', settle).on('connectionError', settle);
    return client;
  }

  #dispatch(client: Client, request: Dispatcher.DispatchOptions, dueAt: number): void {
    client.dispatch(request, new Exchange((status, error) => this.#free(client, dueAt, status, error)));
  }

  #free(client: Client, dueAt: number, status: number, error?: Error): void {
    this.inFlight -= 1;
    this.#options.ended(dueAt, status, error);
    const next = this.#head < this.#waiting.length ? this.#waiting[this.#head++]! : undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    if (next) this.#dispatch(client, next.request, next.dueAt);
    else this.#idle.push(client);
  }
}

interface Waiting {
  request: Dispatcher.DispatchOptions;
  dueAt: number;
}

/** One request's handler (undici's dispatch API): its status, then its end. */
class Exchange implements Dispatcher.DispatchHandler {
  #status = 0;
  readonly #ended: (status: number, error?: Error) => void;

  constructor(ended: (status: number, error?: Error) => void) {
    this.#ended = ended;
  }

  onRequestStart(): void {}

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.#status = statusCode;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    this.#ended(this.#status);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#ended(this.#status, error);
  }
}
