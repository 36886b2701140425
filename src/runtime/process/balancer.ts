import { STATUS_CODES } from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvironmentError } from '../../errors.js';
import type { Fault } from '../faults.js';

export type Strategy = 'round-robin' | 'least-connections';

export interface Backend {
  id: string;
  port: number;
  /** New connections go only to ready backends (readiness checks and passive ejection set it). */
  ready: boolean;
  /** Being taken out: no new connections; its clients move on to other instances. */
  draining: boolean;
  /** Open upstream connections. */
  active: number;
}

/** How a port in `frontPort: handoff` mode passes connections to instances. */
export interface Handoff {
  /** Gives the connection to the backend's instance; false when that instance cannot take it. */
  give(backend: Backend, client: net.Socket): boolean;
  /** Connections given to the backend's instance that are still open. */
  given(backend: Backend): number;
  /** A fault began here (every instance), the backend drains (its instance alone), or it
   * holds more than its share (`count` of them): the instances end the connections this
   * port gave them where that loses nothing (a partition: at once), so their clients
   * reconnect, through the fault or elsewhere. */
  recall(reset: boolean, backend?: Backend, count?: number): void;
}

export interface BalancerOptions {
  service: string;
  port: number;
  host?: string;
  strategy?: Strategy;
  /** Without it, every byte goes through this port (and a request can be replayed). */
  handoff?: Handoff;
}

/** Bytes a connection keeps of an unanswered request so it can be replayed elsewhere. */
const REPLAY_LIMIT = 64 * 1024;
const MAX_ATTEMPTS = 3;
const NONE: ReadonlySet<string> = new Set();
const DRAIN_CHECK_MS = 20;
/** How long an adopted connection may stay silent: its client may be waiting for an answer
 * that died with the instance, and should learn so soon. */
const ADOPTED_SILENCE_MS = 250;
/** How a request starts: what an adopted connection's next bytes must look like. */
const REQUEST_START = /^[A-Z]+( |$)/;

/**
 * The front port of one service: a TCP balancer over its instances, like a Kubernetes
 * Service — cheap, because it never parses HTTP on the way through.
 *
 * One HTTP-aware trick keeps requests from being lost when an instance dies or drains:
 * a connection remembers the client bytes its upstream has not answered yet, and if the
 * upstream fails before answering, it replays them to another instance. That is a retry
 * on connection errors (not on HTTP errors), which may repeat a request the dead
 * instance had already begun; the README says so. Knowing where a request ends also lets
 * a connection change instance between two requests, unnoticed by its client: off one
 * that leaves, or onto one that joins (#rebalance).
 *
 * With a `handoff` (`frontPort: handoff`), it passes each connection to an instance
 * instead and is off the data path — no replay then — except while a fault is in force.
 */
export class Balancer {
  readonly service: string;
  readonly port: number;
  readonly host: string;
  readonly #strategy: Strategy;
  readonly #backends = new Map<string, Backend>();
  /** Client connections on the path through this port. */
  readonly #clients = new Map<net.Socket, ProxiedClient>();
  readonly #server: net.Server;
  readonly #handoff: Handoff | undefined;
  #turn = 0;
  #faults: Fault[] = [];
  /** Clients recalled for an even share, still to reconnect: each goes to the least busy. */
  #reconnectsDue = 0;

