import { z } from 'zod';
import {
  BALANCING,
  FRONT_PORT_MODES,
  RESTART_POLICIES,
  SERVICE_NAME_MAX,
  SERVICE_NAME_PATTERN,
  serviceNameProblem,
} from './names.js';
import { allCalls, findCycle } from './graph.js';
import {
  allInfrastructure,
  findInfrastructure,
  infrastructureNames,
  infrastructureVersion,
  unknownInfrastructure,
  type InfrastructureKind,
  type SpecView,
} from '../infrastructure/index.js';
import { allPatterns, patternOf, registryVersion } from '../patterns/index.js';
import { unknownFields } from './yaml-file.js';
import { declaredQueues, queueRefs } from './queues.js';
import { DEFAULT_SCRAPE_INTERVAL, DEFAULT_SLO_FOR, parseAvailability, parseDuration } from '../monitoring/slo.js';
import { resilienceSchema } from './resilience.js';
import { resilienceProblems } from './call-policy.js';

/**
 * scaffold.yaml, the one description of a system. Everything downstream takes the parsed
 * `Spec`; nothing reads the YAML again.
 */

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

/** "250ms", "5s", "2m", "1h": what Prometheus reads too. */
const promDuration = (example: string) =>
  z.string().refine((text) => parseDuration(text) !== undefined, { error: `expected a duration such as "${example}" (a whole number and ms, s, m or h)` });

const slo = z
  .strictObject({
    availability: z
      .string()
      .refine((text) => parseAvailability(text) !== undefined, { error: 'expected a percentage above 0 and below 100, such as "99.9%"' })
      .optional()
      .describe('Share of requests answered without a 5xx, e.g. "99.9%".'),
    p99: promDuration('250ms').optional().describe('The 99th percentile of request latency, e.g. "250ms".'),
    for: promDuration('2m')
      .default(DEFAULT_SLO_FOR)
      .describe('How long an SLO must be broken before its alert fires; at least the scrape interval.'),
  })
  .refine((objective) => objective.availability !== undefined || objective.p99 !== undefined, {
    error: 'an slo needs availability, p99 or both',
  })
  .describe('Service level objectives: each becomes a Prometheus alert rule (scaffold up --monitoring, Kubernetes).');

/** The fields every service has, whatever its pattern. */
const commonFields = {
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
  enqueues: z
    .array(z.string())
    .default([])
    .describe("Job queues it adds jobs to (declared under the redis entry's queues)."),
  uses: z
    .array(z.string())
    .default([])
    .describe('Infrastructure entries it connects to, by name; each is reachable at its URL variable: REDIS_URL for an entry named after its kind, CACHE_URL for one named cache.'),
  cache: z
    .strictObject({
      server: z.string().describe('The Redis entry that holds the cache (one without queues, e.g. cache: { kind: redis, maxmemory: 64mb }).'),
      ttl: promDuration('30s').default('30s').describe('How long a cached response is served before the route answers again.'),
    })
    .optional()
    .describe('Caches its GET responses (200s, by URL) in a Redis entry; a cache that does not answer in time is passed by.'),
  slo: slo.optional(),
};

/**
 * One service: a union keyed on `pattern`, each member the common fields plus its
 * pattern's own (from the pattern registry). A field of another pattern is refused with
 * the name of the pattern it belongs to.
 */
