import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { parseSpec } from '../../src/spec/load.js';
import { startOrder } from '../../src/spec/graph.js';
import { specJsonSchema } from '../../src/spec/schema.js';

const classic = readFileSync(new URL('../fixtures/classic.yaml', import.meta.url), 'utf8');

function problemOf(text: string): string {
  try {
    parseSpec(text, 'scaffold.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as UserError).message;
  }
  throw new Error('expected the spec to be refused');
}

describe('parseSpec', () => {
  it('reads the classic system with defaults filled in', () => {
    const { spec } = parseSpec(classic, 'scaffold.yaml');
    expect(spec.name).toBe('shop');
    expect(spec.services.orders).toMatchObject({ port: 3002, replicas: 2, dependsOn: ['users'], restart: 'always' });
    expect(spec.services.users?.health).toEqual({ liveness: '/healthz', readiness: '/readyz' });
    expect(startOrder(spec)).toEqual(['users', 'orders', 'api-gateway']);
  });

  it.each([
    ['a bad service name, at its key', 'name: x\nservices:\n  A_B:\n    port: 3001\n', /^scaffold\.yaml:3:3: services\.A_B: "A_B" is not a valid service name/],
    ['a path-like name', 'name: x\nservices:\n  ../x:\n    port: 3001\n', /^scaffold\.yaml:3:3: .*not a valid service name/],
    ['a reserved name', 'name: x\nservices:\n  postgres:\n    port: 3001\n', /"postgres" is a reserved name/],
    ['an unknown field', 'name: x\nservices:\n  a:\n    port: 3001\n    prot: 2\n', /^scaffold\.yaml:4:5: services\.a: unknown field "prot"/],
    ['a port of the wrong type', 'name: x\nservices:\n  a:\n    port: "80a"\n', /^scaffold\.yaml:4:11: services\.a\.port: expected a port number/],
    ['a missing port', 'name: x\nservices:\n  a:\n    replicas: 2\n', /^scaffold\.yaml:4:5: services\.a\.port: required: add it/],
    ['a port clash', 'name: x\nservices:\n  a: { port: 3001 }\n  b: { port: 3001 }\n', /^scaffold\.yaml:4:14: services\.b\.port: port 3001 is already taken by "a"/],
    ['a duplicate service', 'name: x\nservices:\n  a: { port: 3001 }\n  a: { port: 3002 }\n', /^scaffold\.yaml:4:3: Map keys must be unique/],
    ['an unknown dependency', 'name: x\nservices:\n  a: { port: 3001, dependsOn: [b] }\n', /services\.a\.dependsOn\.0: unknown service "b"/],
    ['a dependency cycle', 'name: x\nservices:\n  a: { port: 3001, dependsOn: [b] }\n  b: { port: 3002, dependsOn: [a] }\n', /cycle \(a → b → a\)/],
    ['routes on an http-api', 'name: x\nservices:\n  a: { port: 3001 }\n  b: { port: 3002, routes: { /a: a } }\n', /^scaffold\.yaml:4:6: services\.b: routes belongs to pattern gateway: remove it, or set pattern: gateway$/],
    ['a gateway field and a typo together', 'name: x\nservices:\n  a: { port: 3001, rateLimit: 5, prot: 1 }\n', /services\.a: rateLimit belongs to pattern gateway: .*; unknown field "prot": check the spelling$/],
    ['a typo in a gateway', 'name: x\nservices:\n  a: { pattern: gateway, port: 3001, route: {} }\n', /^scaffold\.yaml:3:6: services\.a: unknown field "route": check the spelling$/],
    ['an unknown pattern, with the known ones', 'name: x\nservices:\n  a: { pattern: grpc, port: 3001 }\n', /^scaffold\.yaml:3:17: services\.a\.pattern: unknown pattern "grpc": use one of http-api, gateway, worker$/],
    ['a gateway routing to itself', 'name: x\nservices:\n  a: { pattern: gateway, port: 3001, routes: { /a: a } }\n', /^scaffold\.yaml:3:52: services\.a\.routes\.\/a: "a" cannot call itself/],
    ['a route to an unknown service', 'name: x\nservices:\n  a: { pattern: gateway, port: 3001, routes: { /b: b } }\n', /services\.a\.routes\.\/b: unknown service "b"/],
    ['an undeclared infrastructure', 'name: x\nservices:\n  a: { port: 3001, uses: [redis] }\n', /"redis" is not declared: add "redis: {}" under infrastructure/],
    ['an unknown infrastructure kind', 'name: x\ninfrastructure:\n  store: { kind: mongo }\n', /^scaffold\.yaml:3:\d+: infrastructure\.store\.kind: unknown infrastructure kind "mongo": choose postgres, redis, nats$/],
    ['an entry named after no kind, without a kind', 'name: x\ninfrastructure:\n  mongo: {}\n', /^scaffold\.yaml:3:\d+: infrastructure\.mongo\.kind: required: one of postgres, redis, nats/],
    ['a kind of a prototype key', 'name: x\ninfrastructure:\n  store: { kind: constructor }\n', /infrastructure\.store\.kind: unknown infrastructure kind "constructor"/],
    ['an invalid infrastructure name', 'name: x\ninfrastructure:\n  My_Cache: { kind: redis }\n', /infrastructure\.My_Cache: infrastructure names use lowercase letters/],
    ['a server named like a service', 'name: x\nservices:\n  cache: { port: 3001 }\ninfrastructure:\n  cache: { kind: redis }\n', /infrastructure\.cache: "cache" is also a service/],
    ['a NATS server not named nats', 'name: x\ninfrastructure:\n  bus: { kind: nats }\n', /infrastructure\.bus: a nats server is named "nats"/],
    ['a Redis with queues told to evict', 'name: x\ninfrastructure:\n  queue: { kind: redis, eviction: allkeys-lru, queues: { jobs: {} } }\n', /infrastructure\.queue\.eviction: a Redis with queues never evicts/],
    ['a memory size without a unit', 'name: x\ninfrastructure:\n  cache: { kind: redis, maxmemory: "64" }\n', /infrastructure\.cache\.maxmemory: expected a size such as "64mb"/],
    ['a cache on an undeclared entry', 'name: x\nservices:\n  a: { port: 3001, cache: { server: cache } }\n', /services\.a\.cache\.server: "cache" is not declared under infrastructure/],
    ['a cache on a server of another kind', 'name: x\nservices:\n  a: { port: 3001, cache: { server: postgres } }\ninfrastructure:\n  postgres: {}\n', /services\.a\.cache\.server: "postgres" is a postgres server: a cache lives on a Redis entry/],
    ['a cache on the queue Redis', 'name: x\nservices:\n  a: { port: 3001, cache: { server: redis } }\ninfrastructure:\n  redis: { queues: { jobs: {} } }\n', /services\.a\.cache\.server: "redis" holds job queues and never evicts/],
    ['a use of an undeclared entry', 'name: x\nservices:\n  a: { port: 3001, uses: [kafka] }\n', /services\.a\.uses\.0: "kafka" is not declared under infrastructure: add "kafka: \{ kind: postgres \| redis \| nats \}"/],
    ['a use of a prototype key', 'name: x\nservices:\n  a: { port: 3001, uses: [constructor] }\n', /services\.a\.uses\.0: "constructor" is not declared under infrastructure/],
    ['an image with spaces', 'name: x\ninfrastructure:\n  redis: { image: "my redis" }\n', /infrastructure\.redis\.image: expected an image reference/],
    ['PORT in env', 'name: x\nservices:\n  a: { port: 3001, env: { PORT: "1" } }\n', /HOST and PORT are set by scaffold/],
    ['an unknown front port mode', 'name: x\nservices:\n  a: { port: 3001, frontPort: direct }\n', /services\.a\.frontPort: .*"proxy".*"handoff"/],
    ['broken YAML', 'name: x\nservices:\n  a: { port: 3001\n', /^scaffold\.yaml:\d+:\d+: /],
  ])('refuses %s with file:line:column and the field', (_label, text, expected) => {
    expect(problemOf(text)).toMatch(expected);
  });

  it('counts the further problems on the one line', () => {
    expect(problemOf('name: x\nservices:\n  A: { port: 1 }\n  B: { port: 2 }\n')).toMatch(/\(and \d+ more problems?\)$/);
  });
});

describe('specJsonSchema', () => {
  it('describes the input form, where defaulted fields are optional', () => {
    const schema = specJsonSchema() as { required: string[]; properties: Record<string, unknown> };
    expect(schema.required).toEqual(['name']);
    expect(Object.keys(schema.properties)).toEqual(['name', 'services', 'infrastructure', 'monitoring', 'resilience']);
    expect(JSON.stringify(schema)).toContain('"gateway"');
  });

  it('lists the infrastructure registry\'s kinds, for the section and for any other name', () => {
    const schema = specJsonSchema() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const section = schema.properties.infrastructure;
    expect(Object.keys(section.properties)).toEqual(['postgres', 'redis', 'nats']);
    // any other name is an entry of some kind, which it names
    expect(section.additionalProperties.oneOf.map((entry: any) => entry.properties.kind.const)).toEqual(['postgres', 'redis', 'nats']); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(section.additionalProperties.oneOf[1].required).toContain('kind');
    expect(section.properties.redis.required ?? []).not.toContain('kind');
    expect(Object.keys(section.properties.redis.properties)).toEqual(['kind', 'version', 'image', 'queues', 'maxmemory', 'eviction']);
    // the service is a union keyed on pattern: every pattern's member lists them
    const members = schema.properties.services.additionalProperties.oneOf as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(members.map((member) => member.properties.pattern.const)).toEqual(['http-api', 'gateway', 'worker']);
    // uses names entries, which are the user's names
    for (const member of members) expect(member.properties.uses.items.enum).toBeUndefined();
  });
});
