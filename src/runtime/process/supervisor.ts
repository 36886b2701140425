import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError, UserError } from '../../errors.js';
import { fileURLToPath } from 'node:url';
import { projectModel, serviceEnvironment, type InfrastructureModel, type Reach, type ServiceModel } from '../../model/project.js';
import type { Spec } from '../../spec/schema.js';
import { durationProblem, faultProblem, linkProblem, type ActiveFault, type Fault } from '../faults.js';
import type { InfrastructureStatus, InstanceStatus, ServiceStatus, SystemStatus } from '../runtime.js';
import { notAService } from '../runtime.js';
import { byteFaults, faultKind } from '../../faults/index.js';
import { TcpLink } from '../proxy/tcp-link.js';
import { missingServerProgram, onPath } from '../../infrastructure/binary.js';
import { SERVICE_ENTRY } from '../build.js';
import { Balancer, type Backend, type Handoff } from './balancer.js';
import { Instance } from './instance.js';
import { infrastructureData, instanceLog, type RunPaths } from './paths.js';
import { freePort } from './ports.js';
import { httpProbe, tcpProbe } from './probes.js';
import type { InfraArguments } from './infra-main.js';
import { LocalPrometheus } from './prometheus.js';

const INFRA_MAIN = fileURLToPath(new URL('./infra-main.js', import.meta.url));
/** initdb on a first run takes a while on a slow disk. */
const INFRA_START_TIMEOUT_MS = 120_000;

const START_TIMEOUT_MS = 60_000;
const DRAIN_MS = 2_000;
const STOP_GRACE_MS = 10_000;

interface RunningInfrastructure {
  view: InfrastructureModel;
  /** Its own port: what a client outside the system (a test, a person) uses. */
  url: string;
  instance: Instance;
  /** Per service that uses it, a link on a port of its own that the service is pointed at,
   * as for service-to-service calls: a fault on one link touches no other client. */
  links: Map<string, TcpLink>;
}

interface RunningService {
  view: ServiceModel;
  balancer: Balancer;
  /** Per caller, a balancer over the same instances on a port of its own, which the caller
   * is pointed at instead of the front port: a fault on one link touches no other caller. */
  links: Map<string, Balancer>;
  instances: Instance[];
  /** Next instance number, so ids are never reused within a run. */
  next: number;
}

export interface SupervisorOptions {
  projectDir: string;
  spec: Spec;
  paths: RunPaths;
  onProgress?: (line: string) => void;
  /** Run a Prometheus that scrapes every instance (`up --monitoring`). */
  monitoring?: boolean;
  /** The runtime's trace receiver: every instance exports to it unless the user set an
   * OTEL_EXPORTER_OTLP_ENDPOINT of their own (in the environment or the spec's `env`). */
  otlpEndpoint?: string;
}