  constructor(options: BalancerOptions) {
    this.service = options.service;
    this.port = options.port;
    this.host = options.host ?? '127.0.0.1';
    this.#strategy = options.strategy ?? 'round-robin';
    this.#handoff = options.handoff;
    // a connection to be handed off must not be read here: its bytes are the instance's
    this.#server = net.createServer({ noDelay: true, pauseOnConnect: Boolean(this.#handoff) }, (client) => this.#accept(client));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? new EnvironmentError(`port ${this.port} (front port of "${this.service}") is taken: stop what uses it or change the port in scaffold.yaml`)
            : error,
        );
      };
      this.#server.once('error', onError);
      this.#server.listen(this.port, this.host, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const client of this.#clients.keys()) client.destroy();
    if (this.#handoff) {
      // Node counts handed-off connections per process that took them, and never reports
      // the close once those processes are gone; the port itself is free at once
      this.#server.close();
      return;
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Faults in force on this front port; the supervisor adds them and takes them away at
   * their deadline. Read per request, so an empty list costs one length check. */
  get faults(): Fault[] {
    return this.#faults;
  }

  set faults(faults: Fault[]) {
    const partition = faults.find((fault) => fault.kind === 'partition');
    const partitionBegins = partition && !this.#faults.some((fault) => fault.kind === 'partition');
    const faultsEnd = faults.length === 0 && this.#faults.length > 0;
    if (partitionBegins || (faults.length > 0 && this.#faults.length === 0)) this.#handoff?.recall(Boolean(partitionBegins));
    this.#faults = faults;
    if (partitionBegins) {
      // a partition cuts what is already connected too: refused connections are reset,
      // blackholed ones go silent until their clients give up
      for (const [client, { silence }] of this.#clients) {
        if (partition.mode === 'refuse') client.resetAndDestroy();
        else silence();
      }
    }
    if (faultsEnd) for (const { handBack } of this.#clients.values()) handBack();
  }

  add(id: string, port: number): Backend {
    const backend: Backend = { id, port, ready: false, draining: false, active: 0 };
    this.#backends.set(id, backend);
    return backend;
  }

  remove(id: string): void {
    this.#backends.delete(id);
  }

  /** Readiness, from the supervisor's checks. A backend that joins (a new instance, or one
   * back from a crash or an ejection) gets a share of the connections already open. */
  setReady(id: string, ready: boolean): void {
    const backend = this.#backends.get(id);
    if (!backend || backend.ready === ready) return;
    backend.ready = ready;
    if (ready && !backend.draining) this.#rebalance();
  }

  backends(): Backend[] {
    return [...this.#backends.values()];
  }

  /** Stops new connections to a backend; resolves once its connections are gone or moved,
   * or the time is up. Those through this port move to another backend at their next
   * request boundary, unnoticed; those handed off to it end after their next response. */
  async drain(id: string, timeoutMs: number): Promise<void> {
    const backend = this.#backends.get(id);
    if (!backend) return;
    backend.draining = true;
    this.#handoff?.recall(false, backend);
    for (const client of this.#clients.values()) if (client.backend() === backend) client.move();
    const deadline = Date.now() + timeoutMs;
    while (this.#backends.get(id) === backend && this.#open(backend) > 0 && Date.now() < deadline) await sleep(DRAIN_CHECK_MS);
  }

  /**
   * Takes over a connection this port handed to an instance that has died (handoff): its
   * client, if it was between requests, goes on through this port without noticing. One
   * whose request died with the instance sees its connection closed, as it would have.
   */
  adopt(client: net.Socket): void {
    const bytesRead = client.bytesRead;
    client.once('data', (chunk: Buffer) => {
      // the rest of a request the instance had begun would pass for a request of its own
      if (!REQUEST_START.test(chunk.toString('latin1', 0, 16))) client.destroy();
    });
    setTimeout(() => client.bytesRead === bytesRead && client.destroy(), ADOPTED_SILENCE_MS).unref();
    this.#accept(client, true);
  }

  /** A backend's open connections through this port: proxied, and handed off to it. */
  connections(id: string): number {
    const backend = this.#backends.get(id);
    return backend ? this.#open(backend) : 0;
  }

  #open(backend: Backend): number {
    return backend.active + (this.#handoff?.given(backend) ?? 0);
  }

  #eligible(exclude: ReadonlySet<string> = NONE): Backend[] {
    return [...this.#backends.values()].filter((b) => b.ready && !b.draining && !exclude.has(b.id));
  }

  /** The backend for a connection; the least busy one for a connection that moves. */
  #pick(exclude: ReadonlySet<string>, moving = false): Backend | undefined {
    const candidates = this.#eligible(exclude);
    if (candidates.length === 0) return undefined;
    this.#turn = (this.#turn + 1) % candidates.length;
    if (this.#strategy === 'round-robin' && !moving) {
      if (this.#reconnectsDue === 0) return candidates[this.#turn];
      this.#reconnectsDue -= 1;
    }
    return candidates.reduce((best, b) => (this.#open(b) < this.#open(best) ? b : best), candidates[this.#turn]!);
  }

  /**
   * Balancing is per connection, and clients such as a gateway's pool keep theirs open for
   * good: without this, an instance added under load would get no traffic from them. Each
   * backend above an even share gives up the difference, each connection at its next
   * request boundary, to the least busy backends: a proxied connection gets a new
   * upstream, unnoticed by its client; one handed off ends after its next response, and its
   * client reconnects.
   */
  #rebalance(): void {
    const eligible = this.#eligible().sort((a, b) => this.#open(b) - this.#open(a));
    const total = eligible.reduce((sum, b) => sum + this.#open(b), 0);
    const share = Math.floor(total / eligible.length);
    for (const [index, backend] of eligible.entries()) {
      // what does not divide evenly stays with the busiest: fewer moves
      let surplus = this.#open(backend) - share - (index < total % eligible.length ? 1 : 0);
      for (const client of this.#clients.values()) {
        if (surplus <= 0) break;
        if (client.backend() !== backend) continue;
        client.move(); // one moving already still counts: it is leaving
        surplus -= 1;
      }
      if (surplus > 0 && this.#handoff) {
        this.#reconnectsDue += surplus;
        this.#handoff.recall(false, backend, surplus);
      }
    }
  }

  #accept(client: net.Socket, adopted = false): void {
    if (this.#handoff) {
      // faults act on the bytes, so while one is in force connections take the path below
      const backend = this.#faults.length === 0 && !adopted ? this.#pick(NONE) : undefined;
      if (backend && this.#handoff.give(backend, client)) return;
      // accepted paused, or (adopted) handed back before: this path reads it
      resumeReading(client);
      client.resume();
    }
    const partition = this.faults.find((fault) => fault.kind === 'partition');
    if (partition) {
      if (partition.mode === 'refuse') client.resetAndDestroy();
      else client.on('error', () => undefined).resume(); // swallowed, never answered
      return;
    }
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let upstream: net.Socket | undefined;
    let backend: Backend | undefined;
    /** Instances that failed the current request: a replay goes elsewhere. */
    const failed = new Set<string>();
    /** The response under way: its first chunk, its bytes so far and its latest chunk, so
     * that an upstream's FIN can be told apart from the end of a complete response. */
    let responseHead: Buffer | undefined;
    let responseBytes = 0;
    let responseTail: Buffer | undefined;
    /** A handoff port's connection takes this path only while it must (a fault, or no
     * instance able to take it): it is handed to an instance at its first request boundary
     * with no fault in force. */
    let handBackDue = Boolean(this.#handoff);

    const connect = () => {
      const chosen = this.#pick(failed, moved);
      moved = false;
      upstream = undefined;
      backend = chosen;
      if (!chosen) {
        // nobody to answer: an HTTP 503 once the client has asked something
        if (pendingBytes > 0) unavailable(client, this.service);
        return;
      }
      chosen.active += 1;
      const socket = net.connect({ port: chosen.port, host: '127.0.0.1', noDelay: true });
      upstream = socket;
      let established = false;
      for (const chunk of pending) socket.write(chunk);

      const resumeUpstream = () => socket.resume();
      socket.on('connect', () => (established = true));
      socket.on('data', (chunk: Buffer) => {
        if (pendingBytes > 0) {
          // answered: the next request starts with a clean slate of failed instances
          pending = [];
          pendingBytes = 0;
          failed.clear();
          responseHead = chunk;
          responseBytes = 0;
        }
        responseBytes += chunk.length;
        responseTail = chunk;
        if (!client.write(chunk, handBackDue || moveDue ? atBoundary : undefined)) socket.pause();
      });
      client.on('drain', resumeUpstream);
      socket.on('drain', () => client.resume());
      socket.on('error', () => undefined); // the decision is made on close
      socket.on('close', (hadError) => {
        client.off('drain', resumeUpstream);
        chosen.active -= 1;
        if (upstream !== socket || client.destroyed) return;
        upstream = undefined;
        backend = undefined;
        // the client may be paused for this upstream's sake (a write it could not take, as
        // when it was already ending); its 'drain' will never come now
        client.resume();
        if (hadError && !established) chosen.ready = false; // passive ejection until a check passes
        if (pendingBytes > 0) {
          failed.add(chosen.id);
          if (pendingBytes <= REPLAY_LIMIT && failed.size < MAX_ATTEMPTS) connect();
          else unavailable(client, this.service);
        } else if (hadError || (responseHead && !responseComplete(responseHead, responseBytes, responseTail!))) {
          // it died mid-response: the client must see the response cut short rather than
          // wait for the rest forever
          client.end();
        }
        // else: the instance closed an idle connection (it drains, or it died): the client
        // keeps its connection and gets a new upstream when it speaks again. Passing the
        // FIN on would race the client's next request.
      });
    };

    let delayedUntil = 0;
    /** Chunks held back by a latency fault: read here, not yet sent on. */
    let delayedChunks = 0;
    const forward = (chunk: Buffer) => {
      if (client.destroyed) return;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (!upstream) {
        connect();
      } else if (!upstream.write(chunk)) {
        client.pause();
      }
    };
    client.on('data', (chunk: Buffer) => {
      if (this.faults.length === 0) return forward(chunk);
      // a chunk with nothing unanswered before it starts a request: that is where faults act
      const startsRequest = pendingBytes === 0 && delayedUntil <= Date.now();
      for (const fault of startsRequest ? this.faults : []) {
        if (fault.kind === 'reset' && Math.random() < fault.rate) return client.resetAndDestroy();
        if (fault.kind === 'errors' && Math.random() < fault.rate) return injectedError(client, fault.status);
        if (fault.kind === 'latency') {
          const jitter = (fault.jitterMs ?? 0) * (2 * Math.random() - 1);
          delayedUntil = Math.max(delayedUntil, Date.now() + Math.max(0, fault.ms + jitter));
        }
      }
      // later chunks of a delayed request wait their turn, so bytes keep their order
      if (delayedUntil <= Date.now()) return forward(chunk);
      delayedChunks += 1;
      setTimeout(() => {
        delayedChunks -= 1;
        forward(chunk);
      }, delayedUntil - Date.now());
    });
    const dropUpstream = () => {
      const socket = upstream;
      upstream = undefined;
      socket?.destroy();
    };
    const closed = () => {
      this.#clients.delete(client);
      dropUpstream();
    };
    /** Nothing of the client's unanswered or unread here, nothing of the instance's unsent. */
    const idle = () =>
      pendingBytes === 0 &&
      delayedChunks === 0 &&
      client.readable &&
      !client.isPaused() &&
      client.readableLength === 0 &&
      client.writableLength === 0 &&
      (!responseHead || responseComplete(responseHead, responseBytes, responseTail!));
    const handBack = () => {
      if (!handBackDue || this.#faults.length > 0 || !idle()) return;
      const backend = this.#pick(NONE);
      if (!backend || !stopReading(client)) return;
      if (!this.#handoff!.give(backend, client)) return void resumeReading(client);
      handBackDue = false;
      client.removeAllListeners('data');
      client.off('close', closed);
      closed(); // as far as this port goes: the socket is the instance's now
    };
    /** Its upstream is to go, at a request boundary: its instance leaves, or holds more than
     * its share. The next request connects anew, to the least busy. Not at once: an instance
     * shutting down waits for a connection that never carried a request. */
    let moveDue = false;
    let moved = false;
    const moveWhenIdle = () => {
      if (!moveDue || !upstream || !idle()) return;
      moveDue = false;
      moved = true;
      dropUpstream();
      backend = undefined;
    };
    const atBoundary = () => {
      handBack();
      moveWhenIdle();
    };
    this.#clients.set(client, {
      backend: () => backend,
      move: () => {
        moveDue = true;
        moveWhenIdle();
      },
      silence: () => {
        handBackDue = false; // its client waits for an answer that will never come
        dropUpstream();
        client.removeAllListeners('data');
        client.resume(); // read and drop whatever comes
      },
      handBack,
    });
    client.on('error', () => undefined);
    client.on('close', closed);
    connect();
  }
}

interface ProxiedClient {
  /** The backend its upstream goes to, if it has one. */
  backend(): Backend | undefined;
  /** Off its backend at its next request boundary (to the least busy one then). */
  move(): void;
  /** For a blackhole: never answered again. */
  silence(): void;
  /** For a handoff port once no fault is in force: off this path at a request boundary. */
  handBack(): void;
}

/** The libuv handle under a socket. A socket handed to another process must not be read
 * here any more: what this end read would never reach the instance (an e2e test lost
 * requests so). `pause()` does not stop it (Node reads on up to the buffer's high-water
 * mark), and the stream would start it again on its next `_read()`. */
interface ReadingHandle {
  reading: boolean;
  readStop(): number;
  readStart(): number;
}
type Handled = net.Socket & { _handle?: Partial<ReadingHandle> };

function stopReading(socket: Handled): boolean {
  const handle = socket._handle;
  // without the handle's API (another Node), the connection stays on the proxied path
  if (typeof handle?.readStop !== 'function' || typeof handle.readStart !== 'function') return false;
  socket._read = () => undefined;
  handle.reading = false;
  handle.readStop();
  return true;
}

/** Reading again, after stopReading or on a socket accepted paused (the stream's own
 * `resume()` then starts the flow). */
function resumeReading(socket: Handled): void {
  delete (socket as Partial<Handled>)._read; // the prototype's again
  const handle = socket._handle;
  if (handle && !handle.reading) {
    handle.reading = true;
    handle.readStart?.();
  }
}

/**
 * Whether a response ended where its own framing says it does; read only when an upstream
 * closes or a connection is to be handed back, so the way through stays free of HTTP
 * parsing. A response whose head has not arrived, or whose body runs until the connection
 * closes (no length, no chunking, an upgrade), is not complete until the FIN is passed on.
 * An answer to HEAD (a length but no body) counts as cut short: passing its FIN on costs at
 * worst the race described above.
 */
export function responseComplete(head: Buffer, bytes: number, tail: Buffer): boolean {
  const end = head.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const headers = head.toString('latin1', 0, end).toLowerCase();
  const status = Number(headers.slice(9, 12));
  if (status === 204 || status === 304) return true;
  if (status < 200 && status !== 101) return true; // an interim answer: nothing to judge by
  const length = /\r\ncontent-length:\s*(\d+)/.exec(headers);
  if (length) return bytes >= end + 4 + Number(length[1]);
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(headers)) return tail.toString('latin1', Math.max(0, tail.length - 5)) === '0\r\n\r\n';
  return false;
}

/** An injected HTTP error; the connection closes with it, since the request's body (if any)
 * was never read. */
function injectedError(client: net.Socket, status: number): void {
  const body = JSON.stringify({ error: 'Injected fault', message: `scaffold chaos answered ${status}` });
  client.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Injected Fault'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-scaffold-fault: errors\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** With no instance left to answer, say so in HTTP rather than cutting the connection. */
function unavailable(client: net.Socket, service: string): void {
  const body = JSON.stringify({ error: 'Service Unavailable', message: `no healthy instance of "${service}"` });
  client.end(
    `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
