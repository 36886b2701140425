import type { Options, ResultPromise } from 'execa';
import { UserError } from '../errors.js';

type Run = (file: string, args: string[], options?: Options) => Promise<{ stdout: string; stderr: string }>;

/** Runs external commands; every call goes through here so --verbose can show it. */
export type Exec = Run & {
  /** Runs a command asked a question (is buildx there?): its exit code is the answer, so
   * a non-zero one is returned, not thrown. */
  probe(file: string, args: string[], options?: Options): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Starts a command whose output is read as it comes (`docker logs -f`, `docker events`).
   * (In an object: the subprocess is a promise of its end, which `await` would wait for.) */
  stream(file: string, args: string[], options?: Options): Promise<{ child: ResultPromise }>;
};

export function createExec(log?: (line: string) => void): Exec {
  const shown = (file: string, args: string[], options: Options) => log?.(`$ ${[file, ...args].join(' ')}${options.cwd ? `  (in ${String(options.cwd)})` : ''}`);
  // loaded on the first command run: execa alone takes ~90 ms to import, more than most
  // commands that never run one (status, scale, chaos) spend on their own work
  const execa = async () => (await import('execa')).execa;
  const execute = async (file: string, args: string[], options: Options) => {
    shown(file, args, options);
    const result = await (await execa())(file, args, { reject: false, stdin: 'ignore', all: true, ...options });
    log?.(`  exit ${result.exitCode}`);
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), all: String(result.all ?? '') };
  };
  const probe: Exec['probe'] = async (file, args, options = {}) => {
    const { exitCode, stdout, stderr } = await execute(file, args, options);
    return { exitCode, stdout, stderr };
  };
  const run: Run = async (file, args, options = {}) => {
    const result = await execute(file, args, options);
    if (result.exitCode !== 0) {
      throw new UserError(`"${[file, ...args].join(' ')}" failed with exit code ${result.exitCode}`, result.all.trimEnd().split('\n').slice(-20));
    }
    return { stdout: result.stdout, stderr: result.stderr };
  };
  const stream: Exec['stream'] = async (file, args, options = {}) => {
    shown(file, args, options);
    return { child: (await execa())(file, args, { reject: false, stdin: 'ignore', ...options }) as ResultPromise };
  };
  return Object.assign(run, { probe, stream });
}
