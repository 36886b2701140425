import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../../atomic-write.js';
import type { RunPaths } from './paths.js';

/** What a live run leaves in .scaffold/run/state.json for later commands to find it. */
export interface RunState {
  pid: number;
  socket: string;
  project: string;
  startedAt: string;
  /** Every process of the run, for the orphan check after a crash. */
  pids: number[];
}

export function readState(paths: RunPaths): RunState | undefined {
  if (!existsSync(paths.state)) return undefined;
  try {
    return JSON.parse(readFileSync(paths.state, 'utf8')) as RunState;
  } catch {
    return undefined;
  }
}

export async function writeState(paths: RunPaths, state: RunState): Promise<void> {
  await writeFileAtomic(paths.state, JSON.stringify(state, null, 2));
}

export function clearState(paths: RunPaths): void {
  rmSync(paths.state, { force: true });
  rmSync(paths.socket, { force: true });
}

/** Marks this process as an `up` still starting the run (building, or waiting for its
 * supervisor), until the returned function takes the mark away. */
export async function markStarting(paths: RunPaths): Promise<() => void> {
  await writeFileAtomic(paths.starting, JSON.stringify({ pid: process.pid }));
  return () => rmSync(paths.starting, { force: true });
}

/** The pid of another `up` still starting the run, if one is. */
export function startingPid(paths: RunPaths): number | undefined {
  let pid: number;
  try {
    pid = (JSON.parse(readFileSync(paths.starting, 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
  if (pid === process.pid || !isAlive(pid)) return undefined;
  // a pid recycled since an `up` was SIGKILLed is not ours to stop (no /proc: trust the mark)
  if (existsSync('/proc') && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('scaffold')) return undefined;
  return pid;
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

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * After a crashed run: ends any process it left that is still ours (its command line
 * carries our lifeline, so a recycled pid is never touched) and removes the stale state.
 */
export function cleanStaleRun(paths: RunPaths, state: RunState): number {
  let ended = 0;
  for (const pid of state.pids) {
    if (!isAlive(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('lifeline')) continue;
      process.kill(pid, 'SIGKILL');
      ended += 1;
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  clearState(paths);
  return ended;
}
