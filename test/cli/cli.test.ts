import { readFileSync, rmSync, writeFileSync, cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { UserError } from '../../src/errors.js';
import { parseSpec } from '../../src/spec/load.js';
import { createClassicProject, REPO, scaffold, tempDir } from '../support/cli.js';
import { processesUnder, waitUntil } from '../support/services.js';
import { snapshotDir } from '../support/snapshot-dir.js';

let parent: string;
let project: string;

beforeAll(async () => {
  parent = tempDir();
  project = await createClassicProject(parent);
});
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** A private copy for tests that change files. */
function copyOfProject(): string {
  const copy = path.join(tempDir(), 'shop');
  cpSync(project, copy, { recursive: true });
  return copy;
}

describe('the opening story', () => {
  it('writes the spec the commands describe', () => {
    const spec = parse(readFileSync(path.join(project, 'scaffold.yaml'), 'utf8'));
    expect(spec).toEqual({
      name: 'shop',
      services: {
        users: { pattern: 'http-api', port: 3001 },
        orders: { pattern: 'http-api', port: 3002, replicas: 2, dependsOn: ['users'] },
        'api-gateway': { pattern: 'gateway', port: 8080, routes: { '/users': 'users', '/orders': 'orders' } },
      },
    });
    expect(readFileSync(path.join(project, 'scaffold.yaml'), 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=\.scaffold\/scaffold\.schema\.json\n/,
    );
  });

  it('generates code and deployment files for every service', () => {
    const files = Object.keys(snapshotDir(project));
    for (const service of ['users', 'orders', 'api-gateway']) {
      expect(files).toContain(`services/${service}/Dockerfile`);
      expect(files).toContain(`services/${service}/package.json`);
      expect(files).toContain(`deploy/k8s/base/${service}/deployment.yaml`);
    }
    expect(files).toEqual(expect.arrayContaining(['compose.yaml', '.scaffold/manifest.json', '.scaffold/scaffold.schema.json']));
  });

  it('regenerates an unchanged spec without writing anything', async () => {
    const before = snapshotDir(project);
    const result = await scaffold(['generate', '--json'], { cwd: project });
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.summary).toMatchObject({ create: 0, update: 0, delete: 0, conflict: 0 });
    expect(new Set(report.files.map((file: { action: string }) => file.action))).toEqual(new Set(['unchanged']));
    expect(snapshotDir(project)).toEqual(before);
  });
});

describe('dry runs and conflicts', () => {
  it('--dry-run --diff shows the plan with diffs and writes nothing', async () => {
    const copy = copyOfProject();
    const before = snapshotDir(copy);
    const result = await scaffold(['new-service', 'payments', '--dry-run', '--diff', '--yes'], { cwd: copy });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^create\s+services\/payments\/Dockerfile$/m);
    expect(result.stdout).toMatch(/^update\s+scaffold\.yaml$/m);
    expect(result.stdout).toMatch(/^unchanged\s+services\/users\/Dockerfile$/m);
    expect(result.stdout).toContain('+++ b/services/payments/Dockerfile');
    expect(result.stdout).toMatch(/^\+  payments:$/m);
    expect(snapshotDir(copy)).toEqual(before);
  });

  it('an edited generated file is a conflict: exit 2, one line, nothing written; --force overwrites', async () => {
    const copy = copyOfProject();
    const compose = path.join(copy, 'compose.yaml');
    writeFileSync(compose, `${readFileSync(compose, 'utf8')}# my edit\n`);
    const before = snapshotDir(copy);
    const refused = await scaffold(['new-service', 'payments', '--yes'], { cwd: copy });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/compose\.yaml: edited since it was generated.*--force/);
    expect(refused.stdout).toMatch(/^conflict\s+compose\.yaml/m);
    expect(snapshotDir(copy)).toEqual(before);

    const forced = await scaffold(['new-service', 'payments', '--yes', '--force'], { cwd: copy });
    expect(forced.exitCode).toBe(0);
    expect(readFileSync(compose, 'utf8')).not.toContain('# my edit');
    expect(readFileSync(compose, 'utf8')).toContain('payments');
  });

  it('keeps a service file the user edited when the spec changes', async () => {
    const copy = copyOfProject();
    const main = path.join(copy, 'services/users/src/main.ts');
    writeFileSync(main, '// my service now\n');
    const result = await scaffold(['new-service', 'payments', '--yes'], { cwd: copy });
    expect(result.exitCode).toBe(0);
    expect(readFileSync(main, 'utf8')).toBe('// my service now\n');
  });

  it('uses a project template override, file by file', async () => {
    const copy = copyOfProject();
    const override = path.join(copy, '.scaffold/templates/docker/_dockerignore.hbs');
    mkdirSync(path.dirname(override), { recursive: true });
    writeFileSync(override, '# ours for {{project.name}}\nnode_modules\n');
    const result = await scaffold(['generate'], { cwd: copy });
    expect(result.exitCode).toBe(0);
    expect(readFileSync(path.join(copy, '.dockerignore'), 'utf8')).toBe('# ours for shop\nnode_modules\n');
  });

  it('an override that renders invalid YAML stops the run before anything is written', async () => {
    const copy = copyOfProject();
    const override = path.join(copy, '.scaffold/templates/compose/compose.yaml.hbs');
    mkdirSync(path.dirname(override), { recursive: true });
    writeFileSync(override, 'services: [\n');
    const before = snapshotDir(copy);
    const result = await scaffold(['new-service', 'payments', '--yes'], { cwd: copy });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/compose\.yaml\.hbs renders invalid YAML/);
    expect(snapshotDir(copy)).toEqual(before);
  });
});

