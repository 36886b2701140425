import { Redis } from 'ioredis';
import type { QueueSpec } from './generated/queues.js';

// The example's orders, kept in the queue's Redis so every replica and the worker see the
// same state: the API creates an order as `processing`, the worker makes it `paid` or
// `failed`. Replace it with your own store; keep the idempotency key.

export type OrderStatus = 'processing' | 'paid' | 'failed';

export interface Order {
  id: string;
  status: OrderStatus;
  amount: number;
  createdAt: number;
  updatedAt: number;
  error?: string;
}

/** The payment job's data. */
export interface PaymentJob {
  orderId: string;
  amount: number;
  card: string;
}

// Charges one order at most once: the idempotency key (a key per order) and the charge are
// one atomic step, as a payment provider's idempotency key makes them. A job run twice
// (its worker killed after charging) finds the key and charges nothing.
const CHARGE_ONCE = `
if redis.call('SET', KEYS[1], ARGV[2], 'NX') then
  redis.call('RPUSH', KEYS[2], ARGV[1] .. ':' .. ARGV[2])
  return 1
end
return 0`;

export class Orders {
  readonly #redis: Redis;

  constructor(queue: Pick<QueueSpec, 'urlVar' | 'localUrl'>, env: NodeJS.ProcessEnv = process.env) {
    // connects on first use, so tests that never touch orders need no Redis
    this.#redis = new Redis(env[queue.urlVar] || queue.localUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  }

  async create(id: string, amount: number): Promise<Order> {
    const now = Date.now();
    const order: Order = { id, status: 'processing', amount, createdAt: now, updatedAt: now };
    await this.#redis.hset(key(id), { status: order.status, amount, createdAt: now, updatedAt: now });
    return order;
  }

  async get(id: string): Promise<Order | undefined> {
    const fields = await this.#redis.hgetall(key(id));
    if (!fields.status) return undefined;
    return {
      id,
      status: fields.status as OrderStatus,
      amount: Number(fields.amount),
      createdAt: Number(fields.createdAt),
      updatedAt: Number(fields.updatedAt),
      ...(fields.error ? { error: fields.error } : {}),
    };
  }

  async settle(id: string, status: Exclude<OrderStatus, 'processing'>, error?: string): Promise<void> {
    await this.#redis.hset(key(id), { status, updatedAt: Date.now(), ...(error ? { error } : {}) });
  }

  /** Charges the order once; true when this call charged it. */
  async chargeOnce(id: string, amount: number): Promise<boolean> {
    return (await this.#redis.eval(CHARGE_ONCE, 2, `charged:${id}`, 'ledger:charges', id, String(amount))) === 1;
  }

  async close(): Promise<void> {
    if (this.#redis.status !== 'wait') await this.#redis.quit().catch(() => undefined);
    this.#redis.disconnect();
  }
}

function key(id: string): string {
  return `order:${id}`;
}
