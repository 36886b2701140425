import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  ConstantBackoff,
  ExponentialBackoff,
  IsolatedCircuitError,
  SamplingBreaker,
  TaskCancelledError,
  bulkhead,
  circuitBreaker,
  fullJitterGenerator,
  handleType,
  handleWhen,
  noJitterGenerator,
  retry,
  wrap,
  type BulkheadPolicy,
  type CircuitState as State,
  type IBreaker,
  type IPolicy,
} from 'cockatiel';
import type { CallPolicy, Trip } from '../generated/spec.js';
import type { UpstreamMetrics } from './upstream-metrics.js';

/** Why a call got no answer: what the fallback and the 503 name. */
export type FailureReason = 'timeout' | 'unreachable' | 'circuit-open' | 'bulkhead-full';

/** A call that got no usable answer: the fallback decides what the caller sees. */
export class UpstreamFailure extends Error {
  override name = 'UpstreamFailure';

  constructor(
    readonly upstream: string,
    readonly reason: FailureReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** One try of a call: resolves with the upstream's answer, rejects when there was none.
 * `deadline` (performance.now()) is when the whole call gives up: the try tells the
 * upstream how long that leaves (TIMEOUT_HEADER, see timeoutHeader). */
export type Attempt<T> = (signal: AbortSignal, deadline: number) => Promise<T>;

/**
 * How long the caller waits for this request's answer, in ms, sent with every call (as
 * gRPC's grpc-timeout and Envoy's x-envoy-expected-rq-timeout-ms are). Deadlines along a
 * chain nest with it: the callee gives its own upstream calls no longer than that, less a
 * share kept for its answer to travel back (callerDeadline), so that when *its* upstream is
 * too slow it answers its fallback (naming the upstream, FAILED_UPSTREAM_HEADER) while the
 * caller still waits. Otherwise, with a caller's timeout no longer than its callee's (the
 * defaults: 5 s each), the caller gives up first and counts a timeout against a callee
 * that was about to answer, and its breaker opens on a healthy service.
 */
export const TIMEOUT_HEADER = 'x-request-timeout-ms';

/** The value of TIMEOUT_HEADER for a try of a call that gives up at `deadline`. */
export function timeoutHeader(deadline: number): string {
  return String(Math.max(1, Math.floor(deadline - performance.now())));
}

/**
 * When a request that arrived `arrivedAt` (performance.now()) with TIMEOUT_HEADER must have
 * its upstream calls done: the caller's time less a tenth of it (at least 50 ms), left for
 * this service's answer to reach the caller. undefined without a usable header.
 */
export function callerDeadline(header: string | string[] | undefined, arrivedAt = performance.now()): number | undefined {
  if (typeof header !== 'string') return undefined;
  const budget = Number(header);
  if (!Number.isFinite(budget) || budget <= 0) return undefined;
  return arrivedAt + budget - Math.max(budget / 10, 50);
}

/**
 * On an answer a service gives because one of *its* upstreams failed (the default
 * fallback's 503, a gateway's 502/503/504): that upstream's name. Such an answer is prompt
 * and deliberate — the service is up, and its own breaker guards the upstream that failed —
 * so a caller's breaker does not count it against the service. Otherwise breakers trip
 * down the whole chain, and each must wait its own openFor (and its half-open trial may
 * meet one still open further down) before calls flow again.
 */
export const FAILED_UPSTREAM_HEADER = 'x-failed-upstream';

/** How the policies read an answer of type T: its status, whether it names a failed
 * upstream of the upstream's own (FAILED_UPSTREAM_HEADER), and how to drop one that will be
 * retried (so its connection is freed). */
export interface AnswerKind<T> {
  status: (answer: T) => number;
  passedOn: (answer: T) => boolean;
  discard: (answer: T) => void;
}

/** Methods a retry cannot repeat the effect of (RFC 9110 §9.2.2): the others are. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
const RESET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
/** The breaker's gauge, as dashboards expect it: 0 closed, 1 half-open, 2 open. */
const GAUGE: Record<State, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};

/**
 * The policies of one upstream, from scaffold.yaml (`resilience:`), applied by cockatiel:
 *
 *     deadline (the whole call) → bulkhead → circuit breaker → retry (within a budget) → try
 *
 * The deadline is outermost so that nothing — a queue in the bulkhead, a backoff, a slow
 * try — outlives it. It is cockatiel's aggressive timeout, written out (see #deadline).
 *
 * The breaker judges calls, not tries: a call whose retry was answered is a success. A
 * replica that dies resets every request it had in flight at once, and each is retried on
 * another replica behind the same address. Counted try by try, those resets were that many
 * failures in a row: on compose, a kill of one of two replicas under load opened the breaker
 * for the whole service while the other was answering every retry. The retry budget
 * keeps a service that is down from seeing more than its share of extra tries while the
 * breaker counts up to its trip; once open, the breaker refuses calls before any try.
 * Whether a failure is retried is decided in the try itself (`retryable`): cockatiel
 * retries what it throws as `Retry` and nothing else.
 */
export class UpstreamPolicy {
  readonly #policy: IPolicy;
  readonly #budget: RetryBudget;
  readonly #breaker;

