import type { SpecView } from '../kind.js';
import { publishesOf, subscriptionsOf, topicsOf, type TopicSettings } from './topics.js';

/** A topic as a service's templates see it: its stream, its subjects and its settings. */
export interface TopicView extends TopicSettings {
  name: string;
  /** The JetStream stream that keeps it: the topic's name. */
  stream: string;
  /** The stream that keeps its dead letters: `<topic>_dead` ("_" is in no topic name). */
  deadStream: string;
}

export function topicView(name: string, settings: TopicSettings): TopicView {
  return { name, stream: name, deadStream: `${name}_dead`, ...settings };
}

/** What a service that uses NATS gets in its templates (`service.clients.nats`): the
 * topics it publishes and subscribes to, each once, and its subscriptions. */
export function eventsView(spec: SpecView, serviceName: string): Record<string, unknown> {
  const service = spec.services[serviceName]!;
  const topics = topicsOf(spec);
  const subscriptions = subscriptionsOf(serviceName, service);
  const names = [...new Set([...publishesOf(service), ...subscriptions.map((subscription) => subscription.topic)])];
  return {
    topics: names.map((name) => topicView(name, topics.get(name)!)),
    publishes: publishesOf(service),
    subscriptions,
  };
}
