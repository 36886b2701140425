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
import { registerValidate } from './commands/validate.js';
import { handleErrors } from './handle-errors.js';
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
    .configureOutput({ outputError: (message, write) => write(`${message.trimEnd()} (see scaffold --help)\n`) })
    .exitOverride();

  for (const register of [registerInit, registerNewService, registerGenerate, registerValidate, registerSchema, registerRun, registerSimulate, registerChaos, registerReport, registerDemo]) {
    register(program);
  }
  return program;
}

// `scaffold logs orders | head`: a reader that stops reading ends us quietly, like any CLI
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

const argv = process.argv;
const output = createOutput({
  json: argv.includes('--json'),
  verbose: argv.includes('--verbose'),
  color: !argv.includes('--no-color'),
});
process.exitCode = await handleErrors(output, async () => {
  await buildProgram().parseAsync(argv);
  return process.exitCode as number | undefined;
});
