import { patternOf } from '../patterns/index.js';
import type { Service, Spec } from '../spec/schema.js';
import { parseAvailability, parseDuration, promDuration } from './slo.js';

/** One Prometheus alerting rule, as rule files and a PrometheusRule hold it. */
export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

export const LATENCY_ALERT = 'SloLatencyP99';
export const AVAILABILITY_ALERT = 'SloAvailability';

/** Rates are taken over this many scrape intervals: enough samples for rate() to survive a
 * missed scrape, short enough that an alert resolves soon after the fault is gone. */
const WINDOW_SCRAPES = 4;

/**
 * The alert rules the services' SLOs imply, one group for the whole system. Each SLO is
 * judged where its clients meet the service: at its own instances, and — since a fault in
 * front of it (a slow network, a balancer) never reaches its own metrics — at each gateway
 * that routes to it, on the gateway's routes under that prefix. Either one breaking it
 * for `for` fires the alert.
 */
export function sloRuleGroups(spec: Spec): RuleGroup[] {
  const scrapeMs = parseDuration(spec.monitoring.scrapeInterval)!;
  const window = promDuration(scrapeMs * WINDOW_SCRAPES);
  const rules: AlertRule[] = [];
  for (const [name, service] of Object.entries(spec.services)) {
    const { slo } = service;
    if (!slo) continue;
    const views = viewpoints(spec, name);
    const labels = { service: name, severity: 'page' };
    if (slo.p99 !== undefined) {
      const seconds = parseDuration(slo.p99)! / 1000;
      rules.push({
        alert: LATENCY_ALERT,
        expr: views
          .map((selector) => `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${selector}}[${window}]))) > ${seconds}`)
          .join('\nor\n'),
        for: slo.for,
        labels,
        annotations: {
          summary: `${name}: p99 latency above ${slo.p99} for ${slo.for}`,
          description: `The 99th percentile of the latency of requests to ${name} has been above its SLO (${slo.p99}) for ${slo.for}; now {{ $value | humanizeDuration }}.`,
        },
      });
    }
    if (slo.availability !== undefined) {
      const errorBudget = round(1 - parseAvailability(slo.availability)!);
      rules.push({
        alert: AVAILABILITY_ALERT,
        expr: views
          .map(
            (selector) =>
              `sum(rate(http_requests_total{${selector},status_code=~"5.."}[${window}])) / sum(rate(http_requests_total{${selector}}[${window}])) > ${errorBudget}`,
          )
          .join('\nor\n'),
        for: slo.for,
        labels,
        annotations: {
          summary: `${name}: availability below ${slo.availability} for ${slo.for}`,
          description: `More than ${round(errorBudget * 100)}% of the requests to ${name} have been answered with a 5xx for ${slo.for}; now {{ $value | humanizePercentage }}.`,
        },
      });
    }
  }
  return rules.length > 0 ? [{ name: 'slo', rules }] : [];
}

/** The series that show a service as its clients see it: its own, and each gateway's
 * routes into it. */
function viewpoints(spec: Spec, name: string): string[] {
  const views = [`service="${name}"`];
  for (const [caller, service] of Object.entries(spec.services)) {
    const prefix = patternOf(service as Service).pathTo?.(service as never, name);
    if (prefix !== undefined) views.push(`service="${caller}",route=~"${promString(regexQuote(prefix))}(/.*)?"`);
  }
  return views;
}

/** 1 - 0.999 without the float noise (0.0010000000000000009). */
function round(value: number): number {
  return Number(value.toPrecision(10));
}

function regexQuote(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Inside a PromQL double-quoted string, a backslash is an escape. */
function promString(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}
