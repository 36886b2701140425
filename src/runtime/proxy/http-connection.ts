import net from 'node:net';
import type { Fault } from '../../faults/index.js';
import { actOnRequest } from './faults.js';

/** An instance behind a port, as the port's connections see it. */
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

/** What a proxied connection asks of the port it came in by. */
export interface ProxyPort {
  /** Whose port it is, for the 503 it answers when no instance is left. */
  readonly service: string;
  /** The faults in force; read per chunk, so an empty list costs one length check. */
  readonly faults: readonly Fault[];
  /** The backend for the next request, none of `exclude`; the least busy one for a
   * connection that `moving` off its backend. */
  pick(exclude: ReadonlySet<string>, moving: boolean): Backend | undefined;
  /** A handoff port's: gives the connection, idle, to an instance; true when it did. */
  handOff?(client: net.Socket): boolean;
  /** The connection is gone from this path (closed, or handed off). */
  forget(client: net.Socket): void;
}

/** Bytes a connection keeps of an unanswered request so it can be replayed elsewhere. */
const REPLAY_LIMIT = 64 * 1024;
const MAX_ATTEMPTS = 3;

/**
 * One client connection through a port, every byte forwarded to an instance — cheap,
 * because it never parses HTTP on the way through.
 *
 * One HTTP-aware trick keeps requests from being lost when an instance dies or drains:
 * the connection remembers the client bytes its upstream has not answered yet, and if the
 * upstream fails before answering, it replays them to another instance. That is a retry
 * on connection errors (not on HTTP errors), which may repeat a request the dead
 * instance had already begun; the README says so. Knowing where a request ends also lets
 * it change instance between two requests, unnoticed by its client (`move`), and a
 * handoff port's connection leave this path at a boundary (`handBack`).
 *
 * Faults act where a request starts (see ./faults.ts and src/faults/).
 */
export function proxyConnection(client: net.Socket, port: ProxyPort): ProxiedClient {
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
  let handBackDue = port.handOff !== undefined;

  const connect = () => {
    const chosen = port.pick(failed, moved);
    moved = false;
    upstream = undefined;
    backend = chosen;
    if (!chosen) {
      // nobody to answer: an HTTP 503 once the client has asked something
      if (pendingBytes > 0) unavailable(client, port.service);
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
        if (retireDue && !closeAnnounced) {
          const announced = withConnectionClose(chunk);
          closeAnnounced = announced !== undefined;
          chunk = announced ?? chunk;
        }
        responseHead = chunk;
        responseBytes = 0;
      }
      responseBytes += chunk.length;
      responseTail = chunk;
      if (!client.write(chunk, handBackDue || moveDue || closeAnnounced ? atBoundary : undefined)) socket.pause();
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
        else unavailable(client, port.service);
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
    const faults = port.faults;
    if (faults.length === 0) return forward(chunk);
    // a chunk with nothing unanswered before it starts a request: that is where faults act
    if (pendingBytes === 0 && delayedUntil <= Date.now()) {
      const acted = actOnRequest(client, faults, delayedUntil);
      if (acted === true) return;
      delayedUntil = acted;
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
    port.forget(client);
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
    if (!handBackDue || port.faults.length > 0 || !idle() || !port.handOff!(client)) return;
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
  /** Its path is going (a fault proxy at the fault's end): its next response says
   * `connection: close`, and it ends after that response. Its client then neither loses a
   * request in flight nor races a FIN with its next one. */
  let retireDue = false;
  let closeAnnounced = false;
  const endWhenAnnounced = () => {
    if (closeAnnounced && idle()) client.end();
  };
  const atBoundary = () => {
    handBack();
    moveWhenIdle();
    endWhenAnnounced();
  };
  const proxied: ProxiedClient = {
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
    retire: () => {
      retireDue = true;
    },
  };
  client.on('error', () => undefined);
  client.on('close', closed);
  connect();
  return proxied;
}

export interface ProxiedClient {
  /** The backend its upstream goes to, if it has one. */
  backend(): Backend | undefined;
  /** Off its backend at its next request boundary (to the least busy one then). */
  move(): void;
  /** For a blackhole: never answered again. */
  silence(): void;
  /** For a handoff port once no fault is in force: off this path at a request boundary. */
  handBack(): void;
  /** Ends after its next response, which says so (`connection: close`). */
  retire(): void;
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

export function stopReading(socket: Handled): boolean {
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
export function resumeReading(socket: Handled): void {
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

const CONNECTION_CLOSE = Buffer.from('connection: close\r\n');

/** A response's first chunk with `connection: close` after its status line (a client closes
 * on it even beside the server's own `keep-alive`); none when its status line is not whole
 * in the chunk, or the answer is interim (1xx) and the response is still to come. */
function withConnectionClose(chunk: Buffer): Buffer | undefined {
  const lineEnd = chunk.indexOf('\r\n');
  if (lineEnd < 12 || chunk.toString('latin1', 0, 5) !== 'HTTP/') return undefined;
  if (Number(chunk.toString('latin1', 9, 12)) < 200) return undefined;
  return Buffer.concat([chunk.subarray(0, lineEnd + 2), CONNECTION_CLOSE, chunk.subarray(lineEnd + 2)]);
}

/** With no instance left to answer, say so in HTTP rather than cutting the connection. */
function unavailable(client: net.Socket, service: string): void {
  const body = JSON.stringify({ error: 'Service Unavailable', message: `no healthy instance of "${service}"` });
  client.end(
    `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
