import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { Runtime, SystemStatus } from '../../src/runtime/runtime.js';
import { runUnderLoad } from '../../src/simulate/chaos/under-load.js';
import { tempDir } from '../support/cli.js';

/** A real server that answers 503 between two moments the test sets, 200 otherwise. */
async function windowedServer() {
  let failing = { from: Infinity, to: -Infinity };
  const server = http.createServer((_request, response) => {
    const now = performance.now();
    response.statusCode = now >= failing.from && now < failing.to ? 503 : 200;
    response.end();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    failBetween: (from: number, to: number) => (failing = { from, to }),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Only what runUnderLoad reads of a runtime: the restart counts and where a service is.
 * The service's address comes after a pause, as over a busy machine's control socket. */
function runtimeServing(url: string): Runtime {
  const status: SystemStatus = { project: 'x', runtime: 'process', services: [], infrastructure: [] } as unknown as SystemStatus;
  return {
    status: async () => status,
    endpoint: async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return new URL(url);
    },
  } as unknown as Runtime;
}

let server: Awaited<ReturnType<typeof windowedServer>>;
afterEach(() => server.close());

it('detects a failure 300 ms after the fault began, and its recovery when the failures end, each to ±50 ms', async () => {
  server = await windowedServer();
  // fault window: 500 ms from act; the server fails from 300 ms to 1 100 ms after act, at a
  // phase of the run's seconds the test does not choose
  const beforeMs = 1_000 + Math.round(Math.random() * 1_000);
  const measured = await runUnderLoad({
    runtime: runtimeServing(server.url),
    load: { projectDir: tempDir(), service: 'x', connections: 2, timeoutMs: 2_000 },
    beforeMs,
    faultMs: 500,
    afterMs: 1_500,
    act: async () => {
      const at = performance.now();
      server.failBetween(at + 300, at + 1_100);
    },
  });
  expect(measured.phases.before.errors).toBe(0);
  expect(measured.phases.during.errors).toBeGreaterThan(0);
  expect(measured.timeToDetectMs).toBeGreaterThanOrEqual(300 - 50);
  expect(measured.timeToDetectMs).toBeLessThanOrEqual(300 + 50);
  // the failures end 600 ms after the window does
  expect(measured.timeToRecoverMs).toBeGreaterThanOrEqual(600 - 50);
  expect(measured.timeToRecoverMs).toBeLessThanOrEqual(600 + 50);
});

it('a kill counts recovery from its start; failures to the end of the run are no recovery', async () => {
  server = await windowedServer();
  const measured = await runUnderLoad({
    runtime: runtimeServing(server.url),
    load: { projectDir: tempDir(), service: 'x', connections: 2, timeoutMs: 2_000 },
    beforeMs: 1_000,
    faultMs: 1_000,
    afterMs: 500,
    recoverFromStart: true,
    act: async () => {
      const at = performance.now();
      server.failBetween(at + 100, at + 10_000);
    },
  });
  expect(measured.timeToDetectMs).toBeGreaterThanOrEqual(100 - 50);
  expect(measured.timeToDetectMs).toBeLessThanOrEqual(100 + 50);
  expect(measured.timeToRecoverMs).toBeNull();
});

it('a timed fault slow to put in ends at the runtime\'s deadline: what it caught is "during", none of it "after"', async () => {
  server = await windowedServer();
  // the runtime takes 400 ms to put the fault in (a busy machine's control socket), then
  // keeps it 800 ms by its own clock and says when it ends, as ActiveFault.expiresAt does
  const putInMs = 400;
  const faultMs = 800;
  const measured = await runUnderLoad({
    runtime: runtimeServing(server.url),
    load: { projectDir: tempDir(), service: 'x', connections: 2, timeoutMs: 2_000 },
    beforeMs: 700 + Math.round(Math.random() * 600),
    faultMs,
    afterMs: 1_000,
    act: async () => {
      await new Promise((resolve) => setTimeout(resolve, putInMs));
      const at = performance.now();
      server.failBetween(at, at + faultMs);
      return { expiresAt: new Date(Date.now() + faultMs).toISOString() };
    },
  });
  expect(measured.phases.during.errors).toBeGreaterThan(0);
  // the server's last 503 and the window's end agree to the wall clock's millisecond (and a
  // loopback round trip); a window closed by the load's own clock would leave ~400 ms of them
  expect(measured.phases.after.lastErrorAtMs ?? 0).toBeLessThanOrEqual(measured.window.toMs + 5);
  expect(measured.window.toMs - measured.window.fromMs).toBeGreaterThanOrEqual(putInMs + faultMs - 20);
  expect(measured.window.toMs - measured.window.fromMs).toBeLessThanOrEqual(putInMs + faultMs + 50);
});
