import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { projectView, type ServiceView } from '../../generators/context.js';
import type { Spec } from '../../spec/schema.js';
import { faultProblem, type ActiveFault, type Fault } from '../faults.js';
import type { InstanceStatus, ServiceStatus, SystemStatus } from '../runtime.js';
import { SERVICE_ENTRY } from '../build.js';
import { Balancer } from './balancer.js';
import { Instance } from './instance.js';
import { instanceLog, type RunPaths } from './paths.js';
import { freePort } from './ports.js';

const START_TIMEOUT_MS = 60_000;
const DRAIN_MS = 2_000;
const STOP_GRACE_MS = 10_000;

interface RunningService {
  view: ServiceView;
  balancer: Balancer;
  instances: Instance[];
  /** Next instance number, so ids are never reused within a run. */
  next: number;
}

export interface SupervisorOptions {
  projectDir: string;
  spec: Spec;
  paths: RunPaths;
  onProgress?: (line: string) => void;
}

/**
 * Runs a system as plain processes: per service a front-port balancer and its instances,
 * started in dependency order, each step gated on health.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #services = new Map<string, RunningService>();
  readonly #project: string;
  readonly #faults = new Map<string, { active: ActiveFault; timer: NodeJS.Timeout }>();
  #faultCount = 0;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#project = options.spec.name;
    mkdirSync(options.paths.logs, { recursive: true });
  }

  async start(): Promise<SystemStatus> {
    const view = projectView(this.#options.spec);
    for (const service of view.services) {
      const balancer = new Balancer({ service: service.name, port: service.port, strategy: this.#options.spec.services[service.name]!.balancing });
      await balancer.listen();
      this.#services.set(service.name, { view: service, balancer, instances: [], next: 1 });
    }
    // each service starts as soon as everything it calls is healthy: independent services
    // start side by side
    const healthy = new Map<string, Promise<void>>();
    const startAfterUpstreams = (service: ServiceView): Promise<void> => {
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
    return { runtime: 'process', project: this.#project, services: [...this.#services.values()].map((s) => this.#serviceStatus(s)) };
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
    const targets = this.#select(this.#get(name), selector);
    for (const instance of targets) instance.signal(signal);
    return targets.map((instance) => instance.status());
  }

  /** Puts a fault on a service's front port; the supervisor itself removes it on time. */
  inject(name: string, fault: Fault, durationMs: number): ActiveFault {
    const service = this.#get(name);
    const problem = faultProblem(fault, durationMs);
    if (problem) throw new UserError(problem);
    const active: ActiveFault = {
      id: `fault-${++this.#faultCount}`,
      service: name,
      fault,
      expiresAt: new Date(Date.now() + durationMs).toISOString(),
    };
    const timer = setTimeout(() => this.clearFaults(active.id), durationMs);
    this.#faults.set(active.id, { active, timer });
    service.balancer.faults = [...service.balancer.faults, fault];
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
      const balancer = this.#services.get(active.service)?.balancer;
      if (balancer) balancer.faults = balancer.faults.filter((fault) => fault !== active.fault);
    }
  }

  async stop(): Promise<void> {
    this.clearFaults();
    const services = [...this.#services.values()].reverse();
    for (const service of services) {
      await Promise.all(service.instances.map((instance) => instance.stop(STOP_GRACE_MS)));
    }
    await Promise.all(services.map((service) => service.balancer.close()));
    this.#services.clear();
  }

  /** pids of every process of the run, for the state file and orphan checks. */
  pids(): number[] {
    return [...this.#services.values()].flatMap((s) => s.instances.map((i) => i.pid)).filter((pid): pid is number => pid !== null);
  }

  #get(name: string): RunningService {
    const service = this.#services.get(name);
    if (!service) {
      throw new UserError(`no service "${name}" in this run (services: ${[...this.#services.keys()].join(', ')})`);
    }
    return service;
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
      const failed = started.find((instance) => !instance.healthy) ?? started[0]!;
      const tail = lastLines(instanceLog(this.#options.paths, failed.id), 15);
      throw new UserError(`${(error as Error).message}; its last log lines follow (all of them: ${path.relative(this.#options.projectDir, instanceLog(this.#options.paths, failed.id))})`, tail);
    }
  }

  async #spawn(service: RunningService): Promise<Instance> {
    const { view } = service;
    const id = `${view.name}-${service.next++}`;
    const port = await freePort();
    const backend = service.balancer.add(id, port);
    const instance = new Instance({
      id,
      service: view.name,
      port,
      cwd: path.join(this.#options.projectDir, 'services', view.name),
      entry: SERVICE_ENTRY,
      env: this.#environment(view),
      logFile: instanceLog(this.#options.paths, id),
      readinessPath: view.health.readiness,
      restart: view.restart,
      onReadiness: (ready) => {
        backend.ready = ready;
      },
    });
    service.instances.push(instance);
    instance.start();
    return instance;
  }

  async #retire(service: RunningService, instance: Instance): Promise<void> {
    await service.balancer.drain(instance.id, DRAIN_MS);
    await instance.stop(STOP_GRACE_MS);
    service.balancer.remove(instance.id);
    service.instances = service.instances.filter((i) => i !== instance);
  }

  /** Upstreams are reached through their front ports, so balancing and faults apply to
   * service-to-service calls too. */
  #environment(view: ServiceView): Record<string, string> {
    const env: Record<string, string> = {};
    for (const upstream of view.upstreams) env[upstream.urlVar] = upstream.localUrl;
    for (const { name, value } of view.env) env[name] = value;
    return env;
  }

  #serviceStatus(service: RunningService): ServiceStatus {
    return {
      name: service.view.name,
      url: `http://127.0.0.1:${service.view.port}`,
      replicas: service.instances.length,
      instances: service.instances.map((instance) => instance.status()),
    };
  }
}

function lastLines(file: string, count: number): string[] {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count);
  } catch {
    return [];
  }
}
