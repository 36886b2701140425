/**
 * The detached supervisor process `scaffold up` starts. It reports to the CLI over IPC
 * once the system is healthy (or failed), and until then it lives only as long as the CLI
 * does: a CLI killed mid-`up` leaves nothing behind.
 */
import { isUserError } from '../../errors.js';
import { loadSpec } from '../../spec/load.js';
import { runPaths } from './paths.js';
import { serve, type Served } from './serve.js';

export type SupervisorMessage =
  | { type: 'progress'; line: string }
  | { type: 'ready'; status: Served['status'] }
  | { type: 'failed'; message: string; details: string[]; exitCode: number };

const send = (message: SupervisorMessage) => process.send?.(message);
const projectDir = process.argv[2]!;
let served: Served | undefined;
let ready = false;

process.on('disconnect', () => {
  if (!ready) void served?.stop().then(() => process.exit(1));
  if (!ready && !served) process.exit(1);
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => void (served ? served.stop() : Promise.resolve()).then(() => process.exit(0)));
}

try {
  const { spec } = await loadSpec(projectDir);
  served = await serve({ projectDir, spec, paths: runPaths(projectDir), onProgress: (line) => send({ type: 'progress', line }) });
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
