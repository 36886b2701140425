import type { Dispatcher } from 'undici';
import { arrivalTimes, type RateRamp } from './arrivals.js';
import { ConnectionPool } from './connection-pool.js';
import { DEFAULT_MAX_CONNECTIONS, type LoadOptions } from './engine.js';
import { preopenedConnector } from './preopened.js';
import type { Recorder } from './recorder.js';
import type { PreparedRequest } from './scenario.js';

/**
 * The open model (k6's constant- and ramping-arrival-rate, wrk2's -R): every request has an
 * intended send time from the schedule and leaves then on a free connection, whatever the
 * answers before it are doing; its latency counts from that intended time, so a stalled
 * server shows as the queue it would build (free of coordinated omission by construction,
 * nothing back-filled). Connections open as requests need them, up to `maxConnections`
 * (`connections` of them before the start); a request due while the cap's worth are in
 * flight is dropped and counted (k6's dropped_iterations): what the target could not take.
 *
 * undici sends: a well-kept client whose Client with pipelining 1 is one connection
 * carrying one request at a time, at a cost per request close to autocannon's hand-rolled
 * client (bench/load-engine.mjs).
 */
export async function runOpenModel(recorder: Recorder, options: LoadOptions): Promise<void> {
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const preopened = await preopenedConnector(options.url, Math.min(options.connections, maxConnections), options.timeoutMs);
  const pool = new ConnectionPool(options.url.origin, {
    maxConnections,
    timeoutMs: options.timeoutMs,
    connect: preopened.connect,
    ended: (dueAt, status, error) => {
      if (error) recorder.fail(errorKind(error));
      else recorder.answer(status, performance.now() - dueAt);
    },
  });
  const fixed: Dispatcher.DispatchOptions = {
    path: `${options.url.pathname}${options.url.search}`,
    method: (options.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: options.headers,
    body: options.body,
  };
  // the schedule starts once the connections are open (and so does the run's clock, unless
  // the caller keeps one of its own)
  recorder.restart();
  const start = performance.now();
  const send = (dueMs: number) => {
    const request = options.nextRequest ? dispatchOptions(options.nextRequest()) : fixed;
    if (!pool.send(request, start + dueMs)) recorder.drop();
  };
  try {
    await followSchedule(arrivalTimes(rampsOf(options), options.arrival, options.amount), start, send, options.signal);
    // each request ends by its timeout at the latest
    while (pool.inFlight > 0 && !options.signal?.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
  } finally {
    preopened.close();
    await pool.destroy();
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

function dispatchOptions(request: PreparedRequest): Dispatcher.DispatchOptions {
  return { path: request.path, method: request.method as Dispatcher.HttpMethod, headers: request.headers, body: request.body };
}

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** Kinds as the closed model names them: timeout, or the socket's code (ECONNREFUSED…). */
function errorKind(error: Error & { code?: string }): string {
  if (error.code !== undefined && TIMEOUTS.has(error.code)) return 'timeout';
  // undici reports a connection closed under a request as a SocketError of its own
  if (error.code === 'UND_ERR_SOCKET') return (error.cause as { code?: string } | undefined)?.code ?? 'ECONNRESET';
  return error.code ?? error.message;
}
