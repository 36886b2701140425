import { patternOf } from '../../patterns/index.js';
import { UnsupportedError, type Runtime } from '../../runtime/runtime.js';
import { callPolicy } from '../../spec/call-policy.js';
import type { Spec } from '../../spec/schema.js';
import { watchCaller, type CallerWatch } from './caller-watch.js';
import { injectFault } from './inject.js';
import { killService } from './kill.js';
import { routeTo } from './load-path.js';
import type { ScenarioPlan } from './scenarios.js';
import { runUnderLoad, type UnderLoadResult } from './under-load.js';
import type { Fault } from '../../faults/index.js';

/**
 * The scenarios of a caller and one dependency, judged by what the caller's resilience
 * policies (scaffold.yaml `resilience:`) promise: slow-dependency, flaky-dependency and
 * dependency-down. Each runs load on the caller's route that needs the dependency
 * (`GET /upstreams/<dependency>`, through the gateway when one routes to the caller), reads
 * the caller's /metrics while it runs, and says what it measured in one line.
 */
export function dependencyScenarios(spec: Spec): ScenarioPlan[] {
  return [slowDependency(spec), flakyDependency(spec), dependencyDown(spec)];
}

const BEFORE_MS = 3_000;
const FAULT_MS = 8_000;
const AFTER_MS = 5_000;
/** What a loaded machine adds to a request, on top of the steady state's own p99. */
const SLACK_MS = 50;

interface Edge {
  caller: string;
  dependency: string;
  timeoutMs: number;
  openForMs: number;
  budget: number;
  minRetriesPerSecond: number;
  /** Where the load goes: the caller's route that needs the dependency. */
  towards: { service: string; path: string };
}

/** The first caller (of a pattern that lists the scenario) with a dependency. */
function edgeFor(spec: Spec, scenario: string): Edge | undefined {
  for (const [caller, service] of Object.entries(spec.services)) {
    if (!patternOf(service).scenarios.includes(scenario) || service.dependsOn.length === 0) continue;
    const dependency = service.dependsOn[0]!;
    const policy = callPolicy(spec.resilience, caller, dependency);
    const path = `/upstreams/${dependency}`;
    const route = routeTo(spec, caller);
    return {
      caller,
      dependency,
      timeoutMs: policy.timeoutMs,
      openForMs: policy.circuitBreaker.openFor,
      budget: policy.retry.budget,
      minRetriesPerSecond: policy.retry.minRetriesPerSecond,
      towards: route ? { service: route.gateway, path: `${route.prefix}${path}` } : { service: caller, path },
    };
  }
  return undefined;
}

/** One dependency scenario: its fault on an edge, and how the caller's measured answer is judged. */
interface EdgeScenario {
  name: string;
  description: string;
  expectation: string;
  /** The fault on this edge, in words. */
  fault: (edge: Edge) => string;
  /** Puts the fault in; returns once it is over (a kill: once the runtime has the dependency back). */
  act: (runtime: Runtime, edge: Edge) => Promise<unknown>;
  judge: (edge: Edge, run: EdgeRun) => { reasons: string[]; summary: string };
}

/** What a run under the fault measured: the load, the caller's metrics, and when `act` returned. */
interface EdgeRun {
  measured: UnderLoadResult;
  watch: CallerWatch;
  actedAt: number;
}

/** The scenario planned on the first edge whose caller's pattern lists it. */
function onEdge(spec: Spec, scenario: EdgeScenario): ScenarioPlan {
  const { name, description, expectation } = scenario;
  const edge = edgeFor(spec, name);
  if (!edge) return { name, description, expectation, notApplicable: 'no service with dependsOn' };
  return {
    name,
    expectation,
    description: `${scenario.fault(edge)} under load on ${edge.caller}'s GET /upstreams/${edge.dependency}`,
    run: async (runtime, projectDir) => {
      const run = await underFault(runtime, projectDir, edge, () => scenario.act(runtime, edge));
      const { reasons, summary } = scenario.judge(edge, run);
      return { passed: reasons.length === 0, reasons, measured: run.measured, summary };
    },
  };
}

/** The caller's p99 during the fault, if beyond its timeout (+ the steady p99 + slack). */
function pastTimeout(edge: Edge, { before, during }: UnderLoadResult['phases']): string[] {
  const bound = edge.timeoutMs + SLACK_MS + before.p99;
  return during.p99 > bound ? [`p99 reached ${Math.round(during.p99)} ms, beyond the ${edge.timeoutMs} ms timeout (+ ${Math.round(before.p99)} ms steady p99 + ${SLACK_MS} ms)`] : [];
}

function opening(watch: CallerWatch): string {
  const opened = watch.openedAfterMs();
  return opened === undefined ? 'breaker never opened' : `breaker opened in ${seconds(opened)}`;
}

