import type { SchemaKit } from '../../patterns/pattern.js';

const HOUR_MS = 3_600_000;

/**
 * `infrastructure.redis.queues`: job queues on this Redis. A queue's jobs: how often and
 * how far apart they are tried, where they go after the last attempt, how many run at once
 * per worker instance, and how soon a job whose worker died is taken up again.
 */
export const queueFields = ({ z, queueName }: SchemaKit) => ({
  queues: z
    .record(
      queueName,
      z.strictObject({
        attempts: z.number().int().min(1).max(100).default(3).describe('Tries per job, the first included.'),
        backoff: z
          .strictObject({
            type: z.enum(['fixed', 'exponential']).default('exponential'),
            delayMs: z.number().int().min(0).max(HOUR_MS).default(500),
          })
          .default({ type: 'exponential', delayMs: 500 })
          .describe('The wait before a retry: delayMs, doubled after each failure when exponential.'),
        concurrency: z.number().int().min(1).max(1000).default(10).describe('Jobs one worker instance runs at once.'),
        // BullMQ's default check period is 30 s; the workers derive theirs and the lock's
        // from this bound (templates/service/jobs/src/platform/jobs.ts)
        stalledIntervalMs: z
          .number()
          .int()
          .min(1000)
          .max(HOUR_MS)
          .default(5000)
          .describe('The most a job whose worker died waits before another worker takes it up again.'),
        deadLetter: queueName.optional().describe('Where a job goes after its last failed attempt; default <queue>-dead.'),
      }),
    )
    .optional()
    .describe('Job queues on this Redis (then run with noeviction): a worker consumes one (queue:), producers enqueue (enqueues:).'),
});
