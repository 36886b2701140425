import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Upstream } from '../config.js';
import type { UpstreamClient } from './http-client.js';
import { FAILED_UPSTREAM_HEADER } from './resilience.js';

export interface UpstreamStatus {
  /** The HTTP status of its liveness probe; null when it did not answer. */
  status: number | null;
  ok: boolean;
  ms: number;
  error?: string;
}

/**
 * GET /upstreams: every upstream's liveness as seen from here, through the same client as
 * real calls. It makes the call graph visible from outside and lets a test (or a person
 * with curl) follow one x-request-id across services.
 *
 * GET /upstreams/:name: one upstream's liveness, answered as a route that needs it would
 * be: 200 when it answered 2xx, 502 when it answered something else, and when the call got
 * no answer, what the upstream's policies say (503 naming it and the reason, or its
 * fallback's answer). Load on it shows the resilience policies at work.
 */
export function registerUpstreamsRoute(app: FastifyInstance, upstreams: readonly Upstream[]): void {
  app.get('/upstreams', async (request) => {
    const statuses = await Promise.all(upstreams.map((upstream) => probe(app.upstreams, upstream, request)));
    return Object.fromEntries(upstreams.map((upstream, index) => [upstream.name, statuses[index]]));
  });

  const byName = new Map(upstreams.map((upstream) => [upstream.name, upstream]));
  app.get<{ Params: { name: string } }>('/upstreams/:name', async (request, reply) => {
    const upstream = byName.get(request.params.name);
    if (!upstream) return reply.code(404).send({ error: 'Not Found', message: `no upstream ${JSON.stringify(request.params.name)}: see GET /upstreams` });
    const started = performance.now();
    const response = await app.upstreams.fetch(upstream.name, upstream.livenessPath, { requestId: request.id, deadline: request.deadline });
    const status = response.status;
    await response.body?.cancel();
    // a 502 says the upstream failed, not this service (see resilience.ts)
    if (!response.ok) reply.header(FAILED_UPSTREAM_HEADER, upstream.name);
    return reply.code(response.ok ? 200 : 502).send({ status, ok: response.ok, ms: Math.round((performance.now() - started) * 10) / 10 });
  });
}

async function probe(client: UpstreamClient, upstream: Upstream, request: FastifyRequest): Promise<UpstreamStatus> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    const response = await client.fetch(upstream.name, upstream.livenessPath, { requestId: request.id, deadline: request.deadline });
    // Only the status matters; cancelling the body frees the connection for reuse.
    await response.body?.cancel();
    return { status: response.status, ok: response.ok, ms: elapsed() };
  } catch (error) {
    return { status: null, ok: false, ms: elapsed(), error: (error as Error).message };
  }
}
