import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../atomic-write.js';
import { EnvironmentError, UserError } from '../../errors.js';
import type { Fault } from '../../runtime/faults.js';
import type { Runtime } from '../../runtime/runtime.js';
import { readYamlFile } from '../../spec/yaml-file.js';
import { RESULTS_DIR } from '../load/result.js';
import { simulateLoad } from '../load/simulate.js';
import { parseSlo } from '../load/slo.js';

/**
 * Experiments as code, shaped after Chaos Toolkit's: a steady-state hypothesis checked
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
    rate: z.number().positive().optional(),
    connections: z.number().int().positive().default(4),
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

const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('latency'), ms: z.number().min(0), jitterMs: z.number().min(0).optional() }),
  z.strictObject({ kind: z.literal('errors'), rate: z.number().min(0).max(1), status: z.number().int().min(400).max(599).default(503) }),
  z.strictObject({ kind: z.literal('partition'), mode: z.enum(['refuse', 'blackhole']).default('refuse') }),
  z.strictObject({ kind: z.literal('reset'), rate: z.number().min(0).max(1) }),
]);

const activity = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('fault'), service: z.string(), fault: faultSchema, for: time, after: time.optional() }),
  z.strictObject({ type: z.literal('kill'), service: z.string(), instance: z.string().optional(), all: z.boolean().optional(), after: time.optional() }),
  z.strictObject({ type: z.literal('pause'), service: z.string(), for: time, instance: z.string().optional(), after: time.optional() }),
  z.strictObject({ type: z.literal('wait'), for: time }),
]);

const rollback = z.discriminatedUnion('type', [z.strictObject({ type: z.literal('clear-faults') })]);

const experimentSchema = z.strictObject({
  title: z.string(),
  description: z.string().optional(),
  'steady-state-hypothesis': z.strictObject({ title: z.string(), probes: z.array(probe).min(1) }),
  method: z.array(activity).min(1),
  rollbacks: z.array(rollback).default([{ type: 'clear-faults' }]),
});

export type Experiment = z.output<typeof experimentSchema>;
type Probe = z.output<typeof probe>;
type Activity = z.output<typeof activity>;

export function experimentJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(experimentSchema, { io: 'input' }), title: 'scaffold chaos experiment' };
}

export function loadExperiment(file: string): Promise<Experiment> {
  return readYamlFile(file, experimentSchema, 'experiment');
}

export interface ProbeResult {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Journal {
  kind: 'experiment';
  title: string;
  startedAt: string;
  durationMs: number;
  /** held: the hypothesis held before and after; deviated: it did not. */
  status: 'held' | 'deviated';
  before: ProbeResult[];
  after: ProbeResult[] | null;
  method: { activity: Activity; atMs: number; outcome: string }[];
  rollbacks: { type: string; outcome: string }[];
  file?: string;
}

export async function runExperiment(options: { projectDir: string; file: string; runtime: Runtime }): Promise<Journal> {
  const experiment = await loadExperiment(path.resolve(options.projectDir, options.file));
  const { runtime, projectDir } = options;
  try {
    await runtime.status();
  } catch (error) {
    throw new EnvironmentError(`the experiment cannot run: ${(error as Error).message}`);
  }
  const startedAt = new Date();
  const start = performance.now();
  const hypothesis = experiment['steady-state-hypothesis'];
  const check = () => Promise.all(hypothesis.probes.map((p) => runProbe(p, { projectDir, runtime })));
  const journal: Journal = {
    kind: 'experiment',
    title: experiment.title,
    startedAt: startedAt.toISOString(),
    durationMs: 0,
    status: 'deviated',
    before: await check(),
    after: null,
    method: [],
    rollbacks: [],
  };
  try {
    if (journal.before.every((result) => result.ok)) {
      for (const step of experiment.method) {
        if ('after' in step && step.after) await sleep(ms(step.after));
        journal.method.push({ activity: step, atMs: Math.round(performance.now() - start), outcome: await act(step, runtime) });
      }
      journal.after = await check();
      journal.status = journal.after.every((result) => result.ok) ? 'held' : 'deviated';
    }
  } finally {
    for (const step of experiment.rollbacks) {
      await runtime.clearFaults().then(
        () => journal.rollbacks.push({ type: step.type, outcome: 'done' }),
        (error: Error) => journal.rollbacks.push({ type: step.type, outcome: `failed: ${error.message}` }),
      );
    }
    journal.durationMs = Math.round(performance.now() - start);
  }
  const name = `${journal.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}-experiment.json`;
  journal.file = path.join(projectDir, RESULTS_DIR, name);
  await writeFileAtomic(journal.file, `${JSON.stringify(journal, null, 2)}\n`);
  return journal;
}

async function act(step: Activity, runtime: Runtime): Promise<string> {
  switch (step.type) {
    case 'fault': {
      const active = await runtime.inject(step.service, step.fault as Fault, ms(step.for));
      return `${active.id} until ${active.expiresAt}`;
    }
    case 'kill': {
      const killed = await runtime.kill(step.service, { instance: step.instance, all: step.all });
      return `killed ${killed.map((instance) => instance.id).join(', ')}`;
    }
    case 'pause': {
      const paused = await runtime.pause(step.service, { instance: step.instance, durationMs: ms(step.for) });
      return `paused ${paused.map((instance) => instance.id).join(', ')}`;
    }
    case 'wait':
      await sleep(ms(step.for));
      return `waited ${step.for}`;
  }
}

async function runProbe(probe: Probe, context: { projectDir: string; runtime: Runtime }): Promise<ProbeResult> {
  try {
    if (probe.type === 'metric') {
      const base = await context.runtime.endpoint(probe.service);
      const text = await (await fetch(new URL('/metrics', base), { signal: AbortSignal.timeout(5_000) })).text();
      const line = text.split('\n').find((l) => l.startsWith(`${probe.metric} `) || l.startsWith(`${probe.metric}{`));
      if (!line) return { name: probe.name, ok: false, detail: `no metric ${probe.metric}` };
      const value = Number(line.split(' ').at(-1));
      const ok = (probe.below === undefined || value < probe.below) && (probe.above === undefined || value > probe.above);
      return { name: probe.name, ok, detail: `${probe.metric} = ${value}` };
    }
    const url = await probeUrl(probe, context.runtime);
    if (probe.type === 'http') {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
      return { name: probe.name, ok: response.status === probe.status, detail: `status ${response.status}` };
    }
    const result = await simulateLoad({
      projectDir: '/nonexistent', // probes are not saved as results of their own
      url: url.href,
      durationMs: ms(probe.duration),
      rate: probe.rate,
      connections: probe.connections,
      slos: probe.slos,
    });
    return { name: probe.name, ok: result.passed, detail: result.slos.map((slo) => `${slo.expression}: ${slo.shown}`).join(', ') };
  } catch (error) {
    // a probe that cannot reach its target is a deviation, not a crash of the experiment
    return { name: probe.name, ok: false, detail: (error as Error).message };
  }
}

async function probeUrl(probe: { service?: string; url?: string; path: string }, runtime: Runtime): Promise<URL> {
  if (probe.url) return new URL(probe.path, probe.url);
  if (!probe.service) throw new UserError('a probe needs a service or a url');
  return new URL(probe.path, await runtime.endpoint(probe.service));
}

function ms(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text)!;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}

function sleep(duration: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, duration));
}
