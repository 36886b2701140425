import { Command, Option } from 'commander';
import { registerChaos } from './commands/chaos.js';
import { registerDemo } from './commands/demo.js';
import { registerGenerate } from './commands/generate.js';
import { registerInit } from './commands/init.js';
import { registerNewService } from './commands/new-service.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerSchema } from './commands/schema.js';
import { registerSimulate } from './commands/simulate.js';
import { registerTraces } from './commands/traces.js';
import { registerValidate } from './commands/validate.js';
import { handleErrors, oneLine } from './handle-errors.js';
import { UserError } from '../errors.js';
import { createOutput } from './output.js';
import { version } from './version.js';

/** Command files only describe their commands; each loads its core when it runs, which
 * keeps `scaffold --help` close to bare Node start-up. */
export function buildProgram(): Command {
  const program = new Command('scaffold')
    .description('Describe a service architecture, generate it, run it, and stress it.')
    .version(version(), '-V, --version')
    .option('--cwd <dir>', 'project directory (default: the current one)')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--verbose', 'show stacks and every external command')
    .option('--no-color', 'plain output (NO_COLOR works too)')
    .addOption(new Option('--dry-run', 'show what would change; write nothing'))
    .option('--diff', 'with --dry-run: show unified diffs')
    .option('--force', 'overwrite generated files you edited')
    // one line: commander puts its "(Did you mean …?)" on a line of its own
    .configureOutput({ outputError: (message, write) => write(`${oneLine(message.trim().replace(/\s*\n\s*/g, ' '))} (see scaffold --help)\n`) })
    .exitOverride()
    .helpCommand(false);

  for (const register of [registerInit, registerNewService, registerGenerate, registerValidate, registerSchema, registerRun, registerTraces, registerSimulate, registerChaos, registerReport, registerDemo]) {
    register(program);
  }
  registerHelp(program);
  return program;
}

/** `help [command]`, as commander's own but a command that does not exist is an error,
 * not the whole help. */
function registerHelp(program: Command): void {
  program
    .command('help')
    .description('display help for a command')
    .argument('[command...]')
    .action((names: string[]) => {
      let command = program;
      for (const name of names) {
        const sub = command.commands.find((candidate) => candidate.name() === name || candidate.aliases().includes(name));
        if (!sub) throw new UserError(`no command "${[...names.slice(0, names.indexOf(name)), name].join(' ')}": see scaffold --help`);
        command = sub;
      }
      command.outputHelp();
    });
}

/** One run of the CLI on `argv` (as process.argv: node, script, args…): its exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const output = createOutput({
    json: argv.includes('--json'),
    verbose: argv.includes('--verbose'),
    color: !argv.includes('--no-color'),
  });
  return handleErrors(output, async () => {
    await buildProgram().parseAsync(argv);
    return process.exitCode as number | undefined;
  });
}
