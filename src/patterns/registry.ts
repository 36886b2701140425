import { UserError } from '../errors.js';
import type { PatternDefinition } from './pattern.js';

/**
 * The patterns scaffold knows, by name, in the order they were registered (the first is
 * the default). `index.ts` registers the built-in ones; import from there.
 */
const patterns = new Map<string, PatternDefinition>();
let version = 0;

export function registerPattern(pattern: PatternDefinition): void {
  if (patterns.has(pattern.name)) throw new Error(`pattern "${pattern.name}" is registered twice`);
  patterns.set(pattern.name, pattern);
  version += 1;
}

/** Changes whenever a pattern is registered, so what is built from the registry (the
 * schema) knows when to build again. */
export function registryVersion(): number {
  return version;
}

export function allPatterns(): PatternDefinition[] {
  return [...patterns.values()];
}

export function patternNames(): string[] {
  return [...patterns.keys()];
}

/** The pattern a service gets when the spec names none. */
export function defaultPattern(): PatternDefinition {
  return allPatterns()[0]!;
}

/** A pattern by name; an unknown one is a user's mistake, answered with the known names. */
export function patternNamed(name: string): PatternDefinition {
  const pattern = patterns.get(name);
  if (!pattern) throw new UserError(`unknown pattern "${name}": use one of ${patternNames().join(', ')}`);
  return pattern;
}

/** The pattern of a validated service (its `pattern` is one of the registry's). */
export function patternOf(service: { pattern: string }): PatternDefinition {
  return patternNamed(service.pattern);
}
