import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectModel, type ServiceModel } from '../../src/model/project.js';
import { findDockerTools, type DockerTools } from '../../src/runtime/compose/docker-cli.js';
import { buildImages } from '../../src/runtime/compose/images.js';
import { createExec } from '../../src/runtime/exec.js';
import { loadSpec } from '../../src/spec/load.js';
import { tempDir } from '../support/cli.js';
import { dockerEngine, ensureNodeBaseImage } from '../support/docker.js';

const engine = await dockerEngine();
if (!engine.ok && process.env.CI) throw new Error(`the image tests need a Docker engine in CI (.ci/run starts one): ${engine.reason}`);
if (!engine.ok) console.warn(`SKIPPED: the compose image tests, no Docker engine here (${engine.reason}); CI runs them`);

/**
 * When `scaffold up --runtime compose` builds an image and when it reuses one, on a real
 * engine: a one-service project whose Dockerfile is a single small layer, so each build
 * takes seconds. Every run after the first meets BuildKit's cache, whose images carry the
 * first build's creation time: the reason images are compared by content.
 */
describe.skipIf(!engine.ok)('compose images', () => {
  const name = `img-${randomBytes(3).toString('hex')}`;
  const docker = (...args: string[]) => execa('docker', args, { stdin: 'ignore' });
  let project: string;
  let service: ServiceModel;
  let tools: DockerTools;
  let base: string;
  const otherBase = `scaffold-test/other-base:${name}`;
  const build = (baseImage?: string) => buildImages({ projectDir: project, services: [service], tools, exec: createExec(), baseImage });

  beforeAll(async () => {
    project = path.join(tempDir(), name);
    mkdirSync(path.join(project, 'services/tiny'), { recursive: true });
    writeFileSync(path.join(project, 'scaffold.yaml'), `name: ${name}\nservices:\n  tiny:\n    pattern: http-api\n    port: 3000\n`);
    writeFileSync(path.join(project, 'package.json'), '{}\n');
    writeFileSync(path.join(project, 'package-lock.json'), '{}\n');
    writeFileSync(path.join(project, 'services/tiny/package.json'), '{}\n');
    base = await ensureNodeBaseImage();
    writeFileSync(path.join(project, 'services/tiny/Dockerfile'), `ARG BASE_IMAGE=${base}\nFROM \${BASE_IMAGE}\nCOPY services/tiny/package.json /app/\n`);
    service = projectModel((await loadSpec(project)).spec).services[0]!;
    tools = await findDockerTools(createExec());
    await docker('tag', base, otherBase); // the same image under another name
  });

  afterAll(async () => {
    await execa('docker', ['rmi', '-f', service?.localImage ?? '', otherBase], { reject: false, stdin: 'ignore' });
  });

  it('builds a missing image, then reuses it while nothing changed', async () => {
    expect(await build(base)).toEqual(['tiny']);
    expect(await build(base)).toEqual([]);
  });

  it('builds again when a source changes, and not when one is only rewritten', async () => {
    const source = path.join(project, 'services/tiny/package.json');
    writeFileSync(source, '{"name":"tiny"}\n');
    expect(await build(base)).toEqual(['tiny']);
    writeFileSync(source, '{"name":"tiny"}\n'); // newer, the same (a checkout, a generate)
    expect(await build(base)).toEqual([]);
  });

  it('builds again when --base-image changes, with no source changed', async () => {
    expect(await build(otherBase)).toEqual(['tiny']);
    expect(await build(otherBase)).toEqual([]);
    expect(await build(undefined)).toEqual(['tiny']); // the Dockerfile's own default: another choice again
  });
});
