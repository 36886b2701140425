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
  /** From the fault to the first failed request; null when nothing failed. */
  timeToDetectMs: number | null;
  /** From the fault's end until errors stopped and p99 was back near the steady state;
   * null when that never happened within the run. */
  timeToRecoverMs: number | null;
  /** Restarts the runtime made during the run, per service. */
  restarts: Record<string, number>;
  acted: unknown;
}

const EMPTY: PhaseSummary = { requests: 0, errors: 0, availability: 1, p50: 0, p99: 0, errorsByKind: {}, firstErrorAtMs: null };

/**
 * Traffic before, during and after a fault, measured per phase: the part every chaos tool
 * leaves to the user. Recovery is read off the per-second series: the first second after
 * the fault with no errors and a p99 within twice the steady state's (or 5 ms of it).
 */
export async function runUnderLoad(options: UnderLoadOptions): Promise<UnderLoadResult> {
  const { beforeMs, faultMs, afterMs } = options;
  // with an open-ended window the load runs until it is stopped, once act has settled
  let windowEnd = faultMs === undefined ? Infinity : beforeMs + faultMs;
  const phaseOf = (elapsedMs: number) => (elapsedMs < beforeMs ? 'before' : elapsedMs < windowEnd ? 'during' : 'after');
  const stop = new AbortController();
  const durationMs = faultMs === undefined ? MAX_DURATION_MS : beforeMs + faultMs + afterMs;
  // a load that cannot run fails here, before any fault is in force
  const start = await prepareLoad({ ...options.load, runtime: options.runtime, durationMs, phaseOf, signal: stop.signal });
  const restartsBefore = restartCounts(await options.runtime.status());
  const started = performance.now();
  const running = start();
  // its failure is awaited below, after act; meanwhile it must not count as unhandled
  running.catch(() => undefined);
  let acted: unknown;
  try {
    await sleep(beforeMs);
    acted = await options.act();
  } catch (error) {
    stop.abort();
    await running.catch(() => undefined);
    throw error;
  }
  if (faultMs === undefined) {
    windowEnd = Math.round(performance.now() - started);
    await sleep(afterMs);
    stop.abort();
  }
  const load = await running;
  const restartsAfter = restartCounts(await options.runtime.status());

  const phases = { before: EMPTY, during: EMPTY, after: EMPTY, ...load.phases };
  const firstError = phases.during.firstErrorAtMs ?? phases.after.firstErrorAtMs;
  const steadyP99 = phases.before.p99;
  const recoverFrom = options.recoverFromStart ? beforeMs : windowEnd;
  const recovered = load.series.find(
    (second) => second.second * 1000 >= recoverFrom && second.requests > 0 && second.errors === 0 && second.p99 <= Math.max(steadyP99 * 2, steadyP99 + 5),
  );
  return {
    load,
    phases,
    window: { fromMs: beforeMs, toMs: windowEnd },
    timeToDetectMs: firstError === null ? null : Math.max(0, firstError - beforeMs),
    timeToRecoverMs: recovered ? Math.max(0, recovered.second * 1000 - recoverFrom) : null,
    restarts: Object.fromEntries(Object.entries(restartsAfter).map(([name, count]) => [name, count - (restartsBefore[name] ?? 0)])),
    acted,
  };
}

function restartCounts(status: Awaited<ReturnType<Runtime['status']>>): Record<string, number> {
  return Object.fromEntries(status.services.map((service) => [service.name, service.instances.reduce((sum, i) => sum + i.restarts, 0)]));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
