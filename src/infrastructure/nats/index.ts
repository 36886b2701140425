import type { InfrastructureKind } from '../kind.js';

export const nats: InfrastructureKind = {
  name: 'nats',
  description: 'NATS with JetStream: messages and streams',
  defaultVersion: '2',
  image: (version) => `nats:${version}-alpine`,
  port: 4222,
  urlVar: 'NATS_URL',
  url: ({ host, port }) => `nats://${host}:${port}`,
  process: {
    server: new URL('./server.js', import.meta.url).href,
    requires: { command: 'nats-server', install: 'apt-get install nats-server, or brew install nats-server' },
  },
  container: {
    // -m: the monitoring port, for /healthz; JetStream keeps its streams in /data
    command: ['-m', '8222', '--jetstream', '--store_dir', '/data'],
    dataPath: '/data',
    healthcheck: () => ['wget', '-q', '--spider', 'http://127.0.0.1:8222/healthz'],
    // any unprivileged user: the image has none of its own, and writes only to /data
    user: 1000,
  },
};
