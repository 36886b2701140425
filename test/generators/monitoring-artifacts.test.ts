import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { generateProject } from '../../src/generators/project.js';
import { sloRuleGroups } from '../../src/monitoring/rules.js';
import { parseSpec } from '../../src/spec/load.js';
import { tempDir } from '../support/cli.js';
import { composeSchemaProblems, kubernetesSchemaProblems, kustomize, selects, type KubeObject } from '../support/deploy-validators.js';

const SPEC = `name: shop
monitoring: { scrapeInterval: 10s, image: registry.example.com/mirror/prometheus:v3.5.0 }
services:
  users: { port: 3001, slo: { availability: 99.9%, for: 2m } }
  orders: { port: 3002, replicas: 2, dependsOn: [users], slo: { p99: 250ms, for: 1m } }
  api-gateway: { pattern: gateway, port: 8080, routes: { /users: users, /orders: orders } }
infrastructure:
  redis: {}
`;

/** The generated project on disk, where kubectl and promtool read it. */
function render() {
  const { spec } = parseSpec(SPEC.replace('port: 3001,', 'port: 3001, uses: [redis],'), 'scaffold.yaml');
  const dir = tempDir('scaffold-monitoring-');
  for (const file of generateProject(spec).files()) {
    mkdirSync(path.dirname(path.join(dir, file.path)), { recursive: true });
    writeFileSync(path.join(dir, file.path), file.content);
  }
  return { spec, dir };
}

describe('monitoring for Kubernetes', () => {
  const { spec, dir } = render();
  const overlay = path.join(dir, 'deploy/k8s/overlays/dev');
  const without = kustomize(overlay);
  // the dev overlay with the component added, as the component's header says to
  appendFileSync(path.join(overlay, 'kustomization.yaml'), 'components:\n  - ../../components/monitoring\n');
  const objects = kustomize(overlay);
  const one = (kind: string) => objects.filter((object) => object.kind === kind);

  it('adds a ServiceMonitor and a PrometheusRule valid against the operator\'s schemas, and nothing to the overlays without it', () => {
    const [monitor] = one('ServiceMonitor');
    const [rule] = one('PrometheusRule');
    expect(() => new ServiceMonitor(monitor as never).validate()).not.toThrow();
    expect(() => new PrometheusRule(rule as never).validate()).not.toThrow();
    expect(rule!.metadata.namespace).toBe('shop-dev');
    expect(objects.filter((object) => object.apiVersion !== 'monitoring.coreos.com/v1').flatMap(kubernetesSchemaProblems)).toEqual([]);
    expect(without.filter((object) => object.apiVersion === 'monitoring.coreos.com/v1')).toEqual([]);
    expect(objects.length).toBe(without.length + 3);
  });

  it('scrapes every service on its http port at the spec\'s interval, and no server', () => {
    const [monitor] = one('ServiceMonitor');
    expect(monitor!.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '10s' }]);
    const scraped = one('Service').filter((service) => selects(monitor!.spec.selector, service.metadata.labels ?? {}) && service.spec.ports.some((port: { name?: string }) => port.name === 'http'));
    expect(scraped.map((service) => service.metadata.name).sort()).toEqual(['api-gateway', 'orders', 'users']);
    for (const deployment of one('Deployment')) {
      const port = String(deployment.spec.template.spec.containers[0].ports[0].containerPort);
      expect(deployment.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': port, 'prometheus.io/path': '/metrics' });
    }
  });

  it('lets Prometheus through the services\' NetworkPolicies on that port', () => {
    const [policy] = one('NetworkPolicy').filter((object: KubeObject) => object.metadata.name === 'shop-prometheus');
    const service = one('Deployment').find((deployment) => deployment.metadata.name === 'orders')!;
    expect(selects(policy!.spec.podSelector, service.spec.template.metadata.labels)).toBe(true);
    expect(policy!.spec.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: 'http' }], from: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }] }]);
  });

  it('holds the SLOs\' rules, which promtool accepts', async () => {
    const [rule] = one('PrometheusRule');
    expect(rule!.spec.groups).toEqual(sloRuleGroups(spec));
    writeFileSync(path.join(dir, 'k8s-rules.json'), JSON.stringify({ groups: rule!.spec.groups }));
    const checked = await execa('promtool', ['check', 'rules', 'k8s-rules.json'], { cwd: dir, reject: false });
    expect(checked.exitCode, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/SUCCESS: 2 rules found/);
  });
});

describe('monitoring for compose', () => {
  const { dir } = render();
  const compose = parseYaml(readFileSync(path.join(dir, 'compose.yaml'), 'utf8'));

  it('is an opt-in Prometheus (profile monitoring) of the spec\'s image, on 127.0.0.1 only', () => {
    expect(composeSchemaProblems(compose)).toEqual([]);
    expect(compose.services.prometheus).toMatchObject({
      image: 'registry.example.com/mirror/prometheus:v3.5.0',
      profiles: ['monitoring'],
      volumes: ['./deploy/prometheus:/etc/prometheus:ro'],
      ports: ['127.0.0.1:9090:9090'],
    });
  });

  it('finds every replica by Docker\'s DNS, with a configuration and rules promtool accepts', async () => {
    const checked = await execa('promtool', ['check', 'config', 'deploy/prometheus/prometheus.yml'], { cwd: dir, reject: false });
    expect(checked.exitCode, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/SUCCESS: 2 rules found/);
    const config = parseYaml(readFileSync(path.join(dir, 'deploy/prometheus/prometheus.yml'), 'utf8'));
    expect(config.scrape_configs.map((job: { job_name: string; dns_sd_configs: unknown }) => [job.job_name, job.dns_sd_configs])).toEqual([
      ['users', [{ names: ['users'], type: 'A', port: 3001, refresh_interval: '10s' }]],
      ['orders', [{ names: ['orders'], type: 'A', port: 3002, refresh_interval: '10s' }]],
      ['api-gateway', [{ names: ['api-gateway'], type: 'A', port: 8080, refresh_interval: '10s' }]],
    ]);
  });
});
