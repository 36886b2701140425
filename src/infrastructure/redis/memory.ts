import type { SchemaKit } from '../../patterns/pattern.js';
import type { SpecProblem, SpecView } from '../kind.js';

/** What Redis may drop when it reaches maxmemory (its own `maxmemory-policy` values). */
export const EVICTION_POLICIES = ['allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'noeviction'] as const;

/** A cache evicts the least recently used key, whatever it is (Redis's advice for a cache). */
const CACHE_EVICTION = 'allkeys-lru';

/** A queue's jobs are data, not cache: Redis must refuse a write when full rather than evict
 * a job (BullMQ warns about any other policy), and keep them across a restart. */
const QUEUE_ARGS = ['--maxmemory-policy', 'noeviction', '--appendonly', 'yes', '--appendfsync', 'everysec'];

/** `infrastructure.<name>.maxmemory` and `.eviction` on a Redis. */
export const memoryFields = ({ z }: SchemaKit) => ({
  maxmemory: z
    .string()
    .regex(/^[1-9]\d*(kb|mb|gb)$/, { error: 'expected a size such as "64mb" (a whole number and kb, mb or gb)' })
    .optional()
    .describe('The memory its data may take, e.g. "64mb". Past it a cache evicts keys (eviction); a Redis with queues refuses writes instead.'),
  eviction: z
    .enum(EVICTION_POLICIES)
    .optional()
    .describe(`What it drops past maxmemory: default ${CACHE_EVICTION}; a Redis with queues keeps noeviction.`),
});

interface RedisEntry {
  queues?: Record<string, unknown>;
  maxmemory?: string;
  eviction?: (typeof EVICTION_POLICIES)[number];
}

/** The server arguments an entry's settings add: a queue Redis's noeviction and append-only
 * file, a cache's memory limit and eviction. Empty for a Redis the spec leaves as it is. */
export function redisArgs(entry: Readonly<Record<string, unknown>>): string[] {
  const { queues, maxmemory, eviction } = entry as RedisEntry;
  const limit = maxmemory ? ['--maxmemory', maxmemory] : [];
  if (Object.keys(queues ?? {}).length > 0) return [...QUEUE_ARGS, ...limit];
  if (maxmemory) return [...limit, '--maxmemory-policy', eviction ?? CACHE_EVICTION];
  return eviction ? ['--maxmemory-policy', eviction] : [];
}

/** A Redis holding queues that is told to evict would lose jobs: refused where it is said. */
export function checkMemory(spec: SpecView): SpecProblem[] {
  return Object.entries(spec.infrastructure).flatMap(([name, entry]) => {
    const { queues, eviction } = entry as RedisEntry & { kind?: string };
    if (entry.kind !== 'redis' || Object.keys(queues ?? {}).length === 0 || eviction === undefined || eviction === 'noeviction') return [];
    return [{ path: ['infrastructure', name, 'eviction'], message: `a Redis with queues never evicts (a job is data, not cache): remove eviction, or move the queues to a Redis entry of their own` }];
  });
}
