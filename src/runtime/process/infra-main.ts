/**
 * One infrastructure server under a small Node process of ours: it holds the supervisor's
 * lifeline (loaded with --import) and takes its server down with it, which a foreign
 * binary could not do by itself. How the server starts is its kind's business (the
 * kind's `process.server` module, see src/infrastructure/).
 *
 *     node --import lifeline.js infra-main.js '{"server":"file:///…/redis/server.js","port":6380,…}'
 */
import { mkdirSync } from 'node:fs';
import type { ServerOptions, ServerStart } from '../../infrastructure/index.js';

export interface InfraArguments extends ServerOptions {
  /** The kind's server module (a file URL). */
  server: string;
}

const args = JSON.parse(process.argv[2]!) as InfraArguments;
mkdirSync(args.dataDir, { recursive: true });
const { start } = (await import(args.server)) as { start: ServerStart };
const stop = await start(args);
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  });
}
