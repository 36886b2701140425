import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import '../fixtures/seam/index.js';
import { patternChoices, registerNewService } from '../../src/cli/commands/new-service.js';
import { addService, initProject } from '../../src/generators/operations.js';
import { generateProject } from '../../src/generators/project.js';
import { scenariosFor } from '../../src/simulate/chaos/scenarios.js';
import { loadTowards } from '../../src/simulate/chaos/load-path.js';
import { parseSpec } from '../../src/spec/load.js';
import { specJsonSchema } from '../../src/spec/schema.js';
import { tempDir } from '../support/cli.js';

// The seam: test/fixtures/seam/ registers a pattern (beacon) and an infrastructure kind
// (kv) from its own folders. Nothing under src/ names either; everything below comes from
// those folders through the registries.

const SYSTEM = `name: lab
services:
  users: { port: 3001 }
  lamp: { pattern: beacon, port: 9090, replicas: 2, uses: [kv], watches: users }
  edge: { pattern: gateway, port: 8080, routes: { /lamp: lamp } }
infrastructure:
  kv: {}
`;

describe('a pattern and an infrastructure kind registered from a fixture folder', () => {
  it('get their schema: defaults, own fields, ownership errors, requirements, the JSON Schema', () => {
    const { spec } = parseSpec(SYSTEM, 'scaffold.yaml');
    expect(spec.services.lamp).toMatchObject({ pattern: 'beacon', signal: 'beep', watches: 'users', uses: ['kv'] });
    expect(spec.infrastructure.kv).toEqual({ kind: 'kv', version: '1' });

    const refused = (text: string) => () => parseSpec(text, 'scaffold.yaml');
    expect(refused('name: x\nservices:\n  a: { port: 3001, signal: hi }\n')).toThrow(/^scaffold\.yaml:3:6: services\.a: signal belongs to pattern beacon: remove it, or set pattern: beacon$/);
    expect(refused('name: x\nservices:\n  a: { pattern: beacon, port: 3001, routes: {} }\n')).toThrow(/routes belongs to pattern gateway/);
    expect(refused('name: x\nservices:\n  a: { pattern: lighthouse, port: 3001 }\n')).toThrow(/unknown pattern "lighthouse": use one of http-api, gateway, worker, beacon$/);
    expect(refused('name: x\nservices:\n  a: { pattern: beacon, port: 3001 }\n')).toThrow(/^scaffold\.yaml:3:6: services\.a: a beacon service needs kv: add it to uses$/);
    expect(refused('name: x\nservices:\n  a: { pattern: beacon, port: 3001, uses: [kv], watches: nobody }\ninfrastructure: { kv: {} }\n')).toThrow(/services\.a\.watches: unknown service "nobody"/);

    const members = (specJsonSchema() as any).properties.services.additionalProperties.oneOf; // eslint-disable-line @typescript-eslint/no-explicit-any
    const member = members.find((candidate: any) => candidate.properties.pattern.const === 'beacon'); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(Object.keys(member.properties)).toEqual(expect.arrayContaining(['signal', 'watches']));
    expect(Object.keys((specJsonSchema() as any).properties.infrastructure.properties)).toContain('kv'); // eslint-disable-line @typescript-eslint/no-explicit-any
  });

  it('get their templates, slots, dependencies, compose and Kubernetes entries', () => {
    const tree = generateProject(parseSpec(SYSTEM, 'scaffold.yaml').spec);
    expect(tree.read('services/lamp/src/app.ts')).toContain('/** lamp: a beacon watching users. */');
    expect(tree.read('services/lamp/src/generated/spec.ts')).toContain('export const SIGNAL = "beep";');
    const readme = tree.read('services/lamp/README.md')!;
    expect(readme).toContain('A beacon of **lab**: it answers `GET /beacon` with "beep".');
    expect(readme).toContain('| `GET /beacon` | the signal |');
    expect(readme).not.toContain('/items'); // http-api's slots are http-api's
    expect(JSON.parse(tree.read('services/lamp/package.json')!).dependencies).toMatchObject({ 'beacon-kit': '^1.0.0', fastify: expect.any(String) });
    expect(tree.read('services/lamp/src/routes/items.ts')).toBeUndefined();

    const compose = parseYaml(tree.read('compose.yaml')!);
    expect(compose.services.lamp).toMatchObject({ image: 'lab/lamp:dev', deploy: { replicas: 2 }, environment: { KV_URL: 'kv://kv:7000', USERS_URL: 'http://users:3001' } });
    expect(Object.keys(compose.services.lamp.depends_on)).toEqual(['users', 'kv']);
    expect(compose.services.kv).toMatchObject({ image: 'example/kv:1' });

    const policy = parseYaml(tree.read('deploy/k8s/base/lamp/networkpolicy.yaml')!);
    expect(policy.spec.ingress[0].from).toBeUndefined(); // its trait: public ingress, though edge calls it
    expect(parseYaml(tree.read('deploy/k8s/base/lamp/configmap.yaml')!).data.KV_URL).toBe('kv://kv:7000');
    expect(parseYaml(tree.read('deploy/k8s/base/kustomization.yaml')!).resources).toEqual(expect.arrayContaining(['lamp/deployment.yaml', 'kv/statefulset.yaml']));
  });

  it('get their prompt label and flags, and new-service writes them', async () => {
    expect(patternChoices()).toContainEqual({ value: 'beacon', name: 'beacon — answers GET /beacon (a test-only pattern)' });
    const command = new Command();
    registerNewService(command);
    const newService = command.commands.find((candidate) => candidate.name() === 'new-service')!;
    expect(newService.options.find((option) => option.long === '--pattern')?.argChoices).toEqual(['http-api', 'gateway', 'worker', 'beacon']);
    expect(newService.options.map((option) => option.long)).toEqual(expect.arrayContaining(['--signal', '--watches', '--routes']));

    const dir = path.join(tempDir(), 'lab');
    await initProject({ dir });
    await addService({ projectDir: dir, name: 'users' });
    await expect(addService({ projectDir: dir, name: 'lamp', fields: { signal: 'x' } })).rejects.toThrow('--signal is for pattern beacon: add --pattern beacon');
    await expect(addService({ projectDir: dir, name: 'lamp', pattern: 'beacon', fields: { watches: 'nobody' } })).rejects.toThrow(/^--watches: unknown service "nobody"/);
    // it uses kv, which its pattern requires; the project has to declare it
    const add = () => addService({ projectDir: dir, name: 'lamp', pattern: 'beacon', fields: { signal: 'hi', watches: 'users' } });
    await expect(add()).rejects.toThrow(/"kv" is not declared: add "kv: {}" under infrastructure/);
    await appendFile(path.join(dir, 'scaffold.yaml'), 'infrastructure:\n  kv: {}\n');
    expect((await add()).applied).toBe(true);
    expect(parseYaml(await readFile(path.join(dir, 'scaffold.yaml'), 'utf8')).services.lamp).toEqual({ pattern: 'beacon', port: 9090, uses: ['kv'], signal: 'hi', watches: 'users' });
    expect(await readFile(path.join(dir, 'services/lamp/src/generated/spec.ts'), 'utf8')).toContain('export const SIGNAL = "hi";');
  });

  it('get the scenarios it lists, and load reaches it through the gateway', async () => {
    const { spec } = parseSpec(SYSTEM, 'scaffold.yaml');
    expect(loadTowards(spec, 'lamp')).toEqual({ service: 'edge', path: '/lamp/healthz' });
    const plans = scenariosFor(spec);
    const byName = new Map(plans.map((plan) => [plan.name, plan]));
    expect(byName.get('replica-loss')?.description).toBe('SIGKILL one of 2 lamp replicas under load through edge');
    // beacon lists replica-loss alone; users, the one http-api, is not behind the gateway
    expect(byName.get('outage-and-recovery')?.notApplicable).toBeDefined();
  });
});

