import { existsSync, readFileSync, readdirSync } from 'node:fs';

/** How long a process asked to stop gets before it is SIGKILLed. */
const STOP_TIMEOUT_MS = 30_000;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

/** Once a process asked to stop has ended; SIGKILLed if it takes longer than STOP_TIMEOUT_MS. */
export async function ended(pid: number): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (isAlive(pid)) signal(pid, 'SIGKILL');
}

/**
 * Every process started, directly or not, by `pid` (from /proc; none elsewhere): a build
 * script's `sleep 5 && tsc` runs in a shell whose children a signal to npm never reaches.
 */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of existsSync('/proc') ? readdirSync('/proc') : []) {
    try {
      // the fields after the command's closing parenthesis: state, then the parent's pid
      const parent = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ').at(-1)!.split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // not a process, or gone meanwhile
    }
  }
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const next = children.get(queue.shift()!) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}
