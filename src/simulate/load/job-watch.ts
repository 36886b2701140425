import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ProcessedSeries } from './processed-series.js';
import type { JobsMeasured } from './result.js';

/** The running system's job queues, on their Redis (a port on this machine). */
export interface JobsTarget {
  url: string;
  queues: string[];
}

/** How often the backlog is read during the run: its resolution per second. */
const POLL_MS = 250;
/** The job states that make the backlog: not yet finished. */
const UNFINISHED = ['waiting', 'active', 'delayed', 'prioritized'] as const;

/**
 * Watches the queues while a load runs: their backlog (waiting, running and retrying)
 * read every 250 ms. Once the load is over, `finish` waits (at most `waitMs`) for the
 * backlog to drain, then reads from the queues' Redis the jobs enqueued since the run
 * began, by BullMQ's own timestamps on each job: enqueued (`timestamp`, set by the
 * producer) → finished (`finishedOn`, set by the worker) is exact to the millisecond and
 * costs one sorted-set range and one hash read per job, nothing during the run.
 */
export async function watchJobs(target: JobsTarget): Promise<{ finish: (runStart: number, waitMs: number, signal?: AbortSignal) => Promise<JobsMeasured | undefined> }> {
  const connection = new Redis(target.url, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: true });
  await connection.connect();
  const queues = target.queues.map((name) => new Queue(name, { connection }));
  const samples: { at: number; backlog: number }[] = [];
  const backlog = async () => {
    const counts = await Promise.all(queues.map((queue) => queue.getJobCounts(...UNFINISHED)));
    return counts.reduce((total, count) => total + UNFINISHED.reduce((sum, state) => sum + (count[state] ?? 0), 0), 0);
  };
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const at = performance.now();
      // a Redis that does not answer (paused, killed) leaves a gap, not an error
      const count = await backlog().catch(() => undefined);
      if (count !== undefined) samples.push({ at, backlog: count });
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();

  const finish = async (runStart: number, waitMs: number, signal?: AbortSignal) => {
    try {
      const deadline = performance.now() + waitMs;
      while (performance.now() < deadline && !signal?.aborted && samples.at(-1)?.backlog !== 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      polling = false;
      await poller;
      // the run's start on the clock the jobs' timestamps use
      const startedAt = Date.now() - (performance.now() - runStart);
      const series = new ProcessedSeries();
      for (const { at, backlog: count } of samples) if (at >= runStart) series.backlog((at - runStart) / 1000, count);
      let failed = 0;
      let unprocessed = 0;
      for (const queue of queues) {
        for (const job of await jobsSince(connection, queue, 'completed', startedAt)) series.processed((job.finishedOn - startedAt) / 1000, job.finishedOn - job.timestamp);
        failed += (await jobsSince(connection, queue, 'failed', startedAt)).length;
        unprocessed += (await queue.getJobs([...UNFINISHED])).filter((job) => job.timestamp >= startedAt).length;
      }
      if (series.count + failed + unprocessed === 0) return undefined;
      return { queues: target.queues, processed: series.count, failed, unprocessed, endToEnd: series.endToEnd(), series: series.series() };
    } finally {
      polling = false;
      await poller;
      await Promise.all(queues.map((queue) => queue.close()));
      connection.disconnect();
    }
  };
  return { finish };
}

/** The jobs of a finished state (its sorted set, scored by when they finished) that were
 * enqueued at or after `since` (ms since the epoch). */
async function jobsSince(connection: Redis, queue: Queue, state: 'completed' | 'failed', since: number): Promise<{ timestamp: number; finishedOn: number }[]> {
  const ids = await connection.zrangebyscore(queue.keys[state]!, since, '+inf');
  const pipeline = connection.pipeline();
  for (const id of ids) pipeline.hmget(queue.toKey(id), 'timestamp', 'finishedOn');
  const replies = ids.length === 0 ? [] : ((await pipeline.exec()) ?? []);
  return replies
    .map(([, fields]) => (fields as (string | null)[]).map(Number))
    .filter(([timestamp, finishedOn]) => timestamp! >= since && finishedOn! > 0)
    .map(([timestamp, finishedOn]) => ({ timestamp: timestamp!, finishedOn: finishedOn! }));
}
