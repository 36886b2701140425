import { faultTarget } from '../../runtime/faults.js';
import type { Journal, ProbeResult } from '../chaos/experiment.js';
import { ms } from '../chaos/experiment-schema.js';

/** A stretch of the run a fault was in force, in seconds since the load started. */
export interface FaultWindow {
  label: string;
  fromS: number;
  toS: number;
}

/** What the report shows of an experiment, decided here so the template only fills in. */
export function experimentView(journal: Journal) {
  const held = journal.status === 'held';
  const after = new Map((journal.after ?? []).map((probe) => [probe.name, probe]));
  return {
    held,
    verdict: held ? 'held' : 'deviated',
    verdictDetail: verdictDetail(journal),
    hypothesis: journal.before.map((before) => ({ name: before.name, tolerance: before.tolerance ?? '', before: cell(before), after: cell(after.get(before.name)) })),
    // on the charts' clock: seconds since the load started (since the experiment did, without one)
    method: journal.method.map((step) => ({ at: `${secondsIn(journal, step).toFixed(1)} s`, type: step.activity.type, outcome: step.outcome })),
    windows: faultWindows(journal),
  };
}

/** When a step started, in seconds since the load started (or the experiment, without a load). */
function secondsIn(journal: Journal, step: Journal['method'][number]): number {
  const origin = Date.parse(journal.load?.load.startedAt ?? journal.startedAt);
  return ((step.at ? Date.parse(step.at) : Date.parse(journal.startedAt) + step.atMs) - origin) / 1000;
}

function cell(probe: ProbeResult | undefined) {
  return probe ? { ok: probe.ok, detail: probe.detail } : undefined;
}

function verdictDetail(journal: Journal): string {
  if (!journal.after) return 'the hypothesis did not hold before the method, so the method did not run';
  const failedProbes = journal.after.filter((probe) => !probe.ok).map((probe) => probe.name);
  const failedSlos = journal.load?.load.slos.filter((slo) => !slo.passed).map((slo) => `${slo.expression} under the background load`) ?? [];
  const failed = [...failedProbes, ...failedSlos];
  return failed.length === 0 ? 'the hypothesis held before and after the method' : `failed after the method: ${failed.join(', ')}`;
}

/** Faults and pauses span their `for`; a kill is a moment. Placed by wall-clock time, since
 * the load started a little after the experiment did. */
export function faultWindows(journal: Journal): FaultWindow[] {
  const windows: FaultWindow[] = [];
  for (const step of journal.method) {
    const { activity } = step;
    const fromS = secondsIn(journal, step);
    if (activity.type === 'fault') {
      windows.push({ label: `${activity.fault.kind} ${faultTarget(activity)}`, fromS, toS: fromS + ms(activity.for) / 1000 });
    } else if (activity.type === 'pause') {
      windows.push({ label: `pause ${activity.service}`, fromS, toS: fromS + ms(activity.for) / 1000 });
    } else if (activity.type === 'kill') {
      windows.push({ label: `kill ${activity.service}`, fromS, toS: fromS });
    }
  }
  return windows;
}
