import type { InfrastructureKind } from '../kind.js';
import { queueFields } from './queues.js';

const QUEUE_ARGS = ['--maxmemory-policy', 'noeviction', '--appendonly', 'yes', '--appendfsync', 'everysec'];

export const redis: InfrastructureKind = {
  name: 'redis',
  description: 'Redis: cache, queues, rate limits',
  defaultVersion: '7',
  image: (version) => `redis:${version}-alpine`,
  port: 6379,
  urlVar: 'REDIS_URL',
  url: ({ host, port }) => `redis://${host}:${port}`,
  // a queue's jobs are data, not cache: Redis must refuse a write when full rather than
  // evict a job (BullMQ warns about any other policy), and keep them across a restart
  fields: queueFields,
  queues: {
    args: QUEUE_ARGS,
    command: ['redis-server', ...QUEUE_ARGS],
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
