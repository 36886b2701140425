/**
 * The policies one call between services runs under: its target's named policies, and the
 * defaults for every kind it leaves out (or for a call no target names). Free of the schema
 * library, like graph.ts.
 */
import { own } from '../own.js';
import { dependenciesOf } from './graph.js';
import type { BreakerPolicy, BulkheadPolicy, Resilience, RetryPolicy, Target } from './resilience.js';
import type { Spec } from './schema.js';

export interface CallPolicy {
  /** The deadline of a whole call, retries and their waits included, in ms. */
  timeoutMs: number;
  retry: RetryPolicy;
  circuitBreaker: BreakerPolicy;
  bulkhead: BulkheadPolicy;
  fallback: Target['fallback'];
  retryNonIdempotent: boolean;
  /** The target key that set it, or undefined for the defaults alone. */
  target: string | undefined;
}

/** What every call gets when scaffold.yaml says nothing: the README shows these, and the
 * generated scaffold.yaml points there. */
export const DEFAULT_POLICY: Omit<CallPolicy, 'target'> = {
  timeoutMs: 5_000,
  retry: {
    maxRetries: 2,
    backoff: 'exponential',
    initial: 50,
    maxInterval: 1_000,
    jitter: 'full',
    budget: 0.1,
    minRetriesPerSecond: 1,
    retryOn: ['connect', 'reset', 503],
    perTry: undefined,
  },
  circuitBreaker: {
    trip: { kind: 'consecutive', failures: 5 },
    or: { kind: 'rate', threshold: 0.5, windowMs: 10_000, minRequests: 20 },
    openFor: 5_000,
    halfOpenRequests: 1,
  },
  bulkhead: { maxConcurrent: 100, maxQueue: 100 },
  fallback: 'default',
  retryNonIdempotent: false,
};

/** The same defaults as a user would write them (README and generated comments). */
export const DEFAULT_POLICY_TEXT = [
  'timeout 5s (the whole call, retries included)',
  'retry: 2 retries of GET/HEAD/PUT/DELETE/OPTIONS on connect, reset, 503; exponential from 50ms to 1s, full jitter; budget 10% of the last 10 s of calls (at least 1 retry/s)',
  'circuitBreaker: trip "consecutiveFailures >= 5", or "failureRate >= 50% over 10s (min 20 requests)"; openFor 5s; 1 half-open request',
  'bulkhead: maxConcurrent 100, maxQueue 100',
  'fallback: 503 with JSON naming the upstream and the reason',
];

export const targetKey = (caller: string, callee: string) => `${caller} -> ${callee}`;

/** "orders -> users" → ["orders", "users"]; undefined when it is not of that shape. */
export function parseTargetKey(key: string): [string, string] | undefined {
  const match = /^\s*(\S+)\s*->\s*(\S+)\s*$/.exec(key);
  return match ? [match[1]!, match[2]!] : undefined;
}

export function callPolicy(resilience: Resilience, caller: string, callee: string): CallPolicy {
  const key = Object.keys(resilience.targets).find((candidate) => {
    const parsed = parseTargetKey(candidate);
    return parsed?.[0] === caller && parsed[1] === callee;
  });
  const target = key === undefined ? undefined : resilience.targets[key]!;
  if (!target) return { ...DEFAULT_POLICY, target: undefined };
  const { policies } = resilience;
  const named = <T>(table: Record<string, T>, name: string | undefined, fallback: T): T =>
    name === undefined ? fallback : (own(table, name) ?? fallback);
  return {
    timeoutMs: named(policies.timeouts, target.timeout, DEFAULT_POLICY.timeoutMs),
    retry: named(policies.retries, target.retry, DEFAULT_POLICY.retry),
    circuitBreaker: named(policies.circuitBreakers, target.circuitBreaker, DEFAULT_POLICY.circuitBreaker),
    bulkhead: named(policies.bulkheads, target.bulkhead, DEFAULT_POLICY.bulkhead),
    fallback: target.fallback,
    retryNonIdempotent: target.retryNonIdempotent,
    target: key,
  };
}

/** The problems of the section that need the rest of the spec: each with where it is. */
export function resilienceProblems(spec: Pick<Spec, 'services' | 'resilience'>): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const { policies, targets } = spec.resilience;
  const kinds = [
    ['timeout', 'timeouts', policies.timeouts],
    ['retry', 'retries', policies.retries],
    ['circuitBreaker', 'circuitBreakers', policies.circuitBreakers],
    ['bulkhead', 'bulkheads', policies.bulkheads],
  ] as const;
  const seen = new Map<string, string>();
  for (const [key, target] of Object.entries(targets)) {
    const at = ['resilience', 'targets', key];
    const parsed = parseTargetKey(key);
    if (!parsed) {
      problems.push({ path: at, message: `"${key}" is not a target: write "caller -> callee", e.g. "orders -> users"` });
      continue;
    }
    const [caller, callee] = parsed;
    const service = own(spec.services, caller);
    if (!service) {
      problems.push({ path: at, message: `unknown service "${caller}" in target "${key}": declare it under services first` });
    } else if (!dependenciesOf(service).includes(callee)) {
      problems.push({ path: at, message: `"${key}" is not a call of this system: "${caller}" does not call "${callee}" (add it to dependsOn or routes)` });
    }
    const twin = seen.get(targetKey(caller, callee));
    if (twin !== undefined) problems.push({ path: at, message: `"${key}" repeats target "${twin}": give each call one target` });
    seen.set(targetKey(caller, callee), key);
    for (const [field, table, declared] of kinds) {
      const name = target[field];
      if (name !== undefined && !Object.hasOwn(declared, name)) {
        const known = Object.keys(declared);
        const choices = known.length > 0 ? `one of ${known.join(', ')}` : `declare it under resilience.policies.${table}`;
        problems.push({ path: [...at, field], message: `unknown ${field} policy "${name}": use ${choices}` });
      }
    }
  }
  return problems;
}
