import net from 'node:net';
import type { Fault } from '../../faults/index.js';
import { admit } from './faults.js';
import { proxyConnection, type Backend, type ProxiedClient } from './http-connection.js';
import { TcpLink } from './tcp-link.js';

/** A proxy in front of one server, with faults on the way. */
export interface FaultProxy {
  readonly port: number;
  faults: readonly Fault[];
  listen(): Promise<void>;
  /** Takes no more connections, and ends the open ones gracefully where the protocol lets
   * it (HTTP: each after its next response, which says so); close() ends the rest. */
  retire(): void;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** What it leads to, for messages. */
  name: string;
  port: number;
  host: string;
  /** The server's port, on 127.0.0.1. */
  target: number;
  /** "http": a service (errors answer in HTTP, an unanswered request is replayed once the
   * server is back); "bytes": any TCP protocol (an infrastructure server). */
  layer: 'http' | 'bytes';
}

/** The proxy for a server's protocol. compose's fault keeper runs one inside a container's
 * network namespace. */
export function faultProxy(options: FaultProxyOptions): FaultProxy {
  if (options.layer === 'bytes') return new TcpLink({ name: options.name, port: options.port, host: options.host, target: () => options.target });
  return new HttpProxy(options);
}

/** The process runtime's proxied path (../proxy/http-connection.ts) with one backend. */
class HttpProxy implements FaultProxy {
  readonly port: number;
  faults: readonly Fault[] = [];
  readonly #options: FaultProxyOptions;
  readonly #server: net.Server;
  readonly #clients = new Map<net.Socket, ProxiedClient>();

  constructor(options: FaultProxyOptions) {
    this.#options = options;
    this.port = options.port;
    const backend: Backend = { id: options.name, port: options.target, ready: true, draining: false, active: 0 };
    const proxy = this;
    const port = {
      service: options.name,
      get faults() {
        return proxy.faults;
      },
      pick: (exclude: ReadonlySet<string>) => (exclude.has(backend.id) ? undefined : backend),
      forget: (client: net.Socket) => void this.#clients.delete(client),
    };
    this.#server = net.createServer({ noDelay: true }, (client) => {
      if (admit(client, this.faults)) this.#clients.set(client, proxyConnection(client, port));
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.port, this.#options.host, () => resolve());
    });
  }

  retire(): void {
    this.#server.close();
    for (const proxied of this.#clients.values()) proxied.retire();
  }

  async close(): Promise<void> {
    for (const client of this.#clients.keys()) client.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
