import {
  dependenciesOf,
  startOrder,
  type InfrastructureKind,
  type Service,
  type Spec,
} from '../spec/schema.js';

/** Node LTS line the Dockerfiles build on unless --base-image says otherwise. */
export const DEFAULT_BASE_IMAGE = 'node:24-bookworm-slim';

/** A service another one calls, with its address in each place the system runs. */
export interface UpstreamView {
  name: string;
  /** The environment variable that carries its base URL, e.g. USERS_URL. */
  urlVar: string;
  port: number;
  /** Where it answers when run on this machine (the process runtime's front port). */
  localUrl: string;
  /** Where it answers inside compose and Kubernetes: its name is its host. */
  clusterUrl: string;
}

export interface InfrastructureView {
  kind: InfrastructureKind;
  version: string;
  image: string;
  port: number;
  urlVar: string;
  clusterUrl: string;
}

export interface ServiceView {
  name: string;
  pattern: Service['pattern'];
  isGateway: boolean;
  port: number;
  replicas: number;
  restart: Service['restart'];
  /** Its own *_URL variable name, e.g. API_GATEWAY_URL. */
  urlVar: string;
  image: string;
  env: { name: string; value: string }[];
  /** Everything it calls: dependsOn and a gateway's route targets. */
  upstreams: UpstreamView[];
  routes: { prefix: string; upstream: UpstreamView }[];
  /** Services that call this one (NetworkPolicy ingress). */
  callers: string[];
  uses: InfrastructureView[];
  resources: Service['resources'] & { compose: { cpus: string; memory: string } };
  health: Service['health'];
  rateLimit: number;
  autoscaling: { min: number; max: number };
}

export interface ProjectView {
  name: string;
  /** In start order: each after what it depends on. */
  services: ServiceView[];
  infrastructure: InfrastructureView[];
  baseImage: string;
}

const INFRASTRUCTURE: Record<InfrastructureKind, { image: (version: string) => string; port: number; urlVar: string; url: (host: string, port: number, project: string) => string }> = {
  postgres: {
    image: (version) => `postgres:${version}-alpine`,
    port: 5432,
    urlVar: 'DATABASE_URL',
    url: (host, port, project) => `postgres://${project}:${project}@${host}:${port}/${project}`,
  },
  redis: { image: (version) => `redis:${version}-alpine`, port: 6379, urlVar: 'REDIS_URL', url: (host, port) => `redis://${host}:${port}` },
  nats: { image: (version) => `nats:${version}-alpine`, port: 4222, urlVar: 'NATS_URL', url: (host, port) => `nats://${host}:${port}` },
};

export function envPrefix(serviceName: string): string {
  return serviceName.toUpperCase().replaceAll('-', '_');
}

/** Everything templates need, decided here so templates only fill values in. */
export function projectView(spec: Spec, options: { baseImage?: string } = {}): ProjectView {
  const infrastructure = (Object.keys(spec.infrastructure) as InfrastructureKind[])
    .filter((kind) => spec.infrastructure[kind])
    .map((kind): InfrastructureView => {
      const { image, port, urlVar, url } = INFRASTRUCTURE[kind];
      const version = spec.infrastructure[kind]!.version;
      return { kind, version, image: image(version), port, urlVar, clusterUrl: url(kind, port, spec.name) };
    });

  const upstream = (name: string): UpstreamView => {
    const port = spec.services[name]!.port;
    return {
      name,
      urlVar: `${envPrefix(name)}_URL`,
      port,
      localUrl: `http://127.0.0.1:${port}`,
      clusterUrl: `http://${name}:${port}`,
    };
  };

  const callers = (name: string) =>
    Object.entries(spec.services)
      .filter(([, other]) => dependenciesOf(other).includes(name))
      .map(([caller]) => caller);

  const services = startOrder(spec).map((name): ServiceView => {
    const service = spec.services[name]!;
    return {
      name,
      pattern: service.pattern,
      isGateway: service.pattern === 'gateway',
      port: service.port,
      replicas: service.replicas,
      restart: service.restart,
      urlVar: `${envPrefix(name)}_URL`,
      image: `${spec.name}/${name}`,
      env: Object.entries(service.env).map(([envName, value]) => ({ name: envName, value })),
      upstreams: dependenciesOf(service).map(upstream),
      routes: Object.entries(service.routes ?? {}).map(([prefix, target]) => ({ prefix, upstream: upstream(target) })),
      callers: callers(name),
      uses: infrastructure.filter((infra) => service.uses.includes(infra.kind)),
      resources: {
        ...service.resources,
        compose: { cpus: composeCpus(service.resources.limits.cpu), memory: composeMemory(service.resources.limits.memory) },
      },
      health: service.health,
      rateLimit: service.rateLimit,
      autoscaling: { min: service.replicas, max: Math.max(service.replicas * 3, 3) },
    };
  });

  return { name: spec.name, services, infrastructure, baseImage: options.baseImage ?? DEFAULT_BASE_IMAGE };
}

/** "500m" → "0.5", "2" → "2": compose counts CPUs, Kubernetes millicores. */
function composeCpus(quantity: string): string {
  return quantity.endsWith('m') ? String(Number(quantity.slice(0, -1)) / 1000) : quantity;
}

/** "256Mi" → "256M": compose's byte units are binary already. */
function composeMemory(quantity: string): string {
  return quantity.replace(/i$/, '').replace('K', 'k');
}
