import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { ProjectModel, QueueModel } from '../model/project.js';
import type { SystemStatus } from './runtime.js';

export interface QueueStatus {
  name: string;
  /** The server that holds it. */
  infrastructure: string;
  /** Jobs waiting for a worker: the backlog. */
  waiting: number;
  /** Jobs a worker holds now. */
  active: number;
  /** Jobs that failed an attempt and wait out their backoff before the next. */
  retrying: number;
  completed: number;
  /** Failed attempts that were retried, and jobs taken up again after their worker died,
   * since the queue began (counted by its workers). */
  retried: number;
  stalled: number;
  /** Jobs in the dead-letter queue: their last attempt failed. */
  deadLetters: number;
  deadLetterQueue: string;
}

/** How far each queue is, read from its Redis by BullMQ's own counts. */
export async function queueStatus(url: string, queues: QueueModel[]): Promise<QueueStatus[]> {
  // one failed connect is an answer (the server is down or paused): no retries, no queueing
  const connection = new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, connectTimeout: 2000, commandTimeout: 2000 });
  try {
    await connection.connect();
    return await Promise.all(
      queues.map(async (queue): Promise<QueueStatus> => {
        const jobs = new Queue(queue.name, { connection });
        const dead = new Queue(queue.deadLetter, { connection });
        try {
          const [counts, deadCounts, stats] = await Promise.all([
            jobs.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed'),
            dead.getJobCounts('waiting', 'active', 'completed', 'failed'),
            connection.hgetall(`scaffold:queue:${queue.name}:stats`),
          ]);
          return {
            name: queue.name,
            infrastructure: queue.infrastructure,
            waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
            active: counts.active ?? 0,
            retrying: counts.delayed ?? 0,
            completed: counts.completed ?? 0,
            retried: Number(stats.retried ?? 0),
            stalled: Number(stats.stalled ?? 0),
            deadLetters: Object.values(deadCounts).reduce((sum, count) => sum + count, 0),
            deadLetterQueue: queue.deadLetter,
          };
        } finally {
          await Promise.all([jobs.close(), dead.close()]);
        }
      }),
    );
  } finally {
    connection.disconnect();
  }
}

/** The system's status with its queues' (where their servers answer on this machine); a
 * server that does not answer (down, paused) gives its queues' names and the reason. */
export async function withQueues(status: SystemStatus, project: ProjectModel): Promise<SystemStatus> {
  const holders = project.infrastructure.filter((infra) => infra.queues.length > 0);
  if (holders.length === 0) return status;
  const queues = await Promise.all(
    holders.map(async (holder) => {
      const running = status.infrastructure.find((infra) => infra.name === holder.name);
      if (!running) return holder.queues.map((queue) => ({ name: queue.name, infrastructure: holder.name, error: 'not running' }));
      return queueStatus(running.url, holder.queues).catch((error: Error) =>
        holder.queues.map((queue) => ({ name: queue.name, infrastructure: holder.name, error: `${holder.name} does not answer: ${error.message}` })),
      );
    }),
  );
  return { ...status, queues: queues.flat() };
}
