import type { Spec } from '../spec/schema.js';
import { parseDuration, promDuration } from './slo.js';

/** Prometheus's default, which a scrape interval below it must undercut. */
const MAX_SCRAPE_TIMEOUT_MS = 10_000;

/** What Prometheus is told to scrape: one entry per instance (file-based discovery's
 * format), each labelled with its service and instance id. */
export interface TargetGroup {
  targets: string[];
  labels: { service: string; instance_id: string };
}

/**
 * Prometheus's configuration for a system: every instance found through `targetFiles`
 * (file-based discovery, which Prometheus rereads whenever the file changes), the SLO rules
 * from `ruleFiles`, scraped and evaluated at the spec's interval. Returned as an object:
 * JSON is YAML, so it is written as JSON and Prometheus reads it as is.
 */
export function prometheusConfig(spec: Spec, files: { targetFiles: string[]; ruleFiles: string[] }): Record<string, unknown> {
  const intervalMs = parseDuration(spec.monitoring.scrapeInterval)!;
  return {
    global: {
      scrape_interval: promDuration(intervalMs),
      scrape_timeout: promDuration(Math.min(intervalMs, MAX_SCRAPE_TIMEOUT_MS)),
      evaluation_interval: promDuration(intervalMs),
      external_labels: { project: spec.name },
    },
    rule_files: files.ruleFiles,
    scrape_configs: [{ job_name: 'services', file_sd_configs: [{ files: files.targetFiles }] }],
  };
}

/** compose's Prometheus (the `monitoring` profile): the image when the spec names none. */
export const PROMETHEUS_IMAGE = 'prom/prometheus:v3.5.0';

/**
 * Prometheus's configuration inside compose: each service's replicas found by Docker's
 * DNS (its name resolves to every container's address), one target per container on the
 * service's port, labelled with the service as the process runtime labels them.
 */
export function composePrometheusConfig(spec: Spec, files: { ruleFiles: string[] }): Record<string, unknown> {
  const { scrape_configs: _, ...config } = prometheusConfig(spec, { targetFiles: [], ruleFiles: files.ruleFiles });
  return {
    ...config,
    scrape_configs: Object.entries(spec.services).map(([name, service]) => ({
      job_name: name,
      // a scaled service's new containers are found at the next scrape
      dns_sd_configs: [{ names: [name], type: 'A', port: service.port, refresh_interval: spec.monitoring.scrapeInterval }],
      relabel_configs: [{ target_label: 'service', replacement: name }],
    })),
  };
}
