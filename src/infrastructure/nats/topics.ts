import type { SchemaKit } from '../../patterns/pattern.js';
import type { SpecProblem, SpecView } from '../kind.js';

/**
 * Topics: declared once on the NATS server (`infrastructure.nats.topics`), published and
 * subscribed to by any service (`publishes`, `subscribes`). Each topic is a JetStream
 * stream of its name holding the subject of its name; its dead letters are a stream of
 * their own (`<topic>_dead`, a name no topic can take), so `status` counts them apart.
 */

/** Topic and group names become NATS subjects, stream and consumer names and TypeScript
 * identifiers' sources: lowercase letters, digits and "-", as service names. */
export const TOPIC_NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const TOPIC_NAME_MAX = 60;
/** A NATS subject: tokens of letters, digits, "-" and "_" between dots; no wildcards. */
const SUBJECT_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const DURATION_PATTERN = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export interface TopicSettings {
  ackWaitMs: number;
  maxDeliver: number;
  dedupeWindowMs: number;
  retryBackoffMs: number;
  deadLetter: string;
}

export interface Subscription {
  topic: string;
  group: string;
  concurrency: number;
}

function nameProblem(what: string, name: string): string | undefined {
  if (!TOPIC_NAME_PATTERN.test(name)) {
    return `"${name}" is not a valid ${what} name: use lowercase letters, digits and "-", starting with a letter and not ending with "-" (e.g. "order-created")`;
  }
  if (name.length > TOPIC_NAME_MAX) return `"${name}" is too long for a ${what} name: at most ${TOPIC_NAME_MAX} characters`;
  return undefined;
}

