import type { ActiveFault, Fault } from '../../runtime/faults.js';
import { UnsupportedError, type Runtime } from '../../runtime/runtime.js';

/**
 * A fault through any runtime. A driver that took no notice of `from` has just faulted
 * every caller instead of one: its fault is cleared at once and the driver reported as
 * unable to, rather than trusted (an extra argument is easy to leave out of an interface
 * implementation, and TypeScript would not complain).
 */
export async function injectFault(runtime: Runtime, service: string, fault: Fault, durationMs: number, from?: string): Promise<ActiveFault> {
  const active = await runtime.inject(service, fault, durationMs, from === undefined ? undefined : { from });
  if (from !== undefined && active.from !== from) {
    await runtime.clearFaults(active.id);
    throw new UnsupportedError(runtime.name, 'put a fault on one caller→service link (--from)');
  }
  return active;
}
