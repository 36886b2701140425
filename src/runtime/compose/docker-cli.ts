import { accessSync, constants, realpathSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../../errors.js';
import type { Exec } from '../exec.js';

/** The Docker programs a compose run uses, found once per command. */
export interface DockerTools {
  /** A docker client that can build with BuildKit (the Dockerfiles' RUN --mount lines). */
  docker: string;
  /** Extra environment for `docker build` (DOCKER_BUILDKIT=1 for a client without buildx). */
  buildEnv: Record<string, string>;
  /** `docker compose` (v2 plugin) or `docker-compose` (v1, what Debian ships). */
  compose: { file: string; args: string[]; v1: boolean };
}

const SUGGESTION = 'or run on plain processes: --runtime process (the default, nothing but Node.js needed)';

/**
 * Since Docker 23 the client builds with BuildKit only through the buildx plugin; older
 * clients (Debian's docker.io 20.10) have it built in behind DOCKER_BUILDKIT=1. A machine
 * can have a newer client without buildx ahead of a working one on PATH, so every docker on
 * PATH is asked, in order.
 */
export async function findDockerTools(exec: Exec): Promise<DockerTools> {
  const clients = onPath('docker');
  if (clients.length === 0) throw new EnvironmentError(`Docker is not installed (no "docker" on PATH): install Docker, ${SUGGESTION}`);
  const engine = await exec.probe(clients[0]!, ['version', '--format', '{{.Server.Version}}']);
  if (engine.exitCode !== 0) {
    const reason = String(engine.stderr).split('\n').find(Boolean) ?? 'no answer';
    throw new EnvironmentError(`the Docker engine does not answer (${reason}): start it, ${SUGGESTION}`);
  }
  let builder: Pick<DockerTools, 'docker' | 'buildEnv'> | undefined;
  for (const client of clients) {
    if ((await exec.probe(client, ['buildx', 'version'])).exitCode === 0) {
      builder = { docker: client, buildEnv: {} };
      break;
    }
    const version = await exec.probe(client, ['version', '--format', '{{.Client.Version}}']);
    if (version.exitCode === 0 && Number.parseInt(String(version.stdout), 10) < 23) {
      builder = { docker: client, buildEnv: { DOCKER_BUILDKIT: '1' } };
      break;
    }
  }
  if (!builder) throw new EnvironmentError(`the docker client cannot build with BuildKit: install the buildx plugin (docker-buildx), ${SUGGESTION}`);
  return { ...builder, compose: await findCompose(exec, builder.docker) };
}

async function findCompose(exec: Exec, docker: string): Promise<DockerTools['compose']> {
  if ((await exec.probe(docker, ['compose', 'version'])).exitCode === 0) {
    return { file: docker, args: ['compose'], v1: false };
  }
  const [v1] = onPath('docker-compose');
  if (v1) return { file: v1, args: [], v1: true };
  throw new EnvironmentError(`Docker Compose is not installed (neither "docker compose" nor "docker-compose"): install it, ${SUGGESTION}`);
}

/** Every executable of that name on PATH, in PATH order, each real file once. */
function onPath(name: string): string[] {
  const found = new Map<string, string>();
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      const real = realpathSync(candidate);
      if (!found.has(real)) found.set(real, candidate);
    } catch {
      // not here
    }
  }
  return [...found.values()];
}
