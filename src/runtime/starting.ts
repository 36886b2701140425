import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../atomic-write.js';
import { descendants, ended, isAlive, signal } from './process-tree.js';
import { runPaths } from './process/paths.js';

/**
 * While an `up` builds and starts the system — minutes, on a first build — nothing of the
 * run exists yet for a `down` from another terminal to stop, and the system would come up
 * after that `down` said "stopped". So an `up` marks the project with its pid until it is
 * done, and a `down` cancels the `up` it finds there first.
 */
function markFile(projectDir: string): string {
  return runPaths(projectDir).starting;
}

/** Runs an `up`'s steps under the mark. */
export async function whileStarting<T>(projectDir: string, steps: () => Promise<T>): Promise<T> {
  const file = markFile(projectDir);
  await writeFileAtomic(file, JSON.stringify({ pid: process.pid }));
  try {
    return await steps();
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * Cancels the `up` still starting this project, if another one is, with every command it
 * runs (as Ctrl+C would reach them through the terminal): SIGTERM, and once it has ended.
 */
export async function cancelStarting(projectDir: string): Promise<void> {
  const file = markFile(projectDir);
  const pid = startingPid(file);
  if (pid === undefined) return;
  // the tree first: once the parents are gone, their children are no longer found under them
  for (const each of [...descendants(pid), pid]) signal(each, 'SIGTERM');
  await ended(pid);
  rmSync(file, { force: true }); // a SIGTERMed `up` does not get to take it away
}

function startingPid(file: string): number | undefined {
  let pid: number;
  try {
    pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
  if (pid === process.pid || !isAlive(pid)) return undefined;
  // a pid recycled since an `up` was SIGKILLed is not ours to stop (no /proc: trust the mark)
  if (existsSync('/proc') && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('scaffold')) return undefined;
  return pid;
}
