/**
 * Expected failures carry the exit code the CLI should end with (see ARCHITECTURE.md):
 * 2 bad usage or input, 3 the environment lacks something. Anything else that is thrown
 * is a programmer error and keeps its stack.
 */
export class UserError extends Error {
  readonly exitCode: number = 2;
  /** Extra lines shown under the one-line message (e.g. every schema issue). */
  readonly details: string[];

  constructor(message: string, details: string[] = []) {
    super(message);
    this.name = 'UserError';
    this.details = details;
  }
}

export class EnvironmentError extends UserError {
  override readonly exitCode = 3;

  constructor(message: string, details: string[] = []) {
    super(message, details);
    this.name = 'EnvironmentError';
  }
}

/** Stopped from outside before it was done (a SIGTERM): 143, as the shell reports a
 * process that SIGTERM ended, and one line that says so. */
export class CancelledError extends UserError {
  override readonly exitCode = 143;

  constructor(message: string) {
    super(message);
    this.name = 'CancelledError';
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
