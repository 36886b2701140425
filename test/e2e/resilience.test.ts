import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import { scaffold } from '../support/cli.js';
import { copyProject } from '../support/project-copy.js';
import { median, rankSumPValue } from '../support/rank-test.js';
import { waitUntil } from '../support/services.js';

// The resilience policies of scaffold.yaml, proven on real processes under the process
// runtime, with faults from `scaffold chaos` and open-model load. Each proof reads an
// independent oracle: the load engine's own latencies and counts, users' own request
// counts, and the breaker's state sampled from /metrics on the wall clock that the fault's
// expiry is given on.

const shared = inject('sampleProject');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const TIMEOUT_MS = 300;
const OPEN_FOR_MS = 2_000;
const BUDGET = 0.1;
const BULKHEAD = { maxConcurrent: 20, maxQueue: 20 };
const RESILIENCE = {
  policies: {
    timeouts: { fast: `${TIMEOUT_MS}ms`, second: '1s' },
    retries: {
      none: { maxRetries: 0 },
      flaky: { maxRetries: 3, backoff: 'constant', initial: '10ms', budget: `${BUDGET * 100}%`, minRetriesPerSecond: 1, retryOn: [503] },
    },
    circuitBreakers: {
      quick: { trip: 'consecutiveFailures >= 5', openFor: `${OPEN_FOR_MS}ms` },
      // the flaky proof counts retries: a breaker that opened would hide them
      never: { trip: 'consecutiveFailures >= 100000', openFor: '1s' },
    },
    bulkheads: { small: BULKHEAD },
  },
  targets: {
    'orders -> users': { timeout: 'fast', retry: 'none', circuitBreaker: 'quick' },
    // the bulkhead proof: a timeout shorter than its latency, so that every call left to
    // wait costs a connection (aborted at the deadline, opened anew for the next call)
    'api-gateway -> users': { timeout: 'second', retry: 'flaky', circuitBreaker: 'never', bulkhead: 'small' },
  },
};

/** The breaker state orders' /metrics gives for users, sampled every 100 ms. */
function sampleBreaker(orders: string) {
  const samples: { at: number; state: number }[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const text = await fetch(`${orders}/metrics`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text(), () => '');
      const match = /^upstream_circuit_state\{upstream="users"\} (\d)$/m.exec(text);
      if (match) samples.push({ at: Date.now(), state: Number(match[1]) });
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return samples;
    },
  };
}

interface LoadSummary {
  requests: number;
  latency: { p99: number };
  statusCodes: Record<string, number>;
  errorsByKind: Record<string, number>;
}

