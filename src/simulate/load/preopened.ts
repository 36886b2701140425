import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

/** How long the start waits for connections opened ahead; slower ones join when ready. */
const PREOPEN_WAIT_MS = 1000;

export interface Preopened {
  connect: buildConnector.connector;
  /** Destroys the connections never handed out: a socket that carried no request is not
   * idle to a server (Node's closes it only at its request timeout), and it would keep the
   * process alive after the run. */
  close: () => void;
}

/**
 * A connector for undici's Pool that hands out `count` connections opened before the run
 * (k6's preAllocatedVUs), then opens new ones as the pool grows. Without them the first
 * requests of a run each wait for a connection of their own, and on a busy machine that
 * start-up queue reads as the target's latency.
 */
export async function preopenedConnector(url: URL, count: number, timeoutMs: number): Promise<Preopened> {
  const open = buildConnector({ timeout: timeoutMs });
  const target: buildConnector.Options = {
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    host: url.host,
    protocol: url.protocol,
    port: url.port || (url.protocol === 'https:' ? '443' : '80'),
    servername: url.hostname,
  };
  const ready: Socket[] = [];
  let closed = false;
  const opening = Array.from({ length: count }, () => new Promise<void>((settle) => {
    open(target, (error, socket) => {
      if (!error) {
        if (closed) socket.destroy();
        else ready.push(socket);
      }
      settle();
    });
  }));
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(opening), new Promise((resolve) => (waited = setTimeout(resolve, Math.min(PREOPEN_WAIT_MS, timeoutMs))))]);
  clearTimeout(waited);
  return {
    connect: (options, callback) => {
      let socket = ready.pop();
      while (socket && (socket.destroyed || socket.readyState !== 'open')) socket = ready.pop();
      if (!socket) return open(options, callback);
      // as asynchronous as a fresh connection's callback
      const found = socket;
      queueMicrotask(() => callback(null, found));
    },
    close: () => {
      closed = true;
      for (const socket of ready.splice(0)) socket.destroy();
    },
  };
}
