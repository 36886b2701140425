import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { generateProject } from '../../src/generators/project.js';
import { parseSpec } from '../../src/spec/load.js';
import { specJsonSchema } from '../../src/spec/schema.js';

const EVENTS = `name: shop
services:
  orders: { port: 3002, publishes: [order-created] }
  billing: { port: 3003, subscribes: [{ topic: order-created, group: billing, concurrency: 4 }] }
  users: { port: 3001 }
infrastructure:
  nats:
    topics:
      order-created: { ackWait: 2s, maxDeliver: 3 }
      order-shipped:
`;

describe('topics on NATS', () => {
  const { spec } = parseSpec(EVENTS, 'scaffold.yaml');

  it('fills in the settings JetStream needs, and a topic left empty takes every default', () => {
    expect(spec.infrastructure.nats).toEqual({
      kind: 'nats',
      version: '2',
      topics: {
        'order-created': { ackWait: 2000, maxDeliver: 3, dedupeWindow: 120_000, retryBackoff: 1000 },
        'order-shipped': { ackWait: 30_000, maxDeliver: 5, dedupeWindow: 120_000, retryBackoff: 1000 },
      },
    });
  });

  it('makes a service that publishes or subscribes use the server, and no other', () => {
    expect(spec.services.orders!.uses).toEqual(['nats']);
    expect(spec.services.billing!.uses).toEqual(['nats']);
    expect(spec.services.users!.uses).toEqual([]);
  });

  it('gives the client, the publisher and the handlers to those services alone', () => {
    const tree = generateProject(spec);
    for (const service of ['orders', 'billing']) {
      expect(tree.read(`services/${service}/src/platform/events.ts`)).toContain('class Events');
      expect(JSON.parse(tree.read(`services/${service}/package.json`)!).dependencies).toHaveProperty('@nats-io/jetstream');
      expect(tree.read(`services/${service}/src/generated/clients.ts`)).toContain("import * as nats from './nats.js'");
    }
    expect(tree.read('services/users/src/platform/events.ts')).toBeUndefined();
    expect(JSON.parse(tree.read('services/users/package.json')!).dependencies).not.toHaveProperty('@nats-io/jetstream');
    expect(tree.read('services/users/src/generated/clients.ts')).not.toContain('import * as');

    const billing = tree.read('services/billing/src/generated/nats.ts')!;
    expect(billing).toContain('{ topic: "order-created", group: "billing", concurrency: 4 }');
    expect(billing).toContain('ackWaitMs: 2000');
    expect(billing).toContain('deadLetter: "order-created.dead"');
    expect(billing).toContain('export type PublishedTopic = never;');
    expect(tree.read('services/orders/src/generated/nats.ts')).toContain('export type PublishedTopic = "order-created" | never;');
    expect(tree.read('services/billing/src/events.ts')).toContain('"order-created": async (data, event)');
    // the URL reaches them in compose too
    expect(tree.read('compose.yaml')).toContain('"NATS_URL": "nats://nats:4222"');
  });

  it('keeps JetStream\'s streams on the server\'s volume: a PersistentVolumeClaim in Kubernetes, a named volume in compose', () => {
    const tree = generateProject(spec);
    const set = parseYaml(tree.read('deploy/k8s/base/nats/statefulset.yaml')!);
    const container = set.spec.template.spec.containers[0];
    const store = container.args[container.args.indexOf('--store_dir') + 1];
    expect(container.args).toContain('--jetstream');
    const mount = container.volumeMounts.find((volume: { mountPath: string }) => volume.mountPath === store);
    expect(set.spec.volumeClaimTemplates.map((claim: { metadata: { name: string } }) => claim.metadata.name)).toContain(mount.name);
    const compose = parseYaml(tree.read('compose.yaml')!);
    expect(compose.services.nats.command).toEqual(expect.arrayContaining(['--jetstream', '--store_dir', store]));
    expect(compose.services.nats.volumes).toContain(`nats-data:${store}`);
  });

  it('documents topics and subscriptions in the JSON Schema', () => {
    const schema = specJsonSchema() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(Object.keys(schema.properties.infrastructure.properties.nats.properties)).toContain('topics');
    const http = schema.properties.services.additionalProperties.oneOf[0];
    expect(Object.keys(http.properties)).toEqual(expect.arrayContaining(['publishes', 'subscribes']));
  });
});
