import type { QueueStatus } from './queues.js';
import { EnvironmentError, UserError } from '../errors.js';
import type { FrontPortMode } from '../spec/names.js';
import type { TopicState } from '../infrastructure/kind.js';
import type { ActiveFault, Fault } from './faults.js';

/**
 * The one seam between "run the system" and everything that acts on a running system
 * (status, load, chaos). Each driver (process, compose, kubernetes) implements it; a driver
 * that cannot do something throws `UnsupportedError`.
 */
export interface Runtime {
  readonly name: RuntimeName;
  /** Starts the whole system its model (scaffold.yaml, read once per command) describes and
   * resolves once every instance is healthy. */
  up(options?: UpOptions): Promise<SystemStatus>;
  /** Like `up`, but the system lives only as long as this process: `stopped` settles once
   * a signal or `scaffold down` has stopped it. */
  attach(options?: UpOptions): Promise<{ status: SystemStatus; stopped: Promise<void> }>;
  /** Stops everything it started; resolves when no process of the run is left. */
  down(options?: DownOptions): Promise<void>;
  status(): Promise<SystemStatus>;
  /** Where load and probes go for a service: its front door. */
  endpoint(service: string): Promise<URL>;
  kill(service: string, options?: KillOptions): Promise<InstanceStatus[]>;
  /** Freezes a service (every instance, or one) until `durationMs` has passed. */
  pause(service: string, options: { instance?: string; durationMs: number }): Promise<InstanceStatus[]>;
  resume(service: string, options?: { instance?: string }): Promise<InstanceStatus[]>;
  restart(service: string): Promise<ServiceStatus>;
  scale(service: string, replicas: number): Promise<ServiceStatus>;
  /** A service's lines (every instance, merged by time), or with `trace`/`request` the lines
   * of one trace or request across every service (`service` then narrows it). */
  logs(service: string | undefined, options?: LogsOptions): AsyncIterable<string>;
  /** Puts a fault in front of a service until `durationMs` has passed (or it is cleared).
   * With `from`, only on the link from that caller: its calls to the service, nobody
   * else's. A driver that cannot single out a link throws `UnsupportedError` for `from`
   * rather than faulting every caller. */
  inject(service: string, fault: Fault, durationMs: number, options?: InjectOptions): Promise<ActiveFault>;
  faults(): Promise<ActiveFault[]>;
  /** Removes one fault, or every fault when no id is given. */
  clearFaults(id?: string): Promise<void>;
}

export interface LogsOptions {
  follow?: boolean;
  signal?: AbortSignal;
  /** Only the lines carrying this trace_id. */
  trace?: string;
  /** Only the lines carrying this request id (reqId, from x-request-id). */
  request?: string;
}

export const RUNTIME_NAMES = ['process', 'compose', 'kubernetes'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export interface UpOptions {
  /** Rebuild even when the build is up to date with its sources. */
  build?: boolean;
  /** Called with one line per step, for progress output. */
  onProgress?: (line: string) => void;
  /** Image builds only: every Dockerfile's base image (mirrors, pinned digests). */
  baseImage?: string;
  /** Image builds only: a CA bundle npm trusts inside the build, never in the image. */
  caCert?: string;
  /** Also run Prometheus, scraping every instance, with the SLOs' alert rules. */
  monitoring?: boolean;
}

export interface DownOptions {
  /** Also remove the infrastructure's data (compose: named volumes); kept by default. */
  volumes?: boolean;
}

export interface InjectOptions {
  /** A caller of the service (declared in the spec): the fault acts on its calls only. */
  from?: string;
}

export interface KillOptions {
  /** One instance by id; default: one instance chosen by the runtime. */
  instance?: string;
  all?: boolean;
  signal?: NodeJS.Signals;
}

export type InstanceState = 'starting' | 'running' | 'paused' | 'stopping' | 'exited' | 'backoff';

export interface InstanceStatus {
  id: string;
  pid: number | null;
  port: number;
  state: InstanceState;
  healthy: boolean;
  restarts: number;
  /** The process runtime: its open connections through the service's ports (proxied, or
   * handed off to it), which least-connections weighs. */
  connections?: number;
}

export interface ServiceStatus {
  name: string;
  url: string;
  replicas: number;
  instances: InstanceStatus[];
  /** Where each caller reaches it, when a runtime gives callers ports of their own. */
  links?: { from: string; url: string }[];
  /** The process runtime: whether its ports proxy connections or hand them off. */
  frontPort?: FrontPortMode;
}

export interface InfrastructureStatus {
  /** Its entry's name in the spec ("cache"). */
  name: string;
  /** Its kind ("redis"). */
  kind: string;
  /** Its own address, outside every link. */
  url: string;
  instance: InstanceStatus;
  /** Where each service that uses it reaches it, when a runtime gives them ports of their own. */
  links?: { from: string; url: string }[];
  /** What it holds, read from it by `status` (a NATS server's topics); `stateError` when it
   * could not be read (the server down or paused). */
  topics?: TopicState[];
  stateError?: string;
}

export interface SystemStatus {
  runtime: RuntimeName;
  project: string;
  services: ServiceStatus[];
  infrastructure: InfrastructureStatus[];
  /** The job queues, when the system has some (see queues.ts); a queue whose server does
   * not answer has only its name and the reason. */
  queues?: (QueueStatus | { name: string; infrastructure: string; error: string })[];
  /** `up --monitoring`: where Prometheus answers, and its alerts (firing or pending). */
  monitoring?: MonitoringStatus;
}

export interface MonitoringStatus {
  prometheus: string;
  alerts?: AlertStatus[];
  /** Why there are no alerts to show (Prometheus did not answer). */
  alertsError?: string;
}

export interface AlertStatus {
  name: string;
  service?: string;
  state: 'pending' | 'firing';
  /** When its condition began to hold. */
  since: string;
  summary?: string;
}

/** Every command that acts on a running system says so the same way when there is none:
 * the environment lacks what the command needs (exit 3), however well it was asked. */
export class NotRunningError extends EnvironmentError {
  constructor(message: string) {
    super(message);
    this.name = 'NotRunningError';
  }
}

export class UnsupportedError extends UserError {
  constructor(runtime: RuntimeName, what: string) {
    super(`the ${runtime} runtime cannot ${what} (see the support matrix in the README)`);
    this.name = 'UnsupportedError';
  }
}

/** A name that is no service of the running system, said of what it is: an infrastructure
 * server (which runs one instance, restarted by the runtime) or nothing at all. */
export function notAService(name: string, services: readonly string[], infrastructure: readonly string[]): UserError {
  if (infrastructure.includes(name)) {
    return new UserError(`${name} is an infrastructure server, not a service: it runs one instance (\`scaffold chaos kill-service ${name}\` restarts it); services: ${services.join(', ')}`);
  }
  const servers = infrastructure.length > 0 ? `; infrastructure: ${infrastructure.join(', ')}` : '';
  return new UserError(`no service "${name}" in this run (services: ${services.join(', ')}${servers})`);
}
