import type { InfrastructureKind } from '../kind.js';

export const redis: InfrastructureKind = {
  name: 'redis',
  description: 'Redis: cache, queues, rate limits',
  defaultVersion: '7',
  image: (version) => `redis:${version}-alpine`,
  port: 6379,
  urlVar: 'REDIS_URL',
  url: ({ host, port }) => `redis://${host}:${port}`,
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
