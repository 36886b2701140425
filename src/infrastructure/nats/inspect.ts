import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { SpecView, TopicState } from '../kind.js';
import { subscriptionsOf, topicsOf } from './topics.js';
import { topicView } from './view.js';

/**
 * Reads every declared topic's stream, dead letters and consumer groups from the server at
 * `url` (its own port, outside every link: faults on the links do not blind `status`).
 * A stream or group nobody has declared yet (no service has started) reads as empty.
 */
export async function inspectTopics(spec: SpecView, url: string): Promise<{ topics: TopicState[] }> {
  const topics = topicsOf(spec);
  if (topics.size === 0) return { topics: [] };
  const connection = await connect({ servers: url, name: 'scaffold status', timeout: 2000, maxReconnectAttempts: 0 });
  try {
    const manager = await jetstreamManager(connection, { timeout: 2000 });
    const groups = new Map<string, string[]>();
    for (const [name, service] of Object.entries(spec.services)) {
      for (const subscription of subscriptionsOf(name, service)) groups.set(subscription.topic, [...(groups.get(subscription.topic) ?? []), subscription.group]);
    }
    const states = await Promise.all(
      [...topics].map(async ([name, settings]) => {
        const view = topicView(name, settings);
        const events = await storedIn(manager, view.stream);
        return {
          topic: name,
          events,
          deadLetters: await storedIn(manager, view.deadStream),
          groups: await Promise.all((groups.get(name) ?? []).map((group) => groupState(manager, view.stream, group, events))),
        };
      }),
    );
    return { topics: states };
  } finally {
    await connection.close();
  }
}

async function storedIn(manager: JetStreamManager, stream: string): Promise<number> {
  const info = await manager.streams.info(stream).catch(() => undefined);
  return info?.state.messages ?? 0;
}

async function groupState(manager: JetStreamManager, stream: string, group: string, events: number): Promise<TopicState['groups'][number]> {
  const info = await manager.consumers.info(stream, group).catch(() => undefined);
  if (!info) return { group, backlog: events, inFlight: 0, redeliveries: 0 };
  // every delivery has a consumer sequence number; each event delivered once has had its
  // first, so what is beyond that count was redelivered
  const deliveredOnce = events - info.num_pending;
  return { group, backlog: info.num_pending, inFlight: info.num_ack_pending, redeliveries: Math.max(0, info.delivered.consumer_seq - deliveredOnce) };
}
