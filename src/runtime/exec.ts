import type { Options } from 'execa';
import { UserError } from '../errors.js';

/** Runs an external command; every call goes through here so --verbose can show it. */
export type Exec = (file: string, args: string[], options?: Options) => Promise<{ stdout: string; stderr: string }>;

export function createExec(log?: (line: string) => void): Exec {
  return async (file, args, options = {}) => {
    log?.(`$ ${[file, ...args].join(' ')}${options.cwd ? `  (in ${String(options.cwd)})` : ''}`);
    // loaded on the first command run: execa alone takes ~90 ms to import, more than most
    // commands that never run one (status, scale, chaos) spend on their own work
    const { execa } = await import('execa');
    const result = await execa(file, args, { reject: false, stdin: 'ignore', all: true, ...options });
    log?.(`  exit ${result.exitCode}`);
    if (result.exitCode !== 0) {
      const output = String(result.all ?? '').trimEnd().split('\n').slice(-20);
      throw new UserError(`"${[file, ...args].join(' ')}" failed with exit code ${result.exitCode}`, output);
    }
    return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  };
}
