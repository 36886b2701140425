import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { patternOf } from '../../patterns/index.js';
import { UnsupportedError, type Runtime } from '../../runtime/runtime.js';
import { SPEC_FILE } from '../../spec/load.js';
import type { Spec } from '../../spec/schema.js';
import { ARRIVAL_PROCESSES, type ArrivalProcess } from './arrivals.js';
import { DEFAULT_MAX_CONNECTIONS, MAX_CONNECTIONS, MAX_RATE, runLoad, type Stage } from './engine.js';
import { collectRunTraces } from './run-traces.js';
import { loadScenario, requestPicker } from './scenario.js';
import { saveResult, type LoadResult, type SecondSample } from './result.js';
import { evaluateSlos, parseSlo } from './slo.js';
import { checkTarget } from './target.js';
import { subscriptionsOf, topicsOf } from '../../infrastructure/nats/topics.js';
import type { PublishTarget } from './publish-model.js';
import type { JobsTarget } from './job-watch.js';
import { declaredQueues } from '../../spec/queues.js';

export interface SimulateLoadOptions {
  projectDir: string;
  /** A URL, or a service of the running system (default: its gateway). */
  url?: string;
  service?: string;
  runtime?: Runtime;
  /** The spec the command read, asked for only when the target (the gateway) or the topic
   * comes from it. */
  spec?: () => Promise<Spec>;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Closed model: connections; each sends its next request once answered. */
  connections?: number;
  /** Open model: the cap of the connection pool that grows as requests need it. */
  maxConnections?: number;
  /** Open model: evenly spaced arrivals (default), or Poisson at the same mean rate. */
  arrival?: ArrivalProcess;
  durationMs?: number;
  amount?: number;
  timeoutMs?: number;
  rate?: number;
  /** e.g. "10s:100,30s:500,10s:0": arrival rates, or connections with `model: 'closed'`. */
  stages?: string;
  /** A YAML file of weighted requests; the target gives only the origin then. */
  scenario?: string;
  model?: 'open' | 'closed';
  slos?: string[];
  allowRemote?: boolean;
  phaseOf?: (elapsedMs: number) => string;
  /** See LoadOptions.origin. */
  origin?: number;
  onSecond?: (sample: SecondSample) => void;
  signal?: AbortSignal;
  /** A topic of the running system to publish to, at `rate` (open model), instead of
   * sending requests. */
  publish?: string;
}

export const MAX_DURATION_MS = 60 * 60 * 1000;

/** A bounded load against one target, judged by its SLOs and saved with the project. */
export async function simulateLoad(options: SimulateLoadOptions): Promise<LoadResult & { file?: string }> {
  return (await prepareLoad(options))();
}

/**
 * Every check of a load's options (SLOs, scenario, target, stages), then the load itself
 * to start: a caller that must not act before the load is known to be valid (a fault under
 * load) prepares first.
 */
