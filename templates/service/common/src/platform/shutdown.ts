import type { FastifyInstance } from 'fastify';

/**
 * SIGTERM (orchestrators) and SIGINT (Ctrl-C) drain the service: the server stops
 * accepting connections at once (a prober's next check is refused, which fails readiness
 * as a 503 would; /readyz reads 503 only on a connection still open), requests in flight
 * finish, then the process exits 0. After `timeoutMs` it exits 1 whatever is still running, so a stuck
 * request cannot hold up a deploy; a second signal exits at once.
 */
export function exitOnSignals(app: FastifyInstance, timeoutMs: number): void {
  let draining = false;

  const onSignal = (signal: NodeJS.Signals) => {
    if (draining) {
      app.log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    draining = true;
    app.lifecycle.state = 'draining';
    app.log.info({ signal, timeoutMs }, 'shutting down: finishing requests in flight');

    // unref: when everything closes in time, this timer must not keep the process alive.
    setTimeout(() => {
      app.log.error(`requests still in flight after ${timeoutMs} ms: exiting anyway`);
      process.exit(1);
    }, timeoutMs).unref();

    app.close().then(
      () => {
        app.log.info('shut down');
        process.exit(0);
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };

  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
