import { createHash } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InfrastructureKind } from '../../infrastructure/index.js';
import { scaffoldPaths } from '../../scaffold-dir.js';

/** Where a run of the process runtime keeps its state, inside the project. */
export function runPaths(projectDir: string) {
  const { run, data } = scaffoldPaths(projectDir);
  const socket = path.join(run, 'supervisor.sock');
  return {
    run,
    logs: path.join(run, 'logs'),
    /** The trace receiver's spans (bounded: see traces/store.ts). */
    traces: path.join(run, 'traces'),
    /** Infrastructure data outlives a run, like a named volume. */
    data,
    state: path.join(run, 'state.json'),
    /** Held by an `up` of either runtime until it is done: see runtime/starting.ts. */
    starting: path.join(run, 'starting.json'),
    supervisorLog: path.join(run, 'supervisor.log'),
    // unix socket paths are limited to ~107 bytes; deep projects use one in the temp dir
    socket: socket.length < 100 ? socket : path.join(tmpdir(), `scaffold-${createHash('sha1').update(run).digest('hex').slice(0, 12)}.sock`),
  };
}

export type RunPaths = ReturnType<typeof runPaths>;

/** A supervisor that never got its spec leaves no empty log behind. */
export function removeEmptySupervisorLog(paths: RunPaths): void {
  if (existsSync(paths.supervisorLog) && statSync(paths.supervisorLog).size === 0) rmSync(paths.supervisorLog);
}

export function instanceLog(paths: RunPaths, instanceId: string): string {
  return path.join(paths.logs, `${instanceId}.log`);
}

/** Where a server keeps its data between runs, like a named volume: `down --volumes`
 * removes it. */
export function infrastructureData(paths: RunPaths, name: string, kind: InfrastructureKind): string {
  return path.join(kindData(paths, kind), name);
}

/** The folder every entry of `kind` keeps its data in: the project's data folder unless
 * the kind says otherwise. */
export function kindData(paths: RunPaths, kind: InfrastructureKind): string {
  return kind.process.dataRoot?.(paths.data) ?? paths.data;
}