const slowDependency = (spec: Spec) =>
  onEdge(spec, {
    name: 'slow-dependency',
    description: 'latency beyond the caller\'s timeout on its link to a dependency',
    expectation: 'the caller\'s p99 holds at its timeout (+ the steady p99 + 50 ms) and its circuit breaker opens',
    fault: (edge) => `${edge.timeoutMs + 1_000} ms of latency on the ${edge.caller}→${edge.dependency} link (timeout ${edge.timeoutMs} ms)`,
    act: (runtime, edge) => onLink(runtime, edge, { kind: 'latency', ms: edge.timeoutMs + 1_000 }, FAULT_MS),
    judge: (edge, { measured, watch }) => ({
      reasons: [
        ...pastTimeout(edge, measured.phases),
        ...(watch.openedAfterMs() === undefined ? [`${edge.caller}'s circuit breaker to ${edge.dependency} never opened`] : []),
      ],
      summary: `${opening(watch)}; p99 held at ${Math.round(measured.phases.during.p99)} ms; ${percent(watch.retries() / Math.max(1, measured.load.summary.requests))} retries`,
    }),
  });

const flakyDependency = (spec: Spec) =>
  onEdge(spec, {
    name: 'flaky-dependency',
    description: 'half of the calls from a caller to a dependency answered 503',
    expectation: 'retries stay within the retry budget (no retry storm)',
    fault: (edge) => `50% of the calls on the ${edge.caller}→${edge.dependency} link answered 503`,
    act: (runtime, edge) => onLink(runtime, edge, { kind: 'errors', rate: 0.5, status: 503 }, FAULT_MS),
    judge: (edge, { measured, watch }) => {
      const calls = measured.load.summary.requests;
      const retries = watch.retries();
      // the budget's share of the calls, plus what each instance's budget always allows (a
      // 10 s window, and the window that was filling when the run began)
      const allowed = edge.budget * calls + edge.minRetriesPerSecond * 20 * watch.instances;
      return {
        reasons: retries > allowed ? [`${retries} retries for ${calls} calls: beyond the ${percent(edge.budget)} budget`] : [],
        summary: `${percent(retries / Math.max(1, calls))} retries (budget ${percent(edge.budget)}); ${Math.round(measured.phases.during.availability * 1000) / 10}% answered during the fault; p99 ${Math.round(measured.phases.during.p99)} ms`,
      };
    },
  });

const dependencyDown = (spec: Spec) =>
  onEdge(spec, {
    name: 'dependency-down',
    description: 'SIGKILL every instance of a dependency under load on its caller',
    expectation: 'every call is answered within the caller\'s timeout (clear 502/503, no hangs), and the caller\'s breaker closes again once the dependency is back (how long it took is reported)',
    fault: (edge) => `SIGKILL every ${edge.dependency} instance`,
    act: (runtime, edge) => killService(runtime, edge.dependency, { all: true }),
    // the kill returned once the runtime had the dependency healthy again: it is back since `actedAt`
    judge: (edge, { measured, watch, actedAt }) => {
      const unclear = Object.keys(measured.phases.during.errorsByKind).filter((kind) => kind !== '502' && kind !== '503');
      const { closedAfterMs, stuck, untried } = watch.recovery(actedAt, edge.openForMs);
      const left = untried.length === 0 ? '' : ` (${untried.join(', ')} still open: no trial since ${edge.dependency} was back)`;
      return {
        reasons: [
          ...(unclear.length > 0 ? [`failures other than 502/503: ${unclear.join(', ')}`] : []),
          ...pastTimeout(edge, measured.phases),
          // measured, not bounded: how soon a breaker closes depends on when a call reaches it
          ...stuck.map((instance) => `${instance}'s breaker was still open at the end: its half-open trials failed, ${edge.dependency} back since the kill`),
        ],
        summary: `${opening(watch)}; p99 held at ${Math.round(measured.phases.during.p99)} ms; ${closedAfterMs === undefined ? 'breaker still open at the end' : `recovered ${seconds(closedAfterMs)} after ${edge.dependency} was back`}${left}`,
      };
    },
  });

/** A fault on the caller's link alone; on a runtime without link faults, in front of the
 * dependency (every caller's calls), which the caller's policies meet just the same. */
async function onLink(runtime: Runtime, edge: Edge, fault: Fault, durationMs: number) {
  try {
    return await injectFault(runtime, edge.dependency, fault, durationMs, edge.caller);
  } catch (error) {
    if (!(error instanceof UnsupportedError)) throw error;
    return runtime.inject(edge.dependency, fault, durationMs);
  }
}

/** The load and the fault, with the caller's /metrics watched all along. */
async function underFault(runtime: Runtime, projectDir: string, edge: Edge, act: () => Promise<unknown>): Promise<EdgeRun> {
  const watch = await watchCaller(runtime, edge.caller, edge.dependency);
  let actedAt = Number.NaN;
  try {
    const measured: UnderLoadResult = await runUnderLoad({
      runtime,
      load: { projectDir, ...edge.towards, rate: 100, connections: 20, timeoutMs: edge.timeoutMs + 10_000 },
      beforeMs: BEFORE_MS,
      faultMs: FAULT_MS,
      afterMs: AFTER_MS,
      act: async () => {
        watch.faultAt(performance.now());
        const acted = await act();
        actedAt = performance.now();
        return acted;
      },
    });
    return { measured, watch, actedAt };
  } finally {
    await watch.stop();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function percent(share: number): string {
  return `${(Math.round(share * 1000) / 10).toString()}%`;
}