/**
 * Runs a system as plain processes: per service a front-port balancer and its instances,
 * started in dependency order, each step gated on health.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #services = new Map<string, RunningService>();
  readonly #infrastructure = new Map<string, RunningInfrastructure>();
  readonly #project: string;
  readonly #faults = new Map<string, { active: ActiveFault; timer: NodeJS.Timeout }>();
  #faultCount = 0;
  readonly #thawTimers = new Set<NodeJS.Timeout>();
  #prometheus: LocalPrometheus | undefined;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#project = options.spec.name;
    mkdirSync(options.paths.logs, { recursive: true });
    if (options.monitoring) this.#prometheus = new LocalPrometheus(options.spec, options.paths);
  }

  async start(): Promise<SystemStatus> {
    const view = projectModel(this.#options.spec);
    const monitoring = this.#prometheus && (this.#options.onProgress?.('starting prometheus'), this.#prometheus.start(onPath));
    await Promise.all([...view.infrastructure.map((infra) => this.#startInfrastructure(infra)), monitoring]);
    for (const infra of this.#infrastructure.values()) {
      for (const client of infra.view.clients) {
        const link = new TcpLink({ name: infra.view.name, port: await freePort(), target: () => infra.instance.port });
        await link.listen();
        infra.links.set(client, link);
      }
    }
    for (const service of view.services) {
      const balancer = this.#balancer(service.name, service.port);
      await balancer.listen();
      // link ports are taken once for the run, so callers restarted or scaled later get
      // the same URL and the link's faults still apply to them
      const links = new Map<string, Balancer>();
      for (const caller of service.callers) {
        const link = this.#balancer(service.name, await freePort());
        await link.listen();
        links.set(caller, link);
      }
      this.#services.set(service.name, { view: service, balancer, links, instances: [], next: 1 });
    }
    // each service starts as soon as everything it calls is healthy: independent services
    // start side by side
    const healthy = new Map<string, Promise<void>>();
    const startAfterUpstreams = (service: ServiceModel): Promise<void> => {
      let started = healthy.get(service.name);
      if (!started) {
        const upstreams = service.upstreams.map((up) => startAfterUpstreams(view.services.find((s) => s.name === up.name)!));
        started = Promise.all(upstreams).then(() => {
          this.#options.onProgress?.(`starting ${service.name} (${service.replicas} instance${service.replicas > 1 ? 's' : ''})`);
          return this.#grow(this.#get(service.name), service.replicas);
        });
        healthy.set(service.name, started);
      }
      return started;
    };
    await Promise.all(view.services.map(startAfterUpstreams));
    return this.status();
  }

  status(): SystemStatus {
    return {
      runtime: 'process',
      project: this.#project,
      services: [...this.#services.values()].map((s) => this.#serviceStatus(s)),
      infrastructure: [...this.#infrastructure.values()].map(
        ({ view, url, instance, links }): InfrastructureStatus => ({
          name: view.name,
          kind: view.kind.name,
          url,
          instance: instance.status(),
          links: [...links].map(([from, link]) => ({ from, url: view.kind.url({ host: '127.0.0.1', port: link.port, project: this.#project }) })),
        }),
      ),
      ...(this.#prometheus?.url ? { monitoring: { prometheus: this.#prometheus.url } } : {}),
    };
  }

  async scale(name: string, replicas: number): Promise<ServiceStatus> {
    const service = this.#get(name);
    const current = service.instances.length;
    if (replicas > current) await this.#grow(service, replicas - current);
    if (replicas < current) await Promise.all(service.instances.slice(replicas).map((instance) => this.#retire(service, instance)));
    return this.#serviceStatus(service);
  }

  /** A rolling restart: one new instance up before each old one goes. */
  async restart(name: string): Promise<ServiceStatus> {
    const service = this.#get(name);
    for (const old of [...service.instances]) {
      await this.#grow(service, 1);
      await this.#retire(service, old);
    }
    return this.#serviceStatus(service);
  }

  signal(name: string, signal: NodeJS.Signals, selector: { instance?: string; all?: boolean } = {}): InstanceStatus[] {
    const targets = this.#instances(name, selector);
    for (const instance of targets) instance.signal(signal);
    return targets.map((instance) => instance.status());
  }

  /** Freezes instances (SIGSTOP) and thaws them itself when the time is up. */
  pause(name: string, selector: { instance?: string; all?: boolean }, durationMs: number): InstanceStatus[] {
    const problem = durationProblem(durationMs);
    if (problem) throw new UserError(problem);
    const targets = this.#instances(name, selector);
    for (const instance of targets) instance.signal('SIGSTOP');
    const timer = setTimeout(() => {
      this.#thawTimers.delete(timer);
      for (const instance of targets) if (instance.state === 'paused') instance.signal('SIGCONT');
    }, durationMs);
    this.#thawTimers.add(timer);
    return targets.map((instance) => instance.status());
  }

  /** Puts a fault on a service's front port (and every link into it), or with `from` on
   * that caller's link only; on an infrastructure server's links (every client's, or with
   * `from` one service's). The supervisor itself removes it on time. */
  inject(name: string, fault: Fault, durationMs: number, from?: string): ActiveFault {
    const infra = this.#infrastructure.get(name);
    if (infra && faultKind(fault)?.layer === 'http') {
      throw new UserError(`${name} does not speak HTTP, so it cannot answer with an HTTP error: use ${byteFaults().join(', ')}`);
    }
    const callers = [...(infra ?? this.#get(name)).links.keys()];
    const problem = faultProblem(fault, durationMs) ?? (from === undefined ? undefined : linkProblem(name, callers, from));
    if (problem) throw new UserError(problem);
    const active: ActiveFault = {
      id: `fault-${++this.#faultCount}`,
      service: name,
      ...(from === undefined ? {} : { from }),
      fault,
      expiresAt: new Date(Date.now() + durationMs).toISOString(),
    };
    const timer = setTimeout(() => this.clearFaults(active.id), durationMs);
    this.#faults.set(active.id, { active, timer });
    this.#applyFaults(name);
    return active;
  }

  faults(): ActiveFault[] {
    return [...this.#faults.values()].map(({ active }) => active);
  }

  clearFaults(id?: string): void {
    for (const [key, { active, timer }] of this.#faults) {
      if (id !== undefined && key !== id) continue;
      clearTimeout(timer);
      this.#faults.delete(key);
      this.#applyFaults(active.service);
    }
  }

  /** A front-port fault acts on every link into the service as well (callers used to reach
   * it through the front port, and a fault "in front of a service" means all of them); a
   * link fault acts on its own link only. */
  #applyFaults(name: string): void {
    const on = [...this.#faults.values()].map(({ active }) => active).filter((active) => active.service === name);
    const service = this.#services.get(name);
    if (service) service.balancer.faults = on.filter((active) => active.from === undefined).map((active) => active.fault);
    for (const [caller, link] of (service ?? this.#infrastructure.get(name))?.links ?? []) {
      link.faults = on.filter((active) => active.from === undefined || active.from === caller).map((active) => active.fault);
    }
  }

  async stop(): Promise<void> {
    this.clearFaults();
    for (const timer of this.#thawTimers) clearTimeout(timer);
    const services = [...this.#services.values()].reverse();
    for (const service of services) {
      await Promise.all(service.instances.map((instance) => instance.stop(STOP_GRACE_MS)));
    }
    await Promise.all(services.flatMap((service) => [service.balancer, ...service.links.values()]).map((balancer) => balancer.close()));
    this.#services.clear();
    const infrastructure = [...this.#infrastructure.values()];
    await Promise.all(infrastructure.flatMap(({ links }) => [...links.values()]).map((link) => link.close()));
    await Promise.all(infrastructure.map(({ instance }) => instance.stop(STOP_GRACE_MS)));
    this.#infrastructure.clear();
    await this.#prometheus?.stop(STOP_GRACE_MS);
  }

  /**
   * `up --monitoring` on a system already running without it: starts Prometheus now, with
   * every instance as a target at once, as if the run had begun with it. The system keeps
   * running meanwhile (restarting it to add a scraper would cost what it had: its state,
   * its faults, its clients' connections). A second call is a no-op.
   */
  async startMonitoring(): Promise<SystemStatus> {
    if (this.#prometheus === undefined) {
      const prometheus = new LocalPrometheus(this.#options.spec, this.#options.paths);
      await prometheus.start(onPath);
      this.#prometheus = prometheus;
      this.#targetsChanged();
    }
    return this.status();
  }

  /** pids of every process of the run, for the state file and orphan checks. */
  pids(): number[] {
    return [...[...this.#infrastructure.values()].map((infra) => infra.instance), ...[...this.#services.values()].flatMap((s) => s.instances)]
      .map((instance) => instance.pid)
      .concat(this.#prometheus?.pid ?? null)
      .filter((pid): pid is number => pid !== null);
  }

  /** Tells Prometheus where every instance is now: called whenever one comes or goes (a
   * crashed one keeps its port, so it stays a target, down until it is back). */
  #targetsChanged(): void {
    void this.#prometheus
      ?.updateTargets(
        [...this.#services.values()].flatMap(({ view, instances }) =>
          instances.map((instance) => ({ targets: [`127.0.0.1:${instance.port}`], labels: { service: view.name, instance_id: instance.id } })),
        ),
      )
      .catch((error: unknown) => console.error(`could not update prometheus's targets: ${(error as Error).message}`));
  }

  #spec(name: string): Spec['services'][string] {
    return this.#options.spec.services[name]!;
  }

  /** A front or link port of a service. */
  #balancer(name: string, port: number): Balancer {
    const { balancing, frontPort } = this.#spec(name);
    const instances = () => this.#services.get(name)?.instances ?? [];
    const instance = (backend: Backend) => instances().find((i) => i.id === backend.id);
    const handoff: Handoff | undefined =
      frontPort === 'handoff'
        ? {
            give: (backend, client) => instance(backend)?.handOff(client, port) ?? false,
            given: (backend) => instance(backend)?.handedOff(port) ?? 0,
            recall: (reset, backend, count) => (backend ? [instance(backend)] : instances()).forEach((i) => i?.recall(port, reset, count)),
          }
        : undefined;
    return new Balancer({ service: name, port, strategy: balancing, handoff });
  }

  #get(name: string): RunningService {
    const service = this.#services.get(name);
    if (!service) throw notAService(name, [...this.#services.keys()], [...this.#infrastructure.keys()]);
    return service;
  }

  /** The instances of a service, or an infrastructure server's one, that a signal or a
   * pause acts on. */
  #instances(name: string, selector: { instance?: string; all?: boolean }): Instance[] {
    const infra = this.#infrastructure.get(name);
    if (!infra) return this.#select(this.#get(name), selector);
    if (selector.instance !== undefined && selector.instance !== infra.instance.id) {
      throw new UserError(`no instance "${selector.instance}" of ${name} (instances: ${infra.instance.id})`);
    }
    return [infra.instance];
  }

  #select(service: RunningService, selector: { instance?: string; all?: boolean }): Instance[] {
    if (selector.all) return service.instances;
    if (selector.instance) {
      const instance = service.instances.find((i) => i.id === selector.instance || i.id === `${service.view.name}-${selector.instance}`);
      if (!instance) {
        throw new UserError(`no instance "${selector.instance}" of ${service.view.name} (instances: ${service.instances.map((i) => i.id).join(', ')})`);
      }
      return [instance];
    }
    // one at random, like a real failure would pick
    const live = service.instances.filter((i) => i.pid !== null);
    const pool = live.length > 0 ? live : service.instances;
    return pool.length > 0 ? [pool[Math.floor(Math.random() * pool.length)]!] : [];
  }

  async #grow(service: RunningService, count: number): Promise<void> {
    const started = await Promise.all(Array.from({ length: count }, () => this.#spawn(service)));
    try {
      await Promise.all(started.map((instance) => instance.waitHealthy(START_TIMEOUT_MS)));
    } catch (error) {
      throw this.#startFailure(started.find((instance) => !instance.healthy) ?? started[0]!, error);
    }
  }

  async #spawn(service: RunningService): Promise<Instance> {
    const { view } = service;
    const id = `${view.name}-${service.next++}`;
    const port = await freePort();
    for (const balancer of balancersOf(service)) balancer.add(id, port);
    const instance = new Instance({
      id,
      port,
      cwd: path.join(this.#options.projectDir, 'services', view.name),
      entry: SERVICE_ENTRY,
      env: withInstanceId(this.#environment(view, port), id),
      logFile: instanceLog(this.#options.paths, id),
      probe: httpProbe(view.health.readiness),
      restart: view.restart,
      handoff: this.#spec(view.name).frontPort === 'handoff',
      onOrphans: (orphans) => {
        for (const { socket, via } of orphans) {
          const port = balancersOf(service).find((balancer) => balancer.port === via);
          if (port) port.adopt(socket);
          else socket.destroy();
        }
      },
      onReadiness: (ready) => {
        for (const balancer of balancersOf(service)) balancer.setReady(id, ready);
      },
    });
    service.instances.push(instance);
    this.#targetsChanged();
    instance.start();
    return instance;
  }

  async #startInfrastructure(view: InfrastructureModel): Promise<void> {
    const { name, kind } = view;
    const missing = missingServerProgram(kind);
    if (missing) {
      throw new EnvironmentError(`${name} needs ${missing.command} on PATH: install it (${missing.install}) or remove ${name} from scaffold.yaml`);
    }
    const port = await freePort();
    const args: InfraArguments = { server: kind.process.server, name, port, dataDir: infrastructureData(this.#options.paths, name, kind), project: this.#project, args: view.serverArgs };
    const instance = new Instance({
      id: name,
      port,
      cwd: this.#options.projectDir,
      entry: INFRA_MAIN,
      args: [JSON.stringify(args)],
      env: {},
      logFile: instanceLog(this.#options.paths, name),
      probe: tcpProbe,
      restart: 'always',
      group: true,
      onReadiness: () => undefined,
    });
    this.#infrastructure.set(name, { view, url: kind.url({ host: '127.0.0.1', port, project: this.#project }), instance, links: new Map() });
    this.#options.onProgress?.(`starting ${name}`);
    instance.start();
    try {
      await instance.waitHealthy(INFRA_START_TIMEOUT_MS);
    } catch (error) {
      throw this.#startFailure(instance, error);
    }
  }

  /** Why an instance did not come up, with the end of its log to show it. */
  #startFailure(instance: Instance, error: unknown): UserError {
    const log = instanceLog(this.#options.paths, instance.id);
    return new UserError(
      `${(error as Error).message}; its last log lines follow (all of them: ${path.relative(this.#options.projectDir, log)})`,
      lastLines(log, 15),
    );
  }

  async #retire(service: RunningService, instance: Instance): Promise<void> {
    await Promise.all(balancersOf(service).map((balancer) => balancer.drain(instance.id, DRAIN_MS)));
    await instance.stop(STOP_GRACE_MS);
    for (const balancer of balancersOf(service)) balancer.remove(instance.id);
    service.instances = service.instances.filter((i) => i !== instance);
    this.#targetsChanged();
  }

  /** Upstreams and infrastructure are reached through this caller's link ports, so faults
   * apply to its calls, and balancing to its calls to services. */
  #environment(view: ServiceModel, port: number): Record<string, string> {
    const reach: Reach = {
      upstream: (upstream) => `http://127.0.0.1:${this.#get(upstream.name).links.get(view.name)!.port}`,
      server: (used) => used.kind.url({ host: '127.0.0.1', port: this.#infrastructure.get(used.name)!.links.get(view.name)!.port, project: this.#project }),
    };
    const runtime = this.#options.otlpEndpoint && !process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? { OTEL_EXPORTER_OTLP_ENDPOINT: this.#options.otlpEndpoint } : undefined;
    return Object.fromEntries(serviceEnvironment(view, { host: '127.0.0.1', port, reach, runtime }));
  }

  #serviceStatus(service: RunningService): ServiceStatus {
    return {
      name: service.view.name,
      url: `http://127.0.0.1:${service.view.port}`,
      replicas: service.instances.length,
      instances: service.instances.map((instance) => ({
        ...instance.status(),
        connections: balancersOf(service).reduce((sum, balancer) => sum + balancer.connections(instance.id), 0),
      })),
      links: [...service.links].map(([from, link]) => ({ from, url: `http://127.0.0.1:${link.port}` })),
      frontPort: this.#spec(service.view.name).frontPort,
    };
  }
}

/** The front port and every link port: each balances over all of the service's instances. */
function balancersOf(service: RunningService): Balancer[] {
  return [service.balancer, ...service.links.values()];
}

function lastLines(file: string, count: number): string[] {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count);
  } catch {
    return [];
  }
}

/** The instance's name as its traces' `service.instance.id`, so two replicas can be told
 * apart; attributes the user set (the environment, then the spec's `env`) come after it and win. */
function withInstanceId(env: Record<string, string>, id: string): Record<string, string> {
  const attributes = [`service.instance.id=${id}`, process.env.OTEL_RESOURCE_ATTRIBUTES, env.OTEL_RESOURCE_ATTRIBUTES].filter(Boolean).join(',');
  return { ...env, OTEL_RESOURCE_ATTRIBUTES: attributes };
}