  constructor(
    readonly upstream: string,
    readonly settings: CallPolicy,
    readonly metrics: UpstreamMetrics,
    onStateChange: (state: string) => void = () => {},
  ) {
    const { retry: retrySettings, circuitBreaker: breakerSettings, bulkhead: bulkheadSettings } = settings;
    this.#budget = new RetryBudget(retrySettings.budget, retrySettings.minRetriesPerSecond);

    // a failure is no answer, or a 5xx of the upstream's own (a 429 retried is not the
    // upstream failing, nor a 503 that names a failed upstream further down)
    const isFailure = (error: unknown) => !(error instanceof Retry && error.answer !== undefined && !failed(error.answer));
    this.#breaker = circuitBreaker(handleWhen(isFailure).orWhenResult((tried) => failed(tried as Tried<unknown>)), {
      halfOpenAfter: breakerSettings.openFor,
      breaker: breakerOf(breakerSettings.trip, breakerSettings.or),
    });
    metrics.circuitState(GAUGE[CircuitState.Closed]);
    this.#breaker.onStateChange((state) => {
      metrics.circuitState(GAUGE[state]);
      const name = CircuitState[state].toLowerCase();
      metrics.transition(name);
      onStateChange(name);
    });

    const retries = retry(handleType(Retry), { maxAttempts: retrySettings.maxRetries, backoff: backoffOf(retrySettings) });
    retries.onRetry(() => metrics.retried());
    const compartment = skipAbandoned(bulkhead(bulkheadSettings.maxConcurrent, bulkheadSettings.maxQueue));
    compartment.onReject(() => metrics.bulkheadRejected());
    this.#policy = wrap(compartment, this.#breaker, retries);
  }

  /** The breaker's state by name: closed, open, halfopen. */
  get circuit(): string {
    return CircuitState[this.#breaker.state].toLowerCase();
  }

  /**
   * One call (`attempt` is one try; it must give up when its signal aborts): the answer the upstream gave (any status: the last try's, once retries are
   * spent or refused), or an UpstreamFailure when it gave none in time. It gives up at the
   * policy's timeout, or at `callerDeadline` (see TIMEOUT_HEADER) when that comes first.
   */
  async call<T>(method: string, answers: AnswerKind<T>, attempt: Attempt<T>, options: { replayable?: boolean; callerDeadline?: number } = {}): Promise<T> {
    const started = performance.now();
    // a body streamed from the caller cannot be sent twice, whatever the method
    const canRetry = options.replayable !== false && (this.settings.retryNonIdempotent || IDEMPOTENT.has(method.toUpperCase()));
    const deadline = Math.min(started + this.settings.timeoutMs, options.callerDeadline ?? Infinity);
    this.#budget.recordCall(started);
    try {
      const { answer, status } = await this.#deadline(deadline - started, (signal) =>
        this.#policy.execute(
          (context: { signal: AbortSignal; attempt?: number }) =>
            this.#try(answers, attempt, context.signal, deadline, canRetry && (context.attempt ?? 0) < this.settings.retry.maxRetries),
          signal,
        ) as Promise<Tried<T>>,
      );
      this.metrics.called(performance.now() - started, status >= 500 ? String(status) : undefined);
      return answer;
    } catch (error) {
      const failure = this.#failure(error instanceof Retry ? (error.error ?? error) : error, deadline - started);
      this.metrics.called(performance.now() - started, failure.reason);
      throw failure;
    }
  }

  /**
   * The whole call within the timeout: its signal aborts at the deadline, and the caller
   * gets a TaskCancelledError then even if something inside ignores the signal (a call
   * waiting in the bulkhead's queue does). What cockatiel's timeout policy does with
   * TimeoutStrategy.Aggressive and abortOnReturn off (a response's body is read after the
   * call returns), at the cost of one AbortController, one timer and one promise per call:
   * its own derived controller, abort listeners and event emitters cost the call path 5-10%
   * of its requests/s at the bench (bench/upstream-client.mjs).
   */
  #deadline<R>(timeoutMs: number, run: (signal: AbortSignal) => Promise<R>): Promise<R> {
    // the request's own caller has given up already: no answer would reach it in time
    if (timeoutMs <= 0) return Promise.reject(new TaskCancelledError('the caller\'s deadline has passed'));
    const controller = new AbortController();
    // one promise settled by whichever comes first, rather than a race of two (a promise
    // and two subscriptions fewer per call)
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new TaskCancelledError(`Operation timed out after ${Math.round(timeoutMs)}ms`);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
      run(controller.signal).then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** One try; a failure worth another try (and within the budget) is thrown as Retry. */
  async #try<T>(answers: AnswerKind<T>, attempt: Attempt<T>, expired: AbortSignal, deadline: number, mayRetry: boolean): Promise<Tried<T>> {
    const perTry = this.settings.retry.perTry;
    const signal = perTry === undefined ? expired : AbortSignal.any([expired, AbortSignal.timeout(perTry)]);
    let answer: T;
    try {
      answer = await attempt(signal, perTry === undefined ? deadline : Math.min(deadline, performance.now() + perTry));
    } catch (error) {
      const condition = expired.aborted ? undefined : conditionOf(error, signal);
      if (mayRetry && condition !== undefined && this.#retryOn(condition)) throw new Retry(undefined, error);
      throw error;
    }
    const status = answers.status(answer);
    // read only where it counts (a 5xx, see failed): a header lookup fewer per call
    const tried = { answer, status, passedOn: status >= 500 && answers.passedOn(answer) };
    if (mayRetry && this.#retryOn(tried.status)) {
      answers.discard(answer);
      throw new Retry(tried, undefined);
    }
    return tried;
  }

  /** Whether the policy retries this condition, and the budget still allows a retry. */
  #retryOn(condition: string | number): boolean {
    if (!this.settings.retry.retryOn.includes(condition as never)) return false;
    if (this.#budget.tryRetry()) return true;
    this.metrics.budgetExhausted();
    return false;
  }

  #failure(error: unknown, timeoutMs: number): UpstreamFailure {
    const { upstream } = this;
    if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
      return new UpstreamFailure(upstream, 'circuit-open', `upstream ${upstream}: circuit breaker open, not called`, { cause: error });
    }
    if (error instanceof BulkheadRejectedError) {
      return new UpstreamFailure(upstream, 'bulkhead-full', `upstream ${upstream}: ${this.settings.bulkhead.maxConcurrent} calls in flight and the queue is full`, { cause: error });
    }
    if (error instanceof TaskCancelledError || (error instanceof Error && error.name === 'TimeoutError')) {
      this.metrics.timedOut();
      return new UpstreamFailure(upstream, 'timeout', `upstream ${upstream} did not answer within ${Math.max(0, Math.round(timeoutMs))} ms`, { cause: error });
    }
    return new UpstreamFailure(upstream, 'unreachable', `upstream ${upstream} is unreachable`, { cause: error });
  }
}

