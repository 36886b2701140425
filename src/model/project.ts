import { patternOf } from '../patterns/index.js';
import { dependenciesOf, startOrder } from '../spec/graph.js';
import { callPolicy, describePolicy, type CallPolicy } from '../spec/call-policy.js';
import { findInfrastructure, type InfrastructureKind } from '../infrastructure/index.js';
import type { Service, Spec } from '../spec/schema.js';
import { declaredQueues, infrastructureUsedBy, queueRefs, type DeclaredQueue } from '../spec/queues.js';
import { sloRuleGroups, type RuleGroup } from '../monitoring/rules.js';
import { PROMETHEUS_IMAGE } from '../monitoring/prometheus-config.js';
import { parseDuration } from '../monitoring/slo.js';

/** Node LTS line the Dockerfiles build on unless --base-image says otherwise. */
export const DEFAULT_BASE_IMAGE = 'node:24-bookworm-slim';

/** A service another one calls, with its address in each place the system runs. */
export interface Upstream {
  name: string;
  /** The environment variable that carries its base URL, e.g. USERS_URL. */
  urlVar: string;
  port: number;
  /** Where it answers when run on this machine (the process runtime's front port). */
  localUrl: string;
  /** Where it answers inside compose and Kubernetes: its name is its host. */
  clusterUrl: string;
  livenessPath: string;
}

/** An upstream as its caller sees it: with the policies of the calls to it. */
export interface CalledUpstream extends Upstream {
  policy: Omit<CallPolicy, 'target'>;
  /** The policy in words, one line per kind (its README). */
  policyText: string[];
}

/** An infrastructure server of the project, as compose and Kubernetes run it. */
export interface InfrastructureModel {
  /** Its name in the spec, its host, its compose service and Kubernetes objects. */
  name: string;
  kind: InfrastructureKind;
  version: string;
  /** The spec's `image`, or its kind's official one for `version`. */
  image: string;
  port: number;
  urlVar: string;
  clusterUrl: string;
  /** Its container's environment (`composeValue` with "$" doubled, as for services). */
  environment: { name: string; value: string; composeValue: string }[];
  command: string[] | undefined;
  /** The process runtime: what its entry's settings add to the server's arguments (a
   * queue Redis's noeviction, a cache's maxmemory). */
  serverArgs: string[];
  /** Its data: a named volume in compose (`name`), a PersistentVolumeClaim in Kubernetes. */
  volume: { name: string; path: string; mount: string } | undefined;
  healthcheck: string[];
  /** Its image's unprivileged user (Kubernetes). */
  user: number;
  /** Folders it writes besides its data (in-memory in Kubernetes). */
  scratch: { name: string; path: string }[];
  /** The services that use it (NetworkPolicy ingress). */
  clients: string[];
  /** The job queues it holds (dead-letter queues are named in each). */
  queues: QueueModel[];
}

/** A job queue as a generated service (and the CLI's status) sees it. */
export interface QueueModel {
  name: string;
  /** The server that holds it, and the variable that carries that server's URL. */
  infrastructure: string;
  urlVar: string;
  localUrl: string;
  attempts: number;
  backoff: { type: 'fixed' | 'exponential'; delayMs: number };
  concurrency: number;
  stalledIntervalMs: number;
  deadLetter: string;
}

