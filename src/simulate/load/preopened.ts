import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

/** How long the start waits for connections opened ahead; slower ones join when ready. */
const PREOPEN_WAIT_MS = 1000;

/**
 * A connector for undici's Pool that hands out `count` connections opened before the run
 * (k6's preAllocatedVUs), then opens new ones as the pool grows. Without them the first
 * requests of a run each wait for a connection of their own, and on a busy machine that
 * start-up queue reads as the target's latency.
 */
export async function preopenedConnector(url: URL, count: number, timeoutMs: number): Promise<buildConnector.connector> {
  const open = buildConnector({ timeout: timeoutMs });
  const target: buildConnector.Options = {
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    host: url.host,
    protocol: url.protocol,
    port: url.port || (url.protocol === 'https:' ? '443' : '80'),
    servername: url.hostname,
  };
  const ready: Socket[] = [];
  const opening = Array.from({ length: count }, () => new Promise<void>((settle) => {
    open(target, (error, socket) => {
      if (!error) ready.push(socket);
      settle();
    });
  }));
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(opening), new Promise((resolve) => (waited = setTimeout(resolve, Math.min(PREOPEN_WAIT_MS, timeoutMs))))]);
  clearTimeout(waited);
  return (options, callback) => {
    let socket = ready.pop();
    while (socket && (socket.destroyed || socket.readyState !== 'open')) socket = ready.pop();
    if (!socket) return open(options, callback);
    // as asynchronous as a fresh connection's callback
    const found = socket;
    queueMicrotask(() => callback(null, found));
  };
}
