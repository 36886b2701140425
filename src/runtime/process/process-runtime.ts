import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, watch } from 'node:fs/promises';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, UserError } from '../../errors.js';
import { allInfrastructure } from '../../infrastructure/index.js';
import { ensureBuilt } from '../build.js';
import type { Model } from '../../model/load.js';
import { createExec, type Exec } from '../exec.js';
import type { ActiveFault, Fault } from '../faults.js';
import { ended, isAlive, signal } from '../process-tree.js';
import { NotRunningError, type DownOptions, type InjectOptions, type InstanceStatus, type KillOptions, type LogsOptions, type Runtime, type ServiceStatus, type SystemStatus, type UpOptions } from '../runtime.js';
import { cancelStarting, whileStarting } from '../starting.js';
import { withAlerts } from '../../monitoring/alerts.js';
import { mergeByTime, searchLogs } from './log-lines.js';
import { instanceLog, kindData, removeEmptySupervisorLog, runPaths, type RunPaths } from './paths.js';
import { serve, type Served } from './serve.js';
import { cleanStaleRun, readState, type RunState } from './state.js';
import type { SupervisorCommand, SupervisorMessage } from './supervisor-main.js';

const SUPERVISOR = fileURLToPath(new URL('./supervisor-main.js', import.meta.url));

/** A supervisor process forked by `up`, and once it waits for its spec. */
interface Supervisor {
  child: ChildProcess;
  listening: Promise<void>;
}

/** The embedded runtime: the system as plain processes under a detached supervisor. */
export class ProcessRuntime implements Runtime {
  readonly name = 'process' as const;
  readonly #projectDir: string;
  readonly #paths: RunPaths;
  readonly #exec: Exec;
  readonly #model: () => Promise<Model>;

  /** `model` gives the spec the CLI loads (once per command, on first use); without it,
   * scaffold.yaml is read when `up` needs it. */
  constructor(options: { projectDir: string; exec?: Exec; model?: () => Promise<Model> }) {
    this.#projectDir = options.projectDir;
    this.#paths = runPaths(options.projectDir);
    this.#exec = options.exec ?? createExec();
    this.#model = options.model ?? (async () => (await import('../../model/load.js')).loadModel(options.projectDir));
  }