/** A try's answer and its status, as the breaker reads it. */
interface Tried<T> {
  answer: T;
  status: number;
  /** A 5xx that names a failed upstream of the upstream's (FAILED_UPSTREAM_HEADER). */
  passedOn: boolean;
}

/** Whether an answer counts against the upstream: a 5xx of its own. */
function failed(tried: Tried<unknown>): boolean {
  return tried.status >= 500 && !tried.passedOn;
}

/** What cockatiel retries: a failed try, with the answer (a 503, say) or the error. */
class Retry extends Error {
  constructor(
    readonly answer: Tried<unknown> | undefined,
    readonly error: unknown,
  ) {
    super('retry');
  }
}

/** Which retryOn condition an error of a try is: connect, reset or timeout (a try that
 * outlived perTry); undefined for anything else. */
function conditionOf(error: unknown, signal: AbortSignal): string | undefined {
  if (signal.aborted) return 'timeout';
  const code = codeOf(error);
  if (code !== undefined && CONNECT_ERRORS.has(code)) return 'connect';
  if (code !== undefined && RESET_ERRORS.has(code)) return 'reset';
  return undefined;
}

/**
 * cockatiel 3.2's bulkhead hands each freed slot to the next queued call, and a call whose
 * deadline passed while it waited fails there without taking the slot: the slot stays free,
 * and the live calls behind it wait on until another call ends — to their own deadlines,
 * when none is in flight (cockatiel#114, fixed after 3.2.1: in 4.x, which needs Node 22).
 * So the calls whose callers have given up leave the queue before a slot is handed on.
 */
