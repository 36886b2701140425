import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateProject } from '../../src/generators/project.js';
import { parseSpec } from '../../src/spec/load.js';

const { spec } = parseSpec(readFileSync(new URL('../fixtures/classic.yaml', import.meta.url), 'utf8'), 'scaffold.yaml');

describe('generateProject on the in-memory tree', () => {
  const tree = generateProject(spec);
  const files = tree.files();

  it('lays out every file with its owner', () => {
    expect(files.map((file) => `${file.mode.padEnd(7)} ${file.path}`)).toMatchSnapshot();
  });

  it.each([
    'compose.yaml',
    'services/orders/Dockerfile',
    'services/orders/src/generated/spec.ts',
    'services/api-gateway/src/generated/spec.ts',
    'deploy/k8s/base/orders/deployment.yaml',
    'deploy/k8s/base/orders/networkpolicy.yaml',
    'deploy/k8s/overlays/prod/kustomization.yaml',
  ])('renders %s', (path) => {
    expect(tree.read(path)).toMatchSnapshot();
  });

  it('is deterministic', () => {
    const again = generateProject(spec).files();
    expect(again).toEqual(files);
  });

  it('keeps every file that follows the spec managed, and the service code seeded', () => {
    const managed = files.filter((file) => file.mode === 'managed').map((file) => file.path);
    expect(managed.every((path) => /^(compose\.yaml|\.dockerignore|\.scaffold\/|deploy\/|services\/[^/]+\/(Dockerfile|src\/generated\/))/.test(path))).toBe(true);
    expect(files.find((file) => file.path === 'services/users/src/main.ts')?.mode).toBe('seed');
  });

  it('scales linearly: 50 services render every per-service file 50 times', () => {
    const services = Object.fromEntries(
      Array.from({ length: 50 }, (_, index) => [`svc-${index}`, { pattern: 'http-api', port: 4000 + index }]),
    );
    const { spec: big } = parseSpec(JSON.stringify({ name: 'big', services }), 'scaffold.yaml');
    const perService = files.filter((file) => file.path.startsWith('services/users/')).length;
    const bigFiles = generateProject(big).files();
    expect(bigFiles.filter((file) => file.path.startsWith('services/')).length).toBe(50 * perService);
  });
});
