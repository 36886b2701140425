import { createHash, type Hash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ServiceModel } from '../../model/project.js';
import { SERVICE_SOURCES } from '../build.js';
import type { Exec } from '../exec.js';
import type { DockerTools } from './docker-cli.js';

export interface BuildOptions {
  projectDir: string;
  services: ServiceModel[];
  tools: DockerTools;
  exec: Exec;
  /** Every Dockerfile's BASE_IMAGE build argument; default: the Dockerfiles' own. */
  baseImage?: string;
  /** A CA bundle for npm inside the build, passed as a BuildKit secret (never in a layer). */
  caCert?: string;
  /** Rebuild even when the image was built from the same sources. */
  force?: boolean;
  onProgress?: (line: string) => void;
}

/** Files outside the service's folder that every image is built from. */
const SHARED_INPUTS = ['package.json', 'package-lock.json', 'tsconfig.base.json'];
/** A digest of what an image was built from: its sources and the base image. */
const INPUTS_LABEL = 'dev.scaffold.inputs';

/**
 * Builds each service's image with `docker build` rather than through compose: the same
 * BuildKit flags then work with compose v1 and v2 alike. An image whose label says it was
 * built from the same sources and base image is not rebuilt. The sources are compared by
 * content, not by time: a build BuildKit answers from its cache gets the cached image's
 * old creation time, and a checkout or a `generate` rewrites files without changing them.
 * Returns the services it built.
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
    const inputs = inputsDigest(options, service);
    if (!options.force && (await builtFrom(options, service)) === inputs) continue;
    options.onProgress?.(`building image ${service.localImage}`);
    const args = ['build', '-f', `services/${service.name}/Dockerfile`, '-t', service.localImage, '--label', `${INPUTS_LABEL}=${inputs}`];
    if (options.baseImage) args.push('--build-arg', `BASE_IMAGE=${options.baseImage}`);
    if (options.caCert) args.push('--secret', `id=npm_ca,src=${path.resolve(options.caCert)}`);
    await exec(tools.docker, [...args, '.'], { cwd: projectDir, env: tools.buildEnv });
    built.push(service.name);
  }
  return built;
}

/** The inputs digest on the service's image; undefined when there is no image (or it was
 * built without scaffold: `<no value>` then). */
async function builtFrom(options: BuildOptions, service: ServiceModel): Promise<string | undefined> {
  const format = `{{index .Config.Labels "${INPUTS_LABEL}"}}`;
  return options.exec(options.tools.docker, ['image', 'inspect', '--format', format, service.localImage]).then(
    ({ stdout }) => stdout.trim(),
    () => undefined,
  );
}

function inputsDigest(options: BuildOptions, service: ServiceModel): string {
  const hash = createHash('sha256').update(`base image: ${options.baseImage ?? ''}\n`);
  const serviceDir = path.join('services', service.name);
  for (const input of [...[...SERVICE_SOURCES, 'Dockerfile'].map((entry) => path.join(serviceDir, entry)), ...SHARED_INPUTS]) {
    addToDigest(hash, options.projectDir, input);
  }
  return hash.digest('hex');
}

/** Adds a file, or a folder's files in name order, each with its path relative to the project. */
function addToDigest(hash: Hash, projectDir: string, relative: string): void {
  const file = path.join(projectDir, relative);
  if (!existsSync(file)) return;
  if (statSync(file).isDirectory()) {
    for (const entry of readdirSync(file).sort()) addToDigest(hash, projectDir, path.join(relative, entry));
    return;
  }
  const content = readFileSync(file);
  hash.update(`${relative} ${content.length}\n`).update(content);
}