function buildServiceSchema() {
  const patterns = allPatterns();
  const kit = { z, serviceName, queueName };
  // what any service may set to work with a kind of server (a NATS server's `publishes`)
  const serverFields = Object.assign({}, ...allInfrastructure().map((kind) => kind.serviceFields?.(kit) ?? {})) as z.ZodRawShape;
  const own = new Map(patterns.map((pattern) => [pattern.name, pattern.fields?.(kit) ?? {}]));
  const owner = (field: string) => patterns.find((pattern) => Object.hasOwn(own.get(pattern.name)!, field))?.name;
  const members = patterns.map((pattern, index) => {
    const name = z.literal(pattern.name).describe(`What the service is built from: ${pattern.description}.`);
    return z.strictObject(
      { pattern: index === 0 ? name.default(pattern.name) : name, ...commonFields, ...serverFields, ...own.get(pattern.name) },
      { error: (issue) => (issue.code === 'unrecognized_keys' ? foreignFields(issue.keys, owner) : undefined) },
    );
  });
  const names = patterns.map((pattern) => pattern.name).join(', ');
  return z
    .discriminatedUnion('pattern', members as unknown as [z.ZodObject, ...z.ZodObject[]], {
      error: (issue) =>
        issue.code === 'invalid_union'
          ? `unknown pattern ${JSON.stringify((issue.input as { pattern?: unknown } | undefined)?.pattern)}: use one of ${names}`
          : undefined,
    })
    .describe('One service of the system.');
}

/** "routes belongs to pattern gateway" for a field another pattern owns; a field no
 * pattern has is a typo. */
function foreignFields(keys: string[], owner: (field: string) => string | undefined): string {
  const foreign = keys.filter((key) => owner(key)).map((key) => `${key} belongs to pattern ${owner(key)}: remove it, or set pattern: ${owner(key)}`);
  const unknown = keys.filter((key) => !owner(key));
  return [...foreign, ...(unknown.length > 0 ? [unknownFields(unknown)] : [])].join('; ');
}

/** A queue's name: a Redis key part and a label in status and metrics. */
const queueName = z
  .string()
  .regex(SERVICE_NAME_PATTERN, { error: 'queue names use lowercase letters, digits and "-", starting with a letter (e.g. "payments")' })
  .max(SERVICE_NAME_MAX);

/** An image reference: no spaces, no scheme (e.g. "registry.local/mirror/redis:7.4"). */
const image = z.string().regex(/^[a-z0-9][a-z0-9._\-/:@]*$/, {
  error: 'expected an image reference such as "registry.example.com/redis:7-alpine"',
});

/** One server of a registered kind: its kind, version and image, and the kind's own fields
 * (a NATS server's topics, a Redis's queues or memory limit). */
function infrastructureEntry(kind: InfrastructureKind, kindField: z.ZodType) {
  return z.strictObject({
    kind: kindField,
    version: z.string().default(kind.defaultVersion).describe(`The server's version (default ${kind.defaultVersion}).`),
    image: image
      .optional()
      .describe('compose and Kubernetes: the image to run instead of the official one (a private registry, an air-gapped mirror).'),
    ...kind.fields?.({ z, serviceName, queueName }),
  });
}

const monitoringSchema = z
  .strictObject({
    scrapeInterval: promDuration('5s').default(DEFAULT_SCRAPE_INTERVAL).describe('How often Prometheus scrapes each instance.'),
    image: image.optional().describe("compose's Prometheus (profile monitoring): the image to run instead of the official one."),
  })
  .default({ scrapeInterval: DEFAULT_SCRAPE_INTERVAL })
  .describe('Prometheus: scaffold up --monitoring, and the alert rules made from the services\' SLOs.');

/**
 * The servers, each under a name of the user's with a `kind`. The migration rule that keeps
 * older files valid: an entry without `kind` is of the kind its name names (`redis: {}` is
 * `redis: { kind: redis }`), so one server per kind, named after it, means what it did.
 */
function buildInfrastructureSchema() {
  const members = allInfrastructure().map((kind) => infrastructureEntry(kind, z.literal(kind.name).describe(kind.description)));
  const kinds = infrastructureNames().join(', ');
  const entry = z.discriminatedUnion('kind', members as unknown as [z.ZodObject, ...z.ZodObject[]], {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const kind = (issue.input as { kind?: unknown } | undefined)?.kind;
      return kind === undefined ? `one of ${kinds} (an entry not named after its kind says which it is)` : unknownInfrastructure(String(kind));
    },
  });
  return z
    .preprocess(withImpliedKinds, z.record(infrastructureName, entry))
    .default({})
    .describe('Servers the services use (uses: [...]), each under a name of its own with a kind; `redis: {}` is short for `redis: { kind: redis }`.');
}

