import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';
import { waitUntil } from './services.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(REPO, 'bin/scaffold.js');

/** Runs the built CLI the way a user does; never throws on a non-zero exit. */
export function scaffold(args: string[], options: Options & { cwd: string }) {
  return execa('node', [BIN, ...args], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1' }, ...options });
}

/** `scaffold up --attach …` left running, once it says it serves in the foreground, and
 * its stdout so far. (In an object: the subprocess is a promise of its end, which `await`
 * would wait for.) */
export async function upAttached(args: string[], options: Options & { cwd: string }, timeoutMs: number) {
  const attached = scaffold(['up', '--attach', ...args], options);
  let output = '';
  attached.stdout?.on('data', (chunk: Buffer) => (output += chunk));
  await waitUntil(async () => output.includes('running in the foreground'), timeoutMs, () => attached.exitCode !== null);
  return { attached, output: () => output };
}

const tempDirs: string[] = [];

/** Removes every folder tempDir() made; test/support/cleanup.ts calls it after each file. */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function tempDir(prefix = 'scaffold-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** The opening story: the classic gateway → users, orders architecture. */
export async function createClassicProject(parent: string, name = 'shop'): Promise<string> {
  const steps = [
    ['init', name, '--yes'],
    ['--cwd', name, 'new-service', 'users', '--yes'],
    ['--cwd', name, 'new-service', 'orders', '--yes', '--depends-on', 'users', '--replicas', '2'],
    ['--cwd', name, 'new-service', 'api-gateway', '--pattern', 'gateway', '--yes', '--routes', '/users=users,/orders=orders'],
  ];
  for (const args of steps) {
    const result = await scaffold(args, { cwd: parent });
    if (result.exitCode !== 0) throw new Error(`scaffold ${args.join(' ')} failed:\n${result.stderr}`);
  }
  return path.join(parent, name);
}
