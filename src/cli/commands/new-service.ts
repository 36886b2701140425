import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserError } from '../../errors.js';
import { allPatterns, defaultPattern, patternNamed, patternNames } from '../../patterns/index.js';
import type { PatternFlag } from '../../patterns/pattern.js';
import type { Spec } from '../../spec/schema.js';
import { globals } from '../global-options.js';
import { list, wholeNumber } from '../parse.js';
import { canPrompt } from '../prompts.js';
import { reportWrite } from '../render-plan.js';

interface NewServiceFlags {
  pattern?: string;
  port?: number;
  replicas?: number;
  dependsOn?: string[];
  yes?: boolean;
  /** The patterns' own flags, by field (a gateway's --routes is `routes`). */
  [field: string]: unknown;
}

export function registerNewService(program: Command): void {
  const command = program
    .command('new-service')
    .description('add a service to scaffold.yaml and generate its code and deployment files')
    .argument('<name>', 'service name (lowercase letters, digits, "-")')
    .addOption(new Option('--pattern <pattern>', 'what the service is built from').choices(patternNames()))
    .option('--port <port>', 'port it listens on (default: the next free one)', wholeNumber(1024, 65535))
    .option('--replicas <n>', 'instances to run', wholeNumber(1, 50))
    .option('--depends-on <services>', 'services it calls (comma-separated, repeatable)', list);
  for (const flag of patternFlags()) command.option(flag.option, flag.description, usageError(flag));
  command
    .option('-y, --yes', 'take defaults; never prompt')
    .action(async (name: string, flags: NewServiceFlags, command: Command) => {
      const cli = globals(command);
      const { addService } = await import('../../generators/operations.js');
      const { loadSpec } = await import('../../spec/load.js');
      const loaded = await loadSpec(cli.cwd);
      const answers = canPrompt(flags.yes) ? await askMissing(flags, loaded.spec) : flags;
      const fields = Object.fromEntries(patternFlags().filter((flag) => answers[flag.field] !== undefined).map((flag) => [flag.field, answers[flag.field]]));
      const { pattern, port, replicas, dependsOn } = answers;
      const result = await addService({ projectDir: cli.cwd, loaded, name, pattern, port, replicas, dependsOn, fields, dryRun: cli.dryRun, force: cli.force });
      reportWrite(result, cli);
      if (result.applied) cli.output.info(`\nNext: npm install && npm run build && npm test`);
    });
}

/** The pattern prompt's choices: each registered pattern, labelled by its description. */
export function patternChoices(): { value: string; name: string }[] {
  return allPatterns().map((pattern) => ({ value: pattern.name, name: `${pattern.name} — ${pattern.description}` }));
}

function patternFlags(): PatternFlag[] {
  return allPatterns().flatMap((pattern) => pattern.newService.flags ?? []);
}

/** A pattern's parser says what is wrong with a value; commander makes it a usage error
 * that names the flag. */
function usageError(flag: PatternFlag) {
  return (value: string, previous: unknown) => {
    try {
      return flag.parse(value, previous);
    } catch (error) {
      if (error instanceof UserError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

/** Asks only for what the flags left open. */
async function askMissing(flags: NewServiceFlags, spec: Spec): Promise<NewServiceFlags> {
  const { select, input, checkbox } = await import('@inquirer/prompts');
  const { nextFreePort } = await import('../../generators/operations.js');
  const others = Object.keys(spec.services);
  const answers = { ...flags };
  answers.pattern ??= await select<string>({ message: 'Pattern', choices: patternChoices(), default: defaultPattern().name });
  const pattern = patternNamed(answers.pattern);
  answers.port ??= Number(
    await input({
      message: 'Port',
      default: String(nextFreePort(spec, pattern)),
      validate: (value) => /^\d+$/.test(value) && Number(value) >= 1024 && Number(value) <= 65535 || 'a port from 1024 to 65535',
    }),
  );
  const ask = pattern.newService.ask;
  if (ask && answers[ask.field] === undefined && others.length > 0) {
    const targets = await checkbox({ message: ask.message, choices: others.map((value) => ({ value, checked: ask.allChecked })) });
    answers[ask.field] = ask.answer(targets);
  }
  return answers;
}
