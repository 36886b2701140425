import { UserError } from '../../errors.js';
import { own } from '../../own.js';
import { patternOf } from '../../patterns/index.js';
import { producer as producerFeature } from '../../patterns/service-features.js';
import type { Service, Spec } from '../../spec/schema.js';
import { declaredQueues, infrastructureUsedBy } from '../../spec/queues.js';
import { startOrder } from '../../spec/graph.js';

/** The service (a gateway) and the prefix that reaches `service` through it, if any. */
export function routeTo(spec: Spec, service: string): { gateway: string; prefix: string } | undefined {
  for (const [gateway, definition] of Object.entries(spec.services)) {
    const prefix = prefixTo(definition, service);
    if (prefix) return { gateway, prefix };
  }
  return undefined;
}

/** The prefix under which `through` passes requests on to `service`, if its pattern does. */
function prefixTo(through: Service, service: string): string | undefined {
  return patternOf(through).pathTo?.(through, service);
}

/**
 * Where traffic shows a fault on `service` (or on the calls `from` makes to it), when the
 * user names no target: through a gateway's route when one leads there, else to the front
 * port, on a path every generated service answers. That is the service's liveness probe,
 * or for a fault on one link, the caller's GET /upstreams, which calls each dependency over
 * its link (a gateway calls through its route instead).
 */
export function loadTowards(spec: Spec, service: string, from?: string): LoadPath {
  if (own(spec.infrastructure, service)) return loadTowardsServer(spec, service, from);
  for (const name of [service, from]) {
    if (name !== undefined && !own(spec.services, name)) {
      throw new UserError(`no service "${name}" in scaffold.yaml (services: ${Object.keys(spec.services).join(', ')})`);
    }
  }
  const liveness = spec.services[service]!.health.liveness;
  const callerPrefix = from === undefined ? undefined : prefixTo(spec.services[from]!, service);
  if (from !== undefined && callerPrefix !== undefined) return { service: from, path: `${callerPrefix}${liveness}` };
  const [name, path] = from === undefined ? [service, liveness] : [from, '/upstreams'];
  const route = routeTo(spec, name);
  return route ? { service: route.gateway, path: `${route.prefix}${path}` } : { service: name, path };
}

/** Where a load goes: a service (its front port, or a gateway's route) and a request. */
export interface LoadPath {
  service: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A fault on an infrastructure server shows in the requests of a service that uses it, on a
 * route that reaches it: the one such route generated projects have is a producer's (the
 * producer feature's request, `POST /orders`, which only a pattern with `producerRoute`
 * answers), through a gateway's route when one leads there. A server with no such client
 * (a NATS broker, a database, a queue only a gateway or worker enqueues to) has no route
 * known to reach it: the user names one.
 */
function loadTowardsServer(spec: Spec, server: string, from?: string): LoadPath {
  const clients = startOrder(spec).filter((name) => infrastructureUsedBy(spec, spec.services[name]!).includes(server));
  if (from !== undefined && !clients.includes(from)) {
    throw new UserError(`"${from}" does not use ${server} (its clients: ${clients.join(', ') || 'none'})`);
  }
  const queues = declaredQueues(spec);
  const enqueuers = (from === undefined ? clients : [from]).filter((name) => spec.services[name]!.enqueues.some((queue) => queues.get(queue)?.infrastructure === server));
  const producer = enqueuers.find((name) => patternOf(spec.services[name]!).traits.producerRoute === true);
  if (producer === undefined) {
    const routeless = enqueuers.length === 0 ? '' : ` (${enqueuers.join(' and ')} ${enqueuers.length === 1 ? 'enqueues' : 'enqueue'} to it, but only an http-api answers POST /orders)`;
    throw new UserError(`no generated route is known to reach ${server}${routeless}: aim the load with --path (and --method, --body) at a route of ${from ?? (clients.join(' or ') || 'a service')} that uses it, or --target`);
  }
  const route = routeTo(spec, producer);
  const { path, ...request } = producerFeature.request;
  return route ? { service: route.gateway, path: `${route.prefix}${path}`, ...request } : { service: producer, path, ...request };
}
