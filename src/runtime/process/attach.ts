import { loadSpec } from '../../spec/load.js';
import { ensureBuilt } from '../build.js';
import { createExec } from '../exec.js';
import { runPaths } from './paths.js';
import { serve, type Served } from './serve.js';
import { readState, isAlive } from './state.js';
import { UserError } from '../../errors.js';

/** `up --attach`: the supervisor in this process, stopped by Ctrl+C or `scaffold down`. */
export async function attach(options: { projectDir: string; build?: boolean; onProgress?: (line: string) => void }): Promise<Served> {
  const paths = runPaths(options.projectDir);
  const state = readState(paths);
  if (state && isAlive(state.pid)) throw new UserError('the system is already running detached: "scaffold down" first');
  const { spec } = await loadSpec(options.projectDir);
  await ensureBuilt({ projectDir: options.projectDir, spec, exec: createExec(), force: options.build, onProgress: options.onProgress });
  const served = await serve({ projectDir: options.projectDir, spec, paths, onProgress: options.onProgress });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void served.stop());
  return served;
}
