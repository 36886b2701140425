import { patternOf } from '../../patterns/index.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { Spec } from '../../spec/schema.js';
import { dependencyScenarios } from './dependency-scenarios.js';
import { killService } from './kill.js';
import { loadTowards, routeTo } from './load-path.js';
import { runUnderLoad, type UnderLoadResult } from './under-load.js';

/** An experiment the system's own topology suggests. */
export interface ScenarioPlan {
  name: string;
  description: string;
  /** What it checks, in words. */
  expectation: string;
  /** Why it does not apply to this system, when it does not. */
  notApplicable?: string;
  run?: (runtime: Runtime, projectDir: string) => Promise<ScenarioOutcome>;
}

export interface ScenarioOutcome {
  passed: boolean;
  reasons: string[];
  measured: UnderLoadResult;
  /** What it measured, in one line (e.g. "breaker opened in 0.4 s; p99 held at 212 ms"). */
  summary?: string;
}

const LOAD = { rate: 100, connections: 10, before: 3_000, after: 5_000 };

/** The scenarios, each planned on this system's spec (the CLI loads it once). */
export function scenariosFor(spec: Spec): ScenarioPlan[] {
  return [replicaLoss(spec), outageAndRecovery(spec), ...dependencyScenarios(spec)];
}

/** The services a scenario may pick: those whose pattern lists it. */
function candidates(spec: Spec, scenario: string): [string, Spec['services'][string]][] {
  return Object.entries(spec.services).filter(([, service]) => patternOf(service).scenarios.includes(scenario));
}

function replicaLoss(spec: Spec): ScenarioPlan {
  const plan = { name: 'replica-loss', description: 'SIGKILL one of N replicas under load', expectation: '≥ 99.9% of requests succeed in every phase' };
  const target = candidates(spec, plan.name).find(([name, service]) => service.replicas >= 2 && routeTo(spec, name));
  if (!target) return { ...plan, notApplicable: 'no service with 2 or more replicas behind a gateway' };
  const [service] = target;
  const route = routeTo(spec, service)!;
  return {
    ...plan,
    description: `SIGKILL one of ${spec.services[service]!.replicas} ${service} replicas under load through ${route.gateway}`,
    run: async (runtime, projectDir) => {
      const measured = await underLoad(runtime, projectDir, loadTowards(spec, service), () => killService(runtime, service), 5_000, true);
      const reasons = (['before', 'during', 'after'] as const)
        .filter((phase) => measured.phases[phase].availability < 0.999)
        .map((phase) => `${phase}: ${(measured.phases[phase].availability * 100).toFixed(2)}% available`);
      return { passed: reasons.length === 0, reasons, measured };
    },
  };
}

function outageAndRecovery(spec: Spec): ScenarioPlan {
  const plan = { name: 'outage-and-recovery', description: 'SIGKILL every instance of a service behind the gateway', expectation: 'the gateway answers clear 502/503 (no hangs), and the service is back within 10 s' };
  const service = candidates(spec, plan.name).find(([name, definition]) => routeTo(spec, name) && definition.restart !== 'no')?.[0];
  if (!service) return { ...plan, notApplicable: 'no restartable service behind a gateway' };
  const route = routeTo(spec, service)!;
  return {
    ...plan,
    description: `SIGKILL every ${service} instance under load through ${route.gateway}`,
    run: async (runtime, projectDir) => {
      const measured = await underLoad(runtime, projectDir, loadTowards(spec, service), () => killService(runtime, service, { all: true }), 5_000, true);
      const reasons: string[] = [];
      const unclear = Object.keys(measured.phases.during.errorsByKind).filter((kind) => kind !== '502' && kind !== '503');
      if (unclear.length > 0) reasons.push(`failures other than 502/503 during the outage: ${unclear.join(', ')}`);
      if (measured.timeToRecoverMs === null || measured.timeToRecoverMs > 10_000) reasons.push('not recovered within 10 s');
      return { passed: reasons.length === 0, reasons, measured };
    },
  };
}

function underLoad(runtime: Runtime, projectDir: string, towards: { service: string; path: string }, act: () => Promise<unknown>, faultMs: number, recoverFromStart: boolean) {
  return runUnderLoad({
    runtime,
    load: { projectDir, ...towards, rate: LOAD.rate, connections: LOAD.connections },
    beforeMs: LOAD.before,
    faultMs,
    afterMs: LOAD.after,
    act,
    recoverFromStart,
  });
}
