/**
 * Faults a runtime can put in front of a service. Each is bounded in time: the runtime
 * removes it at its deadline itself, so a CLI that dies mid-experiment leaves nothing on.
 */
export type Fault =
  /** Every request waits `ms` (± `jitterMs`) before it reaches an instance. */
  | { kind: 'latency'; ms: number; jitterMs?: number }
  /** A share of requests is answered with `status` instead of reaching an instance. */
  | { kind: 'errors'; rate: number; status: number }
  /** New connections are cut at once (`refuse`) or accepted and never answered (`blackhole`). */
  | { kind: 'partition'; mode: 'refuse' | 'blackhole' }
  /** A share of connections is reset (TCP RST) when the request arrives. */
  | { kind: 'reset'; rate: number };

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
  const tooLong = durationProblem(durationMs);
  if (tooLong) return tooLong;
  switch (fault.kind) {
    case 'latency':
      return fault.ms >= 0 && (fault.jitterMs ?? 0) >= 0 ? undefined : 'latency and jitter are milliseconds, 0 or more';
    case 'errors':
      if (!(fault.rate >= 0 && fault.rate <= 1)) return 'an error rate is between 0 and 1 (0.3 is 30%)';
      return Number.isInteger(fault.status) && fault.status >= 400 && fault.status <= 599 ? undefined : 'an error status is 400–599';
    case 'reset':
      return fault.rate >= 0 && fault.rate <= 1 ? undefined : 'a reset rate is between 0 and 1';
    case 'partition':
      return fault.mode === 'refuse' || fault.mode === 'blackhole' ? undefined : 'a partition refuses or blackholes';
    default:
      return `unknown fault kind ${JSON.stringify((fault as { kind: unknown }).kind)}`;
  }
}
