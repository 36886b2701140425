import path from 'node:path';
import type { Command } from 'commander';
import { createOutput, type Output } from './output.js';

export interface GlobalOptions {
  cwd: string;
  json: boolean;
  verbose: boolean;
  color: boolean;
  dryRun: boolean;
  diff: boolean;
  force: boolean;
}

/** The program-wide flags as the command sees them, wherever they stood on the line. */
export function globals(command: Command): GlobalOptions & { output: Output } {
  const options = command.optsWithGlobals() as Partial<GlobalOptions>;
  const resolved: GlobalOptions = {
    cwd: path.resolve(options.cwd ?? process.cwd()),
    json: options.json === true,
    verbose: options.verbose === true,
    color: options.color !== false,
    dryRun: options.dryRun === true,
    diff: options.diff === true,
    force: options.force === true,
  };
  return { ...resolved, output: createOutput(resolved) };
}
