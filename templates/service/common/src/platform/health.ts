import type { FastifyInstance } from 'fastify';

/** starting → ready → draining: what /readyz reports, so traffic arrives only in between. */
export type Lifecycle = 'starting' | 'ready' | 'draining';

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: { state: Lifecycle };
  }
}

/**
 * Liveness answers 200 while the process can answer at all (a failure means "restart
 * me"); readiness answers 200 only while the service should get traffic (a failure means
 * "send it elsewhere for now").
 */
export function registerHealth(app: FastifyInstance, paths: { liveness: string; readiness: string }): void {
  const lifecycle: { state: Lifecycle } = { state: 'starting' };
  app.decorate('lifecycle', lifecycle);

  // Ready once every plugin, the service's own async setup included, has loaded (listen()
  // waits for the same). Work that goes on after listening can set the state itself.
  app.addHook('onReady', async () => {
    if (lifecycle.state === 'starting') lifecycle.state = 'ready';
  });
  app.addHook('preClose', async () => {
    lifecycle.state = 'draining';
  });

  // Probes come every few seconds: logging each would bury the requests that matter.
  app.get(paths.liveness, { logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get(paths.readiness, { logLevel: 'warn' }, async (_request, reply) => {
    if (lifecycle.state !== 'ready') return reply.code(503).send({ status: lifecycle.state });
    return { status: 'ready' };
  });
}
