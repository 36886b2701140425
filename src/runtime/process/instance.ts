import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { InstanceState, InstanceStatus } from '../runtime.js';

const LIFELINE = fileURLToPath(new URL('./lifeline.js', import.meta.url));
const CHECK_INTERVAL_MS = 250;
/** While starting, checks come fast: readiness a few ms sooner is recovery a few ms sooner. */
const STARTING_CHECK_INTERVAL_MS = 20;
/** Failed checks in a row before a running instance loses its traffic: one slow answer on a
 * busy machine is not an outage (Kubernetes' failureThreshold, same default). */
const FAILURE_THRESHOLD = 3;
/** An instance that stays healthy this long has its restart backoff forgiven. */
const STABLE_MS = 10_000;
/** The longest wait before a restart (Kubernetes' CrashLoopBackOff waits up to 5 min; a
 * local system is looked at within seconds). */
const MAX_BACKOFF_MS = 5_000;

/** What the supervisor tells an instance of a `frontPort: handoff` service (see lifeline.ts). */
export type HandoffMessage = { scaffold: 'connection'; via: number; id: number } | { scaffold: 'recall'; via: number; reset: boolean; count?: number };
/** What the instance tells the supervisor: the connection `id` it was handed has closed. */
export type HandoffReport = { scaffold: 'closed'; id: number };

/** A connection handed to the process, by the port `via`: the supervisor's end of it. */
export interface HandedConnection {
  socket: net.Socket;
  via: number;
}

export interface InstanceOptions {
  id: string;
  port: number;
  cwd: string;
  /** The script node runs (relative to cwd) and its arguments. */
  entry: string;
  args?: string[];
  /** Its own environment (PORT and HOST included), on top of the supervisor's. */
  env: Record<string, string>;
  logFile: string;
  /** Whether the instance is ready to take traffic now. */
  probe: (port: number) => Promise<boolean>;
  restart: 'always' | 'on-failure' | 'no';
  /** Told every readiness result, so the balancer follows it. */
  onReadiness: (ready: boolean) => void;
  /** Started with an IPC channel, over which its service's ports hand it connections. */
  handoff?: boolean;
  /** Signals go to its whole process group: the server a wrapper of ours runs (an
   * infrastructure server) crashes, freezes and thaws with it. */
  group?: boolean;
  /** Told the connections handed to the process that were still open when it exited: they
   * outlive it, since the supervisor keeps its end of each. */
  onOrphans?: (orphans: HandedConnection[]) => void;
  /** How long a run must stay healthy to have its crashes before forgiven (default 10 s). */
  stableMs?: number;
}

/**
 * One supervised process of a service: started with a lifeline, checked for readiness,
 * restarted by its policy with exponential backoff.
 */
export class Instance {
  readonly id: string;
  readonly port: number;
  restarts = 0;
  state: InstanceState = 'starting';
  healthy = false;
  readonly #options: InstanceOptions;
  #child: ChildProcess | undefined;
  #stopping = false;
  #checkTimer: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #crashesInARow = 0;
  #failedChecks = 0;
  #healthySince = 0;
  #everHealthy = false;
  #exited: Promise<void> = Promise.resolve();
  /** Open connections handed to the process, by id. */
  readonly #handed = new Map<number, HandedConnection>();
  /** How many of them each port handed. */
  readonly #handedCount = new Map<number, number>();
  #lastHanded = 0;

