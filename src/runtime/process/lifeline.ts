/**
 * Loaded into every process the supervisor starts (`node --import <this file>`): the
 * supervisor holds the other end of a pipe on fd 3, and when that pipe closes — the
 * supervisor exited or was SIGKILLed — the process shuts itself down. No orphans, without
 * relying on anyone being alive to clean up.
 *
 * An instance of a service with `frontPort: handoff` also has an IPC channel: the
 * supervisor's front and link ports send it the connections they accept, and this module
 * passes them to the server the service opened on $PORT, so the service needs no change.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import type { HandoffMessage, HandoffReport } from './instance.js';

const LIFELINE_FD = 3;
const HARD_EXIT_MS = 10_000;
/** How long a recalled idle connection may wait for a request before it is closed. */
const RECALL_IDLE_MS = 1_000;

try {
  const lifeline = new net.Socket({ fd: LIFELINE_FD, readable: true, writable: false });
  lifeline.unref();
  lifeline.on('error', () => undefined);
  lifeline.once('close', () => {
    setTimeout(() => process.exit(1), HARD_EXIT_MS).unref();
    process.kill(process.pid, 'SIGTERM');
  });
  lifeline.resume();
} catch {
  // started without a lifeline (e.g. by hand): nothing to watch
}

if (process.channel) receiveConnections(Number(process.env.PORT));

interface Handed {
  /** The port that accepted it: a fault there recalls it. */
  via: number;
  /** Its latest response: under way until finished. */
  response?: ServerResponse;
  /** Its client is to reconnect, through the fault now in force. */
  recalled: boolean;
}

function receiveConnections(port: number): void {
  let server: net.Server | undefined;
  const handed = new Map<net.Socket, Handed>();

  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    this.once('listening', () => {
      const address = this.address();
      if (server || typeof address !== 'object' || address?.port !== port) return;
      server = this;
      // before the service's own handler, so a recalled connection's response says so
      this.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
        const connection = handed.get(request.socket);
        if (!connection) return;
        connection.response = response;
        if (connection.recalled) response.setHeader('connection', 'close');
      });
    });
    return listen.apply(this, args as Parameters<typeof listen>);
  } as typeof listen;

  process.on('message', (message: HandoffMessage, socket?: net.Socket) => {
    if (message?.scaffold === 'connection' && socket) {
      const { via, id } = message;
      socket.once('close', () => {
        handed.delete(socket);
        // the supervisor keeps its end of the connection open (and counts it) until told
        const report: HandoffReport = { scaffold: 'closed', id };
        if (process.connected) process.send?.(report, () => undefined); // the supervisor may be gone
      });
      if (!server?.listening) return void socket.resetAndDestroy();
      handed.set(socket, { via, recalled: false });
      server.emit('connection', socket);
    } else if (message?.scaffold === 'recall') {
      const { via, reset, count } = message;
      // `count` asks for an even share: connections on their way out already do not count
      const chosen = [...handed].filter(([, connection]) => connection.via === via && (count === undefined || !connection.recalled));
      for (const [socket, connection] of chosen.slice(0, count)) recall(socket, connection, reset);
    }
  });
  // the channel must not keep a service alive that is otherwise done (SIGTERM, drained)
  process.channel?.unref();
}

/**
 * A fault began at the port a connection came through (from now on that port's faults act
 * on new connections), this instance leaves, or it holds more than its share: the
 * connection is ended where that loses nothing — after the response under way, or after
 * the next one when idle. A partition cuts it at once.
 */
function recall(socket: net.Socket, connection: Handed, reset: boolean): void {
  connection.recalled = true;
  const { response } = connection;
  if (reset) socket.resetAndDestroy();
  else if (!response || response.writableFinished) {
    // closing it now could meet the client's next request on its way (under load, one lost
    // request per connection): that request is answered with `connection: close` instead,
    // and a client that sends none is not waited for long
    setTimeout(() => connection.response === response && socket.destroy(), RECALL_IDLE_MS).unref();
  } else if (!response.headersSent) response.setHeader('connection', 'close');
  else response.once('finish', () => socket.end());
}
