import { QUEUE_DEPENDENCIES } from '../generators/versions.js';

/**
 * What a service gets beside its pattern for the job queues it touches, one entry each: the
 * queues' client for any service that enqueues or consumes, and the example producer route
 * for one that enqueues. Each names its template group under `templates/service/`, the npm
 * dependencies it adds, and, where it answers one, the request that exercises it: that is
 * how load reaches a queue's server (`scaffold chaos pause redis --with-load`), the way a
 * pattern's `pathTo` says how load reaches a service through it.
 */
export interface QueueFeature {
  templates: string;
  appliesTo: (queues: { enqueues: number; consumes: number }) => boolean;
  npmDependencies?: Readonly<Record<string, string>>;
  request?: { method: string; path: string; headers: Record<string, string>; body: string };
}

const client: QueueFeature = {
  templates: 'service/jobs',
  appliesTo: ({ enqueues, consumes }) => enqueues + consumes > 0,
  npmDependencies: QUEUE_DEPENDENCIES,
};

/** `POST /orders` (templates/service/enqueues/src/routes/orders.ts, which the http-api
 * pattern's app mounts at /orders) stores an order and enqueues its payment. */
export const producer = {
  templates: 'service/enqueues',
  appliesTo: ({ enqueues }) => enqueues > 0,
  request: { method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 100 }) },
} satisfies QueueFeature;

export function queueFeatures(queues: { enqueues: number; consumes: number }): QueueFeature[] {
  return [client, producer].filter((feature) => feature.appliesTo(queues));
}
