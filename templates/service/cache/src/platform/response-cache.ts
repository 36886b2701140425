import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';

export interface ResponseCacheOptions {
  /** Read when the cache starts: the Redis entry's variable, else its local URL. */
  url: () => string;
  ttlSeconds: number;
  /** Keys are the prefix and the request's URL (path and query). */
  prefix: string;
  /** Paths never served from or stored in the cache (probes, metrics). */
  skip: readonly string[];
  /** How long a lookup may take before the route answers instead: a paused or slow cache
   * costs each GET this much, never an error. */
  timeoutMs?: number;
}

const HIT = 'hit';
const MISS = 'miss';

/**
 * A read-through cache of GET responses in Redis, for a Redis that evicts (maxmemory with
 * allkeys-lru): a 200 answer is stored under its URL for `ttlSeconds` and served from there
 * (`x-cache: hit`) until it expires or Redis evicts it. Responses that are private to a
 * client (a request with `authorization` or a cookie, an answer that sets a cookie or says
 * `no-store`/`private`) are neither served nor stored. The cache is an optimisation only:
 * a lookup that fails or takes longer than `timeoutMs` is a miss, and a store is never
 * waited for.
 */
export class ResponseCache {
  readonly #options: Required<ResponseCacheOptions>;
  #redis: Redis | undefined;

  constructor(options: ResponseCacheOptions) {
    this.#options = { timeoutMs: 100, ...options };
  }

  attach(app: FastifyInstance): void {
    app.addHook('onRequest', async (request, reply) => {
      if (!this.#cacheable(request)) return;
      const hit = await this.#lookup(request.url);
      if (hit === undefined) {
        reply.header('x-cache', MISS);
        return;
      }
      const { type, body } = JSON.parse(hit) as { type?: string; body: string };
      if (type) reply.type(type);
      reply.header('x-cache', HIT).send(body);
      return reply;
    });
    app.addHook('onSend', async (request, reply, payload) => {
      if (reply.getHeader('x-cache') === MISS && storable(reply) && typeof payload === 'string') {
        const entry = JSON.stringify({ type: reply.getHeader('content-type'), body: payload });
        // a failed store is the next request's miss, nothing more
        this.#redis?.set(this.#options.prefix + request.url, entry, 'EX', this.#options.ttlSeconds).catch(() => undefined);
      }
      return payload;
    });
    app.addHook('onClose', async () => {
      await this.#redis?.quit().catch(() => this.#redis?.disconnect());
    });
  }

  /** Connects and keeps reconnecting; commands while it is away fail at once (no offline
   * queue), so a GET never waits for a cache that is not there. */
  start(log: FastifyBaseLogger): void {
    this.#redis = new Redis(this.#options.url(), { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: this.#options.timeoutMs });
    this.#redis.on('error', (error: Error) => log.debug({ err: error }, 'response cache unavailable'));
  }

  #cacheable(request: FastifyRequest): boolean {
    if (!this.#redis || request.method !== 'GET') return false;
    if (request.headers.authorization !== undefined || request.headers.cookie !== undefined) return false;
    return !this.#options.skip.includes(request.url.split('?')[0]!);
  }

  async #lookup(url: string): Promise<string | undefined> {
    try {
      return (await this.#redis!.get(this.#options.prefix + url)) ?? undefined;
    } catch {
      return undefined;
    }
  }
}

function storable(reply: FastifyReply): boolean {
  if (reply.statusCode !== 200 || reply.hasHeader('set-cookie')) return false;
  return !/no-store|private/.test(String(reply.getHeader('cache-control') ?? ''));
}
