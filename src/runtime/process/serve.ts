import type { Spec } from '../../spec/schema.js';
import type { SystemStatus } from '../runtime.js';
import { serveControl } from './control.js';
import type { RunPaths } from './paths.js';
import { clearState, writeState } from './state.js';
import { Supervisor } from './supervisor.js';
import { startTraceReceiver } from '../traces/receiver.js';

const STATE_REFRESH_MS = 1_000;

export interface ServeOptions {
  projectDir: string;
  spec: Spec;
  paths: RunPaths;
  onProgress?: (line: string) => void;
  monitoring?: boolean;
}

export interface Served {
  status: SystemStatus;
  /** Resolves once everything has stopped (after `stop()`, a signal or `scaffold down`). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

/**
 * A supervisor with its control API and state file: what `scaffold up` runs, detached or,
 * with --attach, in the foreground. Rejects (having stopped everything) if the system does
 * not come up healthy.
 */
export async function serve(options: ServeOptions): Promise<Served> {
  const { paths } = options;
  const receiver = await startTraceReceiver(paths.traces);
  const supervisor = new Supervisor({ ...options, otlpEndpoint: receiver.endpoint });
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  let stopping: Promise<void> | undefined;

  const state = { pid: process.pid, socket: paths.socket, project: options.spec.name, startedAt: new Date().toISOString(), pids: [] as number[] };
  const refresh = setInterval(() => {
    const pids = supervisor.pids();
    if (pids.join() !== state.pids.join()) void writeState(paths, { ...state, pids: (state.pids = pids) });
  }, STATE_REFRESH_MS);
  refresh.unref();

  const stop = () => {
    stopping ??= (async () => {
      clearInterval(refresh);
      await supervisor.stop();
      // after the instances, which flush their last spans as they exit
      await receiver.close();
      control.close();
      clearState(paths);
      resolveStopped();
    })();
    return stopping;
  };

  const control = await serveControl(supervisor, paths.socket, () => void stop());
  await writeState(paths, state);
  try {
    const status = await supervisor.start();
    return { status, stopped, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
