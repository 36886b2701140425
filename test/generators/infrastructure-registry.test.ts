import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { generateProject } from '../../src/generators/project.js';
import { findInfrastructure, registerInfrastructure } from '../../src/infrastructure/index.js';
import { parseSpec } from '../../src/spec/load.js';
import { serviceNameProblem } from '../../src/spec/names.js';
import { specJsonSchema } from '../../src/spec/schema.js';
import { kv } from '../fixtures/seam/kv/index.js';

/** A kind from outside the built-in folders (the seam fixture's): all the spec and
 * generators know of it is what its registration says. */
const keyValue = kv;

describe('the infrastructure registry', () => {
  it('takes a kind registered from outside into the schema, the names and the generated files', () => {
    expect(() => parseSpec('name: x\ninfrastructure:\n  kv: {}\n', 'scaffold.yaml')).toThrow(/infrastructure\.kv\.kind: required: one of postgres, redis, nats/);
    registerInfrastructure(keyValue);
    expect(findInfrastructure('kv')).toBe(keyValue);
    expect(serviceNameProblem('kv')).toMatch(/reserved/);
    expect(Object.keys((specJsonSchema() as any).properties.infrastructure.properties)).toContain('kv'); // eslint-disable-line @typescript-eslint/no-explicit-any

    const { spec } = parseSpec('name: x\nservices:\n  a: { port: 3001, uses: [kv] }\ninfrastructure:\n  kv: {}\n', 'scaffold.yaml');
    expect(spec.infrastructure.kv).toEqual({ kind: 'kv', version: '1' });
    const tree = generateProject(spec);
    const compose = parseYaml(tree.read('compose.yaml')!);
    expect(compose.services.kv).toMatchObject({ image: 'example/kv:1', volumes: ['kv-data:/kv'], healthcheck: { test: ['CMD', 'kv-ping'] } });
    expect(compose.services.a.environment.KV_URL).toBe('kv://kv:7000');
    expect(compose.volumes).toEqual({ 'kv-data': {} });
    const set = parseYaml(tree.read('deploy/k8s/base/kv/statefulset.yaml')!);
    expect(set.spec.template.spec.securityContext.runAsUser).toBe(4242);
    expect(parseYaml(tree.read('deploy/k8s/base/kustomization.yaml')!).resources).toContain('kv/statefulset.yaml');
  });

  it('refuses a name twice', () => {
    expect(() => registerInfrastructure({ ...findInfrastructure('redis')! })).toThrow(/twice/);
  });
});
