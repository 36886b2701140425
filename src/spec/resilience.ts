import { z } from 'zod';
import { parseDuration, parseTrip, type Trip } from './trip.js';

/**
 * scaffold.yaml's `resilience:` section, in the shape Dapr's resiliency spec made familiar:
 * named policies first, then targets ("orders -> users") that point at them. A call no
 * target names, or a kind of policy a target leaves out, gets DEFAULT_POLICY.
 */

const duration = z.string({ error: 'expected a duration such as "300ms" or "5s"' }).transform((text, ctx) => {
  // "-5s" reads as a duration below zero, which says more than "not a duration"
  const ms = parseDuration(text.replace(/^\s*-/, ''));
  if (ms !== undefined && text.trim().startsWith('-')) {
    ctx.addIssue({ code: 'custom', message: `"${text}": a duration must be more than zero` });
    return z.NEVER;
  }
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration: write e.g. "300ms", "5s" or "1m"` });
    return z.NEVER;
  }
  if (ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${text}": a duration must be more than zero` });
    return z.NEVER;
  }
  return ms;
});

const percent = z.string({ error: 'expected a share such as "10%"' }).transform((text, ctx) => {
  const match = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const share = match ? Number(match[1]) / 100 : Number.NaN;
  if (!(share >= 0 && share <= 1)) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a share from "0%" to "100%"` });
    return z.NEVER;
  }
  return share;
});

const trip = z.string().transform((text, ctx): Trip => {
  const parsed = parseTrip(text);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});

/** What a retry may follow: no answer at all (connect, reset), an attempt past `perTry`
 * (timeout), or one of these statuses. */
export const RETRY_CONDITIONS = ['connect', 'reset', 'timeout'] as const;
const retryOn = z.union([
  z.enum(RETRY_CONDITIONS),
  z.number().int().refine((status) => status === 429 || (status >= 500 && status <= 599), {
    error: 'only 429 and 5xx statuses are worth retrying',
  }),
]);

const retryPolicy = z.strictObject({
  maxRetries: z.number().int().min(0).max(10, { error: 'at most 10 retries: more only adds load to a failing service' }),
  backoff: z.enum(['exponential', 'constant']).default('exponential'),
  initial: duration.prefault('50ms'),
  maxInterval: duration.prefault('1s'),
  jitter: z.enum(['full', 'none']).default('full'),
  budget: percent
    .prefault('10%')
    .describe('Retries allowed, as a share of the calls of the last 10 s (no retry storms).'),
  minRetriesPerSecond: z
    .number()
    .int()
    .min(0)
    .default(1)
    .describe('Retries always allowed, whatever the budget, so a quiet service can still retry.'),
  retryOn: z.array(retryOn).min(1).default(['connect', 'reset', 503]),
  perTry: duration.optional().describe('A deadline per attempt; "timeout" in retryOn retries past it.'),
});

const breakerPolicy = z.strictObject({
  trip,
  or: trip.optional(),
  openFor: duration,
  halfOpenRequests: z
    .literal(1, { error: 'halfOpenRequests is 1: one trial call decides whether the breaker closes' })
    .default(1),
});

const bulkheadPolicy = z.strictObject({
  maxConcurrent: z.number().int().min(1),
  maxQueue: z.number().int().min(0).default(0),
});

const policyName = z.string().min(1);

const target = z.strictObject({
  timeout: policyName.optional(),
  retry: policyName.optional(),
  circuitBreaker: policyName.optional(),
  bulkhead: policyName.optional(),
  fallback: z
    .enum(['default', 'custom'])
    .default('default')
    .describe('"custom": the caller\'s src/fallbacks.ts answers for this upstream; "default": 503 with JSON naming it.'),
  retryNonIdempotent: z.boolean().default(false).describe('Retry POST and PATCH too (only when the callee deduplicates them).'),
});

export const resilienceSchema = z
  .strictObject({
    policies: z
      .strictObject({
        timeouts: z.record(policyName, duration).default({}),
        retries: z.record(policyName, retryPolicy).default({}),
        circuitBreakers: z.record(policyName, breakerPolicy).default({}),
        bulkheads: z.record(policyName, bulkheadPolicy).default({}),
      })
      .default({ timeouts: {}, retries: {}, circuitBreakers: {}, bulkheads: {} }),
    targets: z.record(z.string(), target).default({}).describe('"caller -> callee": the policies its calls use.'),
  })
  .default({ policies: { timeouts: {}, retries: {}, circuitBreakers: {}, bulkheads: {} }, targets: {} })
  .describe('Timeouts, retries, circuit breakers and bulkheads on the calls between services.');

export type Resilience = z.output<typeof resilienceSchema>;
export type RetryPolicy = z.output<typeof retryPolicy>;
export type BreakerPolicy = z.output<typeof breakerPolicy>;
export type BulkheadPolicy = z.output<typeof bulkheadPolicy>;
export type Target = z.output<typeof target>;
