import path from 'node:path';
import type { Command } from 'commander';
import { globals } from '../global-options.js';
import type { PaymentsSummary } from '../../demo/payments.js';
import { formatStatus } from '../render-status.js';

function formatFailures(failures: Record<string, number>): string {
  const kinds = Object.entries(failures).map(([kind, count]) => `${count}× ${kind}`);
  return kinds.length > 0 ? ` [${kinds.join(', ')}]` : '';
}

/** "every one paid exactly once", or what went otherwise. */
function formatPayments(payments: PaymentsSummary & { accepted: number }): string {
  const once = payments.charges === payments.chargedOrders && payments.chargedOrders === payments.paid;
  if (payments.paid === payments.accepted && payments.failed === 0 && payments.processing === 0 && once) {
    return `every one paid exactly once (${payments.charges} charges)`;
  }
  return `${payments.paid} paid, ${payments.failed} failed, ${payments.processing} still processing; ${payments.charges} charges for ${payments.chargedOrders} orders`;
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
      const { traffic, killed, payments } = result;
      const availability = traffic.requests > 0 ? ((100 * traffic.ok) / traffic.requests).toFixed(2) : '0';
      const relative = path.relative(process.cwd(), target) || '.';
      const lines = [
        formatStatus(result.status),
        '',
        `traffic: ${traffic.requests} requests through the gateway, ${traffic.ok} ok, ${traffic.failed} failed${formatFailures(traffic.failures)} (${availability}% available)`,
        `chaos:   SIGKILLed ${killed.instance} (pid ${killed.pid}); ${killed.restartedInMs === null ? 'it did not come back within 10 s' : `the supervisor had it healthy again in ${killed.restartedInMs} ms`}`,
        `jobs:    ${payments.accepted} orders placed through the gateway (202) while ${payments.killed.instance} was SIGKILLed mid-job: ${formatPayments(payments)}`,
        `         the jobs waited (order placed → paid) p50 ${payments.waitedMs.p50} ms, p99 ${payments.waitedMs.p99} ms, at most ${payments.waitedMs.max} ms`,
        `done in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        '',
        result.kept
          ? `still running. Explore: npx scaffold --cwd ${relative} status (then logs orders, scale orders 3, down)`
          : `stopped. Explore: npx scaffold --cwd ${relative} up (then status, logs orders, scale orders 3, down)`,
      ];
      cli.output.data(result, lines.join('\n'));
    });
}
