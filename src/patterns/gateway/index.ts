import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { UserError } from '../../errors.js';
import type { CommonService } from '../../spec/schema.js';
import { definePattern, type SchemaKit } from '../pattern.js';

/** A route prefix: "/orders", "/api/v1"; lowercase, no trailing "/". */
const ROUTE_PREFIX_PATTERN = /^\/[a-z0-9._~-]+(\/[a-z0-9._~-]+)*$/;

function routePrefixProblem(prefix: string): string | undefined {
  if (!ROUTE_PREFIX_PATTERN.test(prefix)) return 'route prefixes look like "/orders" (lowercase, no trailing "/")';
  // a client normalises "." and ".." away, so no request can ever carry them to the gateway
  if (prefix.split('/').some((segment) => segment === '.' || segment === '..')) {
    return 'a route prefix cannot hold "." or ".." segments: no request reaches them';
  }
  return undefined;
}

const fields = ({ z, serviceName }: SchemaKit) => ({
  routes: z
    .record(
      z.string().superRefine((prefix, ctx) => {
        const problem = routePrefixProblem(prefix);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
      serviceName,
    )
    .optional()
    .describe('Path prefix → upstream service.'),
  rateLimit: z
    .number()
    .int()
    .min(0)
    .default(1000)
    .describe('Requests per second allowed to one client (0 turns it off).'),
});

type Gateway = CommonService & z.output<z.ZodObject<ReturnType<typeof fields>>>;

const routesOf = (service: Gateway) => Object.entries(service.routes ?? {});

/** An API gateway: path prefixes routed to other services, with a per-client rate limit. */
export const gateway = definePattern<Gateway>({
  name: 'gateway',
  description: 'routes paths to other services',
  fields,
  calls: (service) => routesOf(service).map(([prefix, target]) => ({ target, path: ['routes', prefix] })),
  npmDependencies: {
    '@fastify/rate-limit': '^11.0.0',
    // the upstream client; 7.x runs on Node 20.18.1+
    undici: '^7.16.0',
  },
  templates: fileURLToPath(new URL('./templates/', import.meta.url)),
  slots: fileURLToPath(new URL('./slots/', import.meta.url)),
  view: (service, upstream) => ({
    routes: routesOf(service).map(([prefix, target]) => ({ prefix, upstream: upstream(target) })),
    rateLimit: service.rateLimit,
  }),
  traits: { publicIngress: true, entryPoint: true, defaultPort: 8080 },
  pathTo: (service, target) => routesOf(service).find(([, routed]) => routed === target)?.[0],
  scenarios: [],
  loadHints: {
    429: 'most answers were 429 Too Many Requests: a rate limit refused them (a gateway allows `rateLimit` requests/s per client, in scaffold.yaml): lower --rate, or raise the limit',
  },
  newService: {
    ask: {
      message: 'Route to',
      field: 'routes',
      allChecked: true,
      answer: (targets) => Object.fromEntries(targets.map((target) => [`/${target}`, target])),
    },
    flags: [{ option: '--routes <routes>', field: 'routes', description: 'gateway routes, e.g. /users=users,/orders=orders', parse: parseRoutes }],
  },
});

/** `/users=users,/orders=orders`, repeatable; a prefix given twice is a mistake, not an
 * override. */
function parseRoutes(value: string, previous: unknown): Record<string, string> {
  const parsed = { ...(previous as Record<string, string> | undefined) };
  for (const entry of value.split(',').map((item) => item.trim()).filter(Boolean)) {
    const match = /^(\/[^=]*)=(.+)$/.exec(entry);
    if (!match) throw new UserError(`"${entry}" is not a route: use /prefix=service, e.g. /users=users`);
    const [, prefix, service] = match as unknown as [string, string, string];
    const problem = routePrefixProblem(prefix);
    if (problem) throw new UserError(`"${prefix}": ${problem}`);
    if (Object.hasOwn(parsed, prefix)) throw new UserError(`${prefix} is routed twice (to ${parsed[prefix]} and ${service}): give each prefix one service`);
    parsed[prefix] = service;
  }
  return parsed;
}
