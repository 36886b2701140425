import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, headers as natsHeaders, nanos, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { FastifyBaseLogger } from 'fastify';
import { ConfigError } from '../config.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/**
 * Events on NATS JetStream: at-least-once, in both directions.
 *
 * - Publishing waits for JetStream's acknowledgement (the event is on disk) and gives
 *   every event a message id, so a publish retried after a lost acknowledgement is stored
 *   once (the topic's dedupe window). While the broker is unreachable the client buffers
 *   and retries with the same id until EVENTS_PUBLISH_TIMEOUT_MS; then it throws
 *   EventsUnavailable, which the error handler answers with 503: a caller is told "yes"
 *   only for an event that is stored.
 * - Each subscription is a durable pull consumer (its group) with explicit acks: an event
 *   is acknowledged after its handler returns; a handler that throws is retried with a
 *   doubling delay (a negative acknowledgement with that delay), and after the topic's last
 *   delivery the event is published to its dead-letter subject, then terminated. A killed
 *   instance's events come back after the topic's ack wait. So handlers must be
 *   idempotent: `event.id` is the same on every delivery.
 * - Streams and consumers are created at start-up, idempotently: every instance declares
 *   the same ones, and a changed setting updates them.
 * - Traces cross the broker: a publish is a producer span (a child of the request's), its
 *   traceparent travels in the message's headers, and each delivery is handled in a
 *   consumer span that is its child, so one trace holds the request and its events'
 *   handling, and the handler's log lines carry its trace and span ids. Without tracing
 *   (no OTLP endpoint) these are the API's no-op spans.
 * - `close()` (SIGTERM) stops taking events, lets the ones in hand finish and drains the
 *   connection, which flushes their acknowledgements.
 */

export interface TopicSpec {
  readonly name: string;
  readonly stream: string;
  readonly deadStream: string;
  readonly deadLetter: string;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly dedupeWindowMs: number;
  readonly retryBackoffMs: number;
}

export interface SubscriptionSpec {
  readonly topic: string;
  readonly group: string;
  readonly concurrency: number;
}

/** One delivery of an event, as a handler sees it. */
export interface EventContext {
  /** The publisher's message id: the same on every delivery (make handlers idempotent on it). */
  readonly id: string;
  readonly topic: string;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  /** Its sequence number in the topic's stream. */
  readonly sequence: number;
  readonly publishedAt: Date;
  /** The request that published it, when there was one. */
  readonly requestId: string | undefined;
  /** The service's logger, with the event's id and request id on every line. */
  readonly log: FastifyBaseLogger;
}

export type EventHandler = (data: unknown, event: EventContext) => Promise<void>;

export interface PublishOptions {
  /** The message id JetStream de-duplicates on; a fresh UUID by default. Give the same id
   * to a retried publish of the same event (an order id, say). */
  id?: string;
  /** The request this event comes from (`request.id`): its handlers log under it. */
  requestId?: string;
}

export interface Published {
  id: string;
  /** Its sequence number in the topic's stream. */
  sequence: number;
  /** JetStream had it already (same id within the dedupe window): stored once. */
  duplicate: boolean;
}

/** The broker did not store the event in time: answered 503, so the caller can retry. */
export class EventsUnavailable extends Error {
  override name = 'EventsUnavailable';
  readonly statusCode = 503;
}

export interface EventsSettings {
  url: string;
  serviceName: string;
  publishTimeoutMs: number;
  topics: readonly TopicSpec[];
  subscriptions: readonly SubscriptionSpec[];
  handlers: ReadonlyMap<string, EventHandler>;
  log: FastifyBaseLogger;
}

/** NATS_URL and EVENTS_PUBLISH_TIMEOUT_MS, checked as config.ts checks the rest. */
export function eventsEnvironment(env: NodeJS.ProcessEnv): { url: string; publishTimeoutMs: number } {
  const url = env.NATS_URL || 'nats://127.0.0.1:4222';
  if (!URL.canParse(url) || new URL(url).protocol !== 'nats:') {
    throw new ConfigError(`NATS_URL must be a nats:// URL such as nats://127.0.0.1:4222, got ${JSON.stringify(url)}`);
  }
  const raw = env.EVENTS_PUBLISH_TIMEOUT_MS || '5000';
  const publishTimeoutMs = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(publishTimeoutMs >= 1 && publishTimeoutMs <= 3_600_000)) {
    throw new ConfigError(`EVENTS_PUBLISH_TIMEOUT_MS must be a whole number from 1 to 3600000, got ${JSON.stringify(raw)}`);
  }
  return { url, publishTimeoutMs };
}

const DEAD_HEADERS = { topic: 'scaffold-dead-topic', sequence: 'scaffold-dead-sequence', error: 'scaffold-dead-error', deliveries: 'scaffold-dead-deliveries' };
/** A publish attempt waits this long for its acknowledgement before the next try. */
const ATTEMPT_TIMEOUT_MS = 1000;

const tracer = trace.getTracer('nats-events');

/** OpenTelemetry's messaging conventions: what a span of an event says about it. */
function messagingAttributes(operation: 'send' | 'process', topic: string, id: string) {
  return { 'messaging.system': 'nats', 'messaging.operation.type': operation, 'messaging.destination.name': topic, 'messaging.message.id': id };
}

function failedSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: String((error as Error)?.message ?? error) });
}

