import { readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { freePort } from '../../src/runtime/process/ports.js';

/** The runtime's own: never the same port twice in one process. */
export { freePort };

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
