import { CACHE_DEPENDENCIES, QUEUE_DEPENDENCIES } from '../generators/versions.js';
import type { ServiceModel } from '../model/project.js';
import { patternNamed } from './index.js';

/** What a feature reads of a service to know whether it applies. */
type FeatureInput = Pick<ServiceModel, 'pattern' | 'enqueues' | 'consumes' | 'cache'>;

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
  appliesTo: (service: FeatureInput) => boolean;
  npmDependencies?: Readonly<Record<string, string>>;
  request?: { method: string; path: string; headers: Record<string, string>; body: string };
}

const queueClient: ServiceFeature = {
  templates: 'service/jobs',
  appliesTo: ({ enqueues, consumes }) => enqueues.length + consumes.length > 0,
  npmDependencies: QUEUE_DEPENDENCIES,
};

/** `POST /orders` (templates/service/enqueues/src/routes/orders.ts) stores an order and
 * enqueues its payment: in a service that enqueues, of a pattern whose app mounts it at
 * /orders (`traits.producerRoute`: the http-api). A gateway's paths are its routes' and a
 * worker serves probes alone: one that enqueues does so from its own code. */
export const producer = {
  templates: 'service/enqueues',
  appliesTo: ({ pattern, enqueues }) => enqueues.length > 0 && patternNamed(pattern).traits.producerRoute === true,
  request: { method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 100 }) },
} satisfies ServiceFeature;

const responseCache: ServiceFeature = {
  templates: 'service/cache',
  appliesTo: ({ cache }) => cache !== undefined,
  npmDependencies: CACHE_DEPENDENCIES,
};

export function serviceFeatures(service: FeatureInput): ServiceFeature[] {
  return [queueClient, producer, responseCache].filter((feature) => feature.appliesTo(service));
}
