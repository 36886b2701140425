import { Redis } from 'ioredis';

/** What the demo's orders came to, read straight from the queue's Redis. */
export interface PaymentsSummary {
  /** Orders created since the phase began (answered 202). */
  orders: number;
  paid: number;
  failed: number;
  /** Still processing when the demo stopped waiting. */
  processing: number;
  /** Entries in the charge ledger for those orders, and how many orders they name. */
  charges: number;
  chargedOrders: number;
  /** How long an order waited from its 202 to its final state, in ms. */
  waitedMs: { p50: number; p99: number; max: number };
}

interface Order {
  id: string;
  status: string;
  createdAt: number;
  updatedAt: number;
}

/**
 * Waits (up to `waitMs`) until every order created since `sinceMs` is paid or failed, then
 * counts them and their charges. The generated example keeps orders in `order:<id>` hashes
 * and charges in the `ledger:charges` list (see the worker's src/payments.ts).
 */
export async function settlePayments(url: string, sinceMs: number, waitMs: number): Promise<PaymentsSummary> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    const deadline = Date.now() + waitMs;
    let orders = await ordersSince(redis, sinceMs);
    while (orders.some((order) => order.status === 'processing') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      orders = await ordersSince(redis, sinceMs);
    }
    const ids = new Set(orders.map((order) => order.id));
    const charged = (await redis.lrange('ledger:charges', 0, -1)).map((entry) => entry.split(':')[0]!).filter((id) => ids.has(id));
    const waited = orders.filter((order) => order.status !== 'processing').map((order) => order.updatedAt - order.createdAt).sort((a, b) => a - b);
    const at = (share: number) => waited[Math.min(waited.length - 1, Math.floor(share * waited.length))] ?? 0;
    return {
      orders: orders.length,
      paid: orders.filter((order) => order.status === 'paid').length,
      failed: orders.filter((order) => order.status === 'failed').length,
      processing: orders.filter((order) => order.status === 'processing').length,
      charges: charged.length,
      chargedOrders: new Set(charged).size,
      waitedMs: { p50: at(0.5), p99: at(0.99), max: waited.at(-1) ?? 0 },
    };
  } finally {
    redis.disconnect();
  }
}

async function ordersSince(redis: Redis, sinceMs: number): Promise<Order[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: 'order:*', count: 1000 })) keys.push(...(batch as string[]));
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.hmget(key, 'status', 'createdAt', 'updatedAt');
  const replies = (await pipeline.exec()) ?? [];
  return keys
    .map((key, index) => {
      const [status, createdAt, updatedAt] = replies[index]![1] as (string | null)[];
      return { id: key.slice('order:'.length), status: status ?? 'processing', createdAt: Number(createdAt), updatedAt: Number(updatedAt) };
    })
    .filter((order) => order.createdAt >= sinceMs);
}
