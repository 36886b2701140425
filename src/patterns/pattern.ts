import type { z } from 'zod';
import type { CommonService } from '../spec/schema.js';

/**
 * What a pattern is, in one object: everything the spec, the generators, the CLI and the
 * simulations need to know about it. A pattern lives in its own folder (this definition,
 * its templates, its template slots) and is registered in `src/patterns/index.ts`.
 *
 * Nothing here imports zod: the registry is read by the CLI's option parsing and by the
 * supervisor, which stay clear of it; `fields` receives zod when the schema is built.
 */
export interface PatternDefinition<Own extends object = Record<string, unknown>> {
  /** `pattern:` in scaffold.yaml, the `--pattern` choice and the template group's name. */
  name: string;
  /** One line: the prompt's label and the README's pattern table. */
  description: string;
  /** The fields only this pattern has; the service schema is a union keyed on `pattern`. */
  fields?: (kit: SchemaKit) => z.ZodRawShape;
  /** The services it calls beyond `dependsOn`, each with where the spec names it. */
  calls?: (service: CommonService & Own) => Call[];
  /** The job queues it consumes (a worker's queue), each with where the spec names it. */
  consumes?: (service: CommonService & Own) => QueueRef[];
  /** What a service of this pattern cannot run without. */
  requires?: { infrastructure?: readonly string[] };
  /** npm dependencies its generated package.json adds to the common ones (name → range). */
  npmDependencies?: Readonly<Record<string, string>>;
  /** Its templates, rendered over the common ones (`templates/service/common`); a project
   * overrides them under `.scaffold/templates/service/<name>/`. */
  templates: string;
  /** Handlebars partials that fill the common templates' slots (`{{#> slot-name}}`), one
   * `<slot-name>.hbs` each; a slot the pattern leaves out renders nothing. */
  slots?: string;
  /** What templates get beyond the common service view: the pattern's own values. */
  view?: (service: CommonService & Own, upstream: (name: string) => UpstreamRef) => Record<string, unknown>;
  traits: PatternTraits;
  /** The path prefix under which a service of this pattern passes requests on to `target`
   * (how load reaches a service through it), if it does. */
  pathTo?: (service: CommonService & Own, target: string) => string | undefined;
  /** Names of the built-in chaos scenarios that may pick a service of this pattern. */
  scenarios: readonly string[];
  /** Hints for load results, by HTTP status, when most answers have it. */
  loadHints?: Readonly<Record<string, string>>;
  /** How `scaffold new-service` fills the pattern in. */
  newService: NewServiceInput;
}

export interface PatternTraits {
  /** Reachable from outside the system (NetworkPolicy ingress from anywhere). */
  publicIngress: boolean;
  /** Where load goes when the user names no target. */
  entryPoint: boolean;
  /** The port `new-service` gives it when that is free. */
  defaultPort?: number;
  /** Its app mounts the producer's example route (`POST /orders`, see service-features.ts)
   * when the service enqueues; without it, a service that enqueues gets the queues'
   * client alone, to enqueue from its own code. */
  producerRoute?: boolean;
}

export interface NewServiceInput {
  /** The question about the services it calls, asked (on a TTY) when its flag is missing;
   * `field` is `dependsOn` or one of its flags' fields. */
  ask?: { message: string; field: string; allChecked: boolean; answer: (targets: string[]) => unknown };
  /** Command-line flags for its own fields. */
  flags?: readonly PatternFlag[];
}

export interface PatternFlag {
  /** commander's syntax, e.g. "--routes <routes>"; the value lands in `field`. */
  option: string;
  field: string;
  description: string;
  /** Parses one occurrence (repeatable flags get the previous value); throws a UserError
   * whose message says what is wrong with the value. */
  parse: (value: string, previous: unknown) => unknown;
}

export interface Call {
  target: string;
  /** Where the spec names the target, under the service (for error locations). */
  path: (string | number)[];
}

export interface QueueRef {
  queue: string;
  /** Where the spec names the queue, under the service (for error locations). */
  path: (string | number)[];
}

/** An upstream as templates see it (see model/project.ts). */
export type UpstreamRef = { name: string };

/** The spec's shared field types a fragment may use, and zod itself. */
export interface SchemaKit {
  z: typeof z;
  serviceName: z.ZodType<string>;
  queueName: z.ZodType<string>;
}

/** Types a definition's service argument by its own fields; the registry holds the result. */
export function definePattern<Own extends object>(definition: PatternDefinition<Own>): PatternDefinition {
  return definition as unknown as PatternDefinition;
}
