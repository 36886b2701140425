import type { InfrastructureKind } from '../kind.js';
import { checkMemory, memoryFields, redisArgs } from './memory.js';
import { queueFields } from './queues.js';

export const redis: InfrastructureKind = {
  name: 'redis',
  description: 'Redis: cache, queues, rate limits',
  defaultVersion: '7',
  image: (version) => `redis:${version}-alpine`,
  port: 6379,
  urlVar: 'REDIS_URL',
  url: ({ host, port }) => `redis://${host}:${port}`,
  // one kind for both uses: a queue Redis (queues:) and a cache (maxmemory:), each its own entry
  fields: (kit) => ({ ...queueFields(kit), ...memoryFields(kit) }),
  check: checkMemory,
  settings: (entry) => {
    const args = redisArgs(entry);
    return args.length > 0 ? { args, command: ['redis-server', ...args] } : undefined;
  },
  process: {
    server: new URL('./server.js', import.meta.url).href,
    requires: { command: 'redis-server', install: 'apt-get install redis-server, or brew install redis' },
  },
  container: {
    dataPath: '/data',
    healthcheck: () => ['redis-cli', 'ping'],
    // the image's "redis" user
    user: 999,
  },
};
