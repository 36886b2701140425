import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ArrivalServerOptions {
  /** Every answer waits this long. */
  holdMs?: number;
  /** A stall of stallMs every periodMs, from a random phase against the load's start. */
  stallMs?: number;
  periodMs?: number;
  /** The stall blocks the server's event loop instead of holding answers. */
  block?: boolean;
}

export interface ArrivalServer {
  url: string;
  /** The arrival times since the last call (ms, performance.timeOrigin + now). */
  arrivals(): Promise<number[]>;
  /** How many connections were opened to it so far. */
  connections(): Promise<number>;
  close(): void;
}

const SCRIPT = fileURLToPath(new URL('./arrival-server.cjs', import.meta.url));

/** The load tests' oracle: a plain server in its own process that timestamps arrivals. */
export async function arrivalServer(options: ArrivalServerOptions = {}): Promise<ArrivalServer> {
  const child = spawn(process.execPath, [SCRIPT, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const next = () => new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('message', (message) => resolve(message as Record<string, unknown>));
    child.once('exit', (code) => reject(new Error(`the arrival server exited (${code})`)));
  });
  const { port } = await next();
  return {
    url: `http://127.0.0.1:${port as number}/`,
    async arrivals() {
      const reply = next();
      child.send('arrivals');
      return (await reply).arrivals as number[];
    },
    async connections() {
      const reply = next();
      child.send('connections');
      return (await reply).connections as number;
    },
    close: () => child.kill(),
  };
}

/** Counts per window of `windowMs` from `fromMs`, for `count` windows. */
export function perWindow(arrivals: number[], fromMs: number, windowMs: number, count: number): number[] {
  const windows = new Array<number>(count).fill(0);
  for (const at of arrivals) {
    const index = Math.floor((at - fromMs) / windowMs);
    if (index >= 0 && index < count) windows[index]! += 1;
  }
  return windows;
}
