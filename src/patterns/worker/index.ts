import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import type { CommonService } from '../../spec/schema.js';
import { definePattern, type SchemaKit } from '../pattern.js';

const fields = ({ z, queueName }: SchemaKit) => ({
  queue: queueName.describe('The job queue it consumes (declared under an infrastructure entry\'s queues).'),
});

type WorkerService = CommonService & z.output<z.ZodObject<ReturnType<typeof fields>>>;

/** A background worker: runs the jobs of one queue (BullMQ on Redis), with retries, a
 * dead-letter queue and a stalled-job check. It serves probes and metrics on its port. */
export const worker = definePattern<WorkerService>({
  name: 'worker',
  description: 'runs the jobs of a queue',
  fields,
  consumes: (service) => [{ queue: service.queue, path: ['queue'] }],
  templates: fileURLToPath(new URL('./templates/', import.meta.url)),
  slots: fileURLToPath(new URL('./slots/', import.meta.url)),
  traits: { publicIngress: false, entryPoint: false },
  scenarios: [],
  newService: {
    flags: [{ option: '--queue <queue>', field: 'queue', description: 'worker: the queue it consumes', parse: (value) => value }],
  },
});
