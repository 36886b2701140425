import { z } from 'zod';
import { UserError } from '../../errors.js';
import { FAULT_KINDS, type FaultField } from '../../faults/index.js';
import { fieldAccepts } from '../../faults/field.js';
import { readYamlFile } from '../../spec/yaml-file.js';
import { checkTarget } from '../load/target.js';
import { MAX_CONNECTIONS, MAX_RATE } from '../load/engine.js';
import { HTTP_METHODS } from '../load/methods.js';
import { parseSlo } from '../load/slo.js';

/**
 * The experiment file, shaped after Chaos Toolkit's: a steady-state hypothesis checked
 * before and after a method of faults and waits, then rollbacks that always run.
 */

const time = z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/, { error: 'a duration such as 500ms, 5s or 1m' });
const target = { service: z.string().optional(), url: z.string().optional(), path: z.string().default('/') };

const slo = z.string().superRefine((expression, ctx) => {
  try {
    parseSlo(expression);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^--slo /, '') });
  }
});

const probe = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('http'), name: z.string(), ...target, status: z.number().int().default(200) }),
  z.strictObject({
    type: z.literal('load'),
    name: z.string(),
    ...target,
    duration: time.default('3s'),
    rate: z.number().positive().max(MAX_RATE).optional(),
    connections: z.number().int().positive().max(MAX_CONNECTIONS).default(4),
    slos: z.array(slo).min(1, { error: 'a load probe needs at least one SLO, e.g. "p99<250ms"' }),
  }),
  z.strictObject({
    type: z.literal('metric'),
    name: z.string(),
    service: z.string(),
    metric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, { error: 'a Prometheus metric name' }),
    below: z.number().optional(),
    above: z.number().optional(),
  }),
]);

/** A parameter of a fault, with the bounds and default its registry entry gives it. */
function fieldSchema(field: FaultField): z.ZodType {
  const refined = (schema: z.ZodType) => schema.refine((value) => fieldAccepts(field, value), { error: field.expected }).describe(field.description);
  const base = refined(field.type === 'choice' ? z.enum(field.choices as [string, ...string[]]) : z.number());
  return field.default === undefined ? base : base.default(field.default as never);
}

const faultSchema = z.discriminatedUnion(
  'kind',
  [...FAULT_KINDS.values()].map((kind) =>
    z.strictObject({ kind: z.literal(kind.kind), ...Object.fromEntries(Object.entries(kind.fields).map(([name, field]) => [name, fieldSchema(field)])) }).describe(kind.description),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

const after = time.optional().describe('wait this long before the activity starts');
export const activitySchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('fault'),
    service: z.string(),
    from: z.string().optional().describe("only this caller's calls to the service (one caller→service link); without it, every caller's"),
    fault: faultSchema,
    for: time,
    after,
  }),
  z.strictObject({ type: z.literal('kill'), service: z.string(), instance: z.string().optional(), all: z.boolean().optional(), after }),
  z.strictObject({ type: z.literal('pause'), service: z.string(), for: time, instance: z.string().optional(), after }),
  z.strictObject({ type: z.literal('wait'), for: time }),
]);

const backgroundLoad = z
  .strictObject({
    service: z.string().optional().describe('a service of the running system, through its front port (default: the gateway)'),
    url: z.string().optional().describe('or any URL on this machine'),
    path: z.string().optional().describe('request path, e.g. /orders/items'),
    method: z.enum(HTTP_METHODS).default('GET'),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional().describe('a string as it is, or an object sent as JSON'),
    scenario: z.string().optional().describe('a load scenario file (scaffold schema scenario): weighted requests instead of path/method/body'),
    rate: z.number().positive().max(MAX_RATE).optional().describe('requests per second (open model: each request leaves at its time, latency counts from it); without it, each connection sends its next request once answered'),
    connections: z.number().int().positive().max(MAX_CONNECTIONS).default(10).describe('closed model: the connections; open model: those opened before the start'),
    maxConnections: z.number().int().positive().max(MAX_CONNECTIONS).optional().describe('open model: the most connections the pool grows to (default 1000); a request due while all are busy is dropped'),
    timeout: time.default('10s').describe('per request'),
    before: time.default('2s').describe('steady state measured before the method starts'),
    after: time.default('2s').describe('measured after the method has ended'),
    slos: z.array(slo).default([]).describe('judged over the whole load, e.g. "error_rate<1%"; a failing one makes the experiment deviate'),
  })
  .refine((load) => load.service === undefined || load.url === undefined, { error: 'give a service or a url, not both' })
  .describe('background load: traffic from `before` the method until `after` it, measured per second and per phase (before, during, after), as `simulate load` does');

const rollback = z.discriminatedUnion('type', [z.strictObject({ type: z.literal('clear-faults') })]);

export const experimentSchema = z.strictObject({
  title: z.string(),
  description: z.string().optional(),
  'steady-state-hypothesis': z.strictObject({ title: z.string(), probes: z.array(probe).min(1) }),
  method: z.array(activitySchema).min(1).describe('run in order; faults and pauses end by themselves after `for`'),
  load: backgroundLoad.optional(),
  rollbacks: z.array(rollback).default([{ type: 'clear-faults' }]),
});

export type Experiment = z.output<typeof experimentSchema>;
export type Probe = z.output<typeof probe>;
export type Activity = z.output<typeof activitySchema>;
export type BackgroundLoad = z.output<typeof backgroundLoad>;

export function experimentJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(experimentSchema, { io: 'input' }), title: 'scaffold chaos experiment' };
}

/**
 * Reads an experiment and checks every URL it would send to, probes and background load
 * alike: a remote one without --allow-remote stops it here, before anything runs.
 */
export async function loadExperiment(file: string, options: { allowRemote?: boolean } = {}): Promise<Experiment> {
  const experiment = await readYamlFile(file, experimentSchema, 'experiment');
  type Target = [where: string, target: { url?: string; path?: string }];
  const targets: Target[] = [
    ...experiment['steady-state-hypothesis'].probes.flatMap((probe, index): Target[] => (probe.type === 'metric' ? [] : [[`steady-state-hypothesis.probes.${index}`, probe]])),
    ...(experiment.load ? [['load', experiment.load] as Target] : []),
  ];
  for (const [where, target] of targets) {
    // a service's own address comes from the runtime; only its path is the file's
    const base = target.url ?? 'http://127.0.0.1';
    const path = target.path ?? '/';
    if (!URL.canParse(base) || !path.startsWith('/') || !URL.canParse(path, base)) {
      throw new UserError(`${file}: ${where}: "${target.url ?? ''}${path}" is not an http URL and path`);
    }
    try {
      checkTarget(new URL(path, base), options.allowRemote === true);
    } catch (error) {
      throw new UserError(`${file}: ${where}: ${(error as Error).message}`);
    }
  }
  return experiment;
}

/** "500ms", "5s", "1m" (already validated) → milliseconds. */
export function ms(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text)!;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}