  constructor(options: InstanceOptions) {
    this.#options = options;
    this.id = options.id;
    this.port = options.port;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  status(): InstanceStatus {
    return { id: this.id, pid: this.pid, port: this.port, state: this.state, healthy: this.healthy, restarts: this.restarts };
  }

  start(): void {
    const { cwd, entry, args = [], env, logFile } = this.#options;
    const log = openSync(logFile, 'a');
    const child = spawn(process.execPath, ['--import', LIFELINE, entry, ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: this.#options.handoff ? ['ignore', log, log, 'pipe', 'ipc'] : ['ignore', log, log, 'pipe'],
      // A session of its own, so the kernel's autogroup scheduling (when on, as in Debian's
      // and Ubuntu's kernels) weighs it as one more task rather than sharing one session's
      // CPU with the supervisor, whose balancers forward its traffic: in one session, an
      // instance and its balancer got half a core between them (paired bench runs: 0.68× →
      // 0.84× the requests/s of going direct). The lifeline still ends it with the supervisor.
      detached: true,
    });
    closeSync(log);
    this.#child = child;
    child.on('message', (report: HandoffReport) => {
      if (report?.scaffold === 'closed') this.#release(report.id)?.socket.destroy();
    });
    this.state = 'starting';
    this.#exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.#onExit(code, signal);
      resolve();
    }));
    child.once('error', () => undefined); // spawn failures surface as an exit
    this.#scheduleCheck(0);
  }

  /** SIGTERM, then SIGKILL when the grace period is over; resolves once it has exited. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#checkTimer);
    this.#setHealthy(false);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.state = 'exited';
      return;
    }
    this.state = 'stopping';
    this.#kill('SIGCONT'); // a paused process cannot act on SIGTERM
    child.kill('SIGTERM');
    const timer = setTimeout(() => this.#kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Passes a client connection to the process, which serves it from then on; false when
   * it cannot take one now. */
  handOff(client: net.Socket, via: number): boolean {
    const child = this.#child;
    if (!child?.connected || this.state !== 'running') return false;
    const id = (this.#lastHanded += 1);
    const message: HandoffMessage = { scaffold: 'connection', via, id };
    this.#handed.set(id, { socket: client, via });
    this.#handedCount.set(via, this.handedOff(via) + 1);
    client.on('error', () => undefined);
    // keepOpen: should the process die, the connection lives on, in the supervisor (onOrphans)
    child.send(message, client, { keepOpen: true }, (error) => {
      // it died before taking the connection (unless it is an orphan already): the client
      // reconnects, to an instance that lives
      if (error) this.#release(id)?.socket.resetAndDestroy();
    });
    return true;
  }

  /** Open connections the port `via` handed to the process: what least-connections weighs. */
  handedOff(via: number): number {
    return this.#handedCount.get(via) ?? 0;
  }

  #release(id: number): HandedConnection | undefined {
    const connection = this.#handed.get(id);
    if (!connection) return undefined;
    this.#handed.delete(id);
    this.#handedCount.set(connection.via, this.handedOff(connection.via) - 1);
    return connection;
  }

  /** Ends the connections the port `via` handed to the process, or `count` of them (see
   * lifeline.ts). */
  recall(via: number, reset: boolean, count?: number): void {
    const message: HandoffMessage = { scaffold: 'recall', via, reset, count };
    if (this.#child?.connected) this.#child.send(message, () => undefined); // a process gone has nothing to recall
  }

  signal(signal: NodeJS.Signals): void {
    this.#kill(signal);
    if (signal === 'SIGSTOP') {
      this.state = 'paused';
    } else if (signal === 'SIGCONT' && this.state === 'paused') {
      this.state = 'running';
    }
  }

  #kill(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (!this.#options.group || pid === undefined) return void this.#child?.kill(signal);
    try {
      process.kill(-pid, signal); // it leads its group: it was spawned detached
    } catch {
      // gone already
    }
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.#setHealthy(false);
    clearTimeout(this.#checkTimer);
    this.#child = undefined;
    const orphans = [...this.#handed.values()];
    this.#handed.clear();
    this.#handedCount.clear();
    if (orphans.length > 0) this.#options.onOrphans?.(orphans);
    const { restart } = this.#options;
    const failed = code !== 0 || signal !== null;
    if (this.#stopping || restart === 'no' || (restart === 'on-failure' && !failed)) {
      this.state = 'exited';
      return;
    }
    this.state = 'backoff';
    // only the run that just ended may earn it: a healthy spell of an earlier run forgave
    // every crash after it too, so a service that broke after a long healthy run (its
    // dependency removed, a bad config) restarted at once, 400 times a minute, for ever
    const stable = this.#healthySince > 0 && Date.now() - this.#healthySince > (this.#options.stableMs ?? STABLE_MS);
    this.#healthySince = 0;
    if (stable) this.#crashesInARow = 0;
    // the first restart is immediate: recovery time is what chaos experiments measure
    const delay = this.#crashesInARow === 0 ? 0 : Math.min(100 * 2 ** (this.#crashesInARow - 1), MAX_BACKOFF_MS);
    this.#crashesInARow += 1;
    this.#restartTimer = setTimeout(() => {
      this.restarts += 1;
      this.start();
    }, delay);
  }

  #scheduleCheck(delay: number): void {
    clearTimeout(this.#checkTimer);
    this.#checkTimer = setTimeout(() => void this.#check(), delay);
  }

  async #check(): Promise<void> {
    if (this.#stopping || !this.#child) return;
    let ready = false;
    if (this.state !== 'paused') ready = await this.#options.probe(this.port).catch(() => false);
    if (this.#stopping || !this.#child) return;
    if (ready && this.state === 'starting') this.state = 'running';
    this.#failedChecks = ready ? 0 : this.#failedChecks + 1;
    if (ready || this.#failedChecks >= FAILURE_THRESHOLD || !this.healthy) this.#setHealthy(ready);
    this.#scheduleCheck(this.state === 'starting' ? STARTING_CHECK_INTERVAL_MS : CHECK_INTERVAL_MS);
  }

  #setHealthy(healthy: boolean): void {
    if (healthy && !this.healthy) {
      this.#healthySince = Date.now();
      this.#everHealthy = true;
    }
    this.healthy = healthy;
    // every result, not only changes: the balancer may have ejected it meanwhile
    this.#options.onReadiness(healthy);
  }

  /** Resolves when the instance is healthy, or rejects when it gives up or the time is out. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.healthy) {
      // a process that dies before it was ever ready will not get better by restarting
      if (this.state === 'exited' || (this.state === 'backoff' && !this.#everHealthy)) {
        throw new Error(`${this.id} exited before it was ready`);
      }
      if (Date.now() > deadline) throw new Error(`${this.id} was not healthy within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
