import chalk from 'chalk';
import { allPatterns } from '../patterns/index.js';
import type { LatencySummary, LoadResult, ProcessedSecond } from '../simulate/load/result.js';
import type { Journal, ProbeResult } from '../simulate/chaos/experiment.js';
import type { UnderLoadResult } from '../simulate/chaos/under-load.js';
import type { Delta } from '../simulate/report/compare.js';

/** A load's asynchronous work end to end (events, jobs): latency and the peak backlog. */
function processedLines(measured: { endToEnd: LatencySummary; series: ProcessedSecond[]; unprocessed: number }, what: string, left: string): string[] {
  const e2e = measured.endToEnd;
  const peak = Math.max(0, ...measured.series.map((second) => second.backlog));
  return [
    `end to end   ${what}, ms p50 ${e2e.p50}  p99 ${e2e.p99}  max ${e2e.max}`,
    `backlog      peak ${peak}${measured.unprocessed > 0 ? chalk.yellow(`, ${measured.unprocessed} ${left} when the run ended`) : ''}`,
  ];
}

export function formatLoadResult(result: LoadResult & { file?: string }): string {
  const { summary } = result;
  const { latency } = summary;
  const lines = [
    '',
    `${chalk.bold(result.target)}  ${summary.requests} requests in ${(result.durationMs / 1000).toFixed(1)} s, ${summary.rps.toFixed(0)} req/s`,
    `latency ms   p50 ${latency.p50}  p90 ${latency.p90}  p99 ${latency.p99}  p99.9 ${latency.p999}  max ${latency.max}`,
    `status       ${Object.entries(summary.statusCodes).map(([code, count]) => `${code}: ${count}`).join('  ') || '-'}`,
  ];
  const failures = Object.entries(summary.errorsByKind);
  if (failures.length > 0) lines.push(`errors       ${failures.map(([kind, count]) => `${kind}: ${count}`).join('  ')}`);
  if (summary.dropped) lines.push(`dropped      ${summary.dropped} (due while all --max-connections were busy: the target could not take the rate)`);
  if (result.events) {
    const { events } = result;
    lines.push(...processedLines(events, `published → processed by ${events.groups.join(', ') || 'no group'}: ${events.processed} events`, 'stored events not processed'));
  }
  if (result.jobs) {
    const { jobs } = result;
    const failed = jobs.failed > 0 ? `, ${jobs.failed} failed for good` : '';
    lines.push(...processedLines(jobs, `enqueued → processed on ${jobs.queues.join(', ')}: ${jobs.processed} jobs${failed}`, 'jobs enqueued and not finished'));
  }
  const hint = hintFor(summary, new URL(result.target));
  if (hint) lines.push(chalk.yellow(`hint         ${hint}`));
  if (result.slos.length > 0) {
    lines.push('', 'SLO');
    for (const slo of result.slos) {
      const mark = slo.passed ? chalk.green('pass') : chalk.red('FAIL');
      lines.push(`  ${mark}  ${slo.expression.padEnd(20)} actual ${slo.shown}`);
    }
  }
  if (result.file) lines.push('', chalk.dim(`saved ${result.file}`));
  return lines.join('\n');
}

/** Answers that say more about the test than about the system: a wrong path, or what a
 * pattern knows of its own answers (a gateway's rate limit, which one machine's load meets
 * at once). */
const HINTS: Record<string, string> = {
  404: 'most answers were 404 Not Found: check the path (--path; through a gateway, the route comes first, e.g. /orders/items)',
};

/** Failures that say the load never reached a server that answers. */
const FAILURE_HINTS: Record<string, (target: URL) => string> = {
  ECONNREFUSED: (target) => `most requests were refused: nothing listens on ${target.host} (is the system up? \`scaffold status\` says)`,
  timeout: () => 'most requests timed out: nothing answered within --timeout',
};