function skipAbandoned(policy: BulkheadPolicy): BulkheadPolicy {
  const inside = policy as unknown as { queue?: { signal: AbortSignal; reject(error: unknown): void }[]; dequeue?: () => void };
  const dequeue = inside.dequeue;
  if (!Array.isArray(inside.queue) || typeof dequeue !== 'function') return policy; // another cockatiel: as it is
  inside.dequeue = () => {
    const queue = inside.queue!;
    for (let index = queue.length - 1; index >= 0; index -= 1) {
      const call = queue[index]!;
      if (!call.signal.aborted) continue;
      queue.splice(index, 1);
      call.reject(new TaskCancelledError('the call\'s deadline passed while it waited for the bulkhead'));
    }
    dequeue.call(policy);
  };
  return policy;
}

/** fetch() hides the socket's error code in `cause`; undici's dispatcher does not. */
function codeOf(error: unknown): string | undefined {
  for (let current = error; current instanceof Object; current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function backoffOf(settings: CallPolicy['retry']) {
  if (settings.backoff === 'constant') return new ConstantBackoff(settings.initial);
  return new ExponentialBackoff({
    initialDelay: settings.initial,
    maxDelay: settings.maxInterval,
    generator: settings.jitter === 'full' ? fullJitterGenerator : noJitterGenerator,
  });
}

function breakerOf(trip: Trip, or: Trip | undefined): IBreaker {
  const one = (expression: Trip): IBreaker =>
    expression.kind === 'consecutive'
      ? new ConsecutiveBreaker(expression.failures)
      : new SamplingBreaker({
          threshold: expression.threshold,
          duration: expression.windowMs,
          minimumRps: expression.minRequests / (expression.windowMs / 1000),
        });
  return or === undefined ? one(trip) : new EitherBreaker(one(trip), one(or));
}

/** Opens when either of two breakers would: "trip: ..., or: ...". */
class EitherBreaker implements IBreaker {
  constructor(
    readonly first: IBreaker,
    readonly second: IBreaker,
  ) {}

  get state(): unknown {
    return [this.first.state, this.second.state];
  }

  set state(value: unknown) {
    [this.first.state, this.second.state] = value as [unknown, unknown];
  }

  success(state: State): void {
    this.first.success(state);
    this.second.success(state);
  }

  failure(state: State): boolean {
    // both hear of every failure, so each keeps its own count
    const first = this.first.failure(state);
    const second = this.second.failure(state);
    return first || second;
  }
}

/**
 * Retries allowed as a share of the calls of the last 10 s, plus a few per second always
 * (so a quiet service can retry at all), as Finagle's RetryBudget does. cockatiel has no
 * budget of its own; this one decides, cockatiel retries.
 */
export class RetryBudget {
  static readonly SECONDS = 10;
  readonly #calls = new Array<number>(RetryBudget.SECONDS).fill(0);
  readonly #retries = new Array<number>(RetryBudget.SECONDS).fill(0);
  #totalCalls = 0;
  #totalRetries = 0;
  #second = 0;

  constructor(
    readonly share: number,
    readonly minPerSecond: number,
  ) {}

  /** A call, made at `now` (performance.now()). */
  recordCall(now = performance.now()): void {
    this.#calls[this.#rotate(now)]! += 1;
    this.#totalCalls += 1;
  }

  /** Takes one retry from the budget when it has one. */
  tryRetry(): boolean {
    const slot = this.#rotate();
    const allowed = this.share * this.#totalCalls + this.minPerSecond * RetryBudget.SECONDS;
    if (this.#totalRetries + 1 > allowed) return false;
    this.#retries[slot]! += 1;
    this.#totalRetries += 1;
    return true;
  }

  /** The slot of this second, after emptying those of the seconds that went by. */
  #rotate(now = performance.now()): number {
    const second = Math.floor(now / 1000);
    const passed = Math.min(second - this.#second, RetryBudget.SECONDS);
    for (let step = 1; step <= passed; step += 1) {
      const slot = (this.#second + step) % RetryBudget.SECONDS;
      this.#totalCalls -= this.#calls[slot]!;
      this.#totalRetries -= this.#retries[slot]!;
      this.#calls[slot] = 0;
      this.#retries[slot] = 0;
    }
    this.#second = second;
    return second % RetryBudget.SECONDS;
  }
}
