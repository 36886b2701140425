import { UserError } from '../errors.js';
import type { Exec } from './exec.js';
import type { Runtime, RuntimeName } from './runtime.js';
import type { Model } from '../model/load.js';

/** Loads only the runtime asked for: compose's modules (and execa) cost the process
 * runtime's commands ~100 ms of start-up otherwise. */
export async function createRuntime(name: RuntimeName, options: { projectDir: string; exec?: Exec; model: () => Promise<Model> }): Promise<Runtime> {
  if (name === 'process') return new (await import('./process/process-runtime.js')).ProcessRuntime(options);
  if (name === 'compose') return new (await import('./compose/compose-runtime.js')).ComposeRuntime(options);
  throw new UserError(`the ${name} runtime is not available yet: use --runtime process (the default) or --runtime compose`);
}
