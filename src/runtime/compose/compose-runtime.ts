import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { writeFileAtomic } from '../../atomic-write.js';
import { EnvironmentError, UserError } from '../../errors.js';
import type { ProjectModel, ServiceModel } from '../../model/project.js';
import type { Model } from '../../model/load.js';
import { scaffoldPaths } from '../../scaffold-dir.js';
import { createExec, type Exec } from '../exec.js';
import { byteFaults, faultKind } from '../../faults/index.js';
import { faultProblem, linkProblem, type ActiveFault, type Fault } from '../faults.js';
import { forgetRuntime, rememberRuntime } from '../remembered.js';
import { cancelStarting, whileStarting } from '../starting.js';
import {
  NotRunningError,
  UnsupportedError,
  type LogsOptions,
  type DownOptions,
  type InjectOptions,
  type InstanceStatus,
  type KillOptions,
  type Runtime,
  type ServiceStatus,
  type SystemStatus,
  type UpOptions,
  notAService,
} from '../runtime.js';
import { PROJECT_LABEL, instanceOf, projectContainers, type Container } from './containers.js';
import { findDockerTools, type DockerTools } from './docker-cli.js';
import { FaultKeepers, type KeeperLaunch, type PauseHeld } from './fault-keepers.js';
import { buildImages } from './images.js';
import { ensureTraceReceiver, stopTraceReceiver, traceEnvironment } from './trace-receiver.js';
import { mergeByTime, searchedFor, type InstanceLines } from '../process/log-lines.js';

const HEALTHY_TIMEOUT_MS = 180_000;

/**
 * The system as Docker Compose containers, from the generated compose.yaml. Images are
 * built with `docker build` (see images.ts), compose only runs them; faults are held by
 * detached keeper processes (see fault-keeper-main.ts).
 */
export class ComposeRuntime implements Runtime {
  readonly name = 'compose' as const;
  readonly #projectDir: string;
  readonly #exec: Exec;
  readonly #keepers: FaultKeepers;
  #tools: Promise<DockerTools> | undefined;
  readonly #model: () => Promise<Model>;

  /** `model` gives the spec the CLI loaded (read once per command, on first use). */
  constructor(options: { projectDir: string; exec?: Exec; model: () => Promise<Model> }) {
    this.#projectDir = options.projectDir;
    this.#exec = options.exec ?? createExec();
    this.#model = options.model;
    this.#keepers = new FaultKeepers(options.projectDir);
  }