/** users' own count of the requests it answered on /items (its /metrics). */
async function usersItemsCount(users: string): Promise<number> {
  const text = await (await fetch(`${users}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^http_requests_total\{[^}]*route="\/items\/?"[^}]*\} (\d+)$/gm)) total += Number(match[1]);
  return total;
}

describe('resilience policies under chaos', () => {
  let project: string;
  let users: string;
  let orders: string;
  let gateway: string;
  const run = (...args: string[]) => scaffold(args, { cwd: project });

  beforeAll(async () => {
    project = await copyProject(shared);
    const file = path.join(project, 'scaffold.yaml');
    const document = parseDocument(readFileSync(file, 'utf8'));
    // one orders instance: its /metrics is then the one breaker there is
    document.setIn(['services', 'orders', 'replicas'], 1);
    // killed, users stays down until the test brings it back
    document.setIn(['services', 'users', 'restart'], 'no');
    document.set('resilience', RESILIENCE);
    writeFileSync(file, document.toString());
    const generated = await run('generate');
    expect(generated.exitCode, generated.stderr).toBe(0);
    const up = await run('up', '--json');
    expect(up.exitCode, up.stderr).toBe(0);
    const { services } = JSON.parse(up.stdout) as SystemStatus;
    const url = (name: string) => services.find((s) => s.name === name)!.url;
    [users, orders, gateway] = [url('users'), url('orders'), url('api-gateway')];
  });
  afterAll(async () => {
    await run('down');
  });

  it('slow dependency: p99 held near the timeout, the breaker opens, then closes within openFor + 1 s of the fault', async () => {
    // warm: a cold JIT and fresh connections on a busy machine can take past 300 ms and
    // open the breaker before any fault; the steady state starts with it closed
    await run('simulate', 'load', `${orders}/upstreams/users`, '--rate', '100', '-d', '2s', '--json');
    await waitUntil(async () => /^upstream_circuit_state\{upstream="users"\} 0$/m.test(await (await fetch(`${orders}/metrics`)).text()), 10_000);
    const breaker = sampleBreaker(orders);
    const result = await run(
      'chaos', 'latency', 'users', '--from', 'orders', '--ms', '2000', '--for', '6s',
      '--with-load', '--target', `${orders}/upstreams/users`, '--load-rate', '200', '--before', '2s', '--after', '5s', '--timeout', '5s',
      // enough connections opened ahead for 200 req/s at the timeout: none is opened (through
      // the runtime's front port, beside the fault proxy's work) while the fault is on
      '-c', '100', '--json',
    );
    const samples = await breaker.stop();
    expect(result.exitCode, result.stderr).toBe(0);
    const outcome = JSON.parse(result.stdout) as {
      expiresAt: string;
      underLoad: { phases: Record<'before' | 'during' | 'after', { p99: number; errorsByKind: Record<string, number> }>; load: { series: unknown[] } };
    };
    const series = JSON.stringify(outcome.underLoad.load.series);
    const faultEnd = Date.parse(outcome.expiresAt);
    const faultStart = faultEnd - 6_000;
    const { before, during } = outcome.underLoad.phases;

    // 2 s of latency, yet no answer waits much past the 300 ms timeout (the steady state's
    // own p99 added: what this machine's load costs every request, fault or not)
    expect(during.p99, series).toBeLessThanOrEqual(TIMEOUT_MS + 50 + before.p99);
    // the answers in the fault are the fallback's 503s, not timeouts of the load's own
    expect(Object.keys(during.errorsByKind).filter((kind) => kind !== '503')).toEqual([]);

    const opened = samples.find((sample) => sample.at > faultStart && sample.at < faultEnd && sample.state === 2);
    expect(opened, JSON.stringify(samples)).toBeDefined();
    const closed = samples.find((sample) => sample.at >= faultEnd && sample.state === 0);
    expect(closed, JSON.stringify(samples)).toBeDefined();
    expect(closed!.at - faultEnd).toBeLessThanOrEqual(OPEN_FOR_MS + 1_000);
    console.log(`slow dependency: breaker opened ${((opened!.at - faultStart) / 1000).toFixed(1)} s into the fault; p99 ${Math.round(during.p99)} ms (steady ${Math.round(before.p99)} ms); closed ${((closed!.at - faultEnd) / 1000).toFixed(1)} s after it`);
  });

  it('flaky dependency: what users received ≤ (1 + budget) × first tries, by users\' own count', async () => {
    const fault = await run('chaos', 'errors', 'users', '--from', 'api-gateway', '--rate', '0.5', '--status', '503', '--for', '30s', '--json');
    expect(fault.exitCode, fault.stderr).toBe(0);
    const receivedBefore = await usersItemsCount(users);
    const load = await run('simulate', 'load', `${gateway}/users/items`, '--rate', '100', '-d', '8s', '--timeout', '5s', '--json');
    await run('chaos', 'clear', (JSON.parse(fault.stdout) as { id: string }).id);
    expect([0, 1]).toContain(load.exitCode);
    const firstTries = (JSON.parse(load.stdout) as { summary: { requests: number } }).summary.requests;
    const received = (await usersItemsCount(users)) - receivedBefore;

    // Half the tries are answered by the fault and never reach users: the tries the gateway
    // made are ~2 × what users received (binomial: within 4σ = 4√tries). The budget allows
    // 10% of the calls of any 10 s, plus 1 retry/s always: ≤ 2 windows of 10 in 8 s.
    const triesEstimate = 2 * received;
    const allowed = (1 + BUDGET) * firstTries + 20;
    expect(triesEstimate, `${received} received for ${firstTries} first tries`).toBeLessThanOrEqual(allowed + 4 * Math.sqrt(allowed));
    // and it did retry (without retries users would see ~half of the first tries)
    const metrics = await (await fetch(`${gateway}/metrics`)).text();
    expect(Number(/^upstream_retries_total\{upstream="users"\} (\d+)$/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThan(0);
    expect(Number(/^upstream_retry_budget_exhausted_total\{upstream="users"\} (\d+)$/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThan(0);
    console.log(`flaky dependency: users received ${received} for ${firstTries} first tries (≈${((triesEstimate / firstTries - 1) * 100).toFixed(1)}% retries)`);
  });

  it('bulkhead: 2 s of latency on users, switched on and off under one load, leaves the p99 of the gateway\'s route to orders within 20% of its value without the fault', async () => {
    // One open-model load on each route for the whole proof: 150 req/s on the route to users
    // (the one the fault slows), 200 req/s on the route to orders (the one measured). The
    // fault is switched on and off every few seconds from a random phase against the loads'
    // seconds, and each second of each load is classed by whether the fault was on or off
    // through all of it. Windows measured one after another (steady, fault, steady) compare
    // p99s set by each window's worst machine stall (GC, the trace exporter's batch, a process
    // scheduled late: steady windows alone read 5 to 226 ms on a shared 2-core machine);
    // interleaved seconds meet the same stalls in both states.
    const LOAD_S = 32;
    // the gateway's timeout on the route to users: every call the fault slowed has ended this
    // long after it is switched off (those waiting in the bulkhead's queue too)
    const SETTLE_MS = 1_000;
    // how long the fault stays off between two spans on, after SETTLE_MS (and the longest
    // span off counted before the first and after the last: the machine's load drifts over
    // tens of seconds, so neither state gets a stretch of the run to itself)
    const OFF_MS = [3_000, 4_000] as const;
    const load = (route: 'users' | 'orders', rate: number, connections: number, seconds: number) =>
      run('simulate', 'load', `${gateway}/${route}/items`, '--rate', String(rate), '-d', `${seconds}s`, '-c', String(connections), '--timeout', '5s', '--json');
    const rejections = async () => {
      const text = await (await fetch(`${gateway}/metrics`)).text();
      const of = (upstream: string) => Number(new RegExp(`^upstream_bulkhead_rejections_total\\{upstream="${upstream}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      return { users: of('users'), orders: of('orders') };
    };
    // warm: no earlier test sent the gateway's route to orders a request
    await Promise.all([load('users', 150, 50, 2), load('orders', 200, 20, 2)]);
    const rejectedBefore = await rejections();

    const loading = Promise.all([load('users', 150, 50, LOAD_S), load('orders', 200, 20, LOAD_S)]);
    const loadsSpawned = Date.now();
    /** Each time the fault was on, on the runtime's own clock (`expiresAt` less its length),
     * and the CLI run that switched it on (its start-up's CPU is the machine's, not the
     * fault's: the seconds it meets are in neither state). */
    const switches: { cli: [number, number]; on: [number, number] }[] = [];
    const between = (low: number, high: number) => low + Math.random() * (high - low);
    await sleep(between(2_000, 3_000));
    while (Date.now() - loadsSpawned < (LOAD_S - 4) * 1_000) {
      const onMs = Math.round(between(3_000, 4_000));
      const spawned = Date.now();
      const fault = await run('chaos', 'latency', 'users', '--from', 'api-gateway', '--ms', '2000', '--for', `${onMs}ms`, '--json');
      expect(fault.exitCode, fault.stderr).toBe(0);
      const end = Date.parse((JSON.parse(fault.stdout) as { expiresAt: string }).expiresAt);
      switches.push({ cli: [spawned, Date.now()], on: [end - onMs, end] });
      await sleep(end + SETTLE_MS + between(...OFF_MS) - Date.now());
    }
    type Load = { startedAt: string; summary: LoadSummary; series: { second: number; p99: number }[] };
    const [toUsers, toOrders] = (await loading).map((result) => {
      expect([0, 1], result.stderr).toContain(result.exitCode);
      return JSON.parse(result.stdout) as Load;
    }) as [Load, Load];
    const rejected = await rejections();

    /** Each second's p99 by state: a second is [startedAt + i s, + 1 s) on the wall clock
     * (startedAt is the start of the series' second 0); 'on' when the fault was on through
     * all of it, 'off' when it was off through all of it and for SETTLE_MS before, within a
     * span off of a span on; one that straddles a switch or meets a CLI run is left out, as
     * are the first (connections opening) and the last (cut short). */
    const byState = ({ startedAt, series }: Load) => {
      const p99s = { on: [] as number[], off: [] as number[] };
      for (const { second, p99 } of series.slice(1, -1)) {
        const start = Date.parse(startedAt) + second * 1_000;
        const end = start + 1_000;
        const meets = ([from, to]: [number, number]) => from < end && to > start;
        if (switches.some(({ cli }) => meets(cli))) continue;
        if (switches.some(({ on }) => on[0] <= start && end <= on[1])) p99s.on.push(p99);
        else if (!switches.some(({ on }) => meets([on[0], on[1] + SETTLE_MS])) && switches.some(({ on }) => meets([on[0] - OFF_MS[1], on[1] + SETTLE_MS + OFF_MS[1]]))) p99s.off.push(p99);
      }
      return p99s;
    };
    const orders = byState(toOrders);
    const users = byState(toUsers);
    const medians = { on: median(orders.on), off: median(orders.off) };
    // how likely seconds with the fault off would be to read as high as those with the fault
    // on, less 20%: small when the fault costs the route more than 20% of its p99
    const pValue = rankSumPValue(orders.on.map((p99) => p99 / 1.2), orders.off);
    const report =
      `route to orders' per-second p99: median ${medians.on.toFixed(1)} ms over ${orders.on.length} s with the fault on, ${medians.off.toFixed(1)} ms over ${orders.off.length} s with it off ` +
      `(${(medians.on / medians.off).toFixed(2)}×; one-sided rank-sum p = ${pValue.toFixed(3)} against 1.2×); ` +
      `route to users: median ${median(users.on).toFixed(0)} ms on, ${median(users.off).toFixed(1)} ms off, ${rejected.users - rejectedBefore.users} calls refused; ${switches.length} switches (CLI runs of ${switches.map(({ cli }) => cli[1] - cli[0]).join(', ')} ms)`;
    console.log(`bulkhead: ${report}\n  on ${JSON.stringify(orders.on)}\n  off ${JSON.stringify(orders.off)}`);

    // enough seconds in each state for the test below to be able to fail: with 5 against 5, a
    // difference can reach p = 0.004
    expect(orders.on.length, report).toBeGreaterThanOrEqual(5);
    expect(orders.off.length, report).toBeGreaterThanOrEqual(5);
    // the fault was felt on the route to users: its bulkhead filled and refused the rest, and
    // its answers waited for the gateway's 1 s timeout (a few ms without the fault)
    expect(rejected.users - rejectedBefore.users, report).toBeGreaterThan(0);
    expect(median(users.on), report).toBeGreaterThanOrEqual(500);
    // and not on the route to orders: its bulkhead refused nothing, and every request was
    // answered 200
    expect(rejected.orders - rejectedBefore.orders, report).toBe(0);
    expect(toOrders.summary.statusCodes, JSON.stringify(toOrders.summary.errorsByKind)).toEqual({ '200': toOrders.summary.requests });
    // and its p99 stayed within 20% of its value without the fault. A second's p99 (the 3rd
    // worst of 200 answers) is set by that second's worst stall: on a shared 2-core machine
    // its log has a standard deviation of ~0.6, so the median of ~10 such seconds exceeds
    // 1.2× that of ~10 others a quarter of the time with no fault at all (measured over 4
    // minutes: 73 s on, 81 s off, medians 7.8 and 6.9 ms, 1.13× with a 95% interval of
    // 0.91–1.40×; seconds drawn from both states' pool alike). Hence a
    // test of the 20%, not a bound on one draw's ratio: the route fails when its seconds
    // with the fault on are significantly (one-sided 5%, Mann–Whitney) above 1.2× those with
    // it off. A bulkhead shared by both routes puts every second with the fault on near the
    // 1 s timeout: p < 0.001.
    expect(pValue, report).toBeGreaterThanOrEqual(0.05);
  });

  it('dependency down: every call answered within the timeout, and recovery measured once users is back', async () => {
    const breaker = sampleBreaker(orders);
    const loading = run('simulate', 'load', `${orders}/upstreams/users`, '--rate', '100', '-d', '17s', '--timeout', '5s', '--json');
    await sleep(2_000);
    // the kill waits (up to 30 s) for users to be healthy again, which only the restart
    // below makes it: it is awaited after that
    const killing = run('chaos', 'kill-service', 'users');
    await waitUntil(async () => (await fetch(`${users}/healthz`).catch(() => undefined))?.status !== 200, 10_000);
    const downAt = Date.now();
    await sleep(10_000);
    const restarted = await run('restart', 'users');
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    await waitUntil(async () => (await fetch(`${users}/healthz`).catch(() => undefined))?.status === 200, 10_000);
    const backAt = Date.now();
    expect((await killing).exitCode).toBe(0);
    const load = await loading;
    const samples = await breaker.stop();

    const { summary, series } = JSON.parse(load.stdout) as {
      summary: { latency: { max: number }; statusCodes: Record<string, number>; errorsByKind: Record<string, number> };
      series: { second: number; p99: number }[];
    };
    // nothing hangs: the load timed out on nothing, and every failure is a clear answer —
    // 503 from the breaker or the fallback, 502 while users' link said it had no instance
    expect(Object.keys(summary.errorsByKind).filter((kind) => kind !== '502' && kind !== '503')).toEqual([]);
    expect(summary.statusCodes['200']).toBeGreaterThan(0);
    expect(summary.statusCodes['503']).toBeGreaterThan(0);
    const steady = Math.max(...series.slice(0, 2).map((second) => second.p99));
    expect(summary.latency.max).toBeLessThanOrEqual(TIMEOUT_MS + 50 + steady);

    expect(samples.some((sample) => sample.at > downAt && sample.at < backAt && sample.state === 2), JSON.stringify(samples)).toBe(true);
    const closed = samples.find((sample) => sample.at >= backAt && sample.state === 0);
    expect(closed, JSON.stringify(samples)).toBeDefined();
    expect(closed!.at - backAt).toBeLessThanOrEqual(OPEN_FOR_MS + 1_000);
    console.log(`dependency down: max ${Math.round(summary.latency.max)} ms; breaker closed ${((closed!.at - backAt) / 1000).toFixed(1)} s after users was back`);
  });
});
