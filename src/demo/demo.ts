import { existsSync } from 'node:fs';
import path from 'node:path';
import { addService, extendSpec, initProject, regenerate, type WriteResult } from '../generators/operations.js';
import { EnvironmentError, UserError } from '../errors.js';
import { missingServerProgram } from '../infrastructure/binary.js';
import { redis } from '../infrastructure/redis/index.js';
import { createExec } from '../runtime/exec.js';
import { ProcessRuntime } from '../runtime/process/process-runtime.js';
import type { SystemStatus } from '../runtime/runtime.js';
import { killService, type KillResult } from '../simulate/chaos/kill.js';
import { runUnderLoad } from '../simulate/chaos/under-load.js';
import type { SimulateLoadOptions } from '../simulate/load/simulate.js';
import { loadSpec, SPEC_FILE } from '../spec/load.js';
import { settlePayments, type PaymentsSummary } from './payments.js';

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
  killed: KilledSummary;
  /** Orders placed through the gateway while a payments worker was SIGKILLed mid-job. */
  payments: PaymentsSummary & { accepted: number; killed: KilledSummary };
  kept: boolean;
}

export interface KilledSummary {
  instance: string;
  pid: number | null;
  restartedInMs: number | null;
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

/** Orders placed through the gateway; a payment job takes PAYMENT_WORK_MS, so a kill finds
 * jobs under way. */
const ORDERS = { rate: 100, connections: 4, beforeMs: 2_000, afterMs: 4_000, settleMs: 30_000 };

/** The payments queue the demo adds to the classic system, on its (only) Redis. */
const PAYMENTS_QUEUE = { attempts: 3, backoff: { type: 'fixed', delayMs: 200 }, concurrency: 20, stalledIntervalMs: 2000 };

/**
 * The main job on a fresh machine: the classic architecture and a payments worker
 * generated, installed, built, started, sent traffic through its gateway while one orders
 * replica is SIGKILLed, then orders while a payments worker is SIGKILLed mid-job, and
 * summed up — with the same load engine and kill as `simulate load` and `chaos`; the
 * payments read from the queue's Redis.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { dir, onProgress } = options;
  // before a minute of installing: the payments queue runs on a Redis from PATH
  const missing = missingServerProgram(redis);
  if (missing) throw new EnvironmentError(`the demo's payments queue needs ${missing.command} on PATH: install it (${missing.install})`);
  await createClassicSystem(dir, onProgress);
  const runtime = new ProcessRuntime({ projectDir: dir, exec: createExec() });
  await runtime.up({ onProgress });
  try {
    onProgress?.(`traffic through the gateway for ${(TRAFFIC.beforeMs + TRAFFIC.afterMs) / 1000} s, killing one orders replica half-way`);
    const measured = await killingUnderLoad(runtime, 'orders', { projectDir: dir, path: '/orders/items', rate: TRAFFIC.rate, connections: TRAFFIC.connections }, TRAFFIC);
    const kill = measured.acted as KillResult;
    const { summary } = measured.load;
    const failures = Object.fromEntries(Object.entries(summary.statusCodes).filter(([status]) => Number(status) >= 400));

    onProgress?.(`orders through the gateway (POST /orders/orders) at ${ORDERS.rate}/s for ${(ORDERS.beforeMs + ORDERS.afterMs) / 1000} s, SIGKILLing a payments worker mid-job`);
    const since = Date.now();
    const ordered = await killingUnderLoad(
      runtime,
      'payments',
      { projectDir: dir, path: '/orders/orders', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":10}', rate: ORDERS.rate, connections: ORDERS.connections },
      ORDERS,
    );
    const workerKill = ordered.acted as KillResult;
    const status = await runtime.status();
    const queueRedis = status.infrastructure.find((infra) => infra.kind === 'redis')!;
    onProgress?.('waiting for every order to be paid');
    const payments = await settlePayments(queueRedis.url, since, ORDERS.settleMs);
    return {
      dir,
      status,
      traffic: { requests: summary.requests, ok: summary.ok, failed: summary.errors, failures: { ...failures, ...summary.errorsByKind } },
      killed: killedSummary(kill),
      payments: { ...payments, accepted: ordered.load.summary.statusCodes['202'] ?? 0, killed: killedSummary(workerKill) },
      kept: options.keep === true,
    };
  } finally {
    if (!options.keep) await runtime.down();
  }
}

/** A load through the gateway that SIGKILLs one instance of `victim` after `beforeMs`,
 * and measures until `afterMs` later. */
function killingUnderLoad(runtime: ProcessRuntime, victim: string, load: Omit<SimulateLoadOptions, 'service'>, phase: { beforeMs: number; afterMs: number }) {
  return runUnderLoad({
    runtime,
    load: { ...load, service: 'api-gateway' },
    beforeMs: phase.beforeMs,
    faultMs: phase.afterMs,
    afterMs: 0,
    act: () => killService(runtime, victim, { waitMs: 10_000 }),
    recoverFromStart: true,
  });
}

function killedSummary(kill: KillResult): KilledSummary {
  return { instance: kill.killed[0]!.id, pid: kill.killed[0]!.pid, restartedInMs: kill.recoveredInMs };
}

/** Orders pay through a worker: a queue Redis, orders enqueue, 2 workers. */
async function addPayments(dir: string, onProgress?: (line: string) => void): Promise<WriteResult[]> {
  const { spec } = await loadSpec(dir);
  if (Object.hasOwn(spec.services, 'payments')) return [];
  onProgress?.('adding a payments worker: orders enqueue a payment job per order on a queue Redis');
  return [
    await extendSpec({
      projectDir: dir,
      infrastructure: { redis: { queues: { payments: PAYMENTS_QUEUE } } },
      fields: [{ service: 'orders', field: 'enqueues', value: ['payments'] }],
    }),
    await addService({ projectDir: dir, name: 'payments', pattern: 'worker', replicas: 2, fields: { queue: 'payments', env: { PAYMENT_WORK_MS: '100' } } }),
  ];
}

/** What the demo sends its traffic through and kills. */
const CLASSIC_SERVICES = ['users', 'orders', 'api-gateway'];

async function createClassicSystem(dir: string, onProgress?: (line: string) => void): Promise<void> {
  const check = (result: WriteResult) => {
    if (!result.applied) throw new UserError(`${dir} has files scaffold did not expect (${result.plan.conflicts[0]?.path}): use another folder`);
  };
  if (existsSync(path.join(dir, SPEC_FILE))) {
    // its traffic and faults go to these: any other project is refused before a file changes
    const { spec } = await loadSpec(dir);
    const missing = CLASSIC_SERVICES.filter((name) => !Object.hasOwn(spec.services, name));
    if (missing.length > 0) {
      throw new UserError(`${dir} holds a project without ${missing.map((name) => `"${name}"`).join(', ')}: the demo runs on the classic system (users, orders, api-gateway); give it a new folder`);
    }
    onProgress?.(`using the existing project in ${dir}`);
    check(await regenerate({ projectDir: dir }));
    for (const result of await addPayments(dir, onProgress)) check(result);
    return;
  }
  onProgress?.(`generating the classic system in ${dir}: api-gateway → users, orders ×2 → payments ×2`);
  check(await initProject({ dir, name: 'shop' }));
  check(await addService({ projectDir: dir, name: 'users' }));
  check(await addService({ projectDir: dir, name: 'orders', dependsOn: ['users'], replicas: 2 }));
  check(await addService({ projectDir: dir, name: 'api-gateway', pattern: 'gateway', fields: { routes: { '/users': 'users', '/orders': 'orders' } } }));
  for (const result of await addPayments(dir, onProgress)) check(result);
}
