import { existsSync, readFileSync, readdirSync } from 'node:fs';

/** How long a process asked to stop gets before it is SIGKILLed. */
const STOP_TIMEOUT_MS = 30_000;

/** Whether a process runs; a zombie (ended, not yet reaped by its parent) does not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return stat(pid)?.[0] !== 'Z';
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
    const parent = Number(stat(Number(entry))?.[1]);
    if (parent) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const next = children.get(queue.shift()!) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}

/** The fields of /proc/<pid>/stat after the command's closing parenthesis: state, then the
 * parent's pid, … (none without /proc, or once the process is gone). */
function stat(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ');
  } catch {
    return undefined;
  }
}
