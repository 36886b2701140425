import path from 'node:path';
import type { Command } from 'commander';
import type { Stage } from '../../simulate/load/engine.js';
import type { SecondSample } from '../../simulate/load/result.js';
import { runtimeFor } from '../runtime-for.js';
import { addLoadOptions, loadSettings, type LoadFlags } from '../load-options.js';
import { duration, wholeNumber } from '../parse.js';
import { formatLoadResult } from '../render-load.js';

interface SimulateFlags extends LoadFlags {
  service?: string;
  duration?: number;
  amount?: number;
  stages?: string;
  scenario?: string;
  report?: string;
  baseline?: string;
  publish?: string;
}

/** simulate load: traffic against the running system (or a URL) with SLO verdicts. */
export function registerSimulate(program: Command): void {
  const simulate = program.command('simulate').description('put the system under load');
  addLoadOptions(
    simulate
      .command('load')
      .description('send a bounded load and judge it by SLOs; exit 1 when one fails')
      .argument('[url]', 'target URL (default: the running system\'s gateway)')
      .option('--service <name>', 'a service of the running system, through its front port'),
  )
    .option('-d, --duration <time>', 'how long, e.g. 30s (default 10s)', duration)
    .option('-a, --amount <n>', 'stop after this many requests', wholeNumber(1, 100_000_000))
    .option('--stages <stages>', 'ramps, e.g. "10s:100,30s:500,10s:0": arrival rates, or connections when -c is given instead')
    .option('--scenario <file>', 'weighted requests from a YAML file (scaffold schema scenario)')
    .option('--publish <topic>', 'publish events to a topic of the running system at --rate, measuring published → processed')
    .option('--report <file>', 'also write a self-contained HTML report')
    .option('--baseline <result>', 'a saved result to draw beside this run in the report')
    .action(async (url: string | undefined, flags: SimulateFlags, command: Command) => {
      const { cli, runtime, model } = await runtimeFor(command);
      const { simulateLoad, parseStages } = await import('../../simulate/load/simulate.js');
      const { readLoadResult } = await import('../../simulate/report/result-file.js');
      // read before the run: a missing baseline should not cost a whole load test
      const baseline = flags.baseline ? await readLoadResult(path.resolve(cli.cwd, flags.baseline)) : undefined;
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      try {
        const result = await simulateLoad({
          projectDir: cli.cwd,
          url,
          service: flags.service,
          runtime,
          spec: async () => (await model()).spec,
          ...loadSettings(flags),
          durationMs: flags.duration,
          amount: flags.amount,
          stages: flags.stages,
          scenario: flags.scenario,
          publish: flags.publish,
          // "with --connections only, ramping connections": stages then count connections
          model: flags.stages !== undefined && command.getOptionValueSource('connections') === 'cli' ? 'closed' : undefined,
          onSecond: cli.json ? undefined : progress(cli.output.info, flags.stages === undefined ? undefined : parseStages(flags.stages)),
          signal: controller.signal,
        });
        if (flags.report) {
          const { writeLoadReport } = await import('../../simulate/report/write.js');
          await writeLoadReport(path.resolve(cli.cwd, flags.report), result, { baseline, projectDir: cli.cwd });
        }
        cli.output.data(result, formatLoadResult(result));
        if (!result.passed) process.exitCode = 1;
      } finally {
        process.off('SIGINT', interrupt);
      }
    });
}

/** A live line on a terminal; a plain line every 5 s elsewhere (CI logs). */
function progress(info: (line: string) => void, stages: Stage[] = []): (sample: SecondSample) => void {
  const tty = process.stderr.isTTY === true;
  // the second each stage ends at, to name the current one
  let end = 0;
  const stageEnds = stages.map((stage) => (end += stage.durationMs / 1000));
  return (sample) => {
    const stage = stageEnds.findIndex((ends) => sample.second < ends);
    const where = stage >= 0 ? `  stage ${stage + 1}/${stageEnds.length}` : '';
    const dropped = sample.dropped ? `  dropped ${sample.dropped}` : '';
    const line = `${sample.second + 1}s${where}  ${sample.requests} req/s  p99 ${sample.p99.toFixed(1)} ms  errors ${sample.errors}${dropped}`;
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else if ((sample.second + 1) % 5 === 0) info(line);
  };
}

