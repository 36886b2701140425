import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { simulateLoad } from '../../src/simulate/load/simulate.js';

// The closed model's length judged by a clock outside it and by the server's count.

let server: http.Server | undefined;
afterEach(() => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined))));

async function counting() {
  const arrivals: number[] = [];
  server = http.createServer((_request, response) => {
    arrivals.push(performance.now());
    response.end('ok');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, arrivals };
}

describe('the closed model: a run lasts what it was given', () => {
  // autocannon stops only at its next sample (every second unless told): 500 ms ran 1.07 s
  // and 1,500 ms 2.07 s, sending all the while
  it.each([500, 1_500])('-d %i ms: requests arrive for that long, and the result says so', async (durationMs) => {
    const { url, arrivals } = await counting();
    const { summary, durationMs: reported } = await simulateLoad({ projectDir: '/nonexistent', url, connections: 4, durationMs });
    const span = arrivals.at(-1)! - arrivals[0]!;
    expect(span).toBeGreaterThan(durationMs - 100);
    expect(span).toBeLessThan(durationMs + 150);
    expect(reported).toBeGreaterThanOrEqual(durationMs);
    expect(reported).toBeLessThan(durationMs + 150);
    expect(Math.abs(summary.requests - arrivals.length)).toBeLessThanOrEqual(4);
  });

  it('a ramp of connections takes the stages\' length, not a second per step rounded up', async () => {
    const { url, arrivals } = await counting();
    await simulateLoad({ projectDir: '/nonexistent', url, model: 'closed', stages: '1500ms:4,500ms:2' });
    const span = arrivals.at(-1)! - arrivals[0]!;
    // two steps of 750 ms and one of 500: each ran to its next whole second before
    expect(span).toBeGreaterThan(1_800);
    expect(span).toBeLessThan(2_300);
  });
});
