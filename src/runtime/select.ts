import { UserError } from '../errors.js';
import { ComposeRuntime } from './compose/compose-runtime.js';
import type { Exec } from './exec.js';
import { ProcessRuntime } from './process/process-runtime.js';
import type { Runtime, RuntimeName } from './runtime.js';

export function createRuntime(name: RuntimeName, options: { projectDir: string; exec?: Exec }): Runtime {
  if (name === 'process') return new ProcessRuntime(options);
  if (name === 'compose') return new ComposeRuntime(options);
  throw new UserError(`the ${name} runtime is not available yet: use --runtime process (the default) or --runtime compose`);
}
