import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ServiceView } from '../../generators/context.js';
import { newestMtime } from '../build.js';
import type { Exec } from '../exec.js';
import type { DockerTools } from './docker-cli.js';

export interface BuildOptions {
  projectDir: string;
  services: ServiceView[];
  tools: DockerTools;
  exec: Exec;
  /** Every Dockerfile's BASE_IMAGE build argument; default: the Dockerfiles' own. */
  baseImage?: string;
  /** A CA bundle for npm inside the build, passed as a BuildKit secret (never in a layer). */
  caCert?: string;
  /** Rebuild even when the image is newer than its sources. */
  force?: boolean;
  onProgress?: (line: string) => void;
}

/** Files outside the service's folder that every image is built from. */
const SHARED_INPUTS = ['package.json', 'package-lock.json', 'tsconfig.base.json'];

/**
 * Builds each service's image with `docker build` rather than through compose: the same
 * BuildKit flags then work with compose v1 and v2 alike, and an image newer than its
 * sources is not rebuilt. Returns the services it built.
 */
export async function buildImages(options: BuildOptions): Promise<string[]> {
  const { projectDir, tools, exec } = options;
  if (!existsSync(path.join(projectDir, 'package-lock.json'))) {
    // the Dockerfiles install exactly what the lockfile says
    options.onProgress?.('writing package-lock.json (npm install --package-lock-only)');
    await exec('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: projectDir });
  }
  const built: string[] = [];
  for (const service of options.services) {
    if (!options.force && !(await isStale(options, service))) continue;
    options.onProgress?.(`building image ${service.localImage}`);
    const args = ['build', '-f', `services/${service.name}/Dockerfile`, '-t', service.localImage];
    if (options.baseImage) args.push('--build-arg', `BASE_IMAGE=${options.baseImage}`);
    if (options.caCert) args.push('--secret', `id=npm_ca,src=${path.resolve(options.caCert)}`);
    await exec(tools.docker, [...args, '.'], { cwd: projectDir, env: tools.buildEnv });
    built.push(service.name);
  }
  return built;
}

async function isStale(options: BuildOptions, service: ServiceView): Promise<boolean> {
  const created = await options.exec(options.tools.docker, ['image', 'inspect', '--format', '{{.Created}}', service.localImage]).then(
    ({ stdout }) => Date.parse(stdout.trim()),
    () => Number.NaN,
  );
  if (Number.isNaN(created)) return true;
  const serviceDir = path.join(options.projectDir, 'services', service.name);
  const inputs = [...['src', 'package.json', 'tsconfig.json', 'Dockerfile'].map((entry) => path.join(serviceDir, entry)), ...SHARED_INPUTS.map((file) => path.join(options.projectDir, file))];
  return inputs.some((input) => newestMtime(input) > created);
}
