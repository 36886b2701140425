import type { Command } from 'commander';
import type { Model } from '../model/load.js';
import type { Runtime } from '../runtime/runtime.js';
import { globals } from './global-options.js';

/** The runtime a command acts on (its --runtime, else the one the system was brought up
 * on, else the process runtime), with the command's global options and its `model`:
 * scaffold.yaml read and validated on first use, once for the whole command (the runtime
 * gets the same one). External commands are echoed under --verbose. */
export async function runtimeFor(command: Command): Promise<{ cli: ReturnType<typeof globals>; runtime: Runtime; model: () => Promise<Model> }> {
  const cli = globals(command);
  const { createRuntime } = await import('../runtime/select.js');
  const { rememberedRuntime } = await import('../runtime/remembered.js');
  const { createExec } = await import('../runtime/exec.js');
  const exec = createExec(cli.verbose ? (line) => cli.output.info(line) : undefined);
  let loading: Promise<Model> | undefined;
  const model = () => (loading ??= import('../model/load.js').then(({ loadModel }) => loadModel(cli.cwd)));
  const runtime = await createRuntime(command.opts().runtime ?? rememberedRuntime(cli.cwd) ?? 'process', { projectDir: cli.cwd, exec, model });
  return { cli, runtime, model };
}
