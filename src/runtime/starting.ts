import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../atomic-write.js';
import { CancelledError } from '../errors.js';
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

/**
 * Runs an `up`'s steps under the mark. A SIGTERM meanwhile (the cancel below, or a `kill`)
 * ends the commands the steps run, and the `up` with a CancelledError.
 */
export async function whileStarting<T>(projectDir: string, steps: () => Promise<T>): Promise<T> {
  const file = markFile(projectDir);
  await writeFileAtomic(file, JSON.stringify({ pid: process.pid }));
  let cancel!: (error: Error) => void;
  const cancelled = new Promise<never>((_, reject) => (cancel = reject));
  const onSigterm = () => {
    // with a listener of ours, the signal no longer ends execa's children by itself
    for (const pid of descendants(process.pid)) signal(pid, 'SIGTERM');
    cancel(new CancelledError('cancelled before the system was up (by "scaffold down" or a SIGTERM): nothing of this up runs'));
  };
  // `on`, not `once`: a `once` listener is gone by the time execa's signal-exit looks, which
  // then finds itself alone and ends the process by the signal before we can say why
  process.on('SIGTERM', onSigterm);
  try {
    return await Promise.race([steps(), cancelled]);
  } finally {
    process.off('SIGTERM', onSigterm);
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
  // the tree is found first (once the parents are gone, their children are no longer found
  // under them) and signalled after the `up`, so that its own handler sees the SIGTERM
  // before its build's commands fail, and says it was cancelled
  const tree = descendants(pid);
  for (const each of [pid, ...tree]) signal(each, 'SIGTERM');
  await ended(pid);
  rmSync(file, { force: true }); // in case the `up` did not get to take it away
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
