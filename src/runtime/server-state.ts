import { findInfrastructure, type SpecView } from '../infrastructure/index.js';
import type { SystemStatus } from './runtime.js';

/** Adds what each server holds (a NATS server's topics) to a status, read from the servers
 * themselves; a server that cannot be read in time says why instead, and the rest of the
 * status stands. */
export async function withServerState(status: SystemStatus, spec: SpecView): Promise<SystemStatus> {
  // compose publishes no port of a server's on this machine: the URL its status names is
  // not one to read from (it could even be someone else's server)
  if (status.runtime !== 'process') return status;
  const infrastructure = await Promise.all(
    status.infrastructure.map(async (server) => {
      const inspect = findInfrastructure(server.kind)?.inspect;
      if (!inspect) return server;
      try {
        return { ...server, ...(await withTimeout(inspect(spec, server.url), 5000)) };
      } catch (error) {
        return { ...server, stateError: (error as Error).message.split('\n')[0] };
      }
    }),
  );
  return { ...status, infrastructure };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
