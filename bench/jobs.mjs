// Jobs/s through the generated worker (a generated worker service, and the producer's
// src/platform/jobs.ts, as built in a project) vs BullMQ alone, both on one redis-server:
// the same number of jobs, the same adds in flight, the same job options (an id, attempts,
// kept when done), the consumer in a process of its own either way with the same
// concurrency and a handler that does nothing; measured from the first add to the queue's
// completed count (BullMQ's own) reaching the last. Usage: node bench/jobs.mjs [--quick]
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { featureProject, freePort, medianRatio, quick, startDirect } from './lib.mjs';

const JOBS = quick ? 3_000 : 10_000;
const IN_FLIGHT = 256;
const CONCURRENCY = 64;
const ROUNDS = quick ? 1 : 3;

const children = [];
const { dir, parent } = await featureProject(
  ([pubPort, workPort]) =>
    `name: bench\nservices:\n  pub: { port: ${pubPort}, enqueues: [bench] }\n  work: { pattern: worker, port: ${workPort}, queue: bench }\n` +
    `infrastructure:\n  redis:\n    queues:\n      bench: { concurrency: ${CONCURRENCY} }\n`,
  // a handler that does nothing, as the baseline's worker does
  (project) =>
    writeFileSync(
      path.join(project, 'services/work/src/payments.ts'),
      "import type { ConsumeOptions } from './platform/jobs.js';\nexport function paymentHandler(..._unused: unknown[]): ConsumeOptions<unknown> {\n  return { handle: async () => {} };\n}\n",
    ),
);
try {
  const redisPort = await freePort();
  const url = `redis://127.0.0.1:${redisPort}`;
  const server = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  children.push(() => server.kill());
  await new Promise((resolve) => setTimeout(resolve, 500));
  const connection = { url, maxRetriesPerRequest: null };

  /** Adds JOBS with at most IN_FLIGHT adds unanswered, then waits for the queue's completed
   * count to take them all in. */
  async function measure(add, queue) {
    const done = (await queue.getJobCounts('completed')).completed + JOBS;
    const start = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < JOBS) await add(next++);
      }),
    );
    while ((await queue.getJobCounts('completed')).completed < done) await new Promise((resolve) => setTimeout(resolve, 5));
    return JOBS / ((performance.now() - start) / 1000);
  }

  // BullMQ alone: a Queue here, a Worker in a process of its own, the generated code's job options
  const options = { attempts: 3, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { age: 3600, count: 100_000 }, removeOnFail: { age: 24 * 3600 } };
  const rawQueue = new Queue('raw', { connection });
  const workerScript = `
    import { Worker } from 'bullmq';
    new Worker('raw', async () => {}, { connection: ${JSON.stringify(connection)}, concurrency: ${CONCURRENCY} });`;
  const worker = spawn(process.execPath, ['--input-type=module', '-e', workerScript], { cwd: dir, stdio: 'ignore' });
  children.push(() => worker.kill());
  let rawRun = 0;
  const raw = async () => {
    rawRun += 1;
    return measure((i) => rawQueue.add('raw', { data: { orderId: 'x', amount: 1 }, headers: {} }, { ...options, jobId: `r${rawRun}-${i}` }), rawQueue);
  };

  // the generated ones: the worker service, and the producer's Jobs class in this process
  const work = await startDirect(dir, 'work', { REDIS_URL: url });
  children.push(() => work.stop());
  const { Jobs } = await import(pathToFileURL(path.join(dir, 'services/pub/dist/platform/jobs.js')).href);
  const jobs = new Jobs({ REDIS_URL: url });
  const benchQueue = new Queue('bench', { connection });
  let run = 0;
  const generated = async () => {
    run += 1;
    return measure((i) => jobs.enqueue('bench', { orderId: 'x', amount: 1 }, { id: `g${run}-${i}` }), benchQueue);
  };

  const median = await medianRatio(raw, generated, { rounds: ROUNDS, unit: 'jobs/s', baseName: 'BullMQ alone', ourName: 'generated producer → worker' });
  console.log(`jobs: generated producer → worker vs BullMQ alone (${JOBS} jobs, ${IN_FLIGHT} adds in flight, worker concurrency ${CONCURRENCY}): median ratio ${median.toFixed(2)} (goal ≥ 0.8)`);
  await jobs.close();
  await Promise.all([rawQueue.close(), benchQueue.close()]);
} finally {
  for (const stop of children.reverse()) await stop();
  rmSync(parent, { recursive: true, force: true });
}
