/**
 * A service's SLOs as scaffold.yaml writes them (`slo: { availability: 99.9%, p99: 250ms,
 * for: 2m }`), and the durations of its `monitoring` section. Parsers return undefined for
 * text that is not one, so the schema can say what it expected.
 */

export interface Slo {
  /** Share of requests answered without a 5xx, as "99.9%". */
  availability?: string;
  /** The 99th percentile of request latency, as "250ms" or "1s". */
  p99?: string;
  /** How long an SLO must be broken before its alert fires (Prometheus's `for:`). */
  for: string;
}

export const DEFAULT_SLO_FOR = '1m';
export const DEFAULT_SCRAPE_INTERVAL = '5s';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "250ms", "5s", "2m", "1h" → milliseconds (whole, above 0); anything else → undefined. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/** "99.9%" → 0.999: above 0 and below 100 (an SLO of 100% allows no error at all, and its
 * alert would fire on the first one). */
export function parseAvailability(text: string): number | undefined {
  const match = /^(\d{1,2}(?:\.\d{1,6})?)%$/.exec(text);
  if (!match) return undefined;
  const percent = Number(match[1]);
  return percent > 0 && percent < 100 ? percent / 100 : undefined;
}

/** Milliseconds as a Prometheus duration: "5s" when whole seconds, else "250ms". */
export function promDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
