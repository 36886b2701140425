import chalk from 'chalk';
import type { LoadResult } from '../simulate/load/result.js';
import type { Delta } from '../simulate/report/compare.js';

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
  if (summary.dropped) lines.push(`dropped      ${summary.dropped} (the generator could not keep up with --rate)`);
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
