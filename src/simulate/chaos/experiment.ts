import path from 'node:path';
import { writeFileAtomic } from '../../atomic-write.js';
import { EnvironmentError, UserError } from '../../errors.js';
import { faultTarget, type Fault } from '../../runtime/faults.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { Spec } from '../../spec/schema.js';
import { RESULTS_DIR } from '../../scaffold-dir.js';
import { simulateLoad } from '../load/simulate.js';
import { checkTarget } from '../load/target.js';
import { injectFault } from './inject.js';
import { loadExperiment, ms, type Activity, type BackgroundLoad, type Probe } from './experiment-schema.js';
import { runUnderLoad, type UnderLoadResult } from './under-load.js';

export { experimentJsonSchema, loadExperiment, type Experiment } from './experiment-schema.js';

/**
 * Runs an experiment: the hypothesis, the method (inside a measured background load when
 * the file asks for one), the hypothesis again, and the rollbacks, whatever happened.
 */

export interface ProbeResult {
  name: string;
  ok: boolean;
  /** What was observed, e.g. "status 200" or "p99<250ms: 12.3 ms". */
  detail: string;
  /** What the probe accepts, e.g. "status 200" or "p99<250ms, error_rate<1%". */
  tolerance: string;
}

export interface Journal {
  kind: 'experiment';
  title: string;
  startedAt: string;
  durationMs: number;
  /** held: the hypothesis held before and after (and the background load met its SLOs);
   * deviated: it did not. */
  status: 'held' | 'deviated';
  before: ProbeResult[];
  after: ProbeResult[] | null;
  /** `atMs` since the experiment's start; `at` as a time, to place it on the load's charts. */
  method: { activity: Activity; atMs: number; at: string; outcome: string }[];
  /** The background load around the method, when the experiment has one. */
  load?: Omit<UnderLoadResult, 'acted'>;
  rollbacks: { type: string; outcome: string }[];
  file?: string;
}

export async function runExperiment(options: { projectDir: string; file: string; runtime: Runtime; allowRemote?: boolean; spec?: () => Promise<Spec> }): Promise<Journal> {
  const experiment = await loadExperiment(path.resolve(options.projectDir, options.file), { allowRemote: options.allowRemote });
  const { runtime, projectDir, allowRemote } = options;
  try {
    await runtime.status();
  } catch (error) {
    throw new EnvironmentError(`the experiment cannot run: ${(error as Error).message}`);
  }
  const startedAt = new Date();
  const start = performance.now();
  const hypothesis = experiment['steady-state-hypothesis'];
  const check = () => Promise.all(hypothesis.probes.map((p) => runProbe(p, { projectDir, runtime, allowRemote })));
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
  const method = async () => {
    for (const step of experiment.method) {
      if ('after' in step && step.after) await sleep(ms(step.after));
      const atMs = Math.round(performance.now() - start);
      const at = new Date().toISOString();
      journal.method.push({ activity: step, atMs, at, outcome: await act(step, runtime) });
    }
  };
  try {
    if (journal.before.every((result) => result.ok)) {
      if (experiment.load) {
        const { acted: _acted, ...measured } = await runUnderLoad({ runtime, ...underLoad(experiment.load, { projectDir, allowRemote, spec: options.spec }), act: method });
        journal.load = measured;
      } else {
        await method();
      }
      journal.after = await check();
      const held = journal.after.every((result) => result.ok) && (journal.load?.load.passed ?? true);
      journal.status = held ? 'held' : 'deviated';
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

/** The background load as `runUnderLoad` takes it: the method is its fault window. */
function underLoad(load: BackgroundLoad, { projectDir, allowRemote, spec }: { projectDir: string; allowRemote?: boolean; spec?: () => Promise<Spec> }) {
  const json = typeof load.body === 'object';
  const body = typeof load.body === 'object' ? JSON.stringify(load.body) : load.body;
  return {
    load: {
      projectDir,
      url: load.url,
      service: load.service,
      path: load.path,
      method: load.method,
      headers: json ? { 'content-type': 'application/json', ...load.headers } : load.headers,
      body,
      scenario: load.scenario,
      rate: load.rate,
      connections: load.connections,
      maxConnections: load.maxConnections,
      timeoutMs: ms(load.timeout),
      slos: load.slos,
      allowRemote,
      spec,
    },
    beforeMs: ms(load.before),
    afterMs: ms(load.after),
  };
}

async function act(step: Activity, runtime: Runtime): Promise<string> {
  switch (step.type) {
    case 'fault': {
      const active = await injectFault(runtime, step.service, step.fault as Fault, ms(step.for), step.from);
      return `${active.id} on ${faultTarget(active)} until ${active.expiresAt}`;
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

async function runProbe(probe: Probe, context: { projectDir: string; runtime: Runtime; allowRemote?: boolean }): Promise<ProbeResult> {
  const result = await observe(probe, context);
  return { ...result, tolerance: tolerance(probe) };
}

function tolerance(probe: Probe): string {
  if (probe.type === 'http') return `status ${probe.status}`;
  if (probe.type === 'load') return probe.slos.join(', ');
  const bounds = [probe.above === undefined ? undefined : `> ${probe.above}`, probe.below === undefined ? undefined : `< ${probe.below}`];
  return bounds.filter(Boolean).join(' and ') || 'present';
}

async function observe(probe: Probe, context: { projectDir: string; runtime: Runtime; allowRemote?: boolean }): Promise<Omit<ProbeResult, 'tolerance'>> {
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
    checkTarget(url, context.allowRemote === true);
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
      allowRemote: context.allowRemote,
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

function sleep(duration: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, duration));
}
