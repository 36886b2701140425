import { parametersProblem, type Fault } from '../faults/index.js';

/**
 * Faults a runtime can put in front of a service. Each is bounded in time: the runtime
 * removes it at its deadline itself, so a CLI that dies mid-experiment leaves nothing on.
 */
export type { Fault } from '../faults/index.js';

export interface ActiveFault {
  id: string;
  service: string;
  /** Set when the fault acts on one caller→service link only (that caller's calls). */
  from?: string;
  fault: Fault;
  /** ISO time the runtime removes it at. */
  expiresAt: string;
}

export const MAX_FAULT_MS = 60 * 60 * 1000;

/** Every fault is bounded: more than nothing, at most an hour. */
export function durationProblem(durationMs: number): string | undefined {
  return durationMs > 0 && durationMs <= MAX_FAULT_MS ? undefined : `a fault lasts more than 0 and at most ${MAX_FAULT_MS / 60_000} minutes`;
}

/** Why `from` cannot name a link into `service`; undefined when it is one of its callers. */
export function linkProblem(service: string, callers: readonly string[], from: string): string | undefined {
  if (callers.includes(from)) return undefined;
  const choices = callers.length > 0 ? `--from takes one of its callers: ${callers.join(', ')}` : 'nothing in the system calls it';
  return `"${from}" does not call ${service}: ${choices}`;
}

/** "api-gateway→orders" for a link fault, "orders" for one on the front port. */
export function faultTarget(fault: Pick<ActiveFault, 'service' | 'from'>): string {
  return fault.from ? `${fault.from}→${fault.service}` : fault.service;
}

/** What is wrong with a fault, in words for the user; undefined when it is fine. */
export function faultProblem(fault: Fault, durationMs: number): string | undefined {
  return durationProblem(durationMs) ?? parametersProblem(fault);
}
