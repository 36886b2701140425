import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { parseSpec } from '../../src/spec/load.js';
import { callPolicy, DEFAULT_POLICY } from '../../src/spec/call-policy.js';
import { parseDuration, parseTrip } from '../../src/spec/trip.js';

const classic = readFileSync(new URL('../fixtures/classic.yaml', import.meta.url), 'utf8');

/** The example, as a user would paste it. */
const SECTION = `resilience:
  policies:
    timeouts: { fast: 300ms }
    retries: { standard: { maxRetries: 3, backoff: exponential, initial: 50ms, maxInterval: 1s, jitter: full, budget: 10%, retryOn: [connect, reset, 503, 429, timeout] } }
    circuitBreakers: { standard: { trip: "consecutiveFailures >= 5", or: "failureRate >= 50% over 10s (min 20 requests)", openFor: 5s, halfOpenRequests: 1 } }
    bulkheads: { small: { maxConcurrent: 20, maxQueue: 50 } }
  targets:
    "orders -> users": { timeout: fast, retry: standard, circuitBreaker: standard, bulkhead: small, fallback: default }
    "api-gateway -> orders": { timeout: fast }
`;

describe('resilience in scaffold.yaml', () => {
  const { spec } = parseSpec(`${classic}${SECTION}`, 'scaffold.yaml');

  it('reads named policies and resolves a target to them', () => {
    const policy = callPolicy(spec.resilience, 'orders', 'users');
    expect(policy).toMatchObject({
      target: 'orders -> users',
      timeoutMs: 300,
      retry: { maxRetries: 3, initial: 50, maxInterval: 1_000, budget: 0.1, retryOn: ['connect', 'reset', 503, 429, 'timeout'] },
      circuitBreaker: { trip: { kind: 'consecutive', failures: 5 }, or: { kind: 'rate', threshold: 0.5, windowMs: 10_000, minRequests: 20 }, openFor: 5_000 },
      bulkhead: { maxConcurrent: 20, maxQueue: 50 },
    });
  });

  it('fills what a target leaves out, and every call no target names, with the defaults', () => {
    const partial = callPolicy(spec.resilience, 'api-gateway', 'orders');
    expect(partial.timeoutMs).toBe(300);
    expect(partial.retry).toEqual(DEFAULT_POLICY.retry);
    expect(callPolicy(spec.resilience, 'api-gateway', 'users')).toEqual({ ...DEFAULT_POLICY, target: undefined });
    expect(callPolicy(parseSpec(classic, 'scaffold.yaml').spec.resilience, 'orders', 'users')).toEqual({ ...DEFAULT_POLICY, target: undefined });
  });

  it('refuses a policy that is not declared, with where it is named', () => {
    const text = `${classic}${SECTION.replace('{ timeout: fast }', '{ timeout: quick }')}`;
    expect(() => parseSpec(text, 'scaffold.yaml')).toThrow(UserError);
    expect(() => parseSpec(text, 'scaffold.yaml')).toThrow(/^scaffold\.yaml:\d+:\d+: resilience\.targets\.api-gateway -> orders\.timeout: unknown timeout policy "quick"/);
  });
});

describe('trip expressions and durations', () => {
  it.each([
    ['consecutiveFailures >= 5', { kind: 'consecutive', failures: 5 }],
    ['failureRate >= 50% over 10s (min 20 requests)', { kind: 'rate', threshold: 0.5, windowMs: 10_000, minRequests: 20 }],
    ['failureRate>=25% over 500ms', { kind: 'rate', threshold: 0.25, windowMs: 500, minRequests: 1 }],
  ])('reads %s', (text, trip) => {
    expect(parseTrip(text)).toEqual(trip);
  });

  it.each(['consecutiveFailures > 5', 'consecutiveFailures >= 0', 'failureRate >= 0% over 10s', 'failureRate >= 50% over 0s', 'errors >= 5', ''])('refuses %j', (text) => {
    expect(typeof parseTrip(text)).toBe('string');
  });

  it('reads durations in ms, s and m', () => {
    expect([parseDuration('300ms'), parseDuration('5s'), parseDuration('1.5s'), parseDuration('1m'), parseDuration('5'), parseDuration('fast')]).toEqual([300, 5_000, 1_500, 60_000, undefined, undefined]);
  });
});

describe('the defaults, as users read them', () => {
  it('are listed in the README word for word', async () => {
    const { DEFAULT_POLICY_TEXT } = await import('../../src/spec/call-policy.js');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const line of DEFAULT_POLICY_TEXT) expect(readme).toContain(`- ${line}`);
  });
});
