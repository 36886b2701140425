import { Counter, Gauge, type Registry } from 'prom-client';
import { SeriesHistogram } from './histogram.js';

/** What the resilience policies of one upstream report, with its label already applied
 * (prom-client hashes the labels on every call otherwise). */
export interface UpstreamMetrics {
  /** A call ended: its whole duration, and what went wrong (a reason, or a 5xx status). */
  called(ms: number, error: string | undefined): void;
  circuitState(gauge: number): void;
  transition(to: string): void;
  retried(): void;
  budgetExhausted(): void;
  bulkheadRejected(): void;
  timedOut(): void;
}

/**
 * The calls this service makes to others, on its /metrics: latency and errors by upstream,
 * and what each policy did (scaffold.yaml `resilience:`).
 */
export function upstreamMetrics(registry: Registry): (upstream: string) => UpstreamMetrics {
  const registers = [registry];
  const labelNames = ['upstream'] as const;
  const seconds = new SeriesHistogram<(typeof labelNames)[number]>(
    'upstream_request_duration_seconds',
    'Calls to an upstream, from first try to answer or failure (retries included), in seconds.',
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registry,
  );
  const errors = new Counter({
    name: 'upstream_errors_total',
    help: 'Calls to an upstream that failed, by reason (timeout, unreachable, circuit-open, bulkhead-full) or 5xx status.',
    labelNames: ['upstream', 'reason'],
    registers,
  });
  const state = new Gauge({
    name: 'upstream_circuit_state',
    help: 'The circuit breaker of an upstream: 0 closed, 1 half-open, 2 open.',
    labelNames,
    registers,
  });
  const transitions = new Counter({
    name: 'upstream_circuit_transitions_total',
    help: 'Circuit breaker state changes, by the state entered.',
    labelNames: ['upstream', 'to'],
    registers,
  });
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames, registers });
  const retries = counter('upstream_retries_total', 'Retries of calls to an upstream.');
  const exhausted = counter('upstream_retry_budget_exhausted_total', 'Retries the retry budget refused.');
  const rejected = counter('upstream_bulkhead_rejections_total', 'Calls refused because the bulkhead and its queue were full.');
  const timeouts = counter('upstream_timeouts_total', 'Calls that ran past their timeout.');

  return (upstream) => {
    const labels = { upstream };
    const latency = seconds.series(labels);
    return {
      called(ms, error) {
        latency(ms / 1000);
        if (error !== undefined) errors.inc({ upstream, reason: error });
      },
      circuitState: (gauge) => state.set(labels, gauge),
      transition: (to) => transitions.inc({ upstream, to }),
      retried: () => retries.inc(labels),
      budgetExhausted: () => exhausted.inc(labels),
      bulkheadRejected: () => rejected.inc(labels),
      timedOut: () => timeouts.inc(labels),
    };
  };
}
