import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { EnvironmentError, UserError } from '../../errors.js';
import { globals } from '../global-options.js';
import { pointInTime, wholeNumber } from '../parse.js';

/** `scaffold traces`: recent traces the runtime's receiver kept, or one as a waterfall. */
export function registerTraces(program: Command): void {
  program
    .command('traces')
    .description('recent traces (newest first), or one trace as a waterfall')
    .argument('[trace-id]', 'a trace to draw as a waterfall')
    .option('--service <name>', 'only traces that passed through this service')
    .option('--slowest', 'longest first')
    .option('--errors', 'only traces with a failed span (an error status or a 5xx)')
    .option('--since <when>', 'only traces started after: a duration ago (5m) or a time', pointInTime)
    .option('--until <when>', 'only traces started before: a duration ago (1m) or a time', pointInTime)
    .option('--request <id>', 'the trace of this x-request-id')
    .option('--limit <n>', 'at most this many (default 20)', wholeNumber(1, 100_000), 20)
    .action(async (traceId: string | undefined, options: { service?: string; slowest?: boolean; errors?: boolean; since?: number; until?: number; request?: string; limit: number }, command: Command) => {
      const cli = globals(command);
      const { runPaths } = await import('../../runtime/process/paths.js');
      const { readSpans } = await import('../../runtime/traces/store.js');
      const { listTraces, traceOf } = await import('../../runtime/traces/query.js');
      const { formatTraceList, formatWaterfall } = await import('../render-traces.js');
      if (traceId !== undefined && !/^[0-9a-f]{32}$/.test(traceId)) throw new UserError(`"${traceId}" is not a trace id: 32 hex digits, as \`scaffold traces\` lists them`);
      if (options.since !== undefined && options.until !== undefined && options.until <= options.since) {
        throw new UserError(`--until ${new Date(options.until).toISOString()} is not after --since ${new Date(options.since).toISOString()}: no trace could match`);
      }
      const dir = runPaths(cli.cwd).traces;
      if (!existsSync(dir)) throw new EnvironmentError('no traces kept: nothing is running, nor ever ran here (`scaffold up` collects traces while the system runs)');
      const spans = readSpans(dir);
      if (traceId !== undefined) {
        const trace = traceOf(spans, traceId);
        if (!trace) throw new UserError(`no trace ${traceId} among the ${spans.length} spans kept: \`scaffold traces\` lists the recent ones`);
        cli.output.data(trace, formatWaterfall(trace));
        return;
      }
      const traces = listTraces(spans, {
        service: options.service,
        errors: options.errors,
        since: options.since,
        until: options.until,
        requestId: options.request,
        slowest: options.slowest,
        limit: options.limit,
      });
      cli.output.data(traces, formatTraceList(traces));
    });
}
