import { errors, type ErrorsFault } from './errors.js';
import { fieldAccepts } from './field.js';
import type { FaultKind } from './kind.js';
import { latency, type LatencyFault } from './latency.js';
import { partition, type PartitionFault } from './partition.js';
import { reset, type ResetFault } from './reset.js';

export type { FaultAction, FaultKind } from './kind.js';
export type { FaultField } from './field.js';

/** Every fault a runtime can put on a service, a link or an infrastructure server. */
export type Fault = LatencyFault | ErrorsFault | PartitionFault | ResetFault;

/** The fault kinds by name, in the order the CLI and the README list them. The one list:
 * the `chaos` subcommands, the experiment schema, the runtimes' checks and the support
 * matrix come from it. */
export const FAULT_KINDS: ReadonlyMap<string, FaultKind> = new Map(
  ([latency, errors, partition, reset] as FaultKind[]).map((kind) => [kind.kind, kind]),
);

/** The registered kind of a fault; undefined for a kind nobody registered. */
export function faultKind(fault: { kind: unknown }): FaultKind<Fault> | undefined {
  return typeof fault.kind === 'string' ? (FAULT_KINDS.get(fault.kind) as FaultKind<Fault> | undefined) : undefined;
}

/** What is wrong with a fault's parameters, in words for the user; undefined when fine. */
export function parametersProblem(fault: Fault): string | undefined {
  const kind = faultKind(fault);
  if (!kind) return `unknown fault kind ${JSON.stringify((fault as { kind: unknown }).kind)}: choose ${[...FAULT_KINDS.keys()].join(', ')}`;
  for (const [name, field] of Object.entries(kind.fields)) {
    const value = (fault as unknown as Record<string, unknown>)[name];
    if (value === undefined && field.default !== undefined) continue;
    if (!fieldAccepts(field, value)) return field.expected;
  }
  return undefined;
}

/** The kinds that work on any byte stream: what an infrastructure server's links take. */
export function byteFaults(): string[] {
  return [...FAULT_KINDS.values()].filter((kind) => kind.layer === 'bytes').map((kind) => kind.kind);
}

/** The README's support matrix, from the registry (a test keeps the README in step). */
export function supportMatrix(): string {
  const runtimes = ['process', 'compose', 'kubernetes'] as const;
  const rows = [...FAULT_KINDS.values()].map(
    (kind) => `| ${kind.kind} | ${kind.layer === 'bytes' ? 'any TCP: services and servers' : 'HTTP: services only'} | ${runtimes.map((runtime) => kind.support[runtime] ?? 'not yet').join(' | ')} |`,
  );
  return ['| fault | acts on | process | compose | kubernetes |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