function hintFor(summary: LoadResult['summary'], target: URL): string | undefined {
  if (summary.requests === 0 && summary.dropped === 0) return 'no request fell due in the run: give it a longer --duration or a higher --rate';
  const most = (count: number | undefined) => (count ?? 0) * 2 > summary.requests;
  const failure = Object.keys(FAILURE_HINTS).find((kind) => most(summary.errorsByKind[kind]));
  if (failure !== undefined) return FAILURE_HINTS[failure]!(target);
  const hints = new Map(Object.entries(HINTS));
  for (const pattern of allPatterns()) for (const [status, hint] of Object.entries(pattern.loadHints ?? {})) hints.set(status, hint);
  const code = [...hints.keys()].find((status) => most(summary.statusCodes[status]));
  return code === undefined ? undefined : hints.get(code);
}

export function formatDeltas(deltas: Delta[]): string {
  const number = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(3));
  return deltas
    .map(({ metric, before, after, change, better }) => {
      const percent = change === null ? 'n/a' : `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%`;
      const colour = change === null || change === 0 ? chalk.dim : better ? chalk.green : chalk.red;
      return `${metric.padEnd(12)} ${number(before).padStart(12)} → ${number(after).padEnd(12)} ${colour(percent)}`;
    })
    .join('\n');
}

/** The phases of a fault under load, then detection, recovery and restarts. */
export function formatUnderLoad(result: Omit<UnderLoadResult, 'acted'>): string {
  const rows = (['before', 'during', 'after'] as const).map((name) => {
    const phase = result.phases[name];
    const errors = Object.entries(phase.errorsByKind).map(([kind, count]) => `${kind}: ${count}`).join(' ');
    return `  ${name.padEnd(7)} ${String(phase.requests).padStart(8)} ${`${(phase.availability * 100).toFixed(2)}%`.padStart(9)} ${phase.p50.toFixed(1).padStart(8)} ${phase.p99.toFixed(1).padStart(8)}  ${errors}`;
  });
  const ms = (value: number | null, never: string) => (value === null ? never : `${value} ms`);
  const restarts = Object.entries(result.restarts).filter(([, count]) => count > 0).map(([name, count]) => `${name} +${count}`).join(', ') || 'none';
  const slos = result.load.slos.map((slo) => `  ${slo.passed ? chalk.green('pass') : chalk.red('FAIL')}  ${slo.expression.padEnd(20)} actual ${slo.shown}`);
  return [
    `  phase   requests available  p50 ms   p99 ms  errors`,
    ...rows,
    `time to detect: ${ms(result.timeToDetectMs, 'no failed request')} · time to recover: ${ms(result.timeToRecoverMs, 'not within the run')} · restarts: ${restarts}`,
    ...(slos.length > 0 ? ['SLO', ...slos] : []),
  ].join('\n');
}

/** An experiment's journal: the hypothesis before and after, what was done, the verdict. */
export function formatJournal(journal: Journal): string {
  const probes = (results: ProbeResult[]) =>
    results.map((probe) => `    ${probe.ok ? chalk.green('ok  ') : chalk.red('FAIL')}  ${probe.name}: ${probe.detail}`);
  const verdict = journal.status === 'held' ? chalk.green('held') : chalk.red('deviated');
  return [
    chalk.bold(journal.title),
    '  hypothesis before',
    ...probes(journal.before),
    ...(journal.method.length > 0 ? ['  method', ...journal.method.map((step) => `    +${(step.atMs / 1000).toFixed(1)}s  ${step.activity.type}: ${step.outcome}`)] : []),
    ...(journal.load ? [`  background load on ${journal.load.load.target}`, ...formatUnderLoad(journal.load).split('\n').map((line) => `  ${line}`)] : []),
    ...(journal.after ? ['  hypothesis after', ...probes(journal.after)] : ['  the method did not run: the hypothesis did not hold to begin with']),
    ...journal.rollbacks.map((rollback) => `  rollback ${rollback.type}: ${rollback.outcome}`),
    `verdict: ${verdict} (${(journal.durationMs / 1000).toFixed(1)} s)${journal.file ? chalk.dim(`, journal ${journal.file}`) : ''}`,
  ].join('\n');
}