function durationMs(raw: string): number {
  const match = DURATION_PATTERN.exec(raw)!;
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

function kit({ z }: SchemaKit) {
  const named = (what: string) =>
    z.string().superRefine((name, ctx) => {
      const problem = nameProblem(what, name);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
  const duration = (min: number, max: number, fallback: string) =>
    z
      .string({ error: 'expected a duration such as 30s, 500ms or 2m' })
      .regex(DURATION_PATTERN, { error: 'expected a duration such as 30s, 500ms or 2m' })
      .refine((raw) => !DURATION_PATTERN.test(raw) || (durationMs(raw) >= min && durationMs(raw) <= max), {
        error: `expected a duration from ${min} ms to ${max / 60_000} min`,
      })
      .default(fallback)
      .transform(durationMs);
  return { z, named, duration };
}

/** `infrastructure.nats`: its topics. */
export function topicFields(schemaKit: SchemaKit) {
  const { z, named, duration } = kit(schemaKit);
  const settings = z
    .strictObject({
      // JetStream's own default; a handler that takes longer is redelivered meanwhile
      ackWait: duration(100, 3_600_000, '30s').describe('How long a delivery may go unacknowledged before JetStream redelivers it.'),
      maxDeliver: z.number().int().min(1).max(1000).default(5).describe('Deliveries before an event goes to the dead letters.'),
      dedupeWindow: duration(100, 86_400_000, '2m').describe('JetStream drops a publish whose message id it saw within this window.'),
      retryBackoff: duration(1, 3_600_000, '1s').describe('The first retry waits this long after a failure; each next one twice as long, at most ackWait.'),
      deadLetter: z
        .string()
        .regex(SUBJECT_PATTERN, { error: 'expected a NATS subject such as "order-created.dead" (no wildcards)' })
        .optional()
        .describe('The subject an event is published to after its last failed delivery; "<topic>.dead" by default.'),
    });
  // `order-created:` with nothing after it takes every default
  const topic = z.preprocess((value) => value ?? {}, settings);
  return {
    topics: z.record(named('topic'), topic).default({}).describe('JetStream topics: one durable stream each.'),
  };
}

/** Any service: `publishes`, `subscribes`. */
export function eventFields(schemaKit: SchemaKit) {
  const { z, named } = kit(schemaKit);
  return {
    publishes: z.array(named('topic')).default([]).describe('Topics (declared on nats) this service publishes to.'),
    subscribes: z
      .array(
        z.strictObject({
          topic: named('topic'),
          group: named('group').optional().describe('The durable consumer: instances of one group share its events. The service name by default.'),
          concurrency: z.number().int().min(1).max(1000).default(8).describe('Events one instance handles at once.'),
        }),
      )
      .default([])
      .describe('Topics this service handles, each through a consumer group.'),
  };
}

/** The topics of a parsed spec, each with its settings (the dead-letter subject filled in). */
export function topicsOf(spec: SpecView): Map<string, TopicSettings> {
  const declared = (spec.infrastructure.nats?.topics ?? {}) as Record<string, Omit<TopicSettings, 'deadLetter' | 'ackWaitMs' | 'dedupeWindowMs' | 'retryBackoffMs'> & { ackWait: number; dedupeWindow: number; retryBackoff: number; deadLetter?: string }>;
  return new Map(
    Object.entries(declared).map(([name, topic]) => [
      name,
      {
        ackWaitMs: topic.ackWait,
        maxDeliver: topic.maxDeliver,
        dedupeWindowMs: topic.dedupeWindow,
        retryBackoffMs: topic.retryBackoff,
        deadLetter: topic.deadLetter ?? `${name}.dead`,
      },
    ]),
  );
}

export function publishesOf(service: Readonly<Record<string, unknown>>): string[] {
  return (service.publishes as string[] | undefined) ?? [];
}

export function subscriptionsOf(name: string, service: Readonly<Record<string, unknown>>): Subscription[] {
  const subscribes = (service.subscribes as { topic: string; group?: string; concurrency: number }[] | undefined) ?? [];
  return subscribes.map((entry) => ({ topic: entry.topic, group: entry.group ?? name, concurrency: entry.concurrency }));
}

/** Whether a service publishes or subscribes: it then uses the NATS server. */
export function usesEvents(service: Readonly<Record<string, unknown>>): boolean {
  return publishesOf(service).length > 0 || ((service.subscribes as unknown[] | undefined) ?? []).length > 0;
}

/** Undeclared topics, a group taken twice, dead letters on a topic's subject. */
export function checkTopics(spec: SpecView): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const hasServer = Object.hasOwn(spec.infrastructure, 'nats');
  const topics = topicsOf(spec);

  const subjects = new Map<string, string>([...topics.keys()].map((topic) => [topic, `topic ${topic}`]));
  for (const [name, topic] of topics) {
    const owner = subjects.get(topic.deadLetter);
    if (owner) problems.push({ path: ['infrastructure', 'nats', 'topics', name, 'deadLetter'], message: `"${topic.deadLetter}" is already the subject of ${owner}: give each dead-letter subject its own name` });
    subjects.set(topic.deadLetter, `the dead letters of ${name}`);
  }

  const groups = new Map<string, string>();
  for (const [serviceName, service] of Object.entries(spec.services)) {
    const undeclared = (topic: string) =>
      hasServer
        ? `unknown topic "${topic}": declare it under infrastructure.nats.topics${topics.size > 0 ? ` (declared: ${[...topics.keys()].join(', ')})` : ''}`
        : `topics live on a NATS server: declare "nats: { topics: { ${topic}: {} } }" under infrastructure`;
    publishesOf(service).forEach((topic, index) => {
      if (!topics.has(topic)) problems.push({ path: ['services', serviceName, 'publishes', index], message: undeclared(topic) });
    });
    const handled = new Set<string>();
    subscriptionsOf(serviceName, service).forEach((subscription, index) => {
      const at = ['services', serviceName, 'subscribes', index];
      if (!topics.has(subscription.topic)) {
        problems.push({ path: [...at, 'topic'], message: undeclared(subscription.topic) });
        return;
      }
      if (handled.has(subscription.topic)) {
        problems.push({ path: [...at, 'topic'], message: `"${serviceName}" subscribes to ${subscription.topic} twice: one handler per topic in a service` });
        return;
      }
      handled.add(subscription.topic);
      const key = `${subscription.topic}\u0000${subscription.group}`;
      const holder = groups.get(key);
      if (holder !== undefined) {
        problems.push({
          path: at,
          message: `group "${subscription.group}" of topic ${subscription.topic} is already "${holder}"'s: a group is one service's consumer; name another group`,
        });
      }
      groups.set(key, serviceName);
    });
  }
  return problems;
}
