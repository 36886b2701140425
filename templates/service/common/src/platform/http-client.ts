import type { Upstream } from '../config.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/** A call to another service that failed before it answered: 504 on timeout, else 502. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';

  constructor(
    readonly upstream: string,
    readonly statusCode: 502 | 504,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface UpstreamRequest {
  /** The incoming request's id (`request.id`): the next service logs under the same id. */
  requestId: string;
  method?: string;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * The one way this service calls the others: each base URL from <NAME>_URL, a deadline on
 * every call (UPSTREAM_TIMEOUT_MS) so a slow dependency cannot pile up requests here, and
 * the request id passed along.
 *
 *     const response = await app.upstreams.fetch('users', '/items', { requestId: request.id });
 */
export class UpstreamClient {
  readonly #urls: ReadonlyMap<string, string>;
  readonly #timeoutMs: number;

  constructor(upstreams: readonly Upstream[], timeoutMs: number) {
    this.#urls = new Map(upstreams.map((upstream) => [upstream.name, upstream.url]));
    this.#timeoutMs = timeoutMs;
  }

  get names(): string[] {
    return [...this.#urls.keys()];
  }

  /** Any HTTP status is an answer (check `response.ok`); only no answer at all throws. */
  async fetch(name: string, path: string, request: UpstreamRequest): Promise<Response> {
    const base = this.#urls.get(name);
    if (base === undefined) throw new Error(`"${name}" is not an upstream of this service: add it to dependsOn in scaffold.yaml`);
    const headers: Record<string, string> = { [REQUEST_ID_HEADER]: request.requestId, ...request.headers };
    if (request.body !== undefined) headers['content-type'] ??= 'application/json';
    try {
      return await fetch(base + path, {
        method: request.method ?? 'GET',
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') {
        throw new UpstreamError(name, 504, `upstream ${name} did not answer within ${this.#timeoutMs} ms`, { cause: error });
      }
      throw new UpstreamError(name, 502, `upstream ${name} is unreachable`, { cause: error });
    }
  }
}