/** An entry named after a kind, without a `kind` of its own, is of that kind. */
function withImpliedKinds(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const entries = Object.entries(value).map(([name, entry]) => {
    const implied = findInfrastructure(name) && entry !== null && typeof entry === 'object' && !Array.isArray(entry) && !Object.hasOwn(entry, 'kind');
    return [name, implied ? { kind: name, ...entry } : entry];
  });
  return Object.fromEntries(entries);
}

/** An infrastructure entry's name: its host in compose and Kubernetes, as a service's. */
const infrastructureName = z
  .string()
  .regex(SERVICE_NAME_PATTERN, { error: 'infrastructure names use lowercase letters, digits and "-", starting with a letter (e.g. "cache")' })
  .max(SERVICE_NAME_MAX);

function buildSpecSchema() {
  return z
    .strictObject({
      name: z
        .string()
        .regex(SERVICE_NAME_PATTERN, {
          error: 'project names use lowercase letters, digits and "-", starting with a letter',
        })
        .max(SERVICE_NAME_MAX)
        .describe('The project name: the compose project and the Kubernetes namespace.'),
      services: z.record(serviceName, buildServiceSchema()).default({}),
      infrastructure: buildInfrastructureSchema(),
      monitoring: monitoringSchema,
      resilience: resilienceSchema,
    })
    .superRefine(checkReferences)
    .transform(addImpliedUses);
}

/** A service that sets a kind's service fields (`publishes`) uses that server: its URL,
 * its link and its client come with them, as with `uses`. */
function addImpliedUses(spec: z.output<z.ZodObject>): z.output<z.ZodObject> {
  const { services } = spec as unknown as Pick<Spec, 'services'>;
  for (const service of Object.values(services)) {
    for (const kind of allInfrastructure()) {
      const fields = Object.keys(kind.serviceFields?.({ z, serviceName, queueName }) ?? {});
      const setsOne = fields.some((field) => {
        const value = service[field];
        return Array.isArray(value) ? value.length > 0 : value !== undefined;
      });
      if (setsOne && !service.uses.includes(kind.name)) service.uses.push(kind.name);
    }
  }
  return spec;
}

let built: { version: string; schema: z.ZodType<Spec> } | undefined;

/** scaffold.yaml's schema, built from the pattern registry (again only when it changed). */
export function specSchema(): z.ZodType<Spec> {
  const version = `${registryVersion()}.${infrastructureVersion()}`;
  if (built?.version !== version) {
    built = { version, schema: buildSpecSchema() as unknown as z.ZodType<Spec> };
  }
  return built.schema;
}

const commonObject = z.object(commonFields);
/** The fields every service has; its pattern's own are for its pattern to read. */
export type CommonService = z.output<typeof commonObject> & { pattern: string };
export type Service = CommonService & Readonly<Record<string, unknown>>;
export type ServiceInput = Partial<z.input<typeof commonObject>> & { port: number; pattern?: string } & Record<string, unknown>;
/** A server as declared: its kind (its name's when the file leaves it out), its version (the kind's default when left out), its image, and
 * its kind's own fields. */
export type InfrastructureEntry = { kind: string; version: string; image?: string } & Readonly<Record<string, unknown>>;
export interface Spec {
  name: string;
  services: Record<string, Service>;
  infrastructure: Record<string, InfrastructureEntry>;
  monitoring: z.output<typeof monitoringSchema>;
  resilience: z.output<typeof resilienceSchema>;
}
export interface SpecInput {
  name: string;
  services?: Record<string, ServiceInput>;
  infrastructure?: Record<string, { kind?: string; version?: string; image?: string } & Record<string, unknown>>;
  monitoring?: z.input<typeof monitoringSchema>;
  resilience?: z.input<typeof resilienceSchema>;
}

