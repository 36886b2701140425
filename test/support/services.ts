import { readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { freePort } from '../../src/runtime/process/ports.js';

/** The runtime's own: never the same port twice in one process. */
export { freePort };

/**
 * A port for a service's entry in scaffold.yaml (its front port), free when asked: below
 * the kernel's ephemeral range (32768 and up), from which every outgoing connection takes
 * its local port. A front port the kernel handed out as free was in that range, and once a
 * connection made in the minute before `up` took it (one CI run: "port 36037 (front port
 * of "orders") is taken").
 */
const FRONT_PORTS = { from: 20_000, to: 32_000 };
const handedOut = new Set<number>();

export async function frontPort(): Promise<number> {
  for (;;) {
    const port = FRONT_PORTS.from + Math.floor(Math.random() * (FRONT_PORTS.to - FRONT_PORTS.from));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
}

/** On every address: a front port taken on any of them cannot be listened on. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

export interface RunningService {
  url: string;
  port: number;
  process: ResultPromise;
  /** SIGTERM, and the exit code it ended with. */
  stop(): Promise<number | undefined>;
}

/** Starts a built service the way `npm start` does and waits until it is ready. */
export async function startService(
  projectDir: string,
  name: string,
  env: Record<string, string> = {},
  nodeOptions: string[] = [],
): Promise<RunningService> {
  const port = await freePort();
  const child = execa('node', [...nodeOptions, 'dist/main.js'], {
    cwd: path.join(projectDir, 'services', name),
    env: { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    reject: false,
    stdin: 'ignore',
    cleanup: true,
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    return (await child).exitCode;
  };
  try {
    await waitUntil(async () => (await fetch(`${url}/readyz`)).status === 200, 20_000, () => child.exitCode !== null);
  } catch (error) {
    child.kill('SIGKILL');
    const result = await child;
    throw new Error(`${name} did not become ready: ${(error as Error).message}\n${result.stderr}\n${result.stdout}`);
  }
  return { url, port, process: child, stop };
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, gaveUp: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gaveUp()) {
    try {
      if (await check()) return;
    } catch {
      // not there yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(gaveUp() ? 'the process exited' : `timed out after ${timeoutMs} ms`);
}

/** pids of live processes whose working directory is inside `dir` (Linux /proc). */
export function processesUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`).startsWith(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}
