import { z } from 'zod';
import {
  BALANCING,
  FRONT_PORT_MODES,
  PATTERNS,
  RESTART_POLICIES,
  routePrefixProblem,
  SERVICE_NAME_MAX,
  SERVICE_NAME_PATTERN,
  serviceNameProblem,
} from './names.js';
import { findCycle } from './graph.js';
import { findInfrastructure, infrastructureNames, unknownInfrastructure } from '../infrastructure/index.js';

/**
 * scaffold.yaml, the one description of a system. Everything downstream takes the parsed
 * `Spec`; nothing reads the YAML again.
 */

export type { Pattern } from './names.js';
// checked by one function for its messages; the JSON Schema (for editors) cannot read a
// refinement, so it is told the pattern and length too
const serviceName = z
  .string()
  .superRefine((name, ctx) => {
    const problem = serviceNameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ pattern: SERVICE_NAME_PATTERN.source, maxLength: SERVICE_NAME_MAX });

const cpu = z
  .string()
  .regex(/^(\d+m|\d+(\.\d+)?)$/, { error: 'expected a CPU quantity such as "250m" or "0.5"' });
const memory = z
  .string()
  .regex(/^\d+(Ki|Mi|Gi)$/, { error: 'expected a memory quantity such as "128Mi" or "1Gi"' });
const resourceAmounts = z.strictObject({ cpu, memory });

const httpPath = z.string().regex(/^\/[A-Za-z0-9._~\-/]*$/, {
  error: 'expected a URL path starting with "/", e.g. "/healthz"',
});

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    error: 'environment variable names use letters, digits and "_" and do not start with a digit',
  })
  .refine((name) => name !== 'HOST' && name !== 'PORT', {
    error: 'HOST and PORT are set by scaffold from the service\'s port: remove them from env',
  });

const port = z
  .number({ error: 'expected a port number between 1024 and 65535' })
  .int({ error: 'expected a whole port number' })
  .min(1024, { error: 'ports below 1024 need root: choose 1024–65535' })
  .max(65535, { error: 'ports end at 65535' });

export const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '500m', memory: '256Mi' },
} as const;

export const DEFAULT_HEALTH = { liveness: '/healthz', readiness: '/readyz' } as const;

