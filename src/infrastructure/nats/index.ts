import { fileURLToPath } from 'node:url';
import type { InfrastructureKind } from '../kind.js';
import { checkTopics, eventFields, topicFields } from './topics.js';
import { eventsView } from './view.js';

export const nats: InfrastructureKind = {
  name: 'nats',
  description: 'NATS with JetStream: messages and streams',
  defaultVersion: '2',
  image: (version) => `nats:${version}-alpine`,
  port: 4222,
  urlVar: 'NATS_URL',
  url: ({ host, port }) => `nats://${host}:${port}`,
  fields: topicFields,
  serviceFields: eventFields,
  check: checkTopics,
  // the client loads only for a status that has topics to show
  inspect: async (spec, url) => (await import('./inspect.js')).inspectTopics(spec, url),
  client: {
    npmDependencies: {
      // the official client's current modules (3.x; `nats` 2.x is their predecessor);
      // engines: Node 18 or newer
      '@nats-io/transport-node': '^3.4.0',
      '@nats-io/jetstream': '^3.4.0',
    },
    templates: fileURLToPath(new URL('./templates/', import.meta.url)),
    view: eventsView,
  },
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
