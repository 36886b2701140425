import { Http1Connection, targetOf, type EncodedRequest, type Target } from './http1-connection.js';

export interface ConnectionPoolOptions {
  /** The cap: requests in flight never outnumber it. */
  maxConnections: number;
  timeoutMs: number;
  /** Called once per request, when it ends: its status, or why it failed. */
  ended: (dueAt: number, status: number, error?: Error & { code?: string }) => void;
}

/** Connections opening at once, at most: see the class. */
const OPENING_AT_ONCE = 16;
/** The pool grows by one connection per this many ms at most: see the class. */
const GROW_EVERY_MS = 1;
/** How long `open` waits for the connections opened ahead; slower ones join when ready. */
const PREOPEN_WAIT_MS = 1000;

/**
 * Connections each carrying one request at a time. A request goes to an idle connection,
 * or to a new one while the pool is below its cap; it is refused (dropped) only when the
 * cap's worth of requests are already in flight (sent, or waiting for a connection).
 *
 * A pool that opens a connection for every request finding none idle (undici's) falls over
 * when a target (or the machine) falters: hundreds open at once, overflow the listen
 * backlog and wait out SYN retransmits (1 s), and the open model's own start-up reads as
 * the target's latency. Worse, a server stalled for 30 ms at 25,000 req/s leaves the pool
 * 750 connections wide, and a server and client juggling that many sockets answer half as
 * many requests a second as with 32 (autocannon's closed model alike): the backlog then
 * outgrows what drains it, and the run never recovers. So the pool grows by one connection
 * per GROW_EVERY_MS (a thousand a second: a slow target's need is met within a second) and
 * at most OPENING_AT_ONCE at a time; the requests it has no connection for wait, in order,
 * for the next one free. Their latency still counts from their intended send time.
 */
export class ConnectionPool {
  inFlight = 0;
  readonly #target: Target;
  readonly #options: ConnectionPoolOptions;
  readonly #idle: Http1Connection[] = [];
  readonly #busy = new Set<Http1Connection>();
  /** Every connection not yet given up, opening ones included: `destroy` ends them all. */
  readonly #all = new Set<Http1Connection>();
  #opening = 0;
  /** Requests waiting for a connection, oldest first (from #head on). */
  #waiting: Waiting[] = [];
  #head = 0;
  #lastOpenedAt = -Infinity;
  /** Set while a growth step is due: the waiting requests get a connection then. */
  #growing: NodeJS.Timeout | undefined;
  readonly #sweep: NodeJS.Timeout;

  constructor(url: URL, options: ConnectionPoolOptions) {
    this.#target = targetOf(url);
    this.#options = options;
    // one timer for every request's timeout, not one per request: at thousands of
    // requests a second that is most of a client's cost
    this.#sweep = setInterval(() => this.#expire(), Math.min(100, Math.max(5, options.timeoutMs / 20))).unref();
  }

  /**
   * Opens `count` connections before the run (k6's preAllocatedVUs): without them the first
   * requests each wait for a connection of their own, and on a busy machine that start-up
   * queue reads as the target's latency.
   */
  async open(count: number): Promise<void> {
    const opening = Array.from({ length: Math.min(count, this.#options.maxConnections) }, () =>
      new Promise<void>((settle) => {
        const connection: Http1Connection = new Http1Connection(
          this.#target,
          (error) => {
            if (error) this.#all.delete(connection);
            else this.#idle.push(connection);
            settle();
          },
          this.#freed,
        );
        this.#all.add(connection);
      }),
    );
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(opening), new Promise((resolve) => (waited = setTimeout(resolve, Math.min(PREOPEN_WAIT_MS, this.#options.timeoutMs))))]);
    clearTimeout(waited);
  }

  /** Sends, or returns false when every connection is busy and the pool is at its cap. */
  send(request: EncodedRequest, dueAt: number): boolean {
    if (this.inFlight >= this.#options.maxConnections) return false;
    this.inFlight += 1;
    const connection = this.#head === this.#waiting.length ? (this.#reusable() ?? this.#new()) : undefined;
    if (connection) this.#dispatch(connection, request, dueAt);
    else {
      this.#waiting.push({ request, dueAt });
      this.#drain();
    }
    return true;
  }

  /** Ends everything at once: what is still in flight is not reported. */
  destroy(): void {
    clearInterval(this.#sweep);
    clearTimeout(this.#growing);
    this.#options.ended = () => undefined;
    for (const connection of this.#all) connection.destroy();
    this.#all.clear();
    this.#busy.clear();
    this.#idle.length = 0;
  }

  #reusable(): Http1Connection | undefined {
    const now = performance.now();
    let connection = this.#idle.pop();
    while (connection && !connection.fresh(now)) {
      connection.destroy();
      this.#all.delete(connection);
      connection = this.#idle.pop();
    }
    return connection;
  }

  #new(): Http1Connection | undefined {
    if (this.#opening >= OPENING_AT_ONCE || this.#all.size >= this.#options.maxConnections) return undefined;
    const now = performance.now();
    if (now - this.#lastOpenedAt < GROW_EVERY_MS) {
      this.#growing ??= setTimeout(() => {
        this.#growing = undefined;
        this.#drain();
      }, GROW_EVERY_MS);
      return undefined;
    }
    this.#lastOpenedAt = now;
    this.#opening += 1;
    // writes wait in the socket until it connects: the request leaves with the handshake
    const connection = new Http1Connection(this.#target, () => (this.#opening -= 1), this.#freed);
    this.#all.add(connection);
    return connection;
  }

  #dispatch(connection: Http1Connection, request: EncodedRequest, dueAt: number): void {
    this.#busy.add(connection);
    connection.send(request, dueAt);
  }

  /** Every connection's one callback for its requests' ends. */
  readonly #freed = (connection: Http1Connection, status: number, error?: Error & { code?: string }): void => {
    this.#busy.delete(connection);
    this.inFlight -= 1;
    this.#options.ended(connection.dueAt!, status, error);
    if (!connection.reusable) this.#all.delete(connection);
    if (this.#head === this.#waiting.length) {
      if (connection.reusable) this.#idle.push(connection);
      return;
    }
    // a connection that ended (an error, or the server's close) gives its turn to another
    if (connection.reusable) this.#dispatchWaiting(connection);
    else this.#drain();
  };

  /** Gives the waiting requests, oldest first, what connections there are (or may be opened). */
  #drain(): void {
    while (this.#head < this.#waiting.length) {
      const carrier = this.#reusable() ?? this.#new();
      if (!carrier) return;
      this.#dispatchWaiting(carrier);
    }
  }

  #dispatchWaiting(carrier: Http1Connection): void {
    const next = this.#waiting[this.#head++]!;
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    this.#dispatch(carrier, next.request, next.dueAt);
  }

  #expire(): void {
    const deadline = performance.now() - this.#options.timeoutMs;
    for (const connection of this.#busy) {
      if (connection.sentAt !== undefined && connection.sentAt <= deadline) {
        connection.abort(Object.assign(new Error(`no answer within ${this.#options.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }
    }
  }
}

interface Waiting {
  request: EncodedRequest;
  dueAt: number;
}
