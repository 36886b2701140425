import { spawn } from 'node:child_process';

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
