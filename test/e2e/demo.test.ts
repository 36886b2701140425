import { execa } from 'execa';
import { expect, inject, it } from 'vitest';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import { scaffold } from '../support/cli.js';
import { copyProject } from '../support/project-copy.js';
import { processesUnder } from '../support/services.js';

const shared = inject('sampleProject');

/** Orders by status, their charges and the longest wait (placed → final), counted inside
 * the queue's Redis: the oracle the demo's summary is held to. */
const ORDERS_SCRIPT = `
local paid, other, longest = 0, 0, 0
for _, key in ipairs(redis.call('KEYS', 'order:*')) do
  local status, created, updated = unpack(redis.call('HMGET', key, 'status', 'createdAt', 'updatedAt'))
  if status == 'paid' then paid = paid + 1 else other = other + 1 end
  if status ~= 'processing' then longest = math.max(longest, tonumber(updated) - tonumber(created)) end
end
return { paid, other, longest }`;

// The README's main job, on a copy of the installed sample (on free ports): the demo adds
// its payments worker and queue to it, installs what that needs and builds it, as on a
// fresh project after the global setup's generate and install.
it('scaffold demo runs the system, kills a replica under traffic and a payments worker under orders, and cleans up', async () => {
  const project = await copyProject(shared, { ownModules: true });
  const result = await scaffold(['demo', project, '--keep', '--json'], { cwd: project });
  try {
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.traffic.requests).toBeGreaterThan(100);
    expect(report.traffic.ok / report.traffic.requests).toBeGreaterThanOrEqual(0.99);
    expect(report.killed.instance).toMatch(/^orders-\d$/);
    expect(report.killed.restartedInMs).toEqual(expect.any(Number));
    const status = report.status as SystemStatus;
    const orders = status.services.find((s) => s.name === 'orders')!;
    expect(orders.instances.every((i) => i.healthy)).toBe(true);

    // orders through the gateway while a payments worker was SIGKILLed: the summary
    // against Redis itself (redis-cli), not the demo's own reading of it
    const { payments } = report;
    expect(payments.killed.instance).toMatch(/^payments-\d$/);
    const victim = status.services.find((s) => s.name === 'payments')!.instances.find((i) => i.id === payments.killed.instance)!;
    expect(victim.restarts).toBeGreaterThanOrEqual(1);
    expect(payments.accepted).toBeGreaterThan(300);
    const redisUrl = status.infrastructure.find((infra) => infra.kind === 'redis')!.url;
    const redis = async (...args: string[]) => (await execa('redis-cli', ['-u', redisUrl, ...args])).stdout.trim();
    const [paid, unpaid, longestMs] = (await redis('EVAL', ORDERS_SCRIPT, '0')).split('\n').map(Number) as [number, number, number];
    const charges = (await redis('LRANGE', 'ledger:charges', '0', '-1')).split('\n');
    expect(unpaid).toBe(0);
    expect(paid).toBeGreaterThanOrEqual(payments.accepted);
    expect(charges).toHaveLength(paid);
    expect(new Set(charges.map((entry) => entry.split(':')[0])).size).toBe(paid);
    expect(payments).toMatchObject({ orders: paid, paid, failed: 0, processing: 0, charges: paid, chargedOrders: paid });
    expect(payments.waitedMs.max).toBe(longestMs);
    expect(payments.waitedMs.p50).toBeLessThanOrEqual(payments.waitedMs.p99);

    // the 202's Location, through the gateway, names the order under the route's prefix
    const gateway = status.services.find((s) => s.name === 'api-gateway')!.url;
    const placed = await fetch(`${gateway}/orders/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":9}' });
    expect(placed.status).toBe(202);
    const { id } = (await placed.json()) as { id: string };
    expect(placed.headers.get('location')).toBe(`/orders/orders/${id}`);
    const order = await fetch(new URL(placed.headers.get('location')!, gateway));
    expect(order.status).toBe(200);
    expect(await order.json()).toMatchObject({ id, amount: 9 });
  } finally {
    await scaffold(['down'], { cwd: project });
  }
  expect(processesUnder(project)).toEqual([]);
});
