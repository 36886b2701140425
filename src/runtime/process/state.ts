import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../../atomic-write.js';
import { isAlive } from '../process-tree.js';
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
