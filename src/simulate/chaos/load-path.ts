import { UserError } from '../../errors.js';
import { own } from '../../own.js';
import { patternOf } from '../../patterns/index.js';
import type { Service, Spec } from '../../spec/schema.js';

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
export function loadTowards(spec: Spec, service: string, from?: string): { service: string; path: string } {
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
