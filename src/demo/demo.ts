import { existsSync } from 'node:fs';
import path from 'node:path';
import { addService, initProject, regenerate, type WriteResult } from '../generators/operations.js';
import { UserError } from '../errors.js';
import { createExec } from '../runtime/exec.js';
import { loadModel } from '../model/load.js';
import { ProcessRuntime } from '../runtime/process/process-runtime.js';
import type { SystemStatus } from '../runtime/runtime.js';
import { killService, type KillResult } from '../simulate/chaos/kill.js';
import { runUnderLoad } from '../simulate/chaos/under-load.js';
import { SPEC_FILE } from '../spec/load.js';

export interface DemoOptions {
  dir: string;
  /** Leave the system running at the end. */
  keep?: boolean;
  onProgress?: (line: string) => void;
}

export interface DemoResult {
  dir: string;
  status: SystemStatus;
  traffic: TrafficSummary;
  killed: { instance: string; pid: number | null; restartedInMs: number | null };
  kept: boolean;
}

export interface TrafficSummary {
  requests: number;
  ok: number;
  failed: number;
  /** Failures by HTTP status, or by error code when no response came. */
  failures: Record<string, number>;
}

/** Gateway traffic, paced below its per-client rate limit (1000/s) so every failure
 * counted is the system's, not the limiter's. */
const TRAFFIC = { rate: 400, connections: 8, beforeMs: 3_000, afterMs: 3_000 };

/**
 * The main job on a fresh machine: the classic architecture generated, installed, built,
 * started, sent traffic through its gateway while one orders replica is SIGKILLed, and
 * summed up — with the same load engine and kill as `simulate load` and `chaos`.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { dir, onProgress } = options;
  await createClassicSystem(dir, onProgress);
  const runtime = new ProcessRuntime({ projectDir: dir, exec: createExec() });
  await runtime.up(await loadModel(dir), { onProgress });
  try {
    onProgress?.(`traffic through the gateway for ${(TRAFFIC.beforeMs + TRAFFIC.afterMs) / 1000} s, killing one orders replica half-way`);
    const measured = await runUnderLoad({
      runtime,
      load: { projectDir: dir, service: 'api-gateway', path: '/orders/items', rate: TRAFFIC.rate, connections: TRAFFIC.connections },
      beforeMs: TRAFFIC.beforeMs,
      faultMs: TRAFFIC.afterMs,
      afterMs: 0,
      act: () => killService(runtime, 'orders', { waitMs: 10_000 }),
      recoverFromStart: true,
    });
    const kill = measured.acted as KillResult;
    const { summary } = measured.load;
    const failures = Object.fromEntries(Object.entries(summary.statusCodes).filter(([status]) => Number(status) >= 400));
    return {
      dir,
      status: await runtime.status(),
      traffic: { requests: summary.requests, ok: summary.ok, failed: summary.errors, failures: { ...failures, ...summary.errorsByKind } },
      killed: { instance: kill.killed[0]!.id, pid: kill.killed[0]!.pid, restartedInMs: kill.recoveredInMs },
      kept: options.keep === true,
    };
  } finally {
    if (!options.keep) await runtime.down();
  }
}

async function createClassicSystem(dir: string, onProgress?: (line: string) => void): Promise<void> {
  const check = (result: WriteResult) => {
    if (!result.applied) throw new UserError(`${dir} has files scaffold did not expect (${result.plan.conflicts[0]?.path}): use another folder`);
  };
  if (existsSync(path.join(dir, SPEC_FILE))) {
    onProgress?.(`using the existing project in ${dir}`);
    check(await regenerate({ projectDir: dir }));
    return;
  }
  onProgress?.(`generating the classic system in ${dir}: api-gateway → users, orders ×2`);
  check(await initProject({ dir, name: 'shop' }));
  check(await addService({ projectDir: dir, name: 'users' }));
  check(await addService({ projectDir: dir, name: 'orders', dependsOn: ['users'], replicas: 2 }));
  check(await addService({ projectDir: dir, name: 'api-gateway', pattern: 'gateway', fields: { routes: { '/users': 'users', '/orders': 'orders' } } }));
}
