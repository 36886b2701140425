import path from 'node:path';
import type { Command } from 'commander';
import { globals } from '../global-options.js';
import { formatStatus } from '../render-status.js';

function formatFailures(failures: Record<string, number>): string {
  const kinds = Object.entries(failures).map(([kind, count]) => `${count}× ${kind}`);
  return kinds.length > 0 ? ` [${kinds.join(', ')}]` : '';
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate, install, run and stress the classic example system in one go')
    .argument('[dir]', 'where to put it', 'scaffold-demo')
    .option('--keep', 'leave the system running at the end')
    .action(async (dir: string, options: { keep?: boolean }, command: Command) => {
      const cli = globals(command);
      const { runDemo } = await import('../../demo/demo.js');
      const target = path.resolve(cli.cwd, dir);
      const started = Date.now();
      const result = await runDemo({ dir: target, keep: options.keep, onProgress: (line) => cli.output.info(`▸ ${line}`) });
      const { traffic, killed } = result;
      const availability = traffic.requests > 0 ? ((100 * traffic.ok) / traffic.requests).toFixed(2) : '0';
      const relative = path.relative(process.cwd(), target) || '.';
      const lines = [
        formatStatus(result.status),
        '',
        `traffic: ${traffic.requests} requests through the gateway, ${traffic.ok} ok, ${traffic.failed} failed${formatFailures(traffic.failures)} (${availability}% available)`,
        `chaos:   SIGKILLed ${killed.instance} (pid ${killed.pid}); ${killed.restartedInMs === null ? 'it did not come back within 10 s' : `the supervisor had it healthy again in ${killed.restartedInMs} ms`}`,
        `done in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        '',
        result.kept
          ? `still running. Explore: npx scaffold --cwd ${relative} status (then logs orders, scale orders 3, down)`
          : `stopped. Explore: npx scaffold --cwd ${relative} up (then status, logs orders, scale orders 3, down)`,
      ];
      cli.output.data(result, lines.join('\n'));
    });
}