export const serviceSchema = z
  .strictObject({
    pattern: z.enum(PATTERNS).default('http-api').describe('What the service is built from.'),
    port: port.describe('The port the service listens on: its front port on this machine.'),
    replicas: z
      .number()
      .int()
      .min(1, { error: 'a service needs at least 1 replica' })
      .max(50, { error: 'at most 50 replicas' })
      .default(1),
    dependsOn: z
      .array(serviceName)
      .default([])
      .describe('Services this one calls; each is reachable at <NAME>_URL.'),
    routes: z
      .record(
        z.string().superRefine((prefix, ctx) => {
          const problem = routePrefixProblem(prefix);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
        serviceName,
      )
      .optional()
      .describe('Gateway only: path prefix → upstream service.'),
    env: z.record(envName, z.string()).default({}),
    resources: z
      .strictObject({ requests: resourceAmounts, limits: resourceAmounts })
      .default(DEFAULT_RESOURCES),
    health: z
      .strictObject({ liveness: httpPath, readiness: httpPath })
      .refine((health) => health.liveness !== health.readiness, {
        error: 'liveness and readiness need different paths: a draining service is alive but not ready',
      })
      .default(DEFAULT_HEALTH),
    restart: z.enum(RESTART_POLICIES).default('always'),
    balancing: z.enum(BALANCING).default('round-robin'),
    frontPort: z
      .enum(FRONT_PORT_MODES)
      // handoff by default: a Kubernetes Service balances connections and never replays a
      // request, so the local runtime shows the failures a cluster would; "proxy" is what a
      // service mesh's retry adds
      .default('handoff')
      .describe(
        'Process runtime: "handoff" (default) passes each connection to an instance, for direct speed, and cannot replay, ' +
          'as a Kubernetes Service; "proxy" forwards every byte and replays a request an instance died before answering, ' +
          "as a service mesh's retry does.",
      ),
    uses: z
      .array(z.string())
      .default([])
      .describe('Infrastructure it connects to (declared under infrastructure); each is reachable at its URL variable, e.g. REDIS_URL.'),
    rateLimit: z
      .number()
      .int()
      .min(0)
      .default(1000)
      .describe('Gateway only: requests per second allowed to one client (0 turns it off).'),
  })
  .describe('One service of the system.');

/** An image reference: no spaces, no scheme (e.g. "registry.local/mirror/redis:7.4"). */
const image = z.string().regex(/^[a-z0-9][a-z0-9._\-/:@]*$/, {
  error: 'expected an image reference such as "registry.example.com/redis:7-alpine"',
});

/** One server; which kinds exist is the infrastructure registry's business (checked below,
 * and listed in the JSON Schema by `specJsonSchema`). */
const infrastructureEntry = z.strictObject({
  version: z.string().optional().describe("The server's version; each kind has a default."),
  image: image
    .optional()
    .describe('compose and Kubernetes: the image to run instead of the official one (a private registry, an air-gapped mirror).'),
});

const infrastructureSchema = z
  .record(z.string(), infrastructureEntry)
  .default({})
  // the kind's default version fills in a missing one; an unknown kind is reported below
  .transform((section) =>
    Object.fromEntries(
      Object.entries(section).map(([name, entry]) => [name, { ...entry, version: entry.version ?? findInfrastructure(name)?.defaultVersion ?? '' }]),
    ),
  )
  .describe('Servers the services use (uses: [...]), one of each kind.');

export const specSchema = z
  .strictObject({
    name: z
      .string()
      .regex(SERVICE_NAME_PATTERN, {
        error: 'project names use lowercase letters, digits and "-", starting with a letter',
      })
      .max(SERVICE_NAME_MAX)
      .describe('The project name: the compose project and the Kubernetes namespace.'),
    services: z.record(serviceName, serviceSchema).default({}),
    infrastructure: infrastructureSchema,
  })
  .superRefine(checkReferences);

export type Spec = z.output<typeof specSchema>;
export type SpecInput = z.input<typeof specSchema>;
export type Service = z.output<typeof serviceSchema>;
export type ServiceInput = z.input<typeof serviceSchema>;

function checkReferences(spec: z.output<z.ZodObject>, ctx: z.RefinementCtx): void {
  const { services, infrastructure } = spec as unknown as Pick<Spec, 'services' | 'infrastructure'>;
  const names = new Set(Object.keys(services));
  const portOwner = new Map<number, string>();

  for (const name of Object.keys(infrastructure)) {
    if (!findInfrastructure(name)) ctx.addIssue({ code: 'custom', path: ['infrastructure', name], message: unknownInfrastructure(name) });
  }

  for (const [name, service] of Object.entries(services)) {
    const at = (...rest: (string | number)[]) => ['services', name, ...rest];

    const clash = portOwner.get(service.port);
    if (clash) {
      ctx.addIssue({
        code: 'custom',
        path: at('port'),
        message: `port ${service.port} is already taken by "${clash}": give each service its own port`,
      });
    }
    portOwner.set(service.port, name);

    service.dependsOn.forEach((dependency, index) => {
      if (dependency === name) {
        ctx.addIssue({ code: 'custom', path: at('dependsOn', index), message: `"${name}" cannot depend on itself` });
      } else if (!names.has(dependency)) {
        ctx.addIssue({
          code: 'custom',
          path: at('dependsOn', index),
          message: `unknown service "${dependency}": declare it under services first`,
        });
      }
    });

    if (service.routes && service.pattern !== 'gateway') {
      ctx.addIssue({
        code: 'custom',
        path: at('routes'),
        message: 'only a service with pattern "gateway" has routes: remove them or set pattern: gateway',
      });
    }
    for (const [prefix, target] of Object.entries(service.routes ?? {})) {
      if (target === name) {
        ctx.addIssue({ code: 'custom', path: at('routes', prefix), message: 'a gateway cannot route to itself' });
      } else if (!names.has(target)) {
        ctx.addIssue({
          code: 'custom',
          path: at('routes', prefix),
          message: `unknown service "${target}": declare it under services first`,
        });
      }
    }

    service.uses.forEach((kind, index) => {
      if (!findInfrastructure(kind)) {
        ctx.addIssue({ code: 'custom', path: at('uses', index), message: unknownInfrastructure(kind) });
      } else if (!Object.hasOwn(infrastructure, kind)) {
        ctx.addIssue({
          code: 'custom',
          path: at('uses', index),
          message: `"${kind}" is not declared: add "${kind}: {}" under infrastructure`,
        });
      }
    });
  }

  const cycle = findCycle(services);
  if (cycle) {
    ctx.addIssue({
      code: 'custom',
      path: ['services', cycle[0]!, 'dependsOn'],
      message: `dependsOn forms a cycle (${cycle.join(' → ')}): services must start in some order`,
    });
  }
}

/** The JSON Schema editors use to complete and check scaffold.yaml. */
export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(specSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  // the registry's kinds by name, so editors complete them and flag a typo
  const entry = schema.properties.infrastructure.additionalProperties;
  schema.properties.infrastructure.properties = Object.fromEntries(infrastructureNames().map((kind) => [kind, entry]));
  schema.properties.infrastructure.additionalProperties = false;
  const uses = schema.properties.services.additionalProperties.properties.uses;
  uses.items = { ...uses.items, enum: infrastructureNames() };
  return { ...schema, title: 'scaffold.yaml' };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonSchema = { properties: Record<string, any> };
