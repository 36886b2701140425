import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { prometheusConfig } from '../../src/monitoring/prometheus-config.js';
import { sloRuleGroups } from '../../src/monitoring/rules.js';
import { parseSpec } from '../../src/spec/load.js';
import { tempDir } from '../support/cli.js';

const spec = parseSpec(
  `name: shop
monitoring: { scrapeInterval: 1s }
services:
  users: { port: 3001, slo: { availability: 99.9%, p99: 300ms, for: 2m } }
  orders: { port: 3002, dependsOn: [users], slo: { availability: 99%, p99: 250ms, for: 10s } }
  api-gateway: { pattern: gateway, port: 8080, routes: { /users: users, /orders: orders } }
`,
  'scaffold.yaml',
).spec;

/** Prometheus's own tools judge the rules: promtool checks them, and evaluates them over
 * made-up series in its test mode, which is the rule engine Prometheus itself runs. */
async function promtool(args: string[], cwd: string) {
  return execa('promtool', args, { cwd, reject: false });
}

describe('alert rules from SLOs', () => {
  const dir = tempDir('scaffold-rules-');
  writeFileSync(path.join(dir, 'rules.json'), JSON.stringify({ groups: sloRuleGroups(spec) }));

  it('are rules promtool accepts, two per service with both SLOs, and a config that loads them', async () => {
    const rules = await promtool(['check', 'rules', 'rules.json'], dir);
    expect(rules.exitCode, rules.stdout + rules.stderr).toBe(0);
    expect(rules.stdout).toMatch(/SUCCESS: 4 rules found/);
    writeFileSync(path.join(dir, 'targets.json'), '[]');
    writeFileSync(path.join(dir, 'prometheus.json'), JSON.stringify(prometheusConfig(spec, { targetFiles: ['targets.json'], ruleFiles: ['rules.json'] })));
    const config = await promtool(['check', 'config', 'prometheus.json'], dir);
    expect(config.exitCode, config.stdout + config.stderr).toBe(0);
  });

  it('fire after `for` once orders is slow at the gateway or failing at home, and resolve once it is not', async () => {
    // Ten requests a second on each series. Through the gateway to orders: fast (≤ 100 ms)
    // for 30 s, slow (250–500 ms) for 30 s, fast again. Users, through the gateway, is slow
    // all along: it must not fire orders' alert. Orders itself answers 5% 503s from 60 s.
    const bucket = (route: string, le: string, values: string) => ({
      series: `http_request_duration_seconds_bucket{service="api-gateway",route="${route}",le="${le}"}`,
      values,
    });
    const fastSlowFast = '0+10x30 300+0x30 300+10x30';
    const all = '0+10x90';
    const tests = {
      rule_files: ['bare-rules.json'],
      evaluation_interval: '1s',
      tests: [
        {
          interval: '1s',
          input_series: [
            bucket('/orders/items/:id', '0.1', fastSlowFast),
            bucket('/orders/items/:id', '0.25', fastSlowFast),
            bucket('/orders/items/:id', '0.5', all),
            bucket('/orders/items/:id', '+Inf', all),
            bucket('/users/items', '0.1', '0+0x90'),
            bucket('/users/items', '0.25', '0+0x90'),
            bucket('/users/items', '0.5', all),
            bucket('/users/items', '+Inf', all),
            { series: 'http_requests_total{service="orders",route="/items",status_code="200"}', values: '0+10x60 600+9x30' },
            { series: 'http_requests_total{service="orders",route="/items",status_code="503"}', values: '0+0x60 0+1x30' },
          ],
          alert_rule_test: [
            // slow from 30 s: pending, not firing, until `for` (10 s) has passed
            { eval_time: '36s', alertname: 'SloLatencyP99', exp_alerts: [] },
            { eval_time: '45s', alertname: 'SloLatencyP99', exp_alerts: [{ exp_labels: { service: 'orders', severity: 'page' }}] },
            // fast again from 60 s: gone once the window has only fast requests
            { eval_time: '70s', alertname: 'SloLatencyP99', exp_alerts: [] },
            { eval_time: '66s', alertname: 'SloAvailability', exp_alerts: [] },
            { eval_time: '75s', alertname: 'SloAvailability', exp_alerts: [{ exp_labels: { service: 'orders', severity: 'page' } }] },
          ],
        },
      ],
    };
    // promtool compares annotations too: the rules are tested without theirs (which carry
    // the value), the texts by the test below
    const bare = sloRuleGroups(spec).map((group) => ({ ...group, rules: group.rules.map(({ annotations: _, ...rule }) => rule) }));
    writeFileSync(path.join(dir, 'bare-rules.json'), JSON.stringify({ groups: bare }));
    writeFileSync(path.join(dir, 'rules.test.yaml'), stringify(tests));
    const result = await promtool(['test', 'rules', 'rules.test.yaml'], dir);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
  });

  it('say what broke, and leave out services without SLOs', () => {
    const [group] = sloRuleGroups(spec);
    expect(group!.rules.map((rule) => [rule.alert, rule.labels.service, rule.for])).toEqual([
      ['SloLatencyP99', 'users', '2m'],
      ['SloAvailability', 'users', '2m'],
      ['SloLatencyP99', 'orders', '10s'],
      ['SloAvailability', 'orders', '10s'],
    ]);
    expect(group!.rules[2]!.annotations.summary).toBe('orders: p99 latency above 250ms for 10s');
    const none = parseSpec('name: shop\nservices:\n  users: { port: 3001 }\n', 'scaffold.yaml').spec;
    expect(sloRuleGroups(none)).toEqual([]);
  });
});
