import { z } from 'zod';
import { readYamlFile } from '../../spec/yaml-file.js';
import { HTTP_METHODS } from './methods.js';

const scenarioSchema = z.strictObject({
  requests: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        weight: z.number().positive({ error: 'a weight is a number above 0' }).default(1),
        method: z.enum(HTTP_METHODS).default('GET'),
        path: z.string().regex(/^\//, { error: 'a path starts with "/", e.g. /orders/items' }),
        headers: z.record(z.string(), z.string()).default({}),
        /** A string as it is, or an object sent as JSON. */
        body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
      }),
    )
    .min(1, { error: 'a scenario needs at least one request' }),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioRequest = Scenario['requests'][number];

/** JSON Schema of a scenario file, for editors. */
export function scenarioJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(scenarioSchema, { io: 'input' }), title: 'scaffold load scenario' };
}

export function loadScenario(file: string): Promise<Scenario> {
  return readYamlFile(file, scenarioSchema, 'scenario');
}

export interface PreparedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Picks requests by weight and fills `{{id}}` with a number unique within the run, so
 * POSTs create distinct resources.
 */
export function requestPicker(scenario: Scenario): () => PreparedRequest {
  const total = scenario.requests.reduce((sum, request) => sum + request.weight, 0);
  let id = 0;
  return () => {
    let roll = Math.random() * total;
    const chosen = scenario.requests.find((request) => (roll -= request.weight) < 0) ?? scenario.requests.at(-1)!;
    id += 1;
    const fill = (text: string) => text.replaceAll('{{id}}', String(id));
    const body = chosen.body === undefined ? undefined : fill(typeof chosen.body === 'string' ? chosen.body : JSON.stringify(chosen.body));
    const headers = Object.fromEntries(Object.entries(chosen.headers).map(([name, value]) => [name.toLowerCase(), fill(value)]));
    if (typeof chosen.body === 'object') headers['content-type'] ??= 'application/json';
    return { method: chosen.method, path: fill(chosen.path), headers, body };
  };
}