  async up(options: UpOptions = {}): Promise<SystemStatus> {
    // read before anything of a run exists: a spec that does not parse leaves nothing behind
    // (forking the supervisor first would overlap the read, but leave its folder and log)
    const model = await this.#model();
    if (await this.#running()) {
      // what was asked for is there afterwards: a running system gets its Prometheus
      if (options.monitoring) await this.#call('POST', '/monitoring');
      return this.status();
    }
    return whileStarting(this.#projectDir, async () => {
      const supervisor = this.#forkSupervisor(); // it starts up while the build is checked
      try {
        await this.#build(model, options);
        return await this.#supervise(supervisor, { type: 'start', spec: model.spec, monitoring: options.monitoring }, options.onProgress);
      } catch (error) {
        await this.#abandon(supervisor);
        throw error;
      }
    });
  }

  /** `up --attach`: the supervisor in this process, stopped by a signal or `scaffold down`. */
  async attach(options: UpOptions = {}): Promise<Served> {
    const model = await this.#model();
    if (await this.#running()) throw new UserError('the system is already running detached: "scaffold down" first');
    const served = await whileStarting(this.#projectDir, async () => {
      await this.#build(model, options);
      return serve({ projectDir: this.#projectDir, spec: model.spec, paths: this.#paths, onProgress: options.onProgress, monitoring: options.monitoring });
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void served.stop());
    return served;
  }

  async #build(model: Model, options: UpOptions): Promise<void> {
    await ensureBuilt({ projectDir: this.#projectDir, spec: model.spec, exec: this.#exec, force: options.build, onProgress: options.onProgress });
  }

  async down(options: DownOptions = {}): Promise<void> {
    await cancelStarting(this.#projectDir);
    const state = await this.#running();
    if (state) {
      await this.#call('POST', '/down').catch(() => signal(state.pid, 'SIGTERM'));
      await ended(state.pid); // its processes follow through their lifelines
      cleanStaleRun(this.#paths, state);
    }
    if (options.volumes) {
      // the servers' data, as compose removes named volumes: the whole data folder, and
      // each kind's own one elsewhere (every entry's, whatever the spec says now)
      rmSync(this.#paths.data, { recursive: true, force: true });
      for (const kind of allInfrastructure()) rmSync(kindData(this.#paths, kind), { recursive: true, force: true });
    }
  }

  async status(): Promise<SystemStatus> {
    const status = await this.#call<SystemStatus>('GET', '/status');
    if (status.monitoring) status.monitoring = await withAlerts(status.monitoring);
    return status;
  }

  async endpoint(service: string): Promise<URL> {
    const found = (await this.status()).services.find((s) => s.name === service);
    if (!found) throw new UserError(`no service "${service}" is running`);
    return new URL(found.url);
  }

  kill(service: string, options: KillOptions = {}): Promise<InstanceStatus[]> {
    return this.#signal(service, options.signal ?? 'SIGKILL', options);
  }

  pause(service: string, options: { instance?: string; durationMs: number }): Promise<InstanceStatus[]> {
    return this.#call('POST', `/pause?service=${encodeURIComponent(service)}`, options);
  }

  resume(service: string, options: { instance?: string } = {}): Promise<InstanceStatus[]> {
    return this.#signal(service, 'SIGCONT', { ...options, all: !options.instance });
  }

  restart(service: string): Promise<ServiceStatus> {
    return this.#call('POST', `/restart?service=${encodeURIComponent(service)}`);
  }

  scale(service: string, replicas: number): Promise<ServiceStatus> {
    return this.#call('POST', `/scale?service=${encodeURIComponent(service)}`, { replicas });
  }

  async *logs(service: string | undefined, options: LogsOptions = {}): AsyncIterable<string> {
    if (options.trace !== undefined || options.request !== undefined) {
      // read from the files alone: a trace outlives its instances, and the run itself
      if (!existsSync(this.#paths.logs)) throw new EnvironmentError('no logs: nothing is running, nor ever ran here (`scaffold up` starts the system)');
      yield* searchLogs(this.#paths.logs, { trace: options.trace, request: options.request, service });
      return;
    }
    if (service === undefined) throw new UserError('name a service, or give --trace or --request to search every service');
    const { services, infrastructure } = await this.status();
    // a server (redis, nats…) logs as one instance named after it, across its restarts
    const servers = infrastructure.filter((server) => server.name === service);
    const instances = services.find((s) => s.name === service)?.instances ?? (servers.length > 0 ? servers.map((server) => server.instance) : undefined);
    if (!instances) {
      throw new UserError(`no service or server "${service}" is running (running: ${[...services.map((s) => s.name), ...infrastructure.map((server) => server.name)].join(', ')})`);
    }
    const logFile = (id: string): LogFile => ({ id, file: instanceLog(this.#paths, id), offset: 0 });
    const followed = new Map(instances.map((instance) => [instance.id, logFile(instance.id)]));
    // what is there already, merged by time across the instances
    const written = await Promise.all([...followed.values()].map(async (entry) => ({ id: entry.id, lines: await newLines(entry) })));
    yield* mergeByTime(written);
    if (!options.follow) return;
    // Instances started from now on (a scale, a rolling restart) write files of their own,
    // followed from their first line; files of earlier instances or runs, from their end.
    const ownFile = new RegExp(`^(${service}-\\d+)\\.log$`);
    const idOf = (name: string | null) => (name ? ownFile.exec(name)?.[1] : undefined);
    for (const id of readdirSync(this.#paths.logs).map(idOf)) {
      if (!id || followed.has(id)) continue;
      const entry = logFile(id);
      followed.set(id, { ...entry, offset: statSync(entry.file).size });
    }
    try {
      for await (const { filename } of watch(this.#paths.logs, { signal: options.signal })) {
        const id = idOf(filename);
        if (id && !followed.has(id)) followed.set(id, logFile(id));
        for (const entry of followed.values()) for (const line of await newLines(entry)) yield `${entry.id} | ${line}`;
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }

  inject(service: string, fault: Fault, durationMs: number, options: InjectOptions = {}): Promise<ActiveFault> {
    return this.#call('POST', `/faults?service=${encodeURIComponent(service)}`, { fault, durationMs, from: options.from });
  }

  faults(): Promise<ActiveFault[]> {
    return this.#call('GET', '/faults');
  }

  async clearFaults(id?: string): Promise<void> {
    await this.#call('POST', '/faults/clear', { id });
  }

  /** The live run's state, cleaning up after a crashed one. */
  async #running(): Promise<RunState | undefined> {
    const state = readState(this.#paths);
    if (!state) return undefined;
    if (isAlive(state.pid) && (await this.#call('GET', '/status').then(() => true, () => false))) return state;
    cleanStaleRun(this.#paths, state);
    return undefined;
  }

  async #signal(service: string, signal: NodeJS.Signals, options: { instance?: string; all?: boolean }): Promise<InstanceStatus[]> {
    return this.#call('POST', `/signal?service=${encodeURIComponent(service)}`, { signal, instance: options.instance, all: options.all });
  }

  #forkSupervisor(): Supervisor {
    mkdirSync(this.#paths.run, { recursive: true });
    const log = openSync(this.#paths.supervisorLog, 'a');
    const child = fork(SUPERVISOR, [this.#projectDir], { cwd: this.#projectDir, detached: true, stdio: ['ignore', log, log, 'ipc'] });
    closeSync(log);
    const listening = new Promise<void>((resolve) => child.on('message', (message: SupervisorMessage) => message.type === 'listening' && resolve()));
    return { child, listening };
  }

  /** Ends a supervisor given up on before it was ready: it ends itself once disconnected
   * (if it failed, it has ended already). Its empty log goes too, also when a cancel's
   * SIGTERM reached it before its own handlers were there. */
  async #abandon({ child }: Supervisor): Promise<void> {
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve));
    if (child.connected) child.disconnect();
    await exited;
    removeEmptySupervisorLog(this.#paths);
  }

  async #supervise({ child, listening }: Supervisor, command: SupervisorCommand, onProgress?: (line: string) => void): Promise<SystemStatus> {
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`the supervisor exited (code ${code}) before the system was up; see ${this.#paths.supervisorLog}`))),
    );
    await Promise.race([listening, exited]);
    return Promise.race([
      exited,
      new Promise<SystemStatus>((resolve, reject) => {
        child.on('message', (message: SupervisorMessage) => {
          if (message.type === 'progress') onProgress?.(message.line);
          if (message.type === 'ready') {
            child.disconnect();
            child.unref();
            resolve(message.status);
          }
          if (message.type === 'failed') {
            const ErrorType = message.exitCode === 3 ? EnvironmentError : UserError;
            reject(new ErrorType(message.message, message.details));
          }
        });
        child.send(command);
      }),
    ]);
  }

  #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const state = readState(this.#paths);
    if (!state) return Promise.reject(new NotRunningError('nothing is running here: start it with "scaffold up"'));
    return new Promise((resolve, reject) => {
      const request = http.request({ socketPath: state.socket, method, path, headers: { 'content-type': 'application/json' } }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          const parsed = JSON.parse(text || '{}');
          if (response.statusCode === 200) resolve(parsed as T);
          else {
            const message = parsed.error ?? `supervisor answered ${response.statusCode}`;
            reject(parsed.exitCode === 3 ? new EnvironmentError(message, parsed.details ?? []) : new UserError(message, parsed.details ?? []));
          }
        });
      });
      request.on('error', () => reject(new NotRunningError('the supervisor does not answer: run "scaffold down" then "scaffold up"')));
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }
}

interface LogFile {
  id: string;
  file: string;
  /** Where the next unread line starts. */
  offset: number;
}

/** The whole lines written to an instance's log since the last call, prefixed by its id; a
 * line still being written waits for the next call. */
async function newLines(entry: LogFile): Promise<string[]> {
  if (!existsSync(entry.file) || statSync(entry.file).size <= entry.offset) return [];
  const handle = await open(entry.file);
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(size - entry.offset);
    await handle.read(buffer, 0, buffer.length, entry.offset);
    const end = buffer.lastIndexOf('\n') + 1;
    entry.offset += end;
    return buffer.toString('utf8', 0, end).split('\n').filter(Boolean);
  } finally {
    await handle.close();
  }
}
