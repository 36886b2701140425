/**
 * The circuit breaker's trip expressions, a grammar of two sentences:
 *
 *     consecutiveFailures >= 5
 *     failureRate >= 50% over 10s (min 20 requests)
 *
 * Kept free of the schema library: the generators read parsed trips too.
 */

export type Trip =
  | { kind: 'consecutive'; failures: number }
  | { kind: 'rate'; threshold: number; windowMs: number; minRequests: number };

const CONSECUTIVE = /^consecutiveFailures\s*>=\s*(\d+)$/;
const RATE = /^failureRate\s*>=\s*(\d+(?:\.\d+)?)%\s+over\s+(\S+)(?:\s+\(min\s+(\d+)\s+requests?\))?$/;

export const TRIP_SYNTAX = '"consecutiveFailures >= 5" or "failureRate >= 50% over 10s (min 20 requests)"';

/** "300ms" → 300, "5s" → 5000, "1m" → 60000; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!match) return undefined;
  const scale = { ms: 1, s: 1_000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
  return Math.round(Number(match[1]) * scale);
}

/** A parsed trip, or the reason it does not parse. */
export function parseTrip(text: string): Trip | string {
  const expression = text.trim();
  const consecutive = CONSECUTIVE.exec(expression);
  if (consecutive) {
    const failures = Number(consecutive[1]);
    return failures >= 1 ? { kind: 'consecutive', failures } : 'consecutiveFailures needs 1 or more';
  }
  const rate = RATE.exec(expression);
  if (rate) {
    const threshold = Number(rate[1]) / 100;
    const windowMs = parseDuration(rate[2]!);
    if (!(threshold > 0 && threshold <= 1)) return 'failureRate is a share from 1% to 100%';
    if (windowMs === undefined || windowMs <= 0) return `"${rate[2]}" is not a positive duration such as 10s`;
    return { kind: 'rate', threshold, windowMs, minRequests: Number(rate[3] ?? 1) };
  }
  return `cannot read the trip expression ${JSON.stringify(text)}: write ${TRIP_SYNTAX}`;
}
