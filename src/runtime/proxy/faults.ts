import type net from 'node:net';
import { faultKind, type Fault } from '../../faults/index.js';

/** The connection-wide fault in force (a partition): "refuse" or "blackhole"; undefined
 * when none is. */
export function connectionFault(faults: readonly Fault[]): 'refuse' | 'blackhole' | undefined {
  for (const fault of faults) {
    const effect = faultKind(fault)?.onConnection?.(fault);
    if (effect) return effect;
  }
  return undefined;
}

/** Whether a new connection may go on: a partition resets it, or swallows it (read, never
 * answered). */
export function admit(client: net.Socket, faults: readonly Fault[]): boolean {
  const effect = faults.length === 0 ? undefined : connectionFault(faults);
  if (effect === 'refuse') client.resetAndDestroy();
  else if (effect === 'blackhole') client.on('error', () => undefined).resume();
  return effect === undefined;
}

/** The connection-wide fault that begins with this change of faults, if one does. */
export function connectionFaultBegins(before: readonly Fault[], after: readonly Fault[]): 'refuse' | 'blackhole' | undefined {
  const now = connectionFault(after);
  return now !== undefined && connectionFault(before) === undefined ? now : undefined;
}

/**
 * What the faults do to a request as it starts: the connection is reset or answered (and
 * `true` says so: nothing more to do), or held back until the returned time.
 */
export function actOnRequest(client: net.Socket, faults: readonly Fault[], heldUntil: number): number | true {
  let until = heldUntil;
  for (const fault of faults) {
    const action = faultKind(fault)?.onRequest?.(fault);
    if (!action) continue;
    if ('reset' in action) {
      client.resetAndDestroy();
      return true;
    }
    if ('answer' in action) {
      client.end(action.answer);
      return true;
    }
    until = Math.max(until, Date.now() + action.delayMs);
  }
  return until;
}
