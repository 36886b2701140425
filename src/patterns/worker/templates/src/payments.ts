import type { FastifyInstance } from 'fastify';
import type { QueueSpec } from './generated/queues.js';
import { Orders, type PaymentJob } from './orders.js';
import { UnrecoverableError, type ConsumeOptions } from './platform/jobs.js';

// The example job: pay an order. Replace the body with your own work; keep it idempotent,
// since a job whose worker died is run again.

/** PAYMENT_WORK_MS: how long the rest of the job (a receipt, a notification) takes. */
const workMs = Number(process.env.PAYMENT_WORK_MS ?? 20);

export function paymentHandler(app: FastifyInstance, queue: QueueSpec): ConsumeOptions<PaymentJob> {
  const orders = new Orders(queue);
  app.addHook('onClose', () => orders.close());
  return {
    handle: async ({ id, data, headers, attempt }) => {
      const log = app.log.child({ job: id, queue: queue.name, attempt, reqId: headers.requestId, traceparent: headers.traceparent });
      if (data.card === 'declined') throw new Error(`card declined for order ${data.orderId}`);
      if (!Number.isInteger(data.amount) || data.amount <= 0) throw new UnrecoverableError(`order ${data.orderId} has no amount`);
      const charged = await orders.chargeOnce(data.orderId, data.amount);
      await new Promise((resolve) => setTimeout(resolve, workMs));
      await orders.settle(data.orderId, 'paid');
      log.info({ order: data.orderId, charged }, charged ? 'order paid' : 'order already charged: settled without charging again');
    },
    onDead: async ({ id, data }, error) => {
      await orders.settle(data.orderId, 'failed', error.message);
      app.log.warn({ job: id, queue: queue.name, err: error }, 'job failed for good: moved to the dead-letter queue');
    },
  };
}
