import { UserError } from '../../errors.js';
import type { LoadSummary } from './result.js';

/** A pass/fail threshold in k6's spirit: `p99<250ms`, `error_rate<1%`, `rps>1000`. */
export interface Slo {
  expression: string;
  metric: SloMetric;
  operator: '<' | '<=' | '>' | '>=';
  /** In the metric's unit: ms for latency, a fraction for error_rate, req/s for rps. */
  threshold: number;
}

export type SloMetric = 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'max' | 'mean' | 'error_rate' | 'rps';

export interface SloVerdict {
  expression: string;
  /** In the metric's unit: ms, a fraction for error_rate, req/s. */
  actual: number;
  /** The actual value as people read it: "12.5 ms", "0.3%", "1523 req/s". */
  shown: string;
  passed: boolean;
}

export const SLO_FORMS = 'p50|p90|p95|p99|p999|max|mean <|<=|>|>= N ms|s, error_rate < N%, rps > N (e.g. "p99<250ms")';

const PATTERN = /^\s*(p50|p90|p95|p99|p999|max|mean|error_rate|rps)\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?\s*$/;

export function parseSlo(expression: string): Slo {
  const match = PATTERN.exec(expression);
  if (!match) throw new UserError(`--slo "${expression}" is not an SLO: use ${SLO_FORMS}`);
  const [, metric, operator, number, unit] = match as unknown as [string, SloMetric, Slo['operator'], string, string | undefined];
  const value = Number(number);
  const latency = metric !== 'error_rate' && metric !== 'rps';
  if (latency && unit !== 'ms' && unit !== 's') throw new UserError(`--slo "${expression}": latency needs a unit, ms or s (e.g. "${metric}<250ms")`);
  if (metric === 'error_rate' && unit !== '%') throw new UserError(`--slo "${expression}": an error rate is a percentage (e.g. "error_rate<1%")`);
  if (metric === 'rps' && unit !== undefined) throw new UserError(`--slo "${expression}": rps takes a plain number (e.g. "rps>1000")`);
  if (metric === 'error_rate' && value > 100) throw new UserError(`--slo "${expression}": an error rate is at most 100%`);
  const threshold = unit === 's' ? value * 1000 : unit === '%' ? value / 100 : value;
  return { expression: expression.trim(), metric, operator, threshold };
}

export function evaluateSlos(slos: Slo[], summary: LoadSummary): SloVerdict[] {
  return slos.map((slo) => {
    const actual = measure(slo.metric, summary);
    return { expression: slo.expression, actual, shown: show(slo.metric, actual), passed: compare(actual, slo.operator, slo.threshold) };
  });
}

function measure(metric: SloMetric, summary: LoadSummary): number {
  if (metric === 'error_rate') return summary.requests === 0 ? 1 : summary.errors / summary.requests;
  if (metric === 'rps') return summary.rps;
  return summary.latency[metric];
}

function show(metric: SloMetric, value: number): string {
  if (metric === 'error_rate') return `${Number((value * 100).toFixed(3))}%`;
  if (metric === 'rps') return `${Math.round(value)} req/s`;
  return `${Number(value.toFixed(2))} ms`;
}

function compare(actual: number, operator: Slo['operator'], threshold: number): boolean {
  switch (operator) {
    case '<':
      return actual < threshold;
    case '<=':
      return actual <= threshold;
    case '>':
      return actual > threshold;
    case '>=':
      return actual >= threshold;
  }
}
