import autocannon from 'autocannon';
import type { LoadOptions } from './engine.js';
import type { Recorder } from './recorder.js';

/** Stages of the closed model advance in steps this long, each at its connections' middle value. */
const STEP_MS = 1000;

/**
 * How often autocannon looks whether it should stop. It ends a run (its duration, an
 * amount reached, a stop) only at its next sample, every second by default, so `-d 500ms`
 * ran 1.07 s and `-d 1500ms` 2.07 s, sending all the while, and each one-second step of a
 * closed-model ramp ran late by as much. Its samples feed nothing here (the recorder
 * counts every answer); against a bare server, sampling every 10, 100 and 1,000 ms read
 * 81.6k, 81.7k and 82.5k req/s (6 interleaved rounds): within a run's spread.
 */
const STOP_CHECK_MS = 50;

/**
 * The closed model: each connection sends its next request once the last is answered.
 * autocannon does the sending, where it is at its best; stages of connections run as
 * consecutive one-second autocannon steps feeding one recorder.
 */
export async function runClosedModel(recorder: Recorder, options: LoadOptions): Promise<void> {
  const segments = options.stages ? connectionSteps(options.stages) : [{ durationMs: options.durationMs, connections: options.connections }];
  // the run's clock starts with the sending, not with the loading of this module and
  // autocannon (~70 ms the first time; unless the caller keeps a clock of its own)
  recorder.restart();
  for (const segment of segments) {
    if (options.signal?.aborted) break;
    if (segment.connections === 0) {
      await sleep(segment.durationMs ?? 0, options.signal);
      continue;
    }
    await runSegment(recorder, { ...options, ...segment });
  }
}

function connectionSteps(stages: NonNullable<LoadOptions['stages']>): { durationMs: number; connections: number }[] {
  const steps: { durationMs: number; connections: number }[] = [];
  let from = 0;
  for (const stage of stages) {
    const count = Math.max(1, Math.round(stage.durationMs / STEP_MS));
    for (let step = 0; step < count; step += 1) {
      steps.push({ durationMs: stage.durationMs / count, connections: Math.round(from + ((stage.target - from) * (step + 0.5)) / count) });
    }
    from = stage.target;
  }
  return steps;
}

async function runSegment(recorder: Recorder, options: LoadOptions): Promise<void> {
  // autocannon validates keys that are present, even when undefined
  const settings = Object.fromEntries(
    Object.entries({
      url: options.url.href,
      method: options.method ?? 'GET',
      headers: options.headers,
      body: options.body,
      // autocannon gives each connection a share of an amount, and refuses an empty one
      // (`-a 5` with the default 10 connections threw "connections cannot be greater than amount")
      connections: options.amount === undefined ? options.connections : Math.min(options.connections, options.amount),
      duration: options.durationMs !== undefined ? options.durationMs / 1000 : undefined,
      amount: options.amount,
      timeout: options.timeoutMs / 1000,
      requests: options.nextRequest && [{ setupRequest: (request: object) => ({ ...request, ...options.nextRequest!() }) }],
      setupClient: dropUnansweredOnReconnect,
      sampleInt: STOP_CHECK_MS,
    }).filter(([, value]) => value !== undefined),
  ) as unknown as autocannon.Options;

  let finished!: (error: Error | null) => void;
  const done = new Promise<void>((resolve, reject) => (finished = (error) => (error ? reject(error) : resolve())));
  const instance = autocannon(settings, (error) => finished(error));
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => recorder.answer(status, ms));
  instance.on('reqError', (error: Error & { code?: string }) => recorder.fail(error.message === 'request timed out' ? 'timeout' : (error.code ?? error.message)));
  const abort = () => instance.stop();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    await done;
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}

/** The part of autocannon's (9.x) Client that `dropUnansweredOnReconnect` reaches into. */
interface AutocannonClient {
  _connect?: () => void;
  pipelinedRequests?: { clear(): void };
}

/**
 * autocannon keeps a connection's unanswered requests queued when it opens the next one, so
 * once a server closes a connection — after a `connection: close` answer, as injected
 * errors, a 503 with no instance and a draining instance give — each later response is
 * timed from an older request, and latency grows without bound (10 connections answered
 * at 8 000 req/s read a p50 of 266 ms). What a closed connection held died with it (a
 * reset is counted as an error on its own): each new connection starts with an empty queue.
 */
function dropUnansweredOnReconnect(client: AutocannonClient): void {
  const connect = client._connect;
  const queue = client.pipelinedRequests;
  if (!connect || !queue) throw new Error('autocannon changed its Client: see dropUnansweredOnReconnect in src/simulate/load/closed-model.ts');
  client._connect = function (this: AutocannonClient) {
    this.pipelinedRequests!.clear();
    connect.call(this);
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
