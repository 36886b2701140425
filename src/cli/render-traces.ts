import chalk from 'chalk';
import type { Trace, TraceSummary } from '../runtime/traces/query.js';
import { failed } from '../runtime/traces/query.js';

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;

export function formatTraceList(traces: readonly TraceSummary[]): string {
  if (traces.length === 0) return 'no traces match';
  const lines = traces.map((trace) => {
    const errors = trace.errors > 0 ? chalk.red(` ${trace.errors} failed`) : '';
    return `${trace.traceId}  ${trace.startedAt.slice(11, 23)}  ${ms(trace.durationMs).padStart(10)}  ${String(trace.spans).padStart(3)} spans  ${chalk.bold(trace.service)} ${trace.name}${errors}`;
  });
  return [...lines, chalk.dim('one as a waterfall: scaffold traces <trace id>')].join('\n');
}

const BAR_WIDTH = 40;

/** The trace as a terminal waterfall: one line per span, indented under its parent, with a
 * bar placed on the trace's timeline. */
export function formatWaterfall(trace: Trace): string {
  const { summary, rows } = trace;
  const total = Math.max(summary.durationMs, 0.001);
  const labels = rows.map(({ span, depth }) => `${'  '.repeat(depth)}${span.service} ${span.name}${span.kind === 'client' ? ' →' : ''}`);
  const width = Math.min(60, Math.max(...labels.map((label) => label.length)));
  const lines = rows.map(({ span, offsetMs }, index) => {
    const from = Math.min(BAR_WIDTH - 1, Math.floor((offsetMs / total) * BAR_WIDTH));
    const length = Math.max(1, Math.round((span.durationMs / total) * BAR_WIDTH));
    const bar = ' '.repeat(from) + '█'.repeat(Math.min(length, BAR_WIDTH - from));
    const paint = failed(span) ? chalk.red : chalk.cyan;
    const label = labels[index]!.length > width ? `${labels[index]!.slice(0, width - 1)}…` : labels[index]!.padEnd(width);
    return `${label}  ${paint(bar.padEnd(BAR_WIDTH))}  ${ms(span.durationMs).padStart(10)}${span.instance ? chalk.dim(`  ${span.instance}`) : ''}`;
  });
  const request = summary.requestId ? ` · request ${summary.requestId}` : '';
  const head = `${chalk.bold(`trace ${summary.traceId}`)} · ${summary.startedAt} · ${ms(summary.durationMs)} · ${summary.spans} spans${request}`;
  return [head, ...lines].join('\n');
}