export async function prepareLoad(options: SimulateLoadOptions): Promise<() => Promise<LoadResult & { file?: string }>> {
  const slos = (options.slos ?? []).map(parseSlo);
  const scenario = options.scenario === undefined ? undefined : await loadScenario(path.resolve(options.projectDir, options.scenario));
  const publish = options.publish === undefined ? undefined : await publishTarget(options);
  const url = publish ? new URL(publish.url) : await resolveTarget(options);
  const jobs = publish ? undefined : await jobsTarget(options);
  checkTarget(url, options.allowRemote === true, publish ? ['nats:'] : undefined);
  const stages = options.stages === undefined ? undefined : parseStages(options.stages);
  if (stages && (options.durationMs !== undefined || options.amount !== undefined || options.rate !== undefined)) {
    throw new UserError('--stages sets the length and the rate of the run: drop --duration, --amount and --rate');
  }
  const durationMs = stages
    ? stages.reduce((total, stage) => total + stage.durationMs, 0)
    : options.amount === undefined
      ? (options.durationMs ?? 10_000)
      : options.durationMs;
  if (durationMs !== undefined && !(durationMs > 0 && durationMs <= MAX_DURATION_MS)) {
    throw new UserError('a run lasts more than 0 and at most 1h');
  }
  const model = options.model ?? (options.rate !== undefined || stages ? 'open' : 'closed');
  checkBounds(options, stages, model);
  if (publish && model !== 'open') throw new UserError('--publish sends events at a rate: give --rate (or --stages with rates)');
  if (options.arrival !== undefined && !ARRIVAL_PROCESSES.includes(options.arrival)) {
    throw new UserError(`--arrival ${String(options.arrival)}: use ${ARRIVAL_PROCESSES.join(' or ')}`);
  }
  const config = {
    url: url.href,
    method: options.method ?? 'GET',
    // the open model's pool starts with these and grows as requests need it
    connections: options.connections ?? 10,
    ...(model === 'open' ? { maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, arrival: options.arrival ?? 'constant' } : {}),
    durationMs,
    amount: options.amount,
    timeoutMs: options.timeoutMs ?? 10_000,
    rate: options.rate,
    stages,
    model,
    headers: options.headers ?? {},
    slos: slos.map((slo) => slo.expression),
    scenario: scenario?.requests,
    ...(publish ? { publish: publish.topic, groups: publish.groups } : {}),
  };
  return async () => {
    const nextRequest = scenario ? requestPicker(scenario) : undefined;
    const run = await runLoad({ ...config, url, body: options.body, nextRequest, phaseOf: options.phaseOf, origin: options.origin, onSecond: options.onSecond, signal: options.signal, publish, jobs });
    const verdicts = evaluateSlos(slos, run.summary);
    const traces = await collectRunTraces(options.projectDir, { startedAt: run.startedAt, durationMs: run.durationMs, phaseOf: options.phaseOf });
    const result: LoadResult = {
      kind: 'load',
      target: url.href,
      startedAt: run.startedAt,
      durationMs: Math.round(run.durationMs),
      config,
      summary: run.summary,
      series: run.series,
      distribution: run.distribution,
      ...(options.phaseOf ? { phases: run.phases } : {}),
      slos: verdicts,
      passed: verdicts.every((verdict) => verdict.passed),
      ...(traces ? { traces } : {}),
      ...(run.events ? { events: run.events } : {}),
      ...(run.jobs ? { jobs: run.jobs } : {}),
    };
    const file = existsSync(path.join(options.projectDir, SPEC_FILE)) ? await saveResult(options.projectDir, result) : undefined;
    return { ...result, file };
  };
}

/** What a run may ask for, whichever way it was given (flags, an experiment's load). */
function checkBounds(options: SimulateLoadOptions, stages: Stage[] | undefined, model: 'open' | 'closed'): void {
  const atMost = (what: string, value: number | undefined, limit: number, unit: string) => {
    if (value !== undefined && value > limit) throw new UserError(`${what} ${value}: at most ${limit.toLocaleString('en')} ${unit}`);
  };
  atMost('--rate', options.rate, MAX_RATE, 'requests a second');
  atMost('--connections', options.connections, MAX_CONNECTIONS, 'connections');
  atMost('--max-connections', options.maxConnections, MAX_CONNECTIONS, 'connections');
  const highest = stages && Math.max(...stages.map((stage) => stage.target));
  if (model === 'open') atMost('--stages: a target of', highest, MAX_RATE, 'requests a second');
  else atMost('--stages: a target of', highest, MAX_CONNECTIONS, 'connections');
}