function checkReferences(spec: z.output<z.ZodObject>, ctx: z.RefinementCtx): void {
  const { services, infrastructure, monitoring } = spec as unknown as Pick<Spec, 'services' | 'infrastructure' | 'monitoring'>;
  const names = new Set(Object.keys(services));
  const portOwner = new Map<number, string>();

  for (const [name, entry] of Object.entries(infrastructure)) {
    const kind = findInfrastructure(entry.kind)!; // the union admits registered kinds only
    // its services reach it by its kind's name alone (`publishes:` means the NATS server)
    if (kind.serviceFields && name !== kind.name) {
      ctx.addIssue({ code: 'custom', path: ['infrastructure', name], message: `a ${kind.name} server is named "${kind.name}": rename "${name}" (a project has one)` });
    }
    if (names.has(name)) {
      ctx.addIssue({ code: 'custom', path: ['infrastructure', name], message: `"${name}" is also a service: give the server and the service different names (each is a host)` });
    }
  }

  const queues = declaredQueues({ infrastructure });
  for (const [queue, where] of duplicateQueues(infrastructure)) {
    ctx.addIssue({ code: 'custom', path: where, message: `queue "${queue}" is declared twice: give each queue and dead-letter queue its own name` });
  }

  for (const [name, service] of Object.entries(services)) {
    const at = (...rest: (string | number)[]) => ['services', name, ...rest];

    // an alert's `for` shorter than a scrape would fire on a single sample
    const scrapeMs = parseDuration(monitoring.scrapeInterval);
    const forMs = service.slo && parseDuration(service.slo.for);
    if (scrapeMs !== undefined && forMs !== undefined && forMs < scrapeMs) {
      ctx.addIssue({
        code: 'custom',
        path: at('slo', 'for'),
        message: `for ${service.slo!.for} is shorter than the scrape interval (${monitoring.scrapeInterval}): make it at least that`,
      });
    }

    const clash = portOwner.get(service.port);
    if (clash) {
      ctx.addIssue({
        code: 'custom',
        path: at('port'),
        message: `port ${service.port} is already taken by "${clash}": give each service its own port`,
      });
    }
    portOwner.set(service.port, name);

    const { enqueues, consumes } = queueRefs(service);
    for (const { queue, path } of [...enqueues, ...consumes]) {
      if (!queues.has(queue)) ctx.addIssue({ code: 'custom', path: at(...path), message: unknownQueue(queue, queues) });
    }

    for (const { target, path } of allCalls(service)) {
      if (target === name) {
        ctx.addIssue({ code: 'custom', path: at(...path), message: `"${name}" cannot call itself` });
      } else if (!names.has(target)) {
        ctx.addIssue({ code: 'custom', path: at(...path), message: `unknown service "${target}": declare it under services first` });
      }
    }

    const usedKinds = service.uses.map((used) => (Object.hasOwn(infrastructure, used) ? infrastructure[used]!.kind : used));
    for (const kind of patternOf(service).requires?.infrastructure ?? []) {
      if (!usedKinds.includes(kind)) {
        ctx.addIssue({
          code: 'custom',
          // at uses when the service has some, else at the service (uses is not in the file)
          path: service.uses.length > 0 ? at('uses') : at(),
          message: `a ${service.pattern} service needs ${kind}: add it to uses`,
        });
      }
    }

    if (service.cache) {
      const server = service.cache.server;
      const entry = Object.hasOwn(infrastructure, server) ? infrastructure[server]! : undefined;
      if (!entry) ctx.addIssue({ code: 'custom', path: at('cache', 'server'), message: undeclaredInfrastructure(server, infrastructure) });
      else if (entry.kind !== 'redis') ctx.addIssue({ code: 'custom', path: at('cache', 'server'), message: `"${server}" is a ${entry.kind} server: a cache lives on a Redis entry` });
      else if (Object.keys((entry.queues ?? {}) as object).length > 0) {
        ctx.addIssue({ code: 'custom', path: at('cache', 'server'), message: `"${server}" holds job queues and never evicts: put the cache on a Redis entry of its own (cache: { kind: redis, maxmemory: 64mb })` });
      }
    }

    service.uses.forEach((used, index) => {
      if (!Object.hasOwn(infrastructure, used)) ctx.addIssue({ code: 'custom', path: at('uses', index), message: undeclaredInfrastructure(used, infrastructure) });
    });
  }

  for (const kind of allInfrastructure()) {
    for (const problem of kind.check?.(spec as unknown as SpecView) ?? []) ctx.addIssue({ code: 'custom', ...problem });
  }
  for (const { path, message } of resilienceProblems(spec as unknown as Spec)) ctx.addIssue({ code: 'custom', path, message });

  const cycle = findCycle(services);
  if (cycle) {
    ctx.addIssue({
      code: 'custom',
      path: ['services', cycle[0]!, 'dependsOn'],
      message: `dependsOn forms a cycle (${cycle.join(' → ')}): services must start in some order`,
    });
  }
}

