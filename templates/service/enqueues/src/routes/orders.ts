import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ENQUEUES, type EnqueuedQueue } from '../generated/queues.js';
import { Orders, type PaymentJob } from '../orders.js';
import { Jobs } from '../platform/jobs.js';

// The seeds' example of asynchronous processing: the order is created at once, its
// payment runs later in a worker. POST answers 202 with where to look; GET shows the order
// move from `processing` to `paid` or `failed`, from any replica.

const orderInput = {
  type: 'object',
  required: ['amount'],
  additionalProperties: false,
  properties: {
    amount: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    // "declined" makes the payment fail every time: a poison job, for trying dead letters
    card: { type: 'string', minLength: 1, maxLength: 64, default: 'ok' },
  },
} as const;

const byId = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

/** The first queue the service enqueues carries the payments. */
const PAYMENTS = Object.keys(ENQUEUES)[0] as EnqueuedQueue;

export async function ordersRoutes(app: FastifyInstance): Promise<void> {
  const orders = new Orders(ENQUEUES[PAYMENTS]);
  const jobs = new Jobs();
  app.addHook('onClose', async () => {
    await jobs.close();
    await orders.close();
  });

  app.post<{ Body: { amount: number; card: string } }>('/', { schema: { body: orderInput } }, async (request, reply) => {
    const id = randomUUID();
    const order = await orders.create(id, request.body.amount);
    const job: PaymentJob = { orderId: id, amount: request.body.amount, card: request.body.card };
    // the order's id is the job's: the same order is never queued twice
    await jobs.enqueue(PAYMENTS, job, { id, requestId: request.id });
    return reply.code(202).header('location', `/orders/${id}`).send(order);
  });

  app.get<{ Params: { id: string } }>('/:id', { schema: { params: byId } }, async (request, reply) => {
    const order = await orders.get(request.params.id);
    if (!order) return reply.code(404).send({ error: 'not found', id: request.params.id });
    return order;
  });
}
