import path from 'node:path';
import type { Command } from 'commander';
import { globals } from '../global-options.js';
import { canPrompt } from '../prompts.js';
import { reportWrite } from '../render-plan.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a new project: scaffold.yaml and the workspace around it')
    .argument('<dir>', 'folder to create the project in')
    .option('--name <name>', 'project name (default: the folder name)')
    .option('-y, --yes', 'take defaults; never prompt')
    .action(async (dir: string, options: { name?: string; yes?: boolean }, command: Command) => {
      const cli = globals(command);
      const { initProject } = await import('../../generators/operations.js');
      const target = path.resolve(cli.cwd, dir);
      let name = options.name;
      if (name === undefined && canPrompt(options.yes)) {
        const { input } = await import('@inquirer/prompts');
        name = await input({ message: 'Project name', default: path.basename(target) });
      }
      const result = await initProject({ dir: target, name, dryRun: cli.dryRun, force: cli.force });
      reportWrite(result, cli);
      if (result.applied) {
        const relative = path.relative(process.cwd(), target) || '.';
        cli.output.info(`\nNext: npx scaffold --cwd ${relative} new-service <name>`);
      }
    });
}
