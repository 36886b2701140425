import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTowards } from '../../src/simulate/chaos/load-path.js';
import { parseSpec } from '../../src/spec/load.js';

const classic = readFileSync(new URL('../fixtures/classic.yaml', import.meta.url), 'utf8');
const spec = () => parseSpec(classic, 'scaffold.yaml').spec;

describe('where --with-load sends traffic when told nothing', () => {
  it('through the gateway route to the service, on its liveness path', () => {
    expect(loadTowards(spec(), 'orders')).toEqual({ service: 'api-gateway', path: '/orders/healthz' });
  });

  it('to the front port of a service no route leads to', () => {
    const text = `${classic}  audit:\n    pattern: http-api\n    port: 3003\n    health: { liveness: /live, readiness: /ready }\n`;
    expect(loadTowards(parseSpec(text, 'scaffold.yaml').spec, 'audit')).toEqual({ service: 'audit', path: '/live' });
  });

  it('for a link fault, through the caller: its /upstreams calls the service over that link', () => {
    expect(loadTowards(spec(), 'users', 'orders')).toEqual({ service: 'api-gateway', path: '/orders/upstreams' });
  });

  it('for a fault on a gateway\'s calls, through that gateway\'s route', () => {
    expect(loadTowards(spec(), 'users', 'api-gateway')).toEqual({ service: 'api-gateway', path: '/users/healthz' });
  });

  it('refuses a service the spec does not have, with exit 2', () => {
    expect(() => loadTowards(spec(), 'payments')).toThrow(/no service "payments" in scaffold.yaml \(services: users, orders, api-gateway\)/);
    expect(() => loadTowards(spec(), 'users', 'nobody')).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  describe('for a fault on an infrastructure server', () => {
    // the classic system with a queue Redis: orders enqueues payments, a worker consumes them,
    // and postgres, which no generated route reaches
    const text = classic
      .replace('    dependsOn: [users]\n', '    dependsOn: [users]\n    enqueues: [payments]\n    uses: [postgres]\n')
      .concat('  payments:\n    pattern: worker\n    port: 3004\n    queue: payments\ninfrastructure:\n  redis:\n    queues:\n      payments: {}\n  postgres: {}\n');
    const queued = () => parseSpec(text, 'scaffold.yaml').spec;
    const order = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 100 }) };

    it("through the gateway to a producer's POST /orders, which stores the order and enqueues it", () => {
      expect(loadTowards(queued(), 'redis')).toEqual({ service: 'api-gateway', path: '/orders/orders', ...order });
      expect(loadTowards(queued(), 'redis', 'orders')).toEqual({ service: 'api-gateway', path: '/orders/orders', ...order });
    });

    it('refuses a --from that does not use the server, and a server no generated route reaches, each naming what to do', () => {
      expect(() => loadTowards(queued(), 'redis', 'users')).toThrow(/"users" does not use redis \(its clients: orders, payments\)/);
      expect(() => loadTowards(queued(), 'redis', 'payments')).toThrow(/no generated route is known to reach redis: aim the load with --path .* of payments/);
      expect(() => loadTowards(queued(), 'postgres')).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/reach postgres: .* of orders that uses it/) }));
    });

    // a worker that enqueues the next step, declared before the producer, and a gateway
    // that enqueues: neither answers POST /orders (their apps mount no producer route)
    const chained = `name: shop
services:
  payments: { pattern: worker, port: 3004, queue: payments, enqueues: [receipts] }
  orders: { port: 3002, enqueues: [payments] }
  receipts: { pattern: worker, port: 3005, queue: receipts }
  edge: { pattern: gateway, port: 8080, routes: { /shop: receipts }, enqueues: [receipts] }
infrastructure:
  redis:
    queues:
      payments: {}
      receipts: {}
`;

    it('only to a service whose app answers POST /orders: an http-api, never a worker or a gateway that enqueues', () => {
      const spec = parseSpec(chained, 'scaffold.yaml').spec;
      expect(loadTowards(spec, 'redis')).toEqual({ service: 'orders', path: '/orders', ...order });
      for (const [from, pattern] of [['payments', 'worker'], ['edge', 'gateway']]) {
        expect(() => loadTowards(spec, 'redis', from), pattern).toThrow(
          expect.objectContaining({
            exitCode: 2,
            message: `no generated route is known to reach redis (${from} enqueues to it, but only an http-api answers POST /orders): aim the load with --path (and --method, --body) at a route of ${from} that uses it, or --target`,
          }),
        );
      }
      const withoutProducer = parseSpec(chained.replace('  orders: { port: 3002, enqueues: [payments] }\n', ''), 'scaffold.yaml').spec;
      expect(() => loadTowards(withoutProducer, 'redis')).toThrow(/reach redis \(payments and edge enqueue to it, but only an http-api answers POST \/orders\): aim the load/);
    });
  });
});
