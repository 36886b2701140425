import net from 'node:net';

const PROBE_TIMEOUT_MS = 1_000;

/** Ready when GET `path` answers 2xx: the services' readiness endpoint. */
export function httpProbe(path: string): (port: number) => Promise<boolean> {
  return async (port) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.body?.cancel();
    return response.ok;
  };
}

/** Ready when the port accepts a connection: infrastructure servers. */
export function tcpProbe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (ready: boolean) => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
