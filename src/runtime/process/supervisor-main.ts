/**
 * The detached supervisor process `scaffold up` starts. The CLI forks it before it checks
 * the build, so that this process's start-up overlaps that work, and sends it the spec once
 * the services are built. It reports back over IPC once the system is healthy (or failed),
 * and until then it lives only as long as the CLI does: a CLI killed mid-`up` leaves
 * nothing behind.
 */
import { isUserError } from '../../errors.js';
import type { Spec } from '../../spec/schema.js';
import { removeEmptySupervisorLog, runPaths } from './paths.js';
import { serve, type Served } from './serve.js';

/** From the CLI: the spec it loaded and validated (so this process never loads zod). */
export type SupervisorCommand = { type: 'start'; spec: Spec; monitoring?: boolean };

export type SupervisorMessage =
  | { type: 'listening' }
  | { type: 'progress'; line: string }
  | { type: 'ready'; status: Served['status'] }
  | { type: 'failed'; message: string; details: string[]; exitCode: number };

/** To the `up` that forked this process, while it listens (a send after it has gone throws). */
const send = (message: SupervisorMessage) => process.connected && process.send?.(message);
const projectDir = process.argv[2]!;
let served: Served | undefined;
let ready = false;

process.on('disconnect', () => {
  if (!ready) void served?.stop().then(() => process.exit(1));
  if (!ready && !served) abandon(1);
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => (served ? void served.stop().then(() => process.exit(0)) : abandon(0)));
}
process.once('message', (command: SupervisorCommand) => void start(command.spec, command.monitoring));
// a spec sent before that listener existed would be lost; and the `up` may have given up on
// this process already, while it was starting
if (!process.connected) abandon(1);
send({ type: 'listening' });

async function start(spec: Spec, monitoring?: boolean): Promise<void> {
  try {
    served = await serve({ projectDir, spec, monitoring, paths: runPaths(projectDir), onProgress: (line) => send({ type: 'progress', line }) });
    ready = true;
    send({ type: 'ready', status: served.status });
    await served.stopped;
    process.exit(0);
  } catch (error) {
    send({
      type: 'failed',
      message: (error as Error).message,
      details: isUserError(error) ? error.details : [(error as Error).stack ?? ''],
      exitCode: isUserError(error) ? error.exitCode : 1,
    });
    process.exit(1);
  }
}

/** Ends a supervisor the `up` gave up on before it sent the spec (a failed build, a
 * cancel): it leaves no empty log behind. */
function abandon(code: number): never {
  removeEmptySupervisorLog(runPaths(projectDir));
  process.exit(code);
}
