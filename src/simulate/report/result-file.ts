import { z } from 'zod';
import { UserError } from '../../errors.js';
import { readTextFile } from '../../spec/yaml-file.js';
import { activitySchema } from '../chaos/experiment-schema.js';
import type { Journal } from '../chaos/experiment.js';
import { RESULTS_DIR } from '../../scaffold-dir.js';
import type { LoadResult } from '../load/result.js';

/**
 * A saved result is read like any other input: checked against the shape the report and
 * the comparison read, so that a hand-edited or foreign file is one line naming the field,
 * never "NaN s" in a report or a crash. Fields the report does not read may be anything.
 */

const count = z.number().min(0);
const latencySchema = z.looseObject({ p50: count, p90: count, p95: count, p99: count, p999: count, max: count, mean: count });
const phaseSchema = z.looseObject({
  requests: count,
  errors: count,
  availability: z.number().min(0).max(1),
  p50: count,
  p99: count,
  errorsByKind: z.record(z.string(), count),
  firstErrorAtMs: count.nullable(),
});

/** A load's asynchronous work end to end: a publish load's events, or the jobs a load enqueued. */
const processedSchema = z.looseObject({
  processed: count,
  unprocessed: count,
  endToEnd: latencySchema,
  series: z.array(z.looseObject({ second: count, processed: count, backlog: count, p99: count })),
});
const traceRowSchema = z.looseObject({ depth: count, offsetMs: z.number(), durationMs: count, service: z.string(), name: z.string(), kind: z.string(), failed: z.boolean() });
const runTracesSchema = z.looseObject({
  phases: z.array(z.looseObject({ name: z.string(), slowest: z.array(z.looseObject({ traceId: z.string(), durationMs: count, requestId: z.string().optional(), rows: z.array(traceRowSchema) })) })),
  services: z.array(z.string()),
  calls: z.array(z.looseObject({ from: z.string(), to: z.string(), calls: count, errors: count })),
});

export const loadResultSchema = z.looseObject({
  kind: z.literal('load'),
  target: z.string(),
  startedAt: z.iso.datetime(),
  durationMs: count,
  config: z.record(z.string(), z.unknown()).default({}),
  summary: z.looseObject({
    requests: count,
    ok: count,
    errors: count,
    rps: count,
    latency: latencySchema,
    statusCodes: z.record(z.string(), count),
    errorsByKind: z.record(z.string(), count),
  }),
  series: z.array(z.looseObject({ second: count, requests: count, errors: count, p50: count, p99: count })),
  distribution: z.array(z.looseObject({ percentile: z.number().min(0).max(100), ms: count })).default([]),
  phases: z.record(z.string(), phaseSchema).optional(),
  slos: z.array(z.looseObject({ expression: z.string(), actual: z.number(), shown: z.string(), passed: z.boolean() })).default([]),
  passed: z.boolean(),
  traces: runTracesSchema.optional(),
  events: processedSchema.extend({ groups: z.array(z.string()) }).optional(),
  jobs: processedSchema.extend({ queues: z.array(z.string()), failed: count }).optional(),
});

const probeResultSchema = z.looseObject({ name: z.string(), ok: z.boolean(), detail: z.string(), tolerance: z.string().default('') });

export const journalSchema = z.looseObject({
  kind: z.literal('experiment'),
  title: z.string(),
  startedAt: z.iso.datetime(),
  durationMs: count,
  status: z.enum(['held', 'deviated']),
  before: z.array(probeResultSchema),
  after: z.array(probeResultSchema).nullable(),
  method: z.array(z.looseObject({ activity: activitySchema, atMs: count, at: z.iso.datetime().optional(), outcome: z.string() })),
  load: z.looseObject({ load: loadResultSchema }).optional(),
  rollbacks: z.array(z.looseObject({ type: z.string(), outcome: z.string() })).default([]),
});

const savedSchema = z.discriminatedUnion('kind', [loadResultSchema, journalSchema]);

export type SavedResult = { kind: 'load'; result: LoadResult } | { kind: 'experiment'; journal: Journal };

/** A load result or an experiment's journal, as saved under .scaffold/results/. */
export async function readSavedResult(file: string): Promise<SavedResult> {
  const parsed = check(file, savedSchema, await readJson(file));
  return parsed.kind === 'load' ? { kind: 'load', result: parsed as unknown as LoadResult } : { kind: 'experiment', journal: parsed as unknown as Journal };
}

/** A load result (a baseline, either side of a comparison). */
export async function readLoadResult(file: string): Promise<LoadResult> {
  const value = await readJson(file);
  if ((value as { kind?: unknown } | null)?.kind === 'experiment') {
    throw new UserError(`${file} is an experiment's journal: this needs a load result saved by "scaffold simulate load"`);
  }
  return check(file, loadResultSchema, value) as unknown as LoadResult;
}

async function readJson(file: string): Promise<unknown> {
  const text = await readTextFile(file, 'result');
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError(`${file}: not JSON (results are saved under ${RESULTS_DIR}/)`);
  }
}

function check<T>(file: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [first, ...rest] = result.error.issues.map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  throw new UserError(`${file} is not a result saved by scaffold: ${first}${more}`, rest);
}
