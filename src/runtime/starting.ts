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

/** How long a cancelled `up` waits for its steps to give up before it ends regardless. */
const SETTLE_MS = 10_000;

/**
 * Runs an `up`'s steps under the mark. A SIGTERM meanwhile (the cancel below, or a `kill`)
 * ends the commands the steps run, and the `up` with a CancelledError.
 */
export async function whileStarting<T>(projectDir: string, steps: () => Promise<T>): Promise<T> {
  const file = markFile(projectDir);
  let isCancelled = false;
  let resolveCancelled!: (value: typeof CANCELLED) => void;
  const cancelled = new Promise<typeof CANCELLED>((resolve) => (resolveCancelled = resolve));
  const cancel = () => {
    isCancelled = true;
    resolveCancelled(CANCELLED);
  };
  // `on`, not `once`: a `once` listener is gone by the time execa's signal-exit looks, which
  // then finds itself alone and ends the process by the signal before we can say why. And
  // before the mark: a `down` that finds the mark must find the listener too.
  process.on('SIGTERM', cancel);
  try {
    await writeFileAtomic(file, JSON.stringify({ pid: process.pid }));
    // a SIGTERM while the mark was written leaves nothing to start
    const settled = isCancelled ? undefined : steps().then((value) => ({ value }), (error: unknown) => ({ error }));
    const outcome = settled && (await Promise.race([settled, cancelled]));
    if (outcome === undefined || outcome === CANCELLED) {
      await endCommands(settled);
      throw new CancelledError('cancelled before the system was up (by "scaffold down" or a SIGTERM): nothing of this up runs');
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  } finally {
    process.off('SIGTERM', cancel);
    rmSync(file, { force: true });
  }
}

const CANCELLED = Symbol('cancelled');

/**
 * Ends every command a cancelled `up` runs, and every one its steps still start before they
 * give up: with a listener of ours the signal no longer ends execa's children by itself, one
 * sweep misses a command that was about to start (`npm` spawning its script's shell on a busy
 * machine), and a command left running would hold this process, and the system, up.
 */
async function endCommands(settled: Promise<unknown> = Promise.resolve()): Promise<void> {
  let done = false;
  void settled.finally(() => (done = true));
  const deadline = Date.now() + SETTLE_MS;
  do {
    for (const pid of descendants(process.pid)) signal(pid, 'SIGTERM');
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 50))]);
  } while (!done && Date.now() < deadline);
  for (const pid of descendants(process.pid)) signal(pid, 'SIGTERM');
}

/**
 * Cancels the `up` still starting this project, if another one is, with every command it
 * runs (as Ctrl+C would reach them through the terminal): SIGTERM, and once it has ended.
 */
export async function cancelStarting(projectDir: string): Promise<void> {
  const file = markFile(projectDir);
  const pid = startingPid(file);
  if (pid === undefined) return;
  // The `up` ends its own commands (endCommands); the tree is signalled here too for an `up`
  // too stuck to, which `ended` SIGKILLs. Found first (once the parents are gone, their
  // children are no longer found under them), signalled after the `up`, so that its own
  // handler sees the SIGTERM before its build's commands fail, and says it was cancelled.
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
