import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { generateProject } from '../../src/generators/project.js';
import { projectModel } from '../../src/model/project.js';
import { parseSpec } from '../../src/spec/load.js';
import { tempDir } from '../support/cli.js';
import { composeSchemaProblems, kubernetesSchemaProblems, kustomize, networkPolicyAdmits } from '../support/deploy-validators.js';

const TWO_REDIS = `
name: shop
services:
  orders: { port: 3002, enqueues: [payments] }
  payments: { pattern: worker, port: 3003, queue: payments }
  catalog: { port: 3001, cache: { server: cache, ttl: 2m } }
infrastructure:
  queue:
    kind: redis
    queues:
      payments: {}
  cache: { kind: redis, maxmemory: 64mb }
`;

const QUEUE_ARGS = ['--maxmemory-policy', 'noeviction', '--appendonly', 'yes', '--appendfsync', 'everysec'];
const CACHE_ARGS = ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'];

/** Two servers of one kind, each under its own name: a queue Redis that never evicts and a
 * cache Redis that does, each reached by the services that use it, and only by them. */
describe('named infrastructure entries: a cache Redis beside the queue Redis', () => {
  const { spec } = parseSpec(TWO_REDIS, 'scaffold.yaml');
  const model = projectModel(spec);
  const server = (name: string) => model.infrastructure.find((infra) => infra.name === name)!;

  it('keeps each entry\'s kind and settings: the queue Redis noeviction with an append-only file, the cache evicting past its maxmemory', () => {
    expect(model.infrastructure.map((infra) => [infra.name, infra.kind.name, infra.urlVar])).toEqual([
      ['queue', 'redis', 'QUEUE_URL'],
      ['cache', 'redis', 'CACHE_URL'],
    ]);
    expect(server('queue').serverArgs).toEqual(QUEUE_ARGS);
    expect(server('cache').serverArgs).toEqual(CACHE_ARGS);
    expect(server('queue').clients).toEqual(['orders', 'payments']);
    expect(server('cache').clients).toEqual(['catalog']);
    const environment = (name: string) => new Map(model.services.find((service) => service.name === name)!.environment.map((entry) => [entry.name, entry.value]));
    expect(environment('catalog').get('CACHE_URL')).toBe('redis://cache:6379');
    expect(environment('catalog').has('QUEUE_URL')).toBe(false);
    expect(environment('payments').get('QUEUE_URL')).toBe('redis://queue:6379');
    expect(environment('payments').has('CACHE_URL')).toBe(false);
  });

  it('reads today\'s shape as before: an entry named after its kind is of that kind and keeps its variable', () => {
    const old = projectModel(parseSpec('name: shop\nservices:\n  a: { port: 3001, uses: [redis] }\ninfrastructure:\n  redis: {}\n', 'scaffold.yaml').spec);
    const explicit = projectModel(parseSpec('name: shop\nservices:\n  a: { port: 3001, uses: [redis] }\ninfrastructure:\n  redis: { kind: redis }\n', 'scaffold.yaml').spec);
    for (const each of [old, explicit]) {
      expect(each.infrastructure.map((infra) => [infra.name, infra.kind.name, infra.urlVar, infra.serverArgs, infra.command])).toEqual([['redis', 'redis', 'REDIS_URL', [], undefined]]);
      expect(each.services[0]!.environment.find((entry) => entry.name === 'REDIS_URL')!.value).toBe('redis://redis:6379');
    }
  });

  it('gives a cached service the response cache on its Redis entry, with ioredis, and nobody else', () => {
    const catalog = model.services.find((service) => service.name === 'catalog')!;
    expect(catalog.cache).toEqual({ server: 'cache', urlVar: 'CACHE_URL', localUrl: `redis://127.0.0.1:6379`, ttlSeconds: 120 });
    expect(catalog.clientModules.map((module) => module.module)).toEqual(['cache']);
    const tree = generateProject(spec);
    expect(tree.read('services/catalog/src/generated/cache.ts')).toContain('process.env["CACHE_URL"]');
    expect(tree.read('services/catalog/src/generated/cache.ts')).toContain('ttlSeconds: 120');
    expect(tree.read('services/catalog/src/generated/clients.ts')).toContain("import * as cache from './cache.js'");
    expect(JSON.parse(tree.read('services/catalog/package.json')!).dependencies).toHaveProperty('ioredis');
    expect(tree.read('services/orders/src/generated/cache.ts')).toBeUndefined();
  });

  // removed after the file (test/support/cleanup.ts)
  const dir = tempDir('scaffold-named-infra-');
  for (const file of generateProject(spec).files()) {
    mkdirSync(path.dirname(path.join(dir, file.path)), { recursive: true });
    writeFileSync(path.join(dir, file.path), file.content);
  }
  const read = (file: string) => parseYaml(readFileSync(path.join(dir, file), 'utf8'));

  it('compose runs two containers of one image, each with its own command and volume, each awaited by its own clients', () => {
    const compose = read('compose.yaml');
    expect(composeSchemaProblems(compose)).toEqual([]);
    expect(compose.services.queue).toMatchObject({ image: 'redis:7-alpine', command: ['redis-server', ...QUEUE_ARGS], volumes: ['queue-data:/data'] });
    expect(compose.services.cache).toMatchObject({ image: 'redis:7-alpine', command: ['redis-server', ...CACHE_ARGS], volumes: ['cache-data:/data'] });
    expect(compose.services.catalog.environment.CACHE_URL).toBe('redis://cache:6379');
    expect(Object.keys(compose.services.catalog.depends_on)).toEqual(['cache']);
    expect(Object.keys(compose.services.payments.depends_on)).toEqual(['queue']);
  });

  it('Kubernetes runs a StatefulSet for each, admitting only its own clients', () => {
    const objects = kustomize(path.join(dir, 'deploy/k8s/overlays/dev'));
    for (const object of objects) expect(kubernetesSchemaProblems(object), `${object.kind}/${object.metadata.name}`).toEqual([]);
    const args = (name: string) => objects.find((object) => object.kind === 'StatefulSet' && object.metadata.name === name)!.spec.template.spec.containers[0].args;
    expect(args('queue')).toEqual(['redis-server', ...QUEUE_ARGS]);
    expect(args('cache')).toEqual(['redis-server', ...CACHE_ARGS]);
    const policy = (name: string) => objects.find((object) => object.kind === 'NetworkPolicy' && object.metadata.name === name)!;
    const pod = (name: string) => ({ 'app.kubernetes.io/name': name });
    expect(networkPolicyAdmits(policy('cache'), pod('catalog'), 6379)).toBe(true);
    expect(networkPolicyAdmits(policy('cache'), pod('payments'), 6379)).toBe(false);
    expect(networkPolicyAdmits(policy('queue'), pod('payments'), 6379)).toBe(true);
    expect(networkPolicyAdmits(policy('queue'), pod('catalog'), 6379)).toBe(false);
  });
});
