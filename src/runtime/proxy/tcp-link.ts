import net from 'node:net';
import { EnvironmentError } from '../../errors.js';
import type { Fault } from '../../faults/index.js';
import { actOnRequest, admit, connectionFaultBegins } from './faults.js';

export interface TcpLinkOptions {
  /** What it leads to, for messages: "redis". */
  name: string;
  port: number;
  /** 127.0.0.1 unless said otherwise. */
  host?: string;
  /** The server's port now (it may restart); undefined while it is down. */
  target: () => number | undefined;
}

/**
 * A plain TCP link to one server (an infrastructure server such as redis): every byte
 * passes through, in both directions, unread, so it serves any protocol. Faults act on the
 * client's bytes as they come, on connections already open too (clients of databases and
 * brokers keep theirs for good): latency holds each chunk back, keeping their order;
 * reset cuts the connection (TCP RST) as a chunk arrives; a partition refuses or swallows.
 * When the server's end closes or fails, so does the client's: its driver reconnects.
 */
export class TcpLink {
  readonly name: string;
  readonly port: number;
  readonly #host: string;
  readonly #target: () => number | undefined;
  readonly #server: net.Server;
  readonly #open = new Map<net.Socket, { silence(): void }>();
  #faults: readonly Fault[] = [];

  constructor(options: TcpLinkOptions) {
    this.name = options.name;
    this.port = options.port;
    this.#host = options.host ?? '127.0.0.1';
    this.#target = options.target;
    this.#server = net.createServer({ noDelay: true }, (client) => this.#accept(client));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new EnvironmentError(`port ${this.port} (a link to "${this.name}") is taken`) : error),
      );
      this.#server.listen(this.port, this.#host, () => resolve());
    });
  }

  /** Takes no more connections. Bytes carry no boundary to end the open ones at: they end
   * at close(). */
  retire(): void {
    this.#server.close();
  }

  async close(): Promise<void> {
    for (const client of this.#open.keys()) client.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  get faults(): readonly Fault[] {
    return this.#faults;
  }

  /** Read per chunk: an empty list costs one length check. */
  set faults(faults: readonly Fault[]) {
    const begins = connectionFaultBegins(this.#faults, faults);
    this.#faults = faults;
    // a partition cuts what is already connected too
    for (const [client, { silence }] of begins ? this.#open : []) {
      if (begins === 'refuse') client.resetAndDestroy();
      else silence();
    }
  }

  #accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (!admit(client, this.#faults)) return;
    const port = this.#target();
    if (port === undefined) return void client.resetAndDestroy(); // as a server that is down would
    const upstream = net.connect({ port, host: '127.0.0.1', noDelay: true });
    upstream.on('error', () => undefined);
    // the server's bytes go back as they come
    upstream.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    upstream.on('drain', () => client.resume());
    upstream.on('end', () => client.end());
    upstream.on('close', (hadError) => (hadError ? client.resetAndDestroy() : client.destroySoon()));
    client.on('close', () => {
      this.#open.delete(client);
      upstream.destroy();
    });

    /** When the last chunk held back by latency goes: later ones go after it. */
    let heldUntil = 0;
    const send = (chunk: Buffer) => {
      if (!upstream.destroyed && !upstream.write(chunk)) client.pause();
    };
    client.on('data', (chunk: Buffer) => {
      const now = Date.now();
      if (this.#faults.length === 0 && heldUntil <= now) return send(chunk);
      // a chunk's bytes may hold one command or many: each chunk counts as a request
      const acted = actOnRequest(client, this.#faults, heldUntil);
      if (acted === true) return void upstream.destroy();
      heldUntil = acted;
      if (heldUntil <= now) return send(chunk);
      setTimeout(() => send(chunk), heldUntil - now);
    });
    this.#open.set(client, {
      silence: () => {
        upstream.removeAllListeners('close').removeAllListeners('end').destroy();
        client.removeAllListeners('data');
        client.resume(); // read and drop whatever comes
      },
    });
  }
}