const setter: TextMapSetter<MsgHdrs> = { set: (carrier, key, value) => carrier.set(key, value) };
const getter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => (carrier ? carrier.keys() : []),
  get: (carrier, key) => carrier?.get(key) || undefined,
};

export class Events {
  readonly #settings: EventsSettings;
  readonly #topics: ReadonlyMap<string, TopicSpec>;
  #connection: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  readonly #loops: Promise<void>[] = [];
  readonly #inHand = new Set<Promise<void>>();
  readonly #stops: (() => void)[] = [];
  #closing = false;

  constructor(settings: EventsSettings) {
    this.#settings = settings;
    this.#topics = new Map(settings.topics.map((topic) => [topic.name, topic]));
  }

  /** Connects, declares the streams and consumers, and starts handling events. */
  async start(): Promise<void> {
    const { url, serviceName, log } = this.#settings;
    // reconnect for ever, quickly: a broker restart should cost a second, not the service
    this.#connection = await connect({ servers: url, name: serviceName, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true });
    void this.#watch(this.#connection);
    this.#js = jetstream(this.#connection);
    const manager = await jetstreamManager(this.#connection);
    for (const topic of this.#settings.topics) await declareStreams(manager, topic);
    for (const subscription of this.#settings.subscriptions) {
      const topic = this.#topics.get(subscription.topic)!;
      await declareConsumer(manager, topic, subscription.group);
      this.#loops.push(this.#consume(topic, subscription));
    }
    log.info({ topics: [...this.#topics.keys()], subscriptions: this.#settings.subscriptions.length }, 'events: connected to NATS');
  }

  /** Publishes one event and resolves once JetStream has stored it. */
  async publish(topic: string, data: unknown, options: PublishOptions = {}): Promise<Published> {
    const spec = this.#topics.get(topic);
    if (!spec) throw new Error(`"${topic}" is not a topic this service publishes: add it to publishes in scaffold.yaml`);
    if (!this.#js) throw new EventsUnavailable('events are not started');
    const id = options.id ?? randomUUID();
    const span = tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes: messagingAttributes('send', topic, id) });
    const headers = natsHeaders();
    // the consumer's span continues this one
    propagation.inject(trace.setSpan(context.active(), span), headers, setter);
    if (options.requestId) headers.set(REQUEST_ID_HEADER, options.requestId);
    try {
      return await this.#publish(spec, JSON.stringify(data), id, headers);
    } catch (error) {
      failedSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  async #publish(spec: TopicSpec, body: string, id: string, headers: MsgHdrs): Promise<Published> {
    const deadline = Date.now() + this.#settings.publishTimeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      try {
        // the same id on every attempt: a retry after a lost acknowledgement is a duplicate
        const ack = await this.#js!.publish(spec.name, body, { msgID: id, headers, timeout: Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, left)) });
        return { id, sequence: ack.seq, duplicate: ack.duplicate };
      } catch (error) {
        if (this.#closing || Date.now() + 50 >= deadline) {
          throw new EventsUnavailable(`the event broker did not store a ${spec.name} event within ${this.#settings.publishTimeoutMs} ms`, { cause: error });
        }
        await sleep(Math.min(100, deadline - Date.now()));
      }
    }
  }

  /** Stops taking events, waits for those in hand, drains the connection (SIGTERM). */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const stop of this.#stops) stop();
    await Promise.allSettled(this.#loops);
    await Promise.allSettled([...this.#inHand]);
    if (this.#connection && !this.#connection.isClosed()) await this.#connection.drain();
  }

  async #consume(topic: TopicSpec, subscription: SubscriptionSpec): Promise<void> {
    const consumer = await this.#js!.consumers.get(topic.stream, subscription.group);
    const messages = await consumer.consume({ max_messages: subscription.concurrency });
    this.#stops.push(() => void messages.close());
    const slots = new Slots(subscription.concurrency);
    for await (const message of messages) {
      if (this.#closing) {
        // fetched but not begun: back to the group at once, not after the ack wait
        message.nak();
        continue;
      }
      await slots.take();
      const handling = this.#handle(topic, subscription.group, message).finally(() => {
        slots.give();
        this.#inHand.delete(handling);
      });
      this.#inHand.add(handling);
    }
  }

  async #handle(topic: TopicSpec, group: string, message: JsMsg): Promise<void> {
    const id = message.headers?.get('Nats-Msg-Id') || `${topic.stream}-${message.seq}`;
    const requestId = message.headers?.get(REQUEST_ID_HEADER) || undefined;
    const deliveryCount = message.info.deliveryCount;
    const log = this.#settings.log.child({ event: id, topic: topic.name, delivery: deliveryCount, ...(requestId ? { reqId: requestId } : {}) });
    const event: EventContext = { id, topic: topic.name, deliveryCount, sequence: message.seq, publishedAt: message.time, requestId, log };
    // the publisher's trace continues here: the handler's calls and log lines are in it
    const span = tracer.startSpan(
      `process ${topic.name}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...messagingAttributes('process', topic.name, id),
          'messaging.consumer.group.name': group,
          'messaging.message.delivery_count': deliveryCount,
          ...(requestId ? { 'messaging.message.header.x-request-id': [requestId] } : {}),
        },
      },
      propagation.extract(ROOT_CONTEXT, message.headers, getter),
    );
    await context.with(trace.setSpan(ROOT_CONTEXT, span), () => this.#run(topic, message, event, span)).finally(() => span.end());
  }

  async #run(topic: TopicSpec, message: JsMsg, event: EventContext, span: Span): Promise<void> {
    const { log, deliveryCount } = event;
    const handler = this.#settings.handlers.get(topic.name)!;
    try {
      let data: unknown;
      try {
        data = message.json();
      } catch {
        // no retry can make it JSON
        log.error(`event is not JSON: dead-lettered to ${topic.deadLetter}`);
        await this.#deadLetter(topic, message, 'the event is not JSON');
        return;
      }
      await handler(data, event);
      message.ack();
    } catch (error) {
      failedSpan(span, error);
      if (deliveryCount >= topic.maxDeliver) {
        log.error({ err: error }, `event failed on its last delivery (${deliveryCount}): dead-lettered to ${topic.deadLetter}`);
        await this.#deadLetter(topic, message, String((error as Error)?.message ?? error)).catch((failure: unknown) => {
          // not stored: leave it unacknowledged, so it comes back and tries again
          log.error({ err: failure }, 'dead-lettering failed: the event is redelivered after the ack wait');
        });
      } else {
        const delay = Math.min(topic.retryBackoffMs * 2 ** (deliveryCount - 1), topic.ackWaitMs);
        log.warn({ err: error, retryInMs: delay }, 'event failed: retrying');
        message.nak(delay);
      }
    }
  }

  /** Stores the event under its topic's dead-letter subject (once, whatever happens: its
   * id is derived from its sequence), then ends its deliveries. */
  async #deadLetter(topic: TopicSpec, message: JsMsg, reason: string): Promise<void> {
    const headers = natsHeaders();
    for (const [key, values] of message.headers ?? []) for (const value of values) if (key !== 'Nats-Msg-Id') headers.append(key, value);
    headers.set(DEAD_HEADERS.topic, topic.name);
    headers.set(DEAD_HEADERS.sequence, String(message.seq));
    headers.set(DEAD_HEADERS.deliveries, String(message.info.deliveryCount));
    headers.set(DEAD_HEADERS.error, reason.slice(0, 500).replace(/[\r\n]+/g, ' '));
    await this.#js!.publish(topic.deadLetter, message.data, { msgID: `${topic.stream}-${message.seq}`, headers });
    message.term();
  }

  async #watch(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') this.#settings.log.warn('events: lost the connection to NATS; reconnecting');
      else if (status.type === 'reconnect') this.#settings.log.info('events: reconnected to NATS');
    }
  }
}

/** The topic's stream, and its dead letters' stream; the same call from every instance. */
async function declareStreams(manager: JetStreamManager, topic: TopicSpec): Promise<void> {
  await declare(
    () => manager.streams.add(streamConfig(topic.stream, topic.name, topic.dedupeWindowMs)),
    () => manager.streams.update(topic.stream, streamConfig(topic.stream, topic.name, topic.dedupeWindowMs)),
  );
  await declare(
    () => manager.streams.add(streamConfig(topic.deadStream, topic.deadLetter, topic.dedupeWindowMs)),
    () => manager.streams.update(topic.deadStream, streamConfig(topic.deadStream, topic.deadLetter, topic.dedupeWindowMs)),
  );
}

function streamConfig(name: string, subject: string, dedupeWindowMs: number) {
  // limits retention: an event stays for every group, also one that subscribes later
  return { name, subjects: [subject], storage: StorageType.File, retention: RetentionPolicy.Limits, duplicate_window: nanos(dedupeWindowMs) };
}

async function declareConsumer(manager: JetStreamManager, topic: TopicSpec, group: string): Promise<void> {
  const config = {
    durable_name: group,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(topic.ackWaitMs),
    // unlimited for the server: the handler loop counts deliveries and dead-letters the
    // last one itself, so a crash while dead-lettering means one more delivery, not a loss
    max_deliver: -1,
    filter_subject: topic.name,
  };
  await declare(
    () => manager.consumers.add(topic.stream, config),
    () => manager.consumers.update(topic.stream, group, config),
  );
}

/** Adds; when it exists with other settings, updates. */
async function declare(add: () => Promise<unknown>, update: () => Promise<unknown>): Promise<void> {
  try {
    await add();
  } catch (error) {
    if (!(error instanceof JetStreamApiError)) throw error;
    await update();
  }
}

/** At most `size` handlers at once. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  take(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  give(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free += 1;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