export interface ServiceModel {
  name: string;
  pattern: string;
  port: number;
  replicas: number;
  restart: Service['restart'];
  /** Its own *_URL variable name, e.g. API_GATEWAY_URL. */
  urlVar: string;
  image: string;
  env: { name: string; value: string }[];
  /** Everything it calls: dependsOn and the calls its pattern makes (a gateway's routes). */
  upstreams: CalledUpstream[];
  /** Services that call this one (NetworkPolicy ingress). */
  callers: string[];
  uses: InfrastructureModel[];
  resources: Service['resources'] & { compose: { cpus: string; memory: string } };
  health: Service['health'];
  autoscaling: { min: number; max: number };
  /** What the container's environment holds in compose and Kubernetes: HOST, PORT, the
   * upstreams' and infrastructure's URLs, then the spec's env (which may override a URL).
   * `composeValue` has
   * "$" doubled, since compose interpolates variables in values. */
  environment: { name: string; value: string; composeValue: string }[];
  /** Its compose container exports traces to the receiver `scaffold up` runs on the host
   * (see runtime/compose/trace-receiver.ts): false when the spec's env sets its own
   * OTEL_EXPORTER_OTLP_ENDPOINT, which then wins, as on the process runtime. */
  composeTraces: boolean;
  /** JavaScript for `node -e` inside the container: exits 0 when liveness answers 2xx. No
   * "$" in it, so compose leaves it alone; no curl needed in slim images. */
  probeScript: string;
  /** What compose starts first and waits on until healthy: its upstreams, then the
   * infrastructure it uses (compose names infrastructure services by their kind). */
  startsAfter: string[];
  /** The tag compose builds and the dev overlay deploys, e.g. shop/users:dev. */
  localImage: string;
  /** Accepts traffic from anywhere (NetworkPolicy): its pattern says so (a gateway), or
   * nothing in the system calls it, since it can only be reached from outside. */
  publicIngress: boolean;
  /** Its pattern's own values (a gateway's routes and rate limit), by the pattern's names. */
  own: Record<string, unknown>;
  /** The job queues it adds jobs to (`enqueues`) and those it consumes (a worker's). */
  enqueues: QueueModel[];
  consumes: QueueModel[];
  /** The values of the clients of the servers it uses, by kind (`clients.nats.topics`). */
  clients: Record<string, Record<string, unknown>>;
  /** Its GET responses' cache (`cache:`): the Redis entry's variable and local URL, and how
   * long an entry lives. */
  cache: { server: string; urlVar: string; localUrl: string; ttlSeconds: number } | undefined;
  /** The kinds whose client templates it gets (`src/generated/<module>.ts`, imported as `identifier`). */
  clientModules: { kind: string; module: string; identifier: string }[];
}

export interface ProjectModel {
  name: string;
  /** In start order: each after what it depends on. */
  services: ServiceModel[];
  infrastructure: InfrastructureModel[];
  /** compose's named volumes: the infrastructure's data. */
  volumes: string[];
  baseImage: string;
  /** compose's build argument: the BASE_IMAGE variable, defaulting to `baseImage`. */
  composeBaseImage: string;
  /** Prometheus in compose and Kubernetes: the scrape interval, the SLOs' rules, compose's image. */
  monitoring: { scrapeInterval: string; ruleGroups: RuleGroup[]; image: string };
}

export function envPrefix(serviceName: string): string {
  return serviceName.toUpperCase().replaceAll('-', '_');
}

/**
 * The project as everything downstream of the spec sees it: generators fill templates in
 * from it, runtimes start and wire what it lists, status reads its queues. Decided here once,
 * so no template, runtime or command derives an address, a variable name or an order itself.
 */