describe('bad input: exit 2, one clear line, nothing written', () => {
  it.each([
    [['new-service', 'A_B', '--yes'], /"A_B" is not a valid service name/],
    [['new-service', '../x', '--yes'], /"\.\.\/x" is not a valid service name/],
    [['new-service', '', '--yes'], /service name cannot be empty/],
    [['new-service', 'redis', '--yes'], /"redis" is a reserved name/],
    [['new-service', 'users', '--yes'], /service "users" already exists/],
    [['new-service', 'payments', '--port', '3001', '--yes'], /--port 3001 is already taken by "users"/],
    [['new-service', 'payments', '--port', '80', '--yes'], /--port <port>.*1024 to 65535/],
    [['new-service', 'payments', '--depends-on', 'nope', '--yes'], /--depends-on: unknown service "nope"/],
    [['new-service', 'payments', '--routes', '/x=users', '--yes'], /--routes is for pattern gateway: add --pattern gateway/],
    [['new-service', 'edge', '--pattern', 'gateway', '--routes', 'users', '--yes'], /is not a route/],
    [['new-service', 'payments', '--pattern', 'grpc', '--yes'], /Allowed choices are http-api, gateway/],
    [['new-service', 'payments', '--replicas', '0', '--yes'], /--replicas <n>.*1 to 50/],
    [['init', 'shop', '--yes'], /scaffold\.yaml already exists/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('scaffold %j', async (args, message) => {
    const before = snapshotDir(parent);
    const cwd = args[0] === 'init' ? parent : project;
    const result = await scaffold(args, { cwd });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(snapshotDir(parent)).toEqual(before);
  });

  it('a broken scaffold.yaml names file, line and field', async () => {
    const copy = copyOfProject();
    const spec = path.join(copy, 'scaffold.yaml');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('port: 3002', 'port: lots'));
    const before = snapshotDir(copy);
    const result = await scaffold(['generate'], { cwd: copy });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/scaffold\.yaml:\d+:\d+: services\.orders\.port: expected a port number/);
    expect(snapshotDir(copy)).toEqual(before);
    expect((await scaffold(['validate'], { cwd: copy })).exitCode).toBe(2);
    // up forks its supervisor before it reads the spec: that process ends, leaving no file
    const up = await scaffold(['up'], { cwd: copy });
    expect(up.exitCode).toBe(2);
    expect(up.stderr.trim().split('\n')).toHaveLength(1);
    await waitUntil(async () => processesUnder(copy).length === 0, 5_000);
    expect(snapshotDir(copy)).toEqual(before);
  });

  it('outside a project says how to start one', async () => {
    const result = await scaffold(['generate'], { cwd: parent });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/no scaffold\.yaml .*scaffold init/);
  });

  it('never waits for a prompt without a TTY, even without --yes', async () => {
    const copy = copyOfProject();
    const result = await scaffold(['new-service', 'payments'], { cwd: copy, timeout: 20_000 });
    expect(result.exitCode).toBe(0);
  });
});

