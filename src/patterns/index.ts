/**
 * Every pattern scaffold generates, runs and breaks: one line each. The first is the
 * default. A new pattern is a folder beside these and one line here.
 */
import { gateway } from './gateway/index.js';
import { httpApi } from './http-api/index.js';
import { registerPattern } from './registry.js';
import { worker } from './worker/index.js';

registerPattern(httpApi);
registerPattern(gateway);
registerPattern(worker);

export { allPatterns, defaultPattern, patternNamed, patternNames, patternOf, registerPattern, registryVersion } from './registry.js';
export type { PatternDefinition } from './pattern.js';