export function projectModel(spec: Spec, options: { baseImage?: string } = {}): ProjectModel {
  const infrastructure = Object.entries(spec.infrastructure).map(([name, declared]) => infrastructureModel(spec, name, declared));
  const queues = declaredQueues(spec);
  for (const infra of infrastructure) {
    infra.queues = [...queues.values()].filter((queue) => queue.infrastructure === infra.name).map((queue) => toQueueModel(queue, infra));
  }
  const queueView = (name: string): QueueModel => {
    const declared = queues.get(name)!; // the schema admits declared queues only
    return toQueueModel(declared, infrastructure.find((infra) => infra.name === declared.infrastructure)!);
  };

  const upstream = (name: string): Upstream => {
    const port = spec.services[name]!.port;
    return {
      name,
      urlVar: `${envPrefix(name)}_URL`,
      port,
      localUrl: `http://127.0.0.1:${port}`,
      clusterUrl: `http://${name}:${port}`,
      livenessPath: spec.services[name]!.health.liveness,
    };
  };

  const callers = (name: string) =>
    Object.entries(spec.services)
      .filter(([, other]) => dependenciesOf(other).includes(name))
      .map(([caller]) => caller);

  const services = startOrder(spec).map((name): ServiceModel => {
    const service = spec.services[name]!;
    const upstreams = dependenciesOf(service).map((callee) => {
      const { target: _target, ...policy } = callPolicy(spec.resilience, name, callee);
      return { ...upstream(callee), policy, policyText: describePolicy(policy) };
    });
    const used = infrastructureUsedBy(spec, service);
    const uses = infrastructure.filter((infra) => used.includes(infra.name));
    const { enqueues, consumes } = queueRefs(service);
    const callerNames = callers(name);
    const pattern = patternOf(service);
    const env = Object.entries(service.env).map(([envName, value]) => ({ name: envName, value }));
    return {
      name,
      pattern: pattern.name,
      port: service.port,
      replicas: service.replicas,
      restart: service.restart,
      urlVar: `${envPrefix(name)}_URL`,
      image: `${spec.name}/${name}`,
      env,
      upstreams,
      callers: callerNames,
      uses,
      resources: {
        ...service.resources,
        compose: { cpus: composeCpus(service.resources.limits.cpu), memory: composeMemory(service.resources.limits.memory) },
      },
      health: service.health,
      autoscaling: { min: service.replicas, max: Math.max(service.replicas * 3, 3) },
      environment: [...serviceEnvironment({ upstreams, uses, env }, { host: '0.0.0.0', port: service.port, reach: CLUSTER_REACH })].map(([envName, value]) => ({ name: envName, value, composeValue: value.replaceAll('$', '$$$$') })),
      composeTraces: !Object.hasOwn(service.env, 'OTEL_EXPORTER_OTLP_ENDPOINT'),
      probeScript: probeScript(service.port, service.health.liveness),
      startsAfter: [...upstreams.map((up) => up.name), ...uses.map((infra) => infra.name)],
      localImage: `${spec.name}/${name}:dev`,
      publicIngress: pattern.traits.publicIngress || callerNames.length === 0,
      own: pattern.view?.(service, upstream) ?? {},
      enqueues: enqueues.map(({ queue }) => queueView(queue)),
      consumes: consumes.map(({ queue }) => queueView(queue)),
      clients: Object.fromEntries(uses.map((infra) => [infra.kind.name, infra.kind.client?.view?.(spec, name) ?? {}])),
      cache: service.cache && cacheModel(service.cache, infrastructure.find((infra) => infra.name === service.cache!.server)!),
      clientModules: [
        ...uses
          .filter((infra) => infra.kind.client?.templates)
          .map((infra) => ({ kind: infra.kind.name, module: infra.kind.name, identifier: infra.kind.name.replace(/[^A-Za-z0-9]/g, '_') })),
        // the response cache attaches and starts as a server's client does (templates/service/cache)
        ...(service.cache ? [{ kind: 'cache', module: 'cache', identifier: 'cache' }] : []),
      ],
    };
  });

  const baseImage = options.baseImage ?? DEFAULT_BASE_IMAGE;
  const volumes = infrastructure.flatMap((infra) => (infra.volume ? [infra.volume.name] : []));
  const monitoring = { scrapeInterval: spec.monitoring.scrapeInterval, ruleGroups: sloRuleGroups(spec), image: spec.monitoring.image ?? PROMETHEUS_IMAGE };
  return { name: spec.name, services, infrastructure, volumes, baseImage, composeBaseImage: `\${BASE_IMAGE:-${baseImage}}`, monitoring };
}

function cacheModel(cache: NonNullable<Service['cache']>, holder: InfrastructureModel): NonNullable<ServiceModel['cache']> {
  return { server: holder.name, urlVar: holder.urlVar, localUrl: localUrl(holder), ttlSeconds: Math.max(1, Math.round(parseDuration(cache.ttl)! / 1000)) };
}

