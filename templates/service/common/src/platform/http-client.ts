import type { FastifyBaseLogger } from 'fastify';
import type { Registry } from 'prom-client';
import type { Upstream } from '../config.js';
import type { UpstreamName } from '../generated/spec.js';
import { REQUEST_ID_HEADER } from './request-id.js';
import { FAILED_UPSTREAM_HEADER, TIMEOUT_HEADER, UpstreamFailure, UpstreamPolicy, timeoutHeader, type FailureReason } from './resilience.js';
import { upstreamMetrics } from './upstream-metrics.js';

/** A call to another service that got no usable answer: the reply names the upstream and
 * the reason (see errors.ts). */
export class UpstreamError extends Error {
  override name = 'UpstreamError';

  constructor(
    readonly upstream: string,
    readonly statusCode: 502 | 503 | 504,
    message: string,
    options?: ErrorOptions & { reason?: FailureReason },
  ) {
    super(message, options);
    this.reason = options?.reason;
  }

  readonly reason: FailureReason | undefined;
}

export interface UpstreamRequest {
  /** The incoming request's id (`request.id`): the next service logs under the same id. */
  requestId: string;
  /** The incoming request's `request.deadline`: when its caller said it stops waiting, the
   * call ends in time for this service's answer (its fallback's) to reach it (see
   * TIMEOUT_HEADER in resilience.ts). */
  deadline?: number;
  method?: string;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** What this service answers in place of an upstream that failed: return a Response, or
 * undefined for the default (503 naming the upstream and the reason). */
export type Fallback = (failure: UpstreamFailure, request: UpstreamRequest & { path: string }) => Response | undefined | Promise<Response | undefined>;
/** One fallback per upstream, for the targets scaffold.yaml marks `fallback: custom`. */
export type Fallbacks = Partial<Record<UpstreamName, Fallback>>;

const RESPONSES = {
  status: (response: Response) => response.status,
  passedOn: (response: Response) => response.headers.has(FAILED_UPSTREAM_HEADER),
  discard: (response: Response) => void response.body?.cancel(),
};

/**
 * The one way this service calls the others: each base URL from <NAME>_URL, the request
 * id passed along, and the policies scaffold.yaml gives the call (`resilience:`: timeout,
 * retries within a budget, circuit breaker, bulkhead, fallback; see resilience.ts).
 *
 *     const response = await app.upstreams.fetch('users', '/items', { requestId: request.id, deadline: request.deadline });
 */
export class UpstreamClient {
  readonly #upstreams: ReadonlyMap<string, { url: string; policy: UpstreamPolicy; custom: Fallback | undefined }>;

  constructor(upstreams: readonly Upstream[], options: { registry: Registry; log: FastifyBaseLogger; fallbacks?: Fallbacks }) {
    const metricsOf = upstreamMetrics(options.registry);
    const fallbacks = new Map(Object.entries(options.fallbacks ?? {}) as [string, Fallback][]);
    this.#upstreams = new Map(
      upstreams.map((upstream) => {
        const log = options.log.child({ upstream: upstream.name });
        const policy = new UpstreamPolicy(upstream.name, upstream.policy, metricsOf(upstream.name), (state) =>
          log.warn({ circuit: state }, `circuit breaker of upstream ${upstream.name} is ${state}`),
        );
        const custom = upstream.policy.fallback === 'custom' ? fallbacks.get(upstream.name) : undefined;
        return [upstream.name, { url: upstream.url, policy, custom }];
      }),
    );
  }

  get names(): string[] {
    return [...this.#upstreams.keys()];
  }

  /** The policies of the calls to an upstream, for a caller that speaks HTTP its own way
   * (the gateway's proxy): one breaker, bulkhead and budget per upstream, whoever calls. */
  policy(name: string): UpstreamPolicy {
    const upstream = this.#upstreams.get(name);
    if (upstream === undefined) throw new Error(`"${name}" is not an upstream of this service: add it to dependsOn in scaffold.yaml`);
    return upstream.policy;
  }

  /** Any HTTP status is an answer (check `response.ok`); a call that got none throws an
   * UpstreamError (503), unless the upstream's fallback answers instead. */
  async fetch(name: string, path: string, request: UpstreamRequest): Promise<Response> {
    const upstream = this.#upstreams.get(name);
    if (upstream === undefined) throw new Error(`"${name}" is not an upstream of this service: add it to dependsOn in scaffold.yaml`);
    const headers: Record<string, string> = { [REQUEST_ID_HEADER]: request.requestId, ...request.headers };
    if (request.body !== undefined) headers['content-type'] ??= 'application/json';
    const method = request.method ?? 'GET';
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    try {
      return await upstream.policy.call(
        method,
        RESPONSES,
        (signal, deadline) => {
          headers[TIMEOUT_HEADER] = timeoutHeader(deadline);
          return fetch(upstream.url + path, { method, headers, body, signal });
        },
        { callerDeadline: request.deadline },
      );
    } catch (error) {
      if (!(error instanceof UpstreamFailure)) throw error;
      const answer = await upstream.custom?.(error, { ...request, path });
      if (answer !== undefined) return answer;
      throw new UpstreamError(name, 503, error.message, { cause: error, reason: error.reason });
    }
  }
}
