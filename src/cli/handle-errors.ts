import { CommanderError } from 'commander';
import { EnvironmentError, isUserError, UserError } from '../errors.js';
import type { Output } from './output.js';

/** Enough of a long list of problems to act on; the rest is a count. */
export const MAX_DETAILS = 5;

/**
 * The one error boundary: expected failures become one line (and their exit code), the
 * stack only with --verbose; anything unexpected is a bug and keeps its stack.
 */
export async function handleErrors(output: Output, run: () => Promise<number | void>): Promise<number> {
  try {
    return (await run()) ?? 0;
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      // commander already printed its message; help and version are successes
      return thrown.exitCode === 0 ? 0 : 2;
    }
    const error = fromSystemError(thrown) ?? thrown;
    if (isUserError(error)) {
      output.error(oneLine(error.message));
      const shown = error.details.slice(0, MAX_DETAILS);
      for (const detail of shown) output.detail(oneLine(detail));
      const hidden = error.details.length - shown.length;
      if (hidden > 0) output.detail(`… and ${hidden} more`);
      if (output.verbose) output.detail(((thrown as Error).stack ?? '').replaceAll('\n', '\n  '));
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

/**
 * User text (a name, a path, a file's content) reaches messages as data: a newline would
 * split the one line and an escape sequence would drive the terminal, so both are shown
 * escaped, as in a JSON string.
 */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => JSON.stringify(char).slice(1, -1));
}

/** What the file system refused, by errno: the input's fault (2) or the machine's (3). */
const SYSTEM_ERRORS: Record<string, { exitCode: 2 | 3; says: string }> = {
  ENOENT: { exitCode: 2, says: 'no such file or folder' },
  EISDIR: { exitCode: 2, says: 'is a folder where a file is expected' },
  ENOTDIR: { exitCode: 2, says: 'a part of this path is a file where a folder is expected' },
  EEXIST: { exitCode: 2, says: 'already exists (a file where a folder is expected?)' },
  ELOOP: { exitCode: 2, says: 'too many symbolic links (a link loop?)' },
  ENAMETOOLONG: { exitCode: 2, says: 'the name is too long' },
  EROFS: { exitCode: 3, says: 'the file system is read-only' },
  ENOSPC: { exitCode: 3, says: 'no space left on the device' },
  EDQUOT: { exitCode: 3, says: 'the disk quota is exhausted' },
  EACCES: { exitCode: 3, says: 'permission denied' },
  EPERM: { exitCode: 3, says: 'operation not permitted' },
  EMFILE: { exitCode: 3, says: 'too many open files' },
  ENFILE: { exitCode: 3, says: 'too many open files' },
};

/** A file-system error from Node (it has a code and a path) as a one-line user error. */
function fromSystemError(error: unknown): UserError | undefined {
  if (!(error instanceof Error) || isUserError(error)) return undefined;
  const { code, path: file, dest } = error as NodeJS.ErrnoException & { dest?: string };
  const known = code === undefined ? undefined : SYSTEM_ERRORS[code];
  if (!known) return undefined;
  // a write that failed on its temp file is a failure to write the file itself
  const where = (dest ?? file)?.replace(/\.[0-9a-f]{12}\.tmp$/, '');
  const message = where === undefined ? known.says : `${where}: ${known.says}`;
  return known.exitCode === 3 ? new EnvironmentError(message) : new UserError(message);
}

/** @inquirer/prompts rejects with ExitPromptError on Ctrl+C. */
function isPromptAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'ExitPromptError';
}
