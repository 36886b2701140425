import type { z } from 'zod';
import type { SchemaKit } from '../patterns/pattern.js';

/**
 * What scaffold knows about one kind of infrastructure server (postgres, redis, nats, …):
 * everything the spec, the generators and both runtimes need, in one object per kind
 * (`src/infrastructure/<kind>/index.ts`), registered in `./index.ts`.
 */
export interface InfrastructureKind {
  /** An infrastructure entry's `kind:`, and the name of the entry that leaves `kind` out
   * (`redis: {}`). */
  name: string;
  /** One line, for listings and errors. */
  description: string;
  /** `infrastructure.<name>.version` when the spec leaves it out. */
  defaultVersion: string;
  /** The image for a version; `infrastructure.<name>.image` replaces it. */
  image(version: string): string;
  /** Its port inside compose and Kubernetes. */
  port: number;
  /** The environment variable that carries its URL to a service that uses the entry named
   * after the kind (REDIS_URL); another entry's is its own name's (CACHE_URL). */
  urlVar: string;
  /** Its URL at `host:port`; `project` names the database and user where there is one. */
  url(address: { host: string; port: number; project: string }): string;
  /** What an entry's own settings change in how its server runs (a queue Redis's
   * noeviction, a cache's maxmemory): arguments the process runtime adds, and the
   * container's command in compose and Kubernetes. Undefined: it runs as its kind does. */
  settings?: (entry: Readonly<Record<string, unknown>>) => { args: string[]; command: string[] } | undefined;
  /** Its own fields under `infrastructure.<name>` beside `version` and `image` (a NATS
   * server's `topics`), built with the zod it is handed. */
  fields?: (kit: SchemaKit) => z.ZodRawShape;
  /** Fields any service may set to work with it, whatever its pattern (`publishes` and
   * `subscribes` for NATS); a service that sets one uses it without saying so in `uses`. */
  serviceFields?: (kit: SchemaKit) => z.ZodRawShape;
  /** What the schema's shapes cannot see: references between the server's fields and the
   * services' (a subscription to a topic nobody declared). Each problem with its path from
   * the spec's root, given the parsed spec (an entry of this kind has its `kind`). */
  check?: (spec: SpecView) => SpecProblem[];
  /** What a service that uses it gets besides the URL: its client's npm dependencies,
   * templates rendered over the common ones (before its pattern's), and their values
   * (`service.clients.<name>.*` in templates). */
  client?: {
    npmDependencies: Readonly<Record<string, string>>;
    templates?: string;
    view?: (spec: SpecView, service: string) => Record<string, unknown>;
  };
  /** What `status` shows of its contents (a NATS server's topics: backlog, in flight,
   * redeliveries, dead letters), read from the server at `url` (its own port). */
  inspect?: (spec: SpecView, url: string) => Promise<ServerState>;
  /** The process runtime: how it runs on this machine. */
  process: {
    /** The module (a file URL) that starts it inside the runtime's small Node process:
     * it exports `start` (see ServerStart). */
    server: string;
    /** A program it needs on PATH, and how to get it. */
    requires?: { command: string; install: string };
    /** The folder its entries keep their data in between runs, `<folder>/<name>` each,
     * given the project's data folder (the default). `down --volumes` removes the whole
     * folder: every entry of the kind's, those gone from the spec since included. */
    dataRoot?(projectData: string): string;
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

/** The parsed spec as a kind sees it: kept structural, so this file needs nothing from
 * the schema (the supervisor loads it without zod). */
export interface SpecView {
  name: string;
  services: Readonly<Record<string, Readonly<Record<string, unknown>> & { uses: string[] }>>;
  infrastructure: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** A server's contents as `status` shows them; each kind fills in what it has. */
export interface ServerState {
  topics?: TopicState[];
}

/** One topic's state, as JetStream itself counts it. */
export interface TopicState {
  topic: string;
  /** Events stored in its stream. */
  events: number;
  /** Events published to its dead-letter subject. */
  deadLetters: number;
  groups: {
    group: string;
    /** Stored, not yet delivered to the group. */
    backlog: number;
    /** Delivered, not yet acknowledged. */
    inFlight: number;
    /** Deliveries beyond each event's first, since the group began. */
    redeliveries: number;
  }[];
}

export interface SpecProblem {
  path: (string | number)[];
  message: string;
}

/** What a kind's `process.server` module is given: its port and data folder. */
export interface ServerOptions {
  name: string;
  port: number;
  dataDir: string;
  project: string;
  /** What its entry's settings add to the server's arguments (`settings().args`). */
  args?: string[];
}

/** Starts the server; resolves to a function that stops it. Runs inside infra-main. */
export type ServerStart = (options: ServerOptions) => Promise<() => Promise<void>>;
