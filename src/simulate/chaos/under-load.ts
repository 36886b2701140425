import type { Runtime } from '../../runtime/runtime.js';
import type { LoadResult, PhaseSummary } from '../load/result.js';
import { MAX_DURATION_MS, prepareLoad, type SimulateLoadOptions } from '../load/simulate.js';

export interface UnderLoadOptions {
  runtime: Runtime;
  /** The load, as `simulate load` takes it; its duration is set from the phases. */
  load: Omit<SimulateLoadOptions, 'durationMs' | 'amount' | 'stages' | 'phaseOf' | 'runtime' | 'signal'>;
  beforeMs: number;
  /** How long the fault is in force (for a kill: the window after it). Without it, the
   * window is `act` itself, from its start until it settles (an experiment's method). */
  faultMs?: number;
  afterMs: number;
  /** Puts the fault in (inject, kill…); called once the steady state has been measured. */
  act: () => Promise<unknown>;
  /** Recovery counts from the fault's start (a kill) rather than its end (a timed fault). */
  recoverFromStart?: boolean;
}

export interface UnderLoadResult {
  load: LoadResult & { file?: string };
  phases: { before: PhaseSummary; during: PhaseSummary; after: PhaseSummary };
  /** The fault window, in ms since the load started. */
  window: { fromMs: number; toMs: number };
  /** From the fault's start to the first failed request; null when nothing failed. */
  timeToDetectMs: number | null;
  /** From the fault's end (a kill: its start) until errors stopped and p99 was back near
   * the steady state; null when that never happened within the run. */
  timeToRecoverMs: number | null;
  /** Restarts the runtime made during the run, per service. */
  restarts: Record<string, number>;
  acted: unknown;
}

const EMPTY: PhaseSummary = { requests: 0, errors: 0, availability: 1, p50: 0, p99: 0, errorsByKind: {}, firstErrorAtMs: null, lastErrorAtMs: null, lastOkAtMs: null };

/**
 * Traffic before, during and after a fault, measured per phase: the part every chaos tool
 * leaves to the user. Every moment is read on one clock, the load's, which starts here: the
 * fault's window runs from the moment `act` is called, and detection and recovery count from
 * its edges to the failed requests' own moments.
 */
export async function runUnderLoad(options: UnderLoadOptions): Promise<UnderLoadResult> {
  const { beforeMs, faultMs, afterMs } = options;
  // "before" until act is called; with an open-ended window, "during" until act has settled
  let windowStart = Infinity;
  let windowEnd = Infinity;
  const phaseOf = (elapsedMs: number) => (elapsedMs < windowStart ? 'before' : elapsedMs < windowEnd ? 'during' : 'after');
  const stop = new AbortController();
  const durationMs = faultMs === undefined ? MAX_DURATION_MS : beforeMs + faultMs + afterMs;
  // the load's clock is this function's: the fault's moments and the requests' share it
  const origin = performance.now();
  const now = () => performance.now() - origin;
  // the wall clock at the origin: a runtime says when its fault ends in wall-clock time
  const wallAtOrigin = Date.now() - now();
  // a load that cannot run fails here, before any fault is in force
  const start = await prepareLoad({ ...options.load, runtime: options.runtime, durationMs, phaseOf, origin, signal: stop.signal });
  const restartsBefore = restartCounts(await options.runtime.status());
  const running = start();
  // its failure is awaited below, after act; meanwhile it must not count as unhandled
  running.catch(() => undefined);
  let acted: unknown;
  try {
    await sleep(beforeMs);
    windowStart = now();
    if (faultMs !== undefined) windowEnd = windowStart + faultMs;
    acted = await options.act();
    // a fault the runtime ends by itself ends at the runtime's deadline, later than ours by
    // however long putting it in took: the requests it caught until then are "during" ones
    const expiresAt = deadline(acted);
    if (faultMs !== undefined && expiresAt !== undefined) windowEnd = Math.max(windowEnd, expiresAt - wallAtOrigin);
  } catch (error) {
    stop.abort();
    await running.catch(() => undefined);
    throw error;
  }
  if (faultMs === undefined) {
    windowEnd = now();
    await sleep(afterMs);
    stop.abort();
  }
  const load = await running;
  const restartsAfter = restartCounts(await options.runtime.status());

  const phases = { before: EMPTY, during: EMPTY, after: EMPTY, ...load.phases };
  const firstError = phases.during.firstErrorAtMs ?? phases.after.firstErrorAtMs;
  const recoverFrom = options.recoverFromStart ? windowStart : windowEnd;
  const recoveredAt = recoveryMoment(load, phases, recoverFrom);
  return {
    load,
    phases,
    window: { fromMs: Math.round(windowStart), toMs: Math.round(windowEnd) },
    timeToDetectMs: firstError === null ? null : Math.max(0, Math.round(firstError - windowStart)),
    timeToRecoverMs: recoveredAt === null ? null : Math.round(recoveredAt - recoverFrom),
    restarts: Object.fromEntries(Object.entries(restartsAfter).map(([name, count]) => [name, count - (restartsBefore[name] ?? 0)])),
    acted,
  };
}

/**
 * When the system was back to its steady state, from `from` on: after its last failed
 * request (to the millisecond) and after the last whole second that began after `from` with
 * a p99 above twice the steady state's (or 5 ms above it). Null when no request succeeded
 * after that: the run ended before the system recovered.
 */
function recoveryMoment(load: LoadResult, phases: UnderLoadResult['phases'], from: number): number | null {
  const steadyP99 = phases.before.p99;
  const lastError = Math.max(phases.during.lastErrorAtMs ?? 0, phases.after.lastErrorAtMs ?? 0);
  const slowSeconds = load.series.filter((second) => second.second * 1000 >= from && second.requests > 0 && second.p99 > Math.max(steadyP99 * 2, steadyP99 + 5));
  const lastSlow = slowSeconds.length > 0 ? (slowSeconds.at(-1)!.second + 1) * 1000 : 0;
  const recovered = Math.max(from, lastError, lastSlow);
  const lastOk = Math.max(phases.during.lastOkAtMs ?? 0, phases.after.lastOkAtMs ?? 0);
  return lastOk > recovered ? recovered : null;
}

/** Restarts so far of every service and infrastructure server (a killed Redis is one too). */
function restartCounts(status: Awaited<ReturnType<Runtime['status']>>): Record<string, number> {
  return Object.fromEntries([
    ...status.services.map((service) => [service.name, service.instances.reduce((sum, i) => sum + i.restarts, 0)] as const),
    ...status.infrastructure.map((server) => [server.name, server.instance.restarts] as const),
  ]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The wall-clock moment a runtime's timed fault ends (`ActiveFault.expiresAt`), if `acted` has one. */
function deadline(acted: unknown): number | undefined {
  const expiresAt = (acted as { expiresAt?: unknown } | undefined)?.expiresAt;
  const at = typeof expiresAt === 'string' ? Date.parse(expiresAt) : NaN;
  return Number.isFinite(at) ? at : undefined;
}