/** Each queue name (dead letters included) means one queue in the whole system. */
function duplicateQueues(infrastructure: Spec['infrastructure']): [string, (string | number)[]][] {
  const seen = new Set<string>();
  const twice: [string, (string | number)[]][] = [];
  for (const [name, entry] of Object.entries(infrastructure)) {
    for (const [queue, settings] of Object.entries(((entry as { queues?: unknown } | null)?.queues ?? {}) as Record<string, { deadLetter?: string }>)) {
      const where = ['infrastructure', name, 'queues', queue];
      for (const [own, path] of [[queue, where], [settings?.deadLetter ?? `${queue}-dead`, [...where, 'deadLetter']]] as const) {
        if (seen.has(own)) twice.push([own, [...path]]);
        seen.add(own);
      }
    }
  }
  return twice;
}

/** A name in `uses` that no entry has: a kind's name is declared as `<kind>: {}`. */
function undeclaredInfrastructure(name: string, infrastructure: Spec['infrastructure']): string {
  const declared = Object.keys(infrastructure);
  const known = declared.length > 0 ? ` (declared: ${declared.join(', ')})` : '';
  return findInfrastructure(name)
    ? `"${name}" is not declared: add "${name}: {}" under infrastructure${known}`
    : `"${name}" is not declared under infrastructure${known}: add "${name}: { kind: ${infrastructureNames().join(' | ')} }"`;
}

function unknownQueue(queue: string, queues: Map<string, unknown>): string {
  const known = queues.size > 0 ? `declared: ${[...queues.keys()].join(', ')}` : 'none is declared yet';
  return `unknown queue "${queue}": declare it under a Redis entry's queues, e.g. infrastructure.redis.queues (${known})`;
}

/** The JSON Schema editors use to complete and check scaffold.yaml. */
export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(specSchema(), { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  // the entries' kinds are read before their fields (an entry named after a kind may leave
  // `kind` out), which a JSON Schema says as: a kind's name holds that kind, any other name
  // one entry of some kind
  const entry = (kind: InfrastructureKind, kindField: z.ZodType) => z.toJSONSchema(infrastructureEntry(kind, kindField), { io: 'input', unrepresentable: 'any' });
  schema.properties.infrastructure = {
    description: schema.properties.infrastructure.description,
    type: 'object',
    propertyNames: { pattern: SERVICE_NAME_PATTERN.source, maxLength: SERVICE_NAME_MAX },
    properties: Object.fromEntries(allInfrastructure().map((kind) => [kind.name, entry(kind, z.literal(kind.name).optional())])),
    additionalProperties: { oneOf: allInfrastructure().map((kind) => entry(kind, z.literal(kind.name))) },
  };
  return { ...schema, title: 'scaffold.yaml' };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonSchema = { properties: Record<string, any> };
