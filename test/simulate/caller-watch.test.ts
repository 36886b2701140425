import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime/runtime.js';
import { watchCaller } from '../../src/simulate/chaos/caller-watch.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A real server whose /metrics say what the test sets: one caller instance's breaker to users. */
async function instance() {
  const state = { circuit: 0, calls: 0, retries: 0, opens: 0 };
  const server = http.createServer((_request, response) => {
    response.end(
      [
        `upstream_circuit_state{upstream="users"} ${state.circuit}`,
        `upstream_circuit_transitions_total{upstream="users",to="open"} ${state.opens}`,
        `upstream_request_duration_seconds_count{upstream="users"} ${state.calls}`,
        `upstream_retries_total{upstream="users"} ${state.retries}`,
        '',
      ].join('\n'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const open = () => {
    state.circuit = 2;
    state.opens += 1;
  };
  return { state, open, port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(resolve)) };
}

type Instance = Awaited<ReturnType<typeof instance>>;
let instances: Instance[] = [];
afterEach(async () => {
  await Promise.all(instances.map((one) => one.close()));
  instances = [];
});

/** What watchCaller reads of a runtime: the caller's instances, and its balanced port (the
 * first instance's, as a kept-alive connection through the port would stay on it). */
function runtimeOf(...ports: number[]): Runtime {
  return {
    endpoint: async () => new URL(`http://127.0.0.1:${ports[0]}`),
    status: async () => ({ services: [{ name: 'orders', instances: ports.map((port, index) => ({ id: `orders-${index + 1}`, port })) }] }),
  } as unknown as Runtime;
}

const OPEN_FOR_MS = 400;

/** Two replicas of orders, watched from the moment both are up. */
async function twoWatched() {
  instances = [await instance(), await instance()];
  const [first, second] = instances as [Instance, Instance];
  return { first, second, watch: await watchCaller(runtimeOf(first.port, second.port), 'orders', 'users') };
}

it('judges the breaker of every replica: one no call reaches stays open without failing the verdict', async () => {
  const { first, second, watch } = await twoWatched();
  watch.faultAt(performance.now());
  first.open();
  second.open();
  await sleep(150);
  const back = performance.now(); // the dependency is back
  // calls reach only the second, which half-opens after openFor and closes; no call reaches the first
  const calling = setInterval(() => (second.state.calls += 1), 20);
  await sleep(OPEN_FOR_MS);
  second.state.circuit = 0;
  await sleep(500);
  clearInterval(calling);
  await watch.stop();

  expect(watch.openedAfterMs()).toBeLessThan(150);
  const recovery = watch.recovery(back, OPEN_FOR_MS);
  expect(recovery.stuck).toEqual([]);
  expect(recovery.untried).toEqual(['orders-1']);
  expect(recovery.closedAfterMs).toBeGreaterThanOrEqual(OPEN_FOR_MS - 50);
  expect(recovery.closedAfterMs).toBeLessThan(OPEN_FOR_MS + 500);
});

it('fails a replica that calls reach after openFor while its breaker stays open (its trials failed)', async () => {
  const { first, second, watch } = await twoWatched();
  watch.faultAt(performance.now());
  first.open();
  const back = performance.now();
  // calls reach it all along: refused while open, then each trial fails and opens it again
  const calling = setInterval(() => (first.state.calls += 1), 20);
  await sleep(OPEN_FOR_MS + 50);
  first.open();
  // calls go on past its next trial's time (a loaded machine reads the reopening late)
  await sleep(2 * OPEN_FOR_MS + 300);
  clearInterval(calling);
  await watch.stop();

  const recovery = watch.recovery(back, OPEN_FOR_MS);
  expect(recovery.stuck).toEqual(['orders-1']);
  expect(recovery.untried).toEqual([]);
});

it('does not call a breaker stuck that reopened within its openFor of the end', async () => {
  instances = [await instance()];
  const [only] = instances as [Instance];
  const watch = await watchCaller(runtimeOf(only.port), 'orders', 'users');
  watch.faultAt(performance.now());
  only.open();
  const calling = setInterval(() => (only.state.calls += 1), 20);
  await sleep(OPEN_FOR_MS + 100);
  // a trial failed while the dependency was still down; it is back right after, and the
  // run ends before the next trial was due
  only.open();
  const back = performance.now();
  await sleep(OPEN_FOR_MS - 150);
  clearInterval(calling);
  await watch.stop();

  expect(watch.recovery(back, OPEN_FOR_MS)).toEqual({ closedAfterMs: undefined, stuck: [], untried: ['orders-1'] });
});

it('counts the retries of every replica', async () => {
  instances = [await instance(), await instance()];
  const [first, second] = instances as [Instance, Instance];
  first.state.retries = 7;
  const watch = await watchCaller(runtimeOf(first.port, second.port), 'orders', 'users');
  await sleep(150);
  first.state.retries += 3;
  second.state.retries += 5;
  await sleep(250);
  await watch.stop();
  expect(watch.retries()).toBe(8);
  expect(watch.instances).toBe(2);
});
