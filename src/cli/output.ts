import chalk from 'chalk';

/** Human text goes to stderr and data to stdout, so `--json | jq` always works. */
export interface Output {
  json: boolean;
  verbose: boolean;
  /** Data for stdout: JSON under --json, the same content as text otherwise. */
  data(value: unknown, text: string): void;
  info(line: string): void;
  error(line: string): void;
  detail(line: string): void;
}

export function createOutput(options: { json?: boolean; verbose?: boolean; color?: boolean }): Output {
  if (options.color === false || 'NO_COLOR' in process.env) chalk.level = 0;
  const json = options.json === true;
  return {
    json,
    verbose: options.verbose === true,
    data(value, text) {
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text.endsWith('\n') ? text : `${text}\n`);
    },
    info(line) {
      if (!json) process.stderr.write(`${line}\n`);
    },
    error(line) {
      process.stderr.write(`${chalk.red('error:')} ${line}\n`);
    },
    detail(line) {
      process.stderr.write(`  ${chalk.dim(line)}\n`);
    },
  };
}
