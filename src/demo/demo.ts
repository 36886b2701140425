import { existsSync } from 'node:fs';
import path from 'node:path';
import { addService, initProject, regenerate, type WriteResult } from '../generators/operations.js';
import { UserError } from '../errors.js';
import { createExec } from '../runtime/exec.js';
import { ProcessRuntime } from '../runtime/process/process-runtime.js';
import type { SystemStatus } from '../runtime/runtime.js';
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

const TRAFFIC_MS = 3_000;

/**
 * The main job on a fresh machine: the classic architecture generated, installed, built,
 * started, sent traffic through its gateway while one orders replica is SIGKILLed, and
 * summed up.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { dir, onProgress } = options;
  await createClassicSystem(dir, onProgress);
  const runtime = new ProcessRuntime({ projectDir: dir, exec: createExec() });
  const status = await runtime.up({ onProgress });
  try {
    const gateway = await runtime.endpoint('api-gateway');
    onProgress?.(`traffic through the gateway (${gateway.origin}) for ${(2 * TRAFFIC_MS) / 1000} s, killing one orders replica half-way`);
    const traffic = sendTraffic(new URL('/orders/items', gateway));
    await sleep(TRAFFIC_MS);
    const [victim] = await runtime.kill('orders', { signal: 'SIGKILL' });
    const killedAt = Date.now();
    const restartedInMs = await waitForRestart(runtime, victim!.id, victim!.restarts, 10_000).then((at) => (at ? at - killedAt : null));
    await sleep(Math.max(0, TRAFFIC_MS - (Date.now() - killedAt)));
    const summary = await traffic.stop();
    const final = await runtime.status();
    return { dir, status: final, traffic: summary, killed: { instance: victim!.id, pid: victim!.pid, restartedInMs }, kept: options.keep === true };
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
  check(await addService({ projectDir: dir, name: 'api-gateway', pattern: 'gateway', routes: { '/users': 'users', '/orders': 'orders' } }));
}

/**
 * Paced request loops, below the gateway's per-client rate limit (1000/s) so every failure
 * counted is the system's, not the limiter's. The load issue's engine replaces this.
 */
function sendTraffic(url: URL, ratePerSecond = 400, concurrency = 8) {
  const interval = (1000 * concurrency) / ratePerSecond;
  const summary: TrafficSummary = { requests: 0, ok: 0, failed: 0, failures: {} };
  const fail = (kind: string) => {
    summary.failed += 1;
    summary.failures[kind] = (summary.failures[kind] ?? 0) + 1;
  };
  let running = true;
  const loops = Array.from({ length: concurrency }, async (_, index) => {
    let next = Date.now() + (index * interval) / concurrency;
    while (running) {
      await sleep(next - Date.now());
      next += interval;
      summary.requests += 1;
      try {
        const response = await fetch(url);
        await response.arrayBuffer();
        if (response.ok) summary.ok += 1;
        else fail(String(response.status));
      } catch (error) {
        fail(String(((error as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? (error as Error).name));
      }
    }
  });
  return {
    async stop(): Promise<TrafficSummary> {
      running = false;
      await Promise.all(loops);
      return summary;
    },
  };
}

async function waitForRestart(runtime: ProcessRuntime, id: string, restartsBefore: number, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const instance = (await runtime.status()).services.flatMap((s) => s.instances).find((i) => i.id === id);
    if (instance && instance.restarts > restartsBefore && instance.healthy) return Date.now();
    await sleep(25);
  }
  return null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
