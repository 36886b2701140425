import { Option, type Command } from 'commander';
import { PATTERNS, type Pattern } from '../../spec/names.js';
import { globals } from '../global-options.js';
import { list, routes, wholeNumber } from '../parse.js';
import { canPrompt } from '../prompts.js';
import { reportWrite } from '../render-plan.js';

interface NewServiceFlags {
  pattern?: Pattern;
  port?: number;
  replicas?: number;
  dependsOn?: string[];
  routes?: Record<string, string>;
  yes?: boolean;
}

export function registerNewService(program: Command): void {
  program
    .command('new-service')
    .description('add a service to scaffold.yaml and generate its code and deployment files')
    .argument('<name>', 'service name (lowercase letters, digits, "-")')
    .addOption(new Option('--pattern <pattern>', 'what the service is built from').choices(PATTERNS))
    .option('--port <port>', 'port it listens on (default: the next free one)', wholeNumber(1024, 65535))
    .option('--replicas <n>', 'instances to run', wholeNumber(1, 50))
    .option('--depends-on <services>', 'services it calls (comma-separated, repeatable)', list)
    .option('--routes <routes>', 'gateway routes, e.g. /users=users,/orders=orders', routes)
    .option('-y, --yes', 'take defaults; never prompt')
    .action(async (name: string, flags: NewServiceFlags, command: Command) => {
      const cli = globals(command);
      const { addService } = await import('../../generators/operations.js');
      const answers = canPrompt(flags.yes) ? await askMissing(flags, cli.cwd) : flags;
      const result = await addService({ projectDir: cli.cwd, name, ...answers, dryRun: cli.dryRun, force: cli.force });
      reportWrite(result, cli);
      if (result.applied) cli.output.info(`\nNext: npm install && npm run build && npm test`);
    });
}

/** Asks only for what the flags left open. */
async function askMissing(flags: NewServiceFlags, projectDir: string): Promise<NewServiceFlags> {
  const { select, input, checkbox } = await import('@inquirer/prompts');
  const { loadSpec } = await import('../../spec/load.js');
  const { nextFreePort } = await import('../../generators/operations.js');
  const { spec } = await loadSpec(projectDir);
  const others = Object.keys(spec.services);
  const answers = { ...flags };
  answers.pattern ??= await select<Pattern>({
    message: 'Pattern',
    choices: [
      { value: 'http-api', name: 'http-api — a REST service' },
      { value: 'gateway', name: 'gateway — routes paths to other services' },
    ],
  });
  answers.port ??= Number(
    await input({
      message: 'Port',
      default: String(nextFreePort(spec, answers.pattern)),
      validate: (value) => /^\d+$/.test(value) && Number(value) >= 1024 && Number(value) <= 65535 || 'a port from 1024 to 65535',
    }),
  );
  if (answers.pattern === 'gateway' && answers.routes === undefined && others.length > 0) {
    const targets = await checkbox({ message: 'Route to', choices: others.map((value) => ({ value, checked: true })) });
    answers.routes = Object.fromEntries(targets.map((target) => [`/${target}`, target]));
  } else if (answers.pattern === 'http-api' && answers.dependsOn === undefined && others.length > 0) {
    answers.dependsOn = await checkbox({ message: 'Calls (dependsOn)', choices: others.map((value) => ({ value })) });
  }
  return answers;
}
