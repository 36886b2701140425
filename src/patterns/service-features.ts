import { CACHE_DEPENDENCIES, QUEUE_DEPENDENCIES } from '../generators/versions.js';
import type { ServiceModel } from '../model/project.js';

/**
 * What a service gets beside its pattern for what its spec entry asks, one entry each: the
 * queues' client for a service that enqueues or consumes, the example producer route for
 * one that enqueues, the response cache for one with `cache:`. Each names its template
 * group under `templates/service/`, the npm dependencies it adds, and, where it answers
 * one, the request that exercises it: that is how load reaches a queue's server
 * (`scaffold chaos pause redis --with-load`), the way a pattern's `pathTo` says how load
 * reaches a service through it.
 */
export interface ServiceFeature {
  templates: string;
  appliesTo: (service: Pick<ServiceModel, 'enqueues' | 'consumes' | 'cache'>) => boolean;
  npmDependencies?: Readonly<Record<string, string>>;
  request?: { method: string; path: string; headers: Record<string, string>; body: string };
}

const queueClient: ServiceFeature = {
  templates: 'service/jobs',
  appliesTo: ({ enqueues, consumes }) => enqueues.length + consumes.length > 0,
  npmDependencies: QUEUE_DEPENDENCIES,
};

/** `POST /orders` (templates/service/enqueues/src/routes/orders.ts, which the http-api
 * pattern's app mounts at /orders) stores an order and enqueues its payment. */
export const producer = {
  templates: 'service/enqueues',
  appliesTo: ({ enqueues }) => enqueues.length > 0,
  request: { method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 100 }) },
} satisfies ServiceFeature;

const responseCache: ServiceFeature = {
  templates: 'service/cache',
  appliesTo: ({ cache }) => cache !== undefined,
  npmDependencies: CACHE_DEPENDENCIES,
};

export function serviceFeatures(service: Pick<ServiceModel, 'enqueues' | 'consumes' | 'cache'>): ServiceFeature[] {
  return [queueClient, producer, responseCache].filter((feature) => feature.appliesTo(service));
}
