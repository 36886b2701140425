import { CommanderError } from 'commander';
import { isUserError } from '../errors.js';
import type { Output } from './output.js';

/**
 * The one error boundary: expected failures become one line (and their exit code), the
 * stack only with --verbose; anything unexpected is a bug and keeps its stack.
 */
export async function handleErrors(output: Output, run: () => Promise<number | void>): Promise<number> {
  try {
    return (await run()) ?? 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message; help and version are successes
      return error.exitCode === 0 ? 0 : 2;
    }
    if (isUserError(error)) {
      output.error(error.message);
      for (const detail of error.details) output.detail(detail);
      if (output.verbose && error.stack) output.detail(error.stack);
      return error.exitCode;
    }
    if (isPromptAbort(error)) {
      output.error('cancelled');
      return 130;
    }
    output.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}

/** @inquirer/prompts rejects with ExitPromptError on Ctrl+C. */
function isPromptAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'ExitPromptError';
}
