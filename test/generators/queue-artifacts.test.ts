import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { generateProject } from '../../src/generators/project.js';
import { parseSpec } from '../../src/spec/load.js';
import { tempDir } from '../support/cli.js';
import { composeSchemaProblems, kubernetesSchemaProblems, kustomize, networkPolicyAdmits, restrictedProblems } from '../support/deploy-validators.js';

const QUEUE_SPEC = `
name: shop
services:
  orders: { port: 3002, replicas: 2, enqueues: [payments] }
  payments: { pattern: worker, port: 3003, queue: payments }
  users: { port: 3001 }
infrastructure:
  redis:
    queues:
      payments: { attempts: 5 }
`;

const QUEUE_REDIS_COMMAND = ['redis-server', '--maxmemory-policy', 'noeviction', '--appendonly', 'yes', '--appendfsync', 'everysec'];

/** A queue Redis in compose and Kubernetes: what the process runtime runs, validated the
 * way the other deployment artifacts are. */
describe('a queue Redis in compose and Kubernetes', () => {
  // removed after the file (test/support/cleanup.ts)
  const dir = tempDir('scaffold-queues-');
  const { spec } = parseSpec(QUEUE_SPEC, 'scaffold.yaml');
  for (const file of generateProject(spec).files()) {
    mkdirSync(path.dirname(path.join(dir, file.path)), { recursive: true });
    writeFileSync(path.join(dir, file.path), file.content);
  }
  const read = (file: string) => parseYaml(readFileSync(path.join(dir, file), 'utf8'));

  it('compose runs it with noeviction and an append-only file, health-checked, its data on a volume; producer and worker wait for it', () => {
    const compose = read('compose.yaml');
    expect(composeSchemaProblems(compose)).toEqual([]);
    expect(compose.services.redis).toMatchObject({ command: QUEUE_REDIS_COMMAND, volumes: ['redis-data:/data'] });
    expect(compose.services.redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    for (const name of ['orders', 'payments']) {
      expect(compose.services[name].environment.REDIS_URL, name).toBe('redis://redis:6379');
      expect(Object.keys(compose.services[name].depends_on), name).toContain('redis');
    }
    expect(compose.services.users.environment.REDIS_URL).toBeUndefined();
  });

  it('Kubernetes runs it as a StatefulSet with those arguments, restricted, admitting only the producer and the worker', () => {
    const objects = kustomize(path.join(dir, 'deploy/k8s/overlays/dev'));
    for (const object of objects) expect(kubernetesSchemaProblems(object), `${object.kind}/${object.metadata.name}`).toEqual([]);
    const set = objects.find((object) => object.kind === 'StatefulSet' && object.metadata.name === 'redis')!;
    const [container] = set.spec.template.spec.containers;
    expect(container.args).toEqual(QUEUE_REDIS_COMMAND);
    expect(restrictedProblems(set.spec.template.spec, set.spec.template.metadata.annotations, 'redis')).toEqual([]);
    const policy = objects.find((object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'redis')!;
    const pod = (name: string) => ({ 'app.kubernetes.io/name': name });
    expect(networkPolicyAdmits(policy, pod('orders'), 6379)).toBe(true);
    expect(networkPolicyAdmits(policy, pod('payments'), 6379)).toBe(true);
    expect(networkPolicyAdmits(policy, pod('users'), 6379)).toBe(false);
  });

  it('gives the producer and the worker BullMQ, and nobody else', () => {
    const dependencies = (name: string) => JSON.parse(readFileSync(path.join(dir, `services/${name}/package.json`), 'utf8')).dependencies;
    expect(dependencies('orders')).toHaveProperty('bullmq');
    expect(dependencies('payments')).toHaveProperty('bullmq');
    expect(dependencies('users')).not.toHaveProperty('bullmq');
  });
});

describe('the producer route (POST /orders) goes to the patterns that mount it', () => {
  const { spec } = parseSpec(
    `name: shop
services:
  orders: { port: 3002, enqueues: [payments] }
  payments: { pattern: worker, port: 3003, queue: payments, enqueues: [receipts] }
  receipts: { pattern: worker, port: 3004, queue: receipts }
  edge: { pattern: gateway, port: 8080, routes: { /orders: orders }, enqueues: [receipts] }
infrastructure:
  redis:
    queues: { payments: {}, receipts: {} }
`,
    'scaffold.yaml',
  );
  const files = new Map(generateProject(spec).files().map((file) => [file.path, file.content]));

  it('an http-api that enqueues has it, mounted at /orders; a worker or gateway that enqueues gets the queues\' client alone', () => {
    expect(files.has('services/orders/src/routes/orders.ts')).toBe(true);
    expect(files.get('services/orders/src/app.ts')).toContain("app.register(ordersRoutes, { prefix: '/orders' });");
    for (const name of ['payments', 'edge']) {
      expect(files.has(`services/${name}/src/platform/jobs.ts`), name).toBe(true);
      expect(files.has(`services/${name}/src/routes/orders.ts`), name).toBe(false);
      expect(files.get(`services/${name}/src/app.ts`), name).not.toContain('ordersRoutes');
    }
  });
});
