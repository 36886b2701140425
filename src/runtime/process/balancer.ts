import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvironmentError } from '../../errors.js';
import type { Fault } from '../faults.js';
import { admit, connectionFaultBegins } from '../proxy/faults.js';
import { proxyConnection, resumeReading, stopReading, type Backend, type ProxiedClient, type ProxyPort } from '../proxy/http-connection.js';

export type { Backend } from '../proxy/http-connection.js';

export type Strategy = 'round-robin' | 'least-connections';

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

const NONE: ReadonlySet<string> = new Set();
const DRAIN_CHECK_MS = 20;
/** How long an adopted connection may stay silent: its client may be waiting for an answer
 * that died with the instance, and should learn so soon. */
const ADOPTED_SILENCE_MS = 250;
/** How a request starts: what an adopted connection's next bytes must look like. */
const REQUEST_START = /^[A-Z]+( |$)/;

/**
 * The front port of one service: a TCP balancer over its instances, like a Kubernetes
 * Service. Each connection goes through the proxy (../proxy/http-connection.ts), which
 * replays a request an instance died before answering, and can move a connection to
 * another instance between two requests, unnoticed by its client: off one that leaves, or
 * onto one that joins (#rebalance).
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

  /** What this port's proxied connections ask of it. */
  readonly #port: ProxyPort;

  constructor(options: BalancerOptions) {
    this.service = options.service;
    this.port = options.port;
    this.host = options.host ?? '127.0.0.1';
    this.#strategy = options.strategy ?? 'round-robin';
    this.#handoff = options.handoff;
    const faults = () => this.#faults;
    this.#port = {
      service: this.service,
      get faults() {
        return faults();
      },
      pick: (exclude, moving) => this.#pick(exclude, moving),
      ...(this.#handoff ? { handOff: (client: net.Socket) => this.#handOffIdle(client) } : {}),
      forget: (client) => void this.#clients.delete(client),
    };
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
    const partitionBegins = connectionFaultBegins(this.#faults, faults);
    const faultsEnd = faults.length === 0 && this.#faults.length > 0;
    if (partitionBegins || (faults.length > 0 && this.#faults.length === 0)) this.#handoff?.recall(Boolean(partitionBegins));
    this.#faults = faults;
    if (partitionBegins) {
      // a partition cuts what is already connected too: refused connections are reset,
      // blackholed ones go silent until their clients give up
      for (const [client, { silence }] of this.#clients) {
        if (partitionBegins === 'refuse') client.resetAndDestroy();
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

  /** Gives a proxied connection, idle, back to an instance (handoff). */
  #handOffIdle(client: net.Socket): boolean {
    const backend = this.#pick(NONE);
    if (!backend || !stopReading(client)) return false;
    if (this.#handoff!.give(backend, client)) return true;
    resumeReading(client);
    return false;
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
    if (!admit(client, this.#faults)) return;
    this.#clients.set(client, proxyConnection(client, this.#port));
  }
}


