/**
 * What scaffold knows about one kind of infrastructure server (postgres, redis, nats, …):
 * everything the spec, the generators and both runtimes need, in one object per kind
 * (`src/infrastructure/<kind>/index.ts`), registered in `./index.ts`.
 */
export interface InfrastructureKind {
  /** The spec's key under `infrastructure:` and in `uses:`; also its host name in compose
   * and Kubernetes. */
  name: string;
  /** One line, for listings and errors. */
  description: string;
  /** `infrastructure.<name>.version` when the spec leaves it out. */
  defaultVersion: string;
  /** The image for a version; `infrastructure.<name>.image` replaces it. */
  image(version: string): string;
  /** Its port inside compose and Kubernetes. */
  port: number;
  /** The environment variable that carries its URL to a service that uses it. */
  urlVar: string;
  /** Its URL at `host:port`; `project` names the database and user where there is one. */
  url(address: { host: string; port: number; project: string }): string;
  /** A kind that can hold job queues (`queues:` under its entry) and how its server runs
   * when it does: arguments for the server (process runtime) and the container's command.
   * A kind without it refuses queues. */
  queues?: { args: string[]; command: string[] };
  /** The process runtime: how it runs on this machine. */
  process: {
    /** The module (a file URL) that starts it inside the runtime's small Node process:
     * it exports `start` (see ServerStart). */
    server: string;
    /** A program it needs on PATH, and how to get it. */
    requires?: { command: string; install: string };
    /** Where it keeps its data between runs (`down --volumes` removes it), given the
     * project's data folder; `<data>/<name>` unless said otherwise. */
    dataDir?(dataRoot: string, name: string): string;
  };
  /** compose and Kubernetes: its container, from `image`. */
  container: {
    environment?(project: string): Record<string, string>;
    /** Arguments to the image's entrypoint. */
    command?: string[];
    /** Where it keeps its data: a named volume in compose, a PersistentVolumeClaim in
     * Kubernetes. */
    dataPath?: string;
    /** The healthcheck (compose) and readiness probe (Kubernetes), run inside it. */
    healthcheck(project: string): string[];
    /** The image's own unprivileged user: Kubernetes runs it as that (Pod Security
     * "restricted" admits no root). */
    user: number;
    /** Folders it writes besides its data: in-memory in Kubernetes, whose root
     * filesystem is read-only. */
    scratch?: string[];
  };
}

/** What a kind's `process.server` module is given: its port and data folder. */
export interface ServerOptions {
  name: string;
  port: number;
  dataDir: string;
  project: string;
  /** What its use adds to the server's arguments (a queue Redis: `queues.args`). */
  args: string[];
}

/** Starts the server; resolves to a function that stops it. Runs inside infra-main. */
export type ServerStart = (options: ServerOptions) => Promise<() => Promise<void>>;