function toQueueModel({ name, settings }: DeclaredQueue, holder: InfrastructureModel): QueueModel {
  return { name, infrastructure: holder.name, urlVar: holder.urlVar, localUrl: localUrl(holder), ...settings };
}

/** Where a server answers when run on this machine, at its own port. */
function localUrl(holder: InfrastructureModel): string {
  return holder.kind.url({ host: '127.0.0.1', port: holder.port, project: '' });
}

function infrastructureModel(spec: Spec, name: string, declared: Spec['infrastructure'][string]): InfrastructureModel {
  const kind = findInfrastructure(declared.kind)!; // the schema admits registered kinds only
  const settings = kind.settings?.(declared);
  // the entry named after its kind keeps the kind's variable, as before entries had names
  const urlVar = name === kind.name ? kind.urlVar : `${envPrefix(name)}_URL`;
  const { container } = kind;
  const path = (folder: string) => folder.replace(/^\//, '').replaceAll('/', '-');
  return {
    name,
    kind,
    version: declared.version,
    image: declared.image ?? kind.image(declared.version),
    port: kind.port,
    urlVar,
    clusterUrl: kind.url({ host: name, port: kind.port, project: spec.name }),
    environment: Object.entries(container.environment?.(spec.name) ?? {}).map(([envName, value]) => ({ name: envName, value, composeValue: value.replaceAll('$', '$$$$') })),
    command: settings?.command ?? container.command,
    serverArgs: settings?.args ?? [],
    volume: container.dataPath ? { name: `${name}-data`, path: container.dataPath, mount: `${name}-data:${container.dataPath}` } : undefined,
    healthcheck: container.healthcheck(spec.name),
    user: container.user,
    scratch: (container.scratch ?? []).map((folder) => ({ name: path(folder), path: folder })),
    clients: Object.entries(spec.services)
      .filter(([, service]) => infrastructureUsedBy(spec, service).includes(name))
      .map(([client]) => client),
    queues: [],
  };
}

/** How a runtime reaches what a service uses: its upstreams' and servers' URLs. */
export interface Reach {
  upstream: (upstream: Upstream) => string;
  server: (server: InfrastructureModel) => string;
}

/**
 * A service's environment, wherever it runs (the one place it is built): where it listens,
 * its upstreams' and servers' URLs as its runtime reaches them, what the runtime adds (an
 * OTLP endpoint), then the spec's `env`, which may override any URL. The schema keeps HOST
 * and PORT out of `env`: ports, probes and Services are wired to them.
 */
export function serviceEnvironment(
  service: Pick<ServiceModel, 'upstreams' | 'uses' | 'env'>,
  at: { host: string; port: number; reach: Reach; runtime?: Record<string, string> },
): Map<string, string> {
  const wired = new Map<string, string>([
    ['HOST', at.host],
    ['PORT', String(at.port)],
    ...service.upstreams.map((up): [string, string] => [up.urlVar, at.reach.upstream(up)]),
    ...service.uses.map((infra): [string, string] => [infra.urlVar, at.reach.server(infra)]),
    ...Object.entries(at.runtime ?? {}),
  ]);
  for (const { name, value } of service.env) wired.set(name, value);
  return wired;
}

/** Inside compose and Kubernetes every name is its own host. */
const CLUSTER_REACH: Reach = { upstream: (up) => up.clusterUrl, server: (infra) => infra.clusterUrl };

function probeScript(port: number, path: string): string {
  return `fetch('http://127.0.0.1:'+(process.env.PORT||${port})+'${path}',{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;
}

/** "500m" → "0.5", "2" → "2": compose counts CPUs, Kubernetes millicores. */
function composeCpus(quantity: string): string {
  return quantity.endsWith('m') ? String(Number(quantity.slice(0, -1)) / 1000) : quantity;
}

/** "256Mi" → "256M": compose's byte units are binary already. */
function composeMemory(quantity: string): string {
  return quantity.replace(/i$/, '').replace('K', 'k');
}
