import { arrivalTimes, type RateRamp } from './arrivals.js';
import { ConnectionPool } from './connection-pool.js';
import { DEFAULT_MAX_CONNECTIONS, type LoadOptions } from './engine.js';
import { encodeRequest, targetOf } from './http1-connection.js';
import type { Recorder } from './recorder.js';

/**
 * The open model (k6's constant- and ramping-arrival-rate, wrk2's -R): every request has an
 * intended send time from the schedule and leaves then on a free connection, whatever the
 * answers before it are doing; its latency counts from that intended time, so a stalled
 * server shows as the queue it would build (free of coordinated omission by construction,
 * nothing back-filled). Connections open as requests need them, at most one a millisecond,
 * up to `maxConnections` (`connections` of them before the start; connection-pool.ts says
 * why paced); a request due while the cap's worth are in flight (sent, or waiting for a
 * connection) is dropped and counted (k6's dropped_iterations): what the target could not
 * take.
 *
 * Each connection carries one request at a time (http1-connection.ts says why it is not
 * undici's); a fixed request is encoded once for the whole run.
 */
export async function runOpenModel(recorder: Recorder, options: LoadOptions): Promise<void> {
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const pool = new ConnectionPool(options.url, {
    maxConnections,
    timeoutMs: options.timeoutMs,
    ended: (dueAt, status, error) => {
      if (error) recorder.fail(errorKind(error));
      else recorder.answer(status, performance.now() - dueAt);
    },
  });
  const target = targetOf(options.url);
  const fixed = encodeRequest(target, {
    path: `${options.url.pathname}${options.url.search}`,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    body: options.body,
  });
  try {
    await pool.open(options.connections);
  } catch (error) {
    pool.destroy();
    throw error;
  }
  // the schedule starts once the connections are open (and so does the run's clock, unless
  // the caller keeps one of its own)
  recorder.restart();
  const start = performance.now();
  const send = (dueMs: number) => {
    const request = options.nextRequest ? encodeRequest(target, options.nextRequest()) : fixed;
    if (!pool.send(request, start + dueMs)) recorder.drop();
  };
  try {
    await followSchedule(arrivalTimes(rampsOf(options), options.arrival, options.amount), start, send, options.signal);
    // each request ends by its timeout at the latest
    while (pool.inFlight > 0 && !options.signal?.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
  } finally {
    pool.destroy();
  }
}

export function rampsOf(options: Pick<LoadOptions, 'stages' | 'durationMs' | 'rate'>): RateRamp[] {
  if (!options.stages) return [{ durationMs: options.durationMs ?? Infinity, from: options.rate!, to: options.rate! }];
  let from = 0;
  return options.stages.map((stage) => {
    const ramp = { durationMs: stage.durationMs, from, to: stage.target };
    from = stage.target;
    return ramp;
  });
}

/** Calls `send` with each intended time once it has come, until the schedule ends or a stop. */
export function followSchedule(times: Iterator<number>, start: number, send: (dueMs: number) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let next = times.next();
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    const tick = () => {
      const now = performance.now() - start;
      // a late timer sends everything that fell due meanwhile, each timed from its own due time
      while (!next.done && next.value <= now) {
        send(next.value);
        next = times.next();
      }
      if (next.done) return stop();
      timer = setTimeout(tick, next.value - (performance.now() - start));
    };
    if (signal?.aborted) return resolve();
    signal?.addEventListener('abort', stop, { once: true });
    tick();
  });
}

/** Kinds as the closed model names them: timeout, or the socket's code (ECONNREFUSED…). */
function errorKind(error: Error & { code?: string }): string {
  if (error.code === 'ETIMEDOUT') return 'timeout';
  return error.code ?? error.message;
}
