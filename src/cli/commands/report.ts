import path from 'node:path';
import type { Command } from 'commander';
import { RESULTS_DIR } from '../../scaffold-dir.js';
import { globals } from '../global-options.js';
import { formatDeltas } from '../render-load.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('render a saved result as a self-contained HTML report, or compare two results')
    .argument('[result]', `a result JSON from ${RESULTS_DIR}/: a load, or an experiment's journal`)
    .option('-o, --output <file>', 'where to write the HTML (default: beside the result)')
    .option('--baseline <result>', 'draw another run beside this one')
    .option('--compare <results...>', 'print the deltas from the first result to the second')
    .action(async (resultFile: string | undefined, options: { output?: string; baseline?: string; compare?: string[] }, command: Command) => {
      const cli = globals(command);
      const { UserError } = await import('../../errors.js');
      const { readLoadResult } = await import('../../simulate/report/result-file.js');
      if (options.compare) {
        if (options.compare.length !== 2 || resultFile) throw new UserError('--compare takes exactly two results: before.json after.json');
        const { compareResults } = await import('../../simulate/report/compare.js');
        const [before, after] = await Promise.all(options.compare.map((file) => readLoadResult(path.resolve(cli.cwd, file))));
        const deltas = compareResults(before!, after!);
        cli.output.data(deltas, formatDeltas(deltas));
        return;
      }
      if (!resultFile) throw new UserError(`name a result JSON (see ${RESULTS_DIR}/), or use --compare a.json b.json`);
      const { writeSavedReport } = await import('../../simulate/report/write.js');
      const input = path.resolve(cli.cwd, resultFile);
      const output = path.resolve(cli.cwd, options.output ?? input.replace(/\.json$/, '') + '.html');
      const baseline = options.baseline ? await readLoadResult(path.resolve(cli.cwd, options.baseline)) : undefined;
      await writeSavedReport(input, output, { baseline, projectDir: cli.cwd });
      cli.output.data({ report: output }, `wrote ${output}`);
    });
}