/** "10s:100,30s:500,10s:0" → stages; each ramps linearly from the previous target. */
export function parseStages(text: string): Stage[] {
  return text.split(',').map((part) => {
    const match = /^\s*(\d+(?:\.\d+)?)(ms|s|m)\s*:\s*(\d+)\s*$/.exec(part);
    if (!match) throw new UserError(`--stages: "${part}" is not a stage: use duration:target, e.g. "10s:100,30s:500,10s:0"`);
    const unit = { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
    return { durationMs: Number(match[1]) * unit, target: Number(match[3]) };
  });
}

async function resolveTarget(options: SimulateLoadOptions): Promise<URL> {
  if (options.url !== undefined && options.service !== undefined) throw new UserError('give a URL or --service, not both');
  let url: URL;
  if (options.url !== undefined) {
    if (!URL.canParse(options.url)) throw new UserError(`"${options.url}" is not a URL (e.g. http://127.0.0.1:8080/items)`);
    url = new URL(options.url);
  } else {
    if (!options.runtime) throw new UserError('give a URL, or run this in a project with a running system');
    url = await options.runtime.endpoint(options.service ?? (await entryPointOf(options)));
  }
  if (options.path !== undefined) {
    if (!options.path.startsWith('/') || !URL.canParse(options.path, url)) throw new UserError(`"${options.path}" is not a request path: start it with "/", e.g. /orders/items`);
    url = new URL(options.path, url);
  }
  return url;
}

/** `--publish <topic>`: a topic the spec declares, on the running system's NATS server,
 * with the groups that subscribe to it. */
async function publishTarget(options: SimulateLoadOptions): Promise<PublishTarget> {
  const topic = options.publish!;
  if (options.url !== undefined || options.service !== undefined || options.path !== undefined || options.scenario !== undefined) {
    throw new UserError('--publish sends events to a topic: drop the URL, --service, --path and --scenario');
  }
  const spec = await specOf(options);
  const topics = topicsOf(spec);
  if (!topics.has(topic)) {
    throw new UserError(`--publish: no topic "${topic}" in scaffold.yaml${topics.size > 0 ? ` (topics: ${[...topics.keys()].join(', ')})` : ': declare it under infrastructure.nats.topics'}`);
  }
  if (!options.runtime) throw new UserError('--publish needs the system running: scaffold up');
  // compose publishes no port of a server's on this machine
  if (options.runtime.name !== 'process') throw new UnsupportedError(options.runtime.name, 'publish to a topic yet: its NATS server has no port on this machine');
  const server = (await options.runtime.status()).infrastructure.find((infra) => infra.kind === 'nats');
  if (!server) throw new UserError('--publish needs the system\'s NATS server running: scaffold up');
  const groups = Object.entries(spec.services).flatMap(([name, service]) => subscriptionsOf(name, service).filter((entry) => entry.topic === topic).map((entry) => entry.group));
  return { url: server.url, topic, groups };
}

/**
 * The running system's job queues, when it has any and their Redis has a port on this
 * machine (the process runtime): a load whose requests enqueue jobs (POST /orders) has them
 * measured end to end. Whatever else runs the load (a URL outside a project, a system not
 * up) measures requests alone.
 */
async function jobsTarget(options: SimulateLoadOptions): Promise<JobsTarget | undefined> {
  if (options.runtime?.name !== 'process' || !options.spec) return undefined;
  // a spec that does not load is for the commands that need it to say
  const spec = await options.spec().catch(() => undefined);
  const queues = spec ? [...declaredQueues(spec).values()] : [];
  if (queues.length === 0) return undefined;
  const holder = queues[0]!.infrastructure;
  const server = (await options.runtime.status().catch(() => undefined))?.infrastructure.find((infra) => infra.name === holder);
  if (!server) return undefined;
  return { url: server.url, queues: queues.filter((queue) => queue.infrastructure === holder).map((queue) => queue.name) };
}

/** The service whose pattern makes it the system's entry point (its gateway). */
async function entryPointOf(options: SimulateLoadOptions): Promise<string> {
  const spec = await specOf(options);
  const entry = Object.entries(spec.services).find(([, service]) => patternOf(service).traits.entryPoint);
  if (!entry) throw new UserError('the system has no entry point (a gateway): pass --service <name> or a URL');
  return entry[0];
}

function specOf(options: SimulateLoadOptions): Promise<Spec> {
  if (!options.spec) throw new UserError('name the target: a URL or --service (no scaffold.yaml to find the system\'s entry point in)');
  return options.spec();
}