describe('validate and schema', () => {
  it('validate --json reports the system', async () => {
    const result = await scaffold(['validate', '--json'], { cwd: project });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: true, project: 'shop', services: expect.any(Array) });
  });

  it('schema prints a JSON Schema that accepts and refuses what validate does, and the editor gets the same', async () => {
    const result = await scaffold(['schema'], { cwd: project });
    expect(result.exitCode).toBe(0);
    const schema = JSON.parse(result.stdout);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    // ajv, not our code, reads the printed schema
    const check = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    const fixtures: [string, string, boolean][] = [
      ['the classic fixture', readFileSync(path.join(REPO, 'test/fixtures/classic.yaml'), 'utf8'), true],
      ['the generated project', readFileSync(path.join(project, 'scaffold.yaml'), 'utf8'), true],
      [
        'every optional field',
        [
          'name: full',
          'services:',
          '  a:',
          '    port: 3001',
          '    replicas: 3',
          '    frontPort: proxy',
          '    balancing: least-connections',
          '    restart: on-failure',
          '    env: { A_B: "1" }',
          '    resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { cpu: "1", memory: 128Mi } }',
          '    health: { liveness: /live, readiness: /ready }',
          '    uses: [redis]',
          '  gw: { pattern: gateway, port: 3002, routes: { /a: a }, rateLimit: 0, dependsOn: [a] }',
          'infrastructure: { redis: { version: "7" } }',
        ].join('\n'),
        true,
      ],
      ['an unknown field', 'name: x\nservices:\n  a: { port: 3001, prot: 2 }\n', false],
      ['a port that is text', 'name: x\nservices:\n  a: { port: "80a" }\n', false],
      ['a port out of range', 'name: x\nservices:\n  a: { port: 70000 }\n', false],
      ['a missing port', 'name: x\nservices:\n  a: { replicas: 2 }\n', false],
      ['no replica', 'name: x\nservices:\n  a: { port: 3001, replicas: 0 }\n', false],
      ['an unknown front port mode', 'name: x\nservices:\n  a: { port: 3001, frontPort: direct }\n', false],
      ['an unknown pattern', 'name: x\nservices:\n  a: { port: 3001, pattern: lambda }\n', false],
      ['a bad service name', 'name: x\nservices:\n  A_B: { port: 3001 }\n', false],
      ['a bad project name', 'name: X\nservices: {}\n', false],
    ];
    for (const [label, text, valid] of fixtures) {
      expect(check(parse(text)), `${label}: ${JSON.stringify(check.errors)}`).toBe(valid);
      // and the loader behind validate agrees
      if (valid) parseSpec(text, 'scaffold.yaml');
      else expect(() => parseSpec(text, 'scaffold.yaml'), label).toThrow(UserError);
    }
    expect(schema).toEqual(JSON.parse(readFileSync(path.join(project, '.scaffold/scaffold.schema.json'), 'utf8')));
  });
});

describe('--help', () => {
  // shown parsed ("default: 30000"), a time read as 30,000 seconds: the flags take a bare
  // number as seconds
  it.each([
    [['chaos', 'latency'], ['--for <time> +how long the fault lasts \\(default: 30s\\)', '--before <time> .*\\(default: 5s\\)', '--after <time> .*\\(default: 10s\\)', '--timeout <time> .*\\(default: 10s\\)']],
    [['chaos', 'pause'], ['--for <time> +how long \\(default: 30s\\)']],
    [['simulate', 'load'], ['--timeout <time> .*\\(default: 10s\\)']],
  ])('of %j shows each time default as it is typed', async (command, lines) => {
    const help = (await scaffold([...command, '--help'], { cwd: tempDir() })).stdout;
    for (const line of lines) expect(help).toMatch(new RegExp(line));
    expect(help).not.toMatch(/default: \d{4,}\)/);
  });
});
