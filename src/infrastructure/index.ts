import { nats } from './nats/index.js';
import { postgres } from './postgres/index.js';
import { redis } from './redis/index.js';
import type { InfrastructureKind } from './kind.js';

export type { InfrastructureKind, ServerOptions, ServerStart, ServerState, SpecProblem, SpecView, TopicState } from './kind.js';

/** Every infrastructure kind scaffold can run, by name. The one list: the spec's schema,
 * the generators and the runtimes read it. */
const KINDS = new Map<string, InfrastructureKind>();
let version = 0;

/** Adds a kind (a built-in one below, or one a test brings from a folder of its own). */
export function registerInfrastructure(kind: InfrastructureKind): void {
  if (KINDS.has(kind.name)) throw new Error(`infrastructure kind "${kind.name}" is registered twice`);
  KINDS.set(kind.name, kind);
  version += 1;
}

/** Changes whenever a kind is registered, so the schema built from the kinds is rebuilt. */
export function infrastructureVersion(): number {
  return version;
}

export function allInfrastructure(): InfrastructureKind[] {
  return [...KINDS.values()];
}

for (const kind of [postgres, redis, nats]) registerInfrastructure(kind);

export function infrastructureNames(): string[] {
  return [...KINDS.keys()];
}

/** The kind of that name; undefined for a name nobody registered (never a prototype key). */
export function findInfrastructure(name: string): InfrastructureKind | undefined {
  return KINDS.get(name);
}

/** "unknown infrastructure kind "x": choose postgres, redis, nats" */
export function unknownInfrastructure(name: string): string {
  return `unknown infrastructure kind "${name}": choose ${infrastructureNames().join(', ')}`;
}
