/**
 * Job queues: declared under a queue-holding infrastructure entry (a redis with
 * `queues:`), added to by services that `enqueue` them, consumed by a worker. Kept free of
 * the schema library, like graph.ts, for the runtimes.
 */
import { patternOf } from '../patterns/index.js';
import type { QueueRef } from '../patterns/pattern.js';
import type { Service, Spec } from './schema.js';

/** A queue's settings, the redis entry's `queues.<name>` (see infrastructure/redis/queues.ts). */
export interface QueueSettings {
  attempts: number;
  backoff: { type: 'fixed' | 'exponential'; delayMs: number };
  concurrency: number;
  stalledIntervalMs: number;
  deadLetter: string;
}

export interface DeclaredQueue {
  name: string;
  /** The infrastructure entry that holds it. */
  infrastructure: string;
  settings: QueueSettings;
}

/** Every queue of the system by name (never a prototype key: a Map). */
export function declaredQueues(spec: Pick<Spec, 'infrastructure'>): Map<string, DeclaredQueue> {
  const queues = new Map<string, DeclaredQueue>();
  for (const [infrastructure, entry] of Object.entries(spec.infrastructure)) {
    // a name no kind has may hold anything (it is reported elsewhere)
    const declared = ((entry as { queues?: unknown } | null)?.queues ?? {}) as Record<string, Omit<QueueSettings, 'deadLetter'> & { deadLetter?: string }>;
    for (const [name, settings] of Object.entries(declared)) {
      if (!queues.has(name)) queues.set(name, { name, infrastructure, settings: { ...settings, deadLetter: settings?.deadLetter ?? `${name}-dead` } });
    }
  }
  return queues;
}

/** The queues a service adds jobs to and those it consumes, with where the spec names each. */
export function queueRefs(service: Service): { enqueues: QueueRef[]; consumes: QueueRef[] } {
  return {
    enqueues: service.enqueues.map((queue, index) => ({ queue, path: ['enqueues', index] })),
    consumes: patternOf(service).consumes?.(service) ?? [],
  };
}

/** What a service connects to: its `uses`, the servers holding the queues it touches, and
 * its cache's. */
export function infrastructureUsedBy(spec: Pick<Spec, 'infrastructure'>, service: Service): string[] {
  const queues = declaredQueues(spec);
  const { enqueues, consumes } = queueRefs(service);
  const holders = [...enqueues, ...consumes].flatMap(({ queue }) => {
    const declared = queues.get(queue);
    return declared ? [declared.infrastructure] : [];
  });
  return [...new Set([...service.uses, ...holders, ...(service.cache ? [service.cache.server] : [])])];
}
