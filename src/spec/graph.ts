/**
 * The dependency graph of a system's services, kept free of the schema library so that the
 * supervisor can order its services without loading zod (~50 ms of every `scaffold up`).
 */
import { own } from '../own.js';
import type { Call } from '../patterns/pattern.js';
import { patternOf } from '../patterns/index.js';
import type { Service, Spec } from './schema.js';

/** Every service it calls, with where the spec names each: `dependsOn`, then the calls
 * its pattern makes (a gateway's routes), which it needs up just the same. */
export function allCalls(service: Service): Call[] {
  return [
    ...service.dependsOn.map((target, index) => ({ target, path: ['dependsOn', index] })),
    ...(patternOf(service).calls?.(service) ?? []),
  ];
}

export function dependenciesOf(service: Service): string[] {
  return [...new Set(allCalls(service).map((call) => call.target))];
}

export function findCycle(services: Record<string, Service>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const service = own(services, name);
    if (state.get(name) === 'done' || !service) return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of dependenciesOf(service)) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(services)) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Services ordered so each comes after everything it depends on. */
export function startOrder(spec: Spec): string[] {
  const ordered: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    dependenciesOf(spec.services[name]!).forEach(visit);
    ordered.push(name);
  };
  Object.keys(spec.services).forEach(visit);
  return ordered;
}