  up(options: UpOptions = {}): Promise<SystemStatus> {
    return whileStarting(this.#projectDir, async () => this.#up((await this.#model()).project, options));
  }

  async #up(view: ProjectModel, options: UpOptions): Promise<SystemStatus> {
    const tools = await this.#docker();
    await buildImages({ projectDir: this.#projectDir, services: view.services, tools, exec: this.#exec, baseImage: options.baseImage, caCert: options.caCert, force: options.build, onProgress: options.onProgress });
    await rememberRuntime(this.#projectDir, this.name);
    await ensureTraceReceiver(this.#projectDir, this.#exec, tools.docker);
    options.onProgress?.('starting containers (compose up)');
    await this.#compose(['up', '-d', '--no-build', '--remove-orphans']);
    return this.#waitHealthy(options.onProgress);
  }

  /**
   * The containers run detached as with `up`; this process stays until a signal, when it
   * takes them down, or until they are gone (`scaffold down` from another terminal), which
   * the engine's events tell as each container is removed.
   */
  async attach(options: UpOptions = {}): Promise<{ status: SystemStatus; stopped: Promise<void> }> {
    const status = await this.up(options);
    const { events: removals } = await this.#containerEvents('destroy');
    let stopping = false;
    const stopped = new Promise<void>((resolve, reject) => {
      const end = () => {
        stopping = true;
        removals.kill();
        resolve();
      };
      // on its own, it ends only with the engine: nothing would tell this process the end
      void removals.then(({ exitCode }) => {
        if (stopping) return;
        reject(new EnvironmentError(`lost the Docker engine's events ("docker events" exited with code ${exitCode}): no longer attached; "scaffold down" stops what still runs`));
      });
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          stopping = true;
          this.down().then(end, reject);
        });
      }
      removals.stdout?.on('data', () => {
        if (stopping) return;
        this.#containers().then((left) => left.length === 0 && !stopping && end(), () => undefined);
      });
    });
    return { status, stopped };
  }

  async down(options: DownOptions = {}): Promise<void> {
    await cancelStarting(this.#projectDir);
    await this.#keepers.clear();
    if (existsSync(path.join(this.#projectDir, 'compose.yaml'))) {
      await this.#compose(['down', '--remove-orphans', ...(options.volumes ? ['--volumes'] : [])]);
      if (options.volumes) await this.#removeUndeclaredVolumes();
    }
    await stopTraceReceiver(this.#projectDir);
    await forgetRuntime(this.#projectDir);
  }

  async status(): Promise<SystemStatus> {
    const view = await this.#project();
    const containers = await this.#containers();
    const services = view.services.map((service) => serviceStatus(service, containers));
    const infrastructure = view.infrastructure.flatMap((infra) => {
      const container = containers.find((c) => c.service === infra.name);
      if (!container) return [];
      const instance = instanceOf(container, infra.port);
      return [{ name: infra.name, kind: infra.kind.name, url: infra.kind.url({ host: '127.0.0.1', port: instance.port, project: view.name }), instance }];
    });
    return { runtime: this.name, project: view.name, services, infrastructure };
  }

  async endpoint(service: string): Promise<URL> {
    const found = (await this.status()).services.find((s) => s.name === service);
    if (!found || found.instances.length === 0) throw new UserError(`no service "${service}" is running`);
    return new URL(found.url);
  }

  /**
   * A crash, as the container's restart policy sees one: the signal goes from the host to
   * the container's main process. `docker kill` would instead count as a deliberate stop,
   * and Docker does not restart a container that was stopped on purpose.
   */
  async kill(service: string, options: KillOptions = {}): Promise<InstanceStatus[]> {
    const { service: view, chosen } = await this.#choose(service, options);
    // a stopped container's pid is 0, and kill(0) would signal our own process group
    const victims = chosen.filter((container) => container.pid > 0);
    if (victims.length === 0 || (!options.all && victims.length < chosen.length)) {
      throw new UserError(`${chosen.map((c) => `${c.name} (${c.status})`).join(', ')}: not running, nothing to kill`);
    }
    for (const container of victims) {
      try {
        process.kill(container.pid, options.signal ?? 'SIGKILL');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new EnvironmentError(
          code === 'EPERM'
            ? `not allowed to signal ${container.name}'s process (pid ${container.pid}): run as root, or as the user the container runs as`
            : `${container.name}'s process (pid ${container.pid}) is not visible from here (Docker in a VM?): kill-service on compose needs the engine on this host`,
        );
      }
    }
    return victims.map((container) => instanceOf(container, view.port));
  }

  async pause(service: string, options: { instance?: string; durationMs: number }): Promise<InstanceStatus[]> {
    const { service: view, chosen } = await this.#choose(service, { instance: options.instance, all: !options.instance });
    const tools = await this.#docker();
    const containers = chosen.map((c) => c.name);
    await this.#keepers.start<PauseHeld>({ id: newId('pause'), service, pause: true }, [
      { config: { kind: 'pause', docker: tools.docker, containers, durationMs: options.durationMs } },
    ]);
    return (await this.#containers()).filter((c) => containers.includes(c.name)).map((c) => instanceOf(c, view.port));
  }

  async resume(service: string, options: { instance?: string } = {}): Promise<InstanceStatus[]> {
    await this.#keepers.clear({ service, pause: true });
    const { service: view, chosen } = await this.#choose(service, { instance: options.instance, all: !options.instance });
    const paused = chosen.filter((c) => c.status === 'paused').map((c) => c.name);
    if (paused.length > 0) await this.#exec((await this.#docker()).docker, ['unpause', ...paused]);
    return (await this.#containers()).filter((c) => c.service === service).map((c) => instanceOf(c, view.port));
  }

  /** One container at a time, each healthy again before the next. */
  async restart(service: string): Promise<ServiceStatus> {
    const { docker } = await this.#docker();
    const view = this.#service(await this.#project(), service);
    const { chosen } = await this.#choose(service, { all: true });
    for (const container of chosen) {
      await this.#exec(docker, ['restart', container.name]);
      await this.#waitHealthy(undefined, [service]);
    }
    return serviceStatus(view, await this.#containers());
  }

  async scale(service: string, replicas: number): Promise<ServiceStatus> {
    const view = this.#service(await this.#project(), service);
    if (view.replicas === 1 && replicas > 1) {
      throw new UserError(
        `${service} publishes the fixed host port ${view.port}, so compose cannot run ${replicas} of it: set "replicas: ${replicas}" in scaffold.yaml (several replicas publish ephemeral ports) and "scaffold up" again`,
      );
    }
    await this.#compose(['up', '-d', '--no-build', '--no-recreate', '--no-deps', '--scale', `${service}=${replicas}`, service]);
    await this.#waitHealthy(undefined, [service]);
    return serviceStatus(view, await this.#containers());
  }

  /**
   * `docker logs` of each container (its name first on every line), followed side by side.
   * A `docker logs --follow` ends with its container, so a container that starts later (a
   * restart after a crash, a scale) is followed anew from its start, which the engine's
   * events announce.
   */
  async *logs(service: string | undefined, options: LogsOptions = {}): AsyncIterable<string> {
    if (options.trace !== undefined || options.request !== undefined) {
      yield* await this.#searchLogs(service, { trace: options.trace, request: options.request });
      return;
    }
    if (service === undefined) throw new UserError('name a service, or give --trace or --request to search every service');
    const { chosen } = await this.#choose(service, { all: true });
    const { docker } = await this.#docker();
    const exec = this.#exec;
    const { signal } = options;
    if (!options.follow) {
      for (const container of chosen) yield* containerLines(exec, docker, container.name, {});
      return;
    }
    const { events: starts } = await this.#containerEvents('start', { service, format: '{{.Actor.Attributes.name}} {{.TimeNano}}', signal });
    const started = async function* () {
      for await (const line of starts.iterable()) {
        const [name, nanos] = String(line).split(' ');
        // docker's --since takes seconds with a fraction
        const since = `${nanos!.slice(0, -9)}.${nanos!.slice(-9)}`;
        yield containerLines(exec, docker, name!, { follow: true, since, signal });
      }
    };
    yield* merge(
      chosen.map((container) => containerLines(exec, docker, container.name, { follow: true, signal })),
      started(),
    );
  }

  /** One trace's or request's lines in every container of the project (or of one service)
   * that is still there — a crashed and restarted one included, a removed one not — merged
   * by time. */
  async #searchLogs(service: string | undefined, search: { trace?: string; request?: string }): Promise<string[]> {
    const { docker } = await this.#docker();
    const wanted = searchedFor(search);
    const containers = (await this.#containers()).filter((c) => service === undefined || c.service === service);
    const instances: InstanceLines[] = await Promise.all(
      containers.map(async (container) => {
        // one removed meanwhile has nothing to say
        const { stdout, stderr } = await this.#exec(docker, ['logs', container.name]).catch(() => ({ stdout: '', stderr: '' }));
        return { id: container.name, lines: `${stdout}\n${stderr}`.split('\n').filter(wanted) };
      }),
    );
    return mergeByTime(instances.filter((instance) => instance.lines.length > 0));
  }

  async inject(service: string, fault: Fault, durationMs: number, options: InjectOptions = {}): Promise<ActiveFault> {
    const problem = faultProblem(fault, durationMs);
    if (problem) throw new UserError(problem);
    const { service: view, chosen } = await this.#choose(service, { all: true });
    if (view.layer === 'bytes' && faultKind(fault)?.layer === 'http') {
      throw new UserError(`${service} does not speak HTTP, so it cannot answer with an HTTP error: use ${byteFaults().join(', ')}`);
    }
    const sources = options.from ? await this.#callerAddresses(view, options.from, fault) : undefined;
    const running = chosen.filter((c) => c.status === 'running');
    if (running.length === 0) throw new UserError(`no instance of ${service} is running`);
    const active = { id: newId('fault'), service, fault, ...(options.from ? { from: options.from } : {}) };
    let launches: KeeperLaunch[];
    // a service's partition disconnects it; a server's goes through its proxy, which can
    // refuse or blackhole, and single out one client's link
    if (fault.kind === 'partition' && view.layer === 'http') {
      const { docker } = await this.#docker();
      const containers = running.map((c) => ({ name: c.name, networks: [...c.networks] }));
      launches = [{ config: { kind: 'partition', docker, containers, durationMs } }];
    } else {
      if (process.getuid?.() !== 0) {
        throw new EnvironmentError(`${fault.kind} on compose runs a fault proxy inside the containers' network namespace (nsenter, iptables): run as root`);
      }
      launches = running.map((c) => ({ netnsPid: c.pid, config: { kind: 'proxy', service, port: view.port, layer: view.layer, fault, durationMs, tag: `scaffold-${active.id}`, sources } }));
    }
    return this.#keepers.start<ActiveFault>(active, launches);
  }

  /** A link fault matches the caller's connections by their source: its containers' addresses. */
  async #callerAddresses(service: Target, from: string, fault: Fault): Promise<string[]> {
    const problem = linkProblem(service.name, service.callers, from);
    if (problem) throw new UserError(problem);
    if (fault.kind === 'partition' && service.layer === 'http') throw new UnsupportedError(this.name, 'partition one link (a partition disconnects the service from the network)');
    const addresses = (await this.#containers()).filter((c) => c.service === from && c.status === 'running').flatMap((c) => c.addresses);
    if (addresses.length === 0) throw new UserError(`no instance of ${from} is running`);
    return addresses;
  }

  async faults(): Promise<ActiveFault[]> {
    return this.#keepers.list();
  }

  async clearFaults(id?: string): Promise<void> {
    await this.#keepers.clear(id === undefined ? { pause: false } : { id });
  }

  #docker(): Promise<DockerTools> {
    this.#tools ??= findDockerTools(this.#exec);
    return this.#tools;
  }

  async #project(): Promise<ProjectModel> {
    return (await this.#model()).project;
  }

  #service(view: ProjectModel, name: string): ServiceModel {
    const found = view.services.find((s) => s.name === name);
    if (!found) throw notAService(name, view.services.map((s) => s.name), view.infrastructure.map((i) => i.name));
    return found;
  }

  /** What chaos acts on: a service, or an infrastructure server (by its name). */
  #target(view: ProjectModel, name: string): Target {
    const infra = view.infrastructure.find((i) => i.name === name);
    if (infra) return { name, port: infra.port, callers: infra.clients, layer: 'bytes' };
    const service = this.#service(view, name);
    return { name, port: service.port, callers: service.callers, layer: 'http' };
  }

  async #containers(): Promise<Container[]> {
    return projectContainers(this.#exec, (await this.#docker()).docker, (await this.#project()).name);
  }

  /** The containers a chaos command acts on: one by name, all, or the first running one. */
  async #choose(service: string, options: { instance?: string; all?: boolean }): Promise<{ service: Target; chosen: Container[] }> {
    const view = this.#target(await this.#project(), service);
    const mine = (await this.#containers()).filter((c) => c.service === service);
    if (mine.length === 0) throw new NotRunningError(`no instance of ${service} is running: "scaffold up --runtime compose" first`);
    if (options.instance) {
      const one = mine.find((c) => c.name === options.instance);
      if (!one) throw new UserError(`no instance "${options.instance}" of ${service} (instances: ${mine.map((c) => c.name).join(', ')})`);
      return { service: view, chosen: [one] };
    }
    if (options.all) return { service: view, chosen: mine };
    return { service: view, chosen: [mine.find((c) => c.status === 'running') ?? mine[0]!] };
  }

  /** `docker events` of one kind for the project's containers (or one service's), as they happen. */
  async #containerEvents(event: 'start' | 'destroy', options: { service?: string; format?: string; signal?: AbortSignal } = {}) {
    const { docker } = await this.#docker();
    const { name } = await this.#project();
    const filters = ['type=container', `event=${event}`, `label=${PROJECT_LABEL}=${name}`];
    if (options.service) filters.push(`label=com.docker.compose.service=${options.service}`);
    const format = options.format ? ['--format', options.format] : [];
    const args = ['events', ...filters.flatMap((filter) => ['--filter', filter]), ...format];
    const { child } = await this.#exec.stream(docker, args, { stderr: 'ignore', buffer: false, cancelSignal: options.signal });
    return { events: child };
  }

  /** compose removes the named volumes compose.yaml declares; those of an entry removed
   * from the spec since stay behind, still labelled with the project: every entry's data
   * goes, as on the process runtime. */
  async #removeUndeclaredVolumes(): Promise<void> {
    const { docker } = await this.#docker();
    const { name } = await this.#project();
    const { stdout } = await this.#exec(docker, ['volume', 'ls', '-q', '--filter', `label=${PROJECT_LABEL}=${name}`]);
    const left = stdout.split('\n').filter(Boolean);
    if (left.length > 0) await this.#exec(docker, ['volume', 'rm', ...left]);
  }

  async #compose(args: string[]): Promise<void> {
    const tools = await this.#docker();
    // the trace receiver's address, the same on every call: compose recreates a container
    // whose environment changed
    await this.#exec(tools.compose.file, await this.#composeArgs(args), { cwd: this.#projectDir, env: traceEnvironment(this.#projectDir) });
  }

  /** compose v1 predates the top-level `name`: it gets a copy without it (-p names the project). */
  async #composeArgs(args: string[]): Promise<string[]> {
    const tools = await this.#docker();
    let file = path.join(this.#projectDir, 'compose.yaml');
    if (tools.compose.v1) {
      const document = parseDocument(readFileSync(file, 'utf8'));
      document.delete('name');
      file = scaffoldPaths(this.#projectDir).composeV1;
      await writeFileAtomic(file, document.toString());
    }
    const { name } = await this.#project();
    return [...tools.compose.args, '-p', name, '-f', file, '--project-directory', this.#projectDir, ...args];
  }

  /** Until every container of the services runs and passes its healthcheck. */
  async #waitHealthy(onProgress?: (line: string) => void, only?: string[]): Promise<SystemStatus> {
    const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
    let waitingFor = '';
    for (;;) {
      const status = await this.status();
      const pending = status.services
        .filter((s) => !only || only.includes(s.name))
        .flatMap((s) => (s.instances.length === 0 ? [`${s.name} (no container)`] : s.instances.filter((i) => !i.healthy).map((i) => `${i.id} (${i.state})`)));
      if (pending.length === 0) return status;
      if (Date.now() > deadline) {
        throw new EnvironmentError(`not healthy after ${HEALTHY_TIMEOUT_MS / 1000} s: ${pending.join(', ')}`, ['see "scaffold logs <service>"']);
      }
      const line = `waiting for ${pending.join(', ')}`;
      if (line !== waitingFor) onProgress?.(line);
      waitingFor = line;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** A service or an infrastructure server, as chaos sees it: its container port, who calls
 * it, and whether it speaks HTTP. */
interface Target {
  name: string;
  port: number;
  callers: string[];
  layer: 'http' | 'bytes';
}

function serviceStatus(service: ServiceModel, containers: Container[]): ServiceStatus {
  const instances = containers.filter((c) => c.service === service.name).map((c) => instanceOf(c, service.port));
  // several replicas publish ephemeral ports: the first one stands for the service
  const port = instances[0]?.port ?? service.port;
  return { name: service.name, url: `http://127.0.0.1:${port}`, replicas: instances.length, instances };
}

/** One container's log lines, its name first; `since` leaves out the earlier ones. */
async function* containerLines(exec: Exec, docker: string, name: string, options: { follow?: boolean; since?: string; signal?: AbortSignal }): AsyncGenerator<string> {
  const args = ['logs', ...(options.follow ? ['--follow'] : []), ...(options.since ? ['--since', options.since] : []), name];
  const { child } = await exec.stream(docker, args, { cancelSignal: options.signal, all: true });
  for await (const line of child.iterable({ from: 'all' })) yield `${name} | ${line}`;
}

/** Lines from several streams as they come, and from the streams `more` brings meanwhile;
 * ends once every one has. */
async function* merge(streams: AsyncIterable<string>[], more: AsyncIterable<AsyncIterable<string>>): AsyncGenerator<string> {
  const queue: string[] = [];
  let open = 0;
  let failure: unknown;
  let wake = () => {};
  const drain = async <T>(iterable: AsyncIterable<T>, each: (item: T) => void) => {
    open += 1;
    try {
      for await (const item of iterable) each(item);
    } catch (error) {
      failure ??= error;
    } finally {
      open -= 1;
      wake();
    }
  };
  const lines = (stream: AsyncIterable<string>) =>
    void drain(stream, (line) => {
      queue.push(line);
      wake();
    });
  streams.forEach(lines);
  void drain(more, lines);
  while (open > 0 || queue.length > 0) {
    if (failure) throw failure;
    if (queue.length > 0) yield queue.shift()!;
    else await new Promise<void>((resolve) => (wake = resolve));
  }
}

function newId(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}
