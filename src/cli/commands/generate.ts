import type { Command } from 'commander';
import { globals } from '../global-options.js';
import { reportWrite } from '../render-plan.js';

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('re-render every generated file from scaffold.yaml')
    .action(async (_options: object, command: Command) => {
      const cli = globals(command);
      const { regenerate } = await import('../../generators/operations.js');
      reportWrite(await regenerate({ projectDir: cli.cwd, dryRun: cli.dryRun, force: cli.force }), cli);
    });
}
