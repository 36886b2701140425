import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { ENQUEUES, type EnqueuedQueue, type QueueSpec } from '../generated/queues.js';

/**
 * What travels with a job besides its data: the W3C trace context (traceparent,
 * tracestate) and the request id, so one trace and one log search span a request and the
 * work it left for later.
 */
export interface JobHeaders {
  traceparent?: string;
  tracestate?: string;
  requestId?: string;
}

export interface Envelope<T> {
  data: T;
  headers: JobHeaders;
}

/** A job's data and what a handler may want to know about its run. */
export interface JobRun<T> {
  id: string;
  data: T;
  headers: JobHeaders;
  /** 1 on the first try. */
  attempt: number;
}

export { UnrecoverableError };

/** The URL of the queue's Redis. */
export function queueUrl(queue: Pick<QueueSpec, 'urlVar' | 'localUrl'>, env: NodeJS.ProcessEnv = process.env): string {
  return env[queue.urlVar] || queue.localUrl;
}

/** BullMQ's connection to the queue's Redis. Blocking commands need no retry limit;
 * ioredis reconnects on its own when the server comes back. */
export function connectionFor(queue: Pick<QueueSpec, 'urlVar' | 'localUrl'>, env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  return { url: queueUrl(queue, env), maxRetriesPerRequest: null };
}

/** Counts a worker keeps beside BullMQ's own, for `scaffold status`. */
export function statsKey(queue: string): string {
  return `scaffold:queue:${queue}:stats`;
}

/**
 * Adds jobs to the queues this service `enqueues`, typed by their names. Queues connect on
 * first use, so a service (or its tests) that enqueues nothing needs no Redis.
 */
export class Jobs {
  readonly #queues = new Map<string, Queue<Envelope<unknown>>>();
  readonly #env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.#env = env;
  }

  /**
   * Adds one job. `id` makes it idempotent: a job of the same id that is still known is
   * not added again (a client's retry enqueues nothing twice).
   */
  async enqueue<T>(name: EnqueuedQueue, data: T, options: { id: string; requestId?: string }): Promise<void> {
    const spec: QueueSpec = ENQUEUES[name];
    const headers: JobHeaders = { requestId: options.requestId };
    propagation.inject(context.active(), headers);
    await this.#queue(spec).add(spec.name, { data, headers }, {
      jobId: options.id,
      attempts: spec.attempts,
      backoff: spec.backoff,
      // done jobs are kept a while (a repeated id within the hour is still refused), then go
      removeOnComplete: { age: 3600, count: 100_000 },
      removeOnFail: { age: 24 * 3600 },
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((queue) => queue.close()));
  }

  #queue(spec: QueueSpec): Queue<Envelope<unknown>> {
    let queue = this.#queues.get(spec.name);
    if (!queue) {
      queue = new Queue(spec.name, { connection: connectionFor(spec, this.#env) });
      this.#queues.set(spec.name, queue);
    }
    return queue;
  }
}

export interface ConsumeOptions<T> {
  /** Runs one job; throwing fails this attempt (retried after the backoff, if attempts
   * remain). Throw UnrecoverableError for a job no retry can mend. */
  handle: (job: JobRun<T>) => Promise<void>;
  /** After the last attempt failed, once the job is in the dead-letter queue. */
  onDead?: (job: JobRun<T>, error: Error) => Promise<void>;
  env?: NodeJS.ProcessEnv;
}

/**
 * Consumes `queue` while the server listens: `concurrency` jobs at once, a lock per job
 * that a dead worker stops renewing (so another takes the job up after the stalled
 * interval), a job tried `attempts` times with backoff, then moved to the dead-letter
 * queue. The server's close (SIGTERM) waits for the jobs under way.
 */
export function consume<T>(app: FastifyInstance, queue: QueueSpec, options: ConsumeOptions<T>): void {
  const connection = connectionFor(queue, options.env);
  // the dead-letter queue and the worker's counts share one connection; the worker's
  // blocking one is its own
  const redis = new Redis(queueUrl(queue, options.env), { maxRetriesPerRequest: null, lazyConnect: true });
  const deadLetters = new Queue(queue.deadLetter, { connection: redis });
  const tracer = trace.getTracer('bullmq-jobs');
  const run = (job: Job<Envelope<T>>): JobRun<T> => ({ id: job.id!, data: job.data.data, headers: job.data.headers ?? {}, attempt: job.attemptsMade + 1 });

  const buryOnce = async (job: Job<Envelope<T>>, error: Error) => {
    // the job's id keeps the dead letter single, whichever path gets here first
    await deadLetters.add(queue.deadLetter, { ...job.data, error: error.message, attempts: job.attemptsMade + 1 }, { jobId: job.id, removeOnComplete: true });
    await options.onDead?.(run(job), error);
  };

  const worker = new Worker<Envelope<T>>(
    queue.name,
    async (job) => {
      // each try is a consumer span, a child of the request that enqueued the job (its
      // traceparent travelled in the job's headers), and the active span of the handler:
      // its log lines and calls join the request's trace (no-ops while tracing is off)
      const parent = propagation.extract(ROOT_CONTEXT, job.data.headers ?? {});
      const attributes = {
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'process',
        'messaging.destination.name': queue.name,
        'messaging.message.id': job.id!,
        'job.attempt': job.attemptsMade + 1,
        ...(job.data.headers?.requestId ? { 'http.request.header.x-request-id': [job.data.headers.requestId] } : {}),
      };
      await tracer.startActiveSpan(`process ${queue.name}`, { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
        try {
          await options.handle(run(job));
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          const last = error instanceof UnrecoverableError || job.attemptsMade + 1 >= queue.attempts;
          if (last) await buryOnce(job, error as Error);
          throw error;
        } finally {
          span.end();
        }
      });
    },
    {
      connection,
      autorun: false,
      concurrency: queue.concurrency,
      // A dead worker's job goes back to the queue at the first check that finds it both
      // marked (by an earlier check, after the worker's last lock renewal) and unlocked:
      // up to a lock plus a check period after the death, and a period more when a check
      // lands while the shared once-per-period token is still held (two workers' timers,
      // a busy event loop). BullMQ's own period is the user's interval, which made that
      // 2.5 intervals (5.3 s seen for 2 s); a quarter of it and a lock of half keep the
      // sum within the interval the spec promises. BullMQ renews a live worker's locks
      // every quarter to half of their duration, so one keeps them through a short stall.
      stalledInterval: Math.round(queue.stalledIntervalMs / 4),
      lockDuration: Math.round(queue.stalledIntervalMs / 2),
      // a job whose worker died counts as a try, so a job that kills its worker every time
      // ends in the dead-letter queue too
      maxStalledCount: queue.attempts,
    },
  );

  const count = async (field: 'retried' | 'stalled') => {
    await redis.hincrby(statsKey(queue.name), field, 1);
  };
  worker.on('stalled', () => void count('stalled').catch(() => undefined));
  worker.on('failed', (job, error) => {
    if (!job) return;
    // failed for good (its last attempt, or its worker died once too often) or to be retried
    void job.isFailed().then(
      (final) => (final ? buryOnce(job, error) : count('retried')),
      () => undefined,
    ).catch((problem: unknown) => app.log.error({ err: problem, queue: queue.name }, 'dead letter not written'));
  });
  worker.on('error', (error) => app.log.error({ err: error, queue: queue.name }, 'queue error'));

  app.addHook('onListen', async () => {
    void worker.run();
  });
  app.addHook('onClose', async () => {
    await worker.close();
    await deadLetters.close();
    redis.disconnect();
  });
}
