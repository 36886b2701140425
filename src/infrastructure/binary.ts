import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { InfrastructureKind } from './kind.js';

/** Whether a program of that name is on PATH. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, command)));
}

/** The program a kind's server runs from and how to install it, when it is not on PATH. */
export function missingServerProgram(kind: InfrastructureKind): { command: string; install: string } | undefined {
  const program = kind.process.requires;
  return program && !onPath(program.command) ? program : undefined;
}

/**
 * A server that is a program on PATH (redis-server, nats-server): started with its output
 * in the instance's log. Its process leaving on its own ends ours, so the supervisor sees
 * the crash and restarts the pair.
 */
export async function runBinary(command: string, args: string[]): Promise<() => Promise<void>> {
  let stopping = false;
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  child.once('exit', (code) => {
    if (stopping) return;
    console.error(`${command} exited (code ${code})`);
    process.exit(1);
  });
  return () =>
    new Promise((resolve) => {
      stopping = true;
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}
